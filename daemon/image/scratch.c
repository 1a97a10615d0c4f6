#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "image.h"
#include "internal.h"

typedef struct {
    uint8_t *p;
    size_t cap;
} slot;

typedef struct {
    slot s[PIXD__SCRATCH_COUNT];
} scratch;

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void destroy(void *v) {
    scratch *sc = v;
    if (!sc)
        return;
    for (int i = 0; i < PIXD__SCRATCH_COUNT; i++)
        free(sc->s[i].p);
    free(sc);
}

static void make_key(void) {
    /* Without a key there is no scratch: every call then reports ENOMEM. */
    if (pthread_key_create(&key, destroy) != 0)
        abort();
}

static scratch *get(int create) {
    scratch *sc;
    pthread_once(&key_once, make_key);
    sc = pthread_getspecific(key);
    if (!sc && create) {
        sc = calloc(1, sizeof *sc);
        if (sc && pthread_setspecific(key, sc) != 0) {
            free(sc);
            sc = NULL;
        }
    }
    return sc;
}

uint8_t *pixd__scratch(int slot_id, size_t n) {
    scratch *sc = get(1);
    slot *s;

    if (!sc || slot_id < 0 || slot_id >= PIXD__SCRATCH_COUNT)
        return NULL;
    s = &sc->s[slot_id];
    if (n > s->cap) {
        /* The old contents are not needed, so no realloc copy; a margin
         * keeps sizes that vary a little from one job to the next from
         * reallocating every time. */
        size_t cap = n + n / 8 + 4096;
        free(s->p);
        s->p = malloc(cap);
        s->cap = s->p ? cap : 0;
    }
    return s->p;
}

int pixd__scratch_pixels(pixd__pixels *px, int slot_id, uint32_t w, uint32_t h,
                         int channels) {
    size_t stride = (size_t)w * (size_t)channels;
    px->data = pixd__scratch(slot_id, stride * h);
    px->width = w;
    px->height = h;
    px->stride = stride;
    px->channels = channels;
    return px->data ? 0 : -ENOMEM;
}

void pixd__scratch_trim(size_t keep) {
    scratch *sc = get(0);
    if (!sc)
        return;
    for (int i = 0; i < PIXD__SCRATCH_COUNT; i++) {
        if (sc->s[i].cap > keep) {
            free(sc->s[i].p);
            sc->s[i].p = NULL;
            sc->s[i].cap = 0;
        }
    }
}

void pixd_image_thread_release(void) {
    scratch *sc = get(0);
    if (sc) {
        pthread_setspecific(key, NULL);
        destroy(sc);
    }
}
