#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "check_config.h"
#include "jobs.h"
#include "log.h"
#include "options.h"
#include "server.h"

int main(int argc, char **argv) {
    static pixd_options opt;
    static pixd_server srv;
    char err[512] = "";
    uv_loop_t loop;
    int r;

    pixd_log_init();
    signal(SIGPIPE, SIG_IGN);
    /* Transfers allocate and free 256 KiB chunks all day. Above glibc's
     * default threshold (128 KiB) each would be a fresh mmap, faulted in
     * page by page; from the heap they are reused. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    pixd_options_defaults(&opt);
    r = pixd_options_parse(&opt, argc, argv, err, sizeof err);
    if (r == 1)
        return 0;
    if (r < 0) {
        fprintf(stderr, "pixd: %s\n", err);
        /* --check-config promises 0 or 1; plain usage errors stay 2. */
        return opt.check_config ? 1 : 2;
    }
    if (opt.check_config)
        return pixd_check_config(&opt, stdout);
    pixd_log_set_level(opt.log_level);
    pixd_log_set_format(opt.log_format);
    pixd_log_set_requests(opt.log_requests);
    pixd_jobs_size_pool(opt.workers ? opt.workers : pixd_jobs_default_workers());
    if ((r = uv_loop_init(&loop)) < 0) {
        pixd_err("cannot start the event loop: %s", uv_strerror(r));
        return 1;
    }
    r = pixd_server_start(&srv, &loop, &opt);
    if (r == 0)
        uv_run(&loop, UV_RUN_DEFAULT);
    pixd_server_free(&srv);
    if (uv_loop_close(&loop) != 0)
        pixd_warn("event loop closed with handles still open");
    if (r == 0)
        pixd_info("stopped");
    return r == 0 ? 0 : 1;
}
