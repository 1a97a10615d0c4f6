/* systemd's watchdog (WatchdogSec=): "WATCHDOG=1" from a timer on the
 * loop, so a loop that stops turning stops the pings and systemd restarts
 * pixd. Does nothing when systemd asked for no watchdog. */
#ifndef PIXD_WATCHDOG_H
#define PIXD_WATCHDOG_H

#include <uv.h>

/* Pings at half the interval systemd gave. t must live until closed by
 * pixd_watchdog_stop. Returns 1 if started, 0 if no watchdog is asked. */
int pixd_watchdog_start(uv_loop_t *loop, uv_timer_t *t);
/* Closes t if started; safe to call twice or on a never-started timer. */
void pixd_watchdog_stop(uv_timer_t *t);

#endif
