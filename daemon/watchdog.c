#include "watchdog.h"

#include "log.h"
#include "notify.h"

static void on_ping(uv_timer_t *t) {
    (void)t;
    pixd_notify("WATCHDOG=1");
}

int pixd_watchdog_start(uv_loop_t *loop, uv_timer_t *t) {
    unsigned long long usec = pixd_notify_watchdog_usec();
    uint64_t ms;

    if (!usec)
        return 0;
    /* Half the interval, as sd_watchdog_enabled(3) advises: one late
     * turn of the loop is not yet a missed ping. */
    ms = usec / 2000u;
    if (ms == 0)
        ms = 1;
    uv_timer_init(loop, t);
    uv_timer_start(t, on_ping, ms, ms);
    /* The watchdog never keeps the loop alive by itself. */
    uv_unref((uv_handle_t *)t);
    pixd_notify("WATCHDOG=1");
    pixd_debug("systemd watchdog: pinging every %llu ms", (unsigned long long)ms);
    return 1;
}

static void closed(uv_handle_t *h) { (void)h; }

void pixd_watchdog_stop(uv_timer_t *t) {
    if (t->loop && !uv_is_closing((uv_handle_t *)t))
        uv_close((uv_handle_t *)t, closed);
}
