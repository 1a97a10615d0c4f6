#include "handler.h"

#include <string.h>

extern const pixd_handler pixd_native_handler;
extern const pixd_handler pixd_http_handler;
extern const pixd_handler pixd_legacy_resize_handler;
extern const pixd_handler pixd_legacy_snapshot_handler;
extern const pixd_handler pixd_legacy_camfeed_handler;
extern const pixd_handler pixd_legacy_predict_handler;

const pixd_handler *const pixd_handlers[PIXD_H_COUNT_] = {
    [PIXD_H_NATIVE] = &pixd_native_handler,
    [PIXD_H_HTTP] = &pixd_http_handler,
    [PIXD_H_LEGACY_RESIZE] = &pixd_legacy_resize_handler,
    [PIXD_H_LEGACY_SNAPSHOT] = &pixd_legacy_snapshot_handler,
    [PIXD_H_LEGACY_CAMFEED] = &pixd_legacy_camfeed_handler,
    [PIXD_H_LEGACY_PREDICT] = &pixd_legacy_predict_handler,
};

const pixd_handler *pixd_handler_find(const char *name) {
    for (int i = 0; i < PIXD_H_COUNT_; i++)
        if (pixd_handlers[i] && strcmp(pixd_handlers[i]->name, name) == 0)
            return pixd_handlers[i];
    return NULL;
}

int pixd_handler_index(const pixd_handler *h) {
    for (int i = 0; i < PIXD_H_COUNT_; i++)
        if (pixd_handlers[i] == h)
            return i;
    return -1;
}
