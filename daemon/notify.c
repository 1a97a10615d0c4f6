#include "notify.h"

#include <stdint.h>
#include <stdlib.h>

#include "pixd-config.h"

#if PIXD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

void pixd_notify(const char *state) { sd_notify(0, state); }

int pixd_notify_listen_fds(char ***names) {
    *names = NULL;
    return sd_listen_fds_with_names(1, names);
}

unsigned long long pixd_notify_watchdog_usec(void) {
    uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}
#else
void pixd_notify(const char *state) { (void)state; }

int pixd_notify_listen_fds(char ***names) {
    *names = NULL;
    return 0;
}

unsigned long long pixd_notify_watchdog_usec(void) { return 0; }
#endif

void pixd_notify_free_names(char **names) {
    if (!names)
        return;
    for (char **p = names; *p; p++)
        free(*p);
    free(names);
}
