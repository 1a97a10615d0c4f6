/* systemd integration: readiness notification and socket activation.
 * Without libsystemd (or outside systemd) these do nothing. */
#ifndef PIXD_NOTIFY_H
#define PIXD_NOTIFY_H

/* Send a state string ("READY=1", "STOPPING=1") when NOTIFY_SOCKET is set. */
void pixd_notify(const char *state);

/* systemd's watchdog interval for this process (WATCHDOG_USEC, checked
 * against WATCHDOG_PID) in microseconds, or 0 when no watchdog is asked. */
unsigned long long pixd_notify_watchdog_usec(void);

/* Sockets passed by systemd (LISTEN_FDS for this pid). Returns how many,
 * starting at fd 3, with *names set to a NULL-terminated list of their
 * LISTEN_FDNAMES (free with pixd_notify_free_names), or a negative errno.
 * Unsets the variables so children do not inherit them. */
int pixd_notify_listen_fds(char ***names);
void pixd_notify_free_names(char **names);

#endif
