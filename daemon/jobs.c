#include "jobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pixd_jobs_size_pool(unsigned workers) {
    char n[16];
    /* libuv reads this once, when the pool first starts. File I/O shares
     * the pool, so it gets threads beyond the CPU jobs' share. */
    if (getenv("UV_THREADPOOL_SIZE"))
        return;
    snprintf(n, sizeof n, "%u", workers + 4);
    setenv("UV_THREADPOOL_SIZE", n, 1);
}

unsigned pixd_jobs_default_workers(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

void pixd_jobs_init(pixd_jobs *q, uv_loop_t *loop, unsigned workers, unsigned max_waiting) {
    q->loop = loop;
    q->workers = workers ? workers : 1;
    q->max_waiting = max_waiting;
    q->running = q->waiting = q->reserved = 0;
    q->head = q->tail = NULL;
    q->done_count = q->busy_count = 0;
    memset(&q->queue_hist, 0, sizeof q->queue_hist);
    memset(&q->run_hist, 0, sizeof q->run_hist);
}

const unsigned pixd_jobs_hist_bounds_ms[PIXD_JOBS_HIST_N - 1] = PIXD_JOBS_HIST_BOUNDS_MS;

static void hist_add(pixd_jobs_hist *h, uint64_t ns) {
    unsigned i = 0;
    while (i < PIXD_JOBS_HIST_N - 1 && ns > (uint64_t)pixd_jobs_hist_bounds_ms[i] * 1000000u)
        i++;
    h->bucket[i]++;
    h->count++;
    h->sum_ns += ns;
}

static void job_work(uv_work_t *req) {
    pixd_job *j = req->data;
    j->started_ns = uv_hrtime();
    j->work(j);
    j->finished_ns = uv_hrtime();
}

static void start_next(pixd_jobs *q);

static void job_after(uv_work_t *req, int status) {
    pixd_job *j = req->data;
    pixd_jobs *q = j->q;
    q->running--;
    q->done_count++;
    j->running = 0;
    if (status != UV_ECANCELED && j->started_ns) {
        hist_add(&q->queue_hist, j->started_ns - j->queued_ns);
        hist_add(&q->run_hist, j->finished_ns - j->started_ns);
    }
    start_next(q);
    j->done(j, status == UV_ECANCELED ? -ECANCELED : 0);
}

static int start(pixd_jobs *q, pixd_job *j) {
    int r;
    j->req.data = j;
    j->running = 1;
    q->running++;
    r = uv_queue_work(q->loop, &j->req, job_work, job_after);
    if (r < 0) {
        j->running = 0;
        q->running--;
    }
    return r;
}

static void start_next(pixd_jobs *q) {
    while (q->head && q->running < q->workers) {
        pixd_job *j = q->head;
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        q->waiting--;
        j->next = NULL;
        if (start(q, j) < 0)
            j->done(j, -ECANCELED);
    }
}

int pixd_jobs_submit(pixd_jobs *q, pixd_job *j) {
    j->q = q;
    j->next = NULL;
    j->running = 0;
    j->queued_ns = uv_hrtime();
    j->started_ns = j->finished_ns = 0;
    if (q->running < q->workers)
        return start(q, j);
    if (q->waiting >= q->max_waiting) {
        q->busy_count++;
        return -EBUSY;
    }
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->waiting++;
    return 0;
}

int pixd_jobs_reserve(pixd_jobs *q) {
    if (q->running + q->waiting + q->reserved >= q->workers + q->max_waiting) {
        q->busy_count++;
        return -EBUSY;
    }
    q->reserved++;
    return 0;
}

void pixd_jobs_unreserve(pixd_jobs *q) {
    if (q->reserved)
        q->reserved--;
}

int pixd_jobs_cancel(pixd_jobs *q, pixd_job *j) {
    pixd_job **p = &q->head, *prev = NULL;
    if (j->running)
        return -EBUSY;
    while (*p && *p != j) {
        prev = *p;
        p = &(*p)->next;
    }
    if (!*p)
        return -ENOENT;
    *p = j->next;
    if (q->tail == j)
        q->tail = prev;
    q->waiting--;
    j->done(j, -ECANCELED);
    return 0;
}

void pixd_jobs_cancel_all(pixd_jobs *q) {
    while (q->head)
        pixd_jobs_cancel(q, q->head);
}
