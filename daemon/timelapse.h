/* --camera ...,save-every=SEC: store a snapshot of the camera every SEC
 * seconds, named CAMERA-YYYYMMDD-HHMMSS.jpg, within the store's quota. */
#ifndef PIXD_TIMELAPSE_H
#define PIXD_TIMELAPSE_H

#include "camera/hub.h"
#include "store.h"

typedef struct pixd_timelapse pixd_timelapse;

int pixd_timelapse_start(uv_loop_t *loop, pixd_hub *hub, pixd_store *store, const char *camera,
                         unsigned every_sec, pixd_timelapse **out);
/* Stop; the memory goes once the timer handle has closed. */
void pixd_timelapse_stop(pixd_timelapse *t);

#endif
