/* CPU-heavy jobs on the libuv work queue, capped in flight.
 *
 * At most `workers` jobs run at once (one core each); up to `max_waiting`
 * more wait in order; beyond that pixd_jobs_submit says -EBUSY at once, so
 * a flood of work never stalls the loop or grows memory without bound.
 * work() runs on a worker thread and touches only the job's own memory;
 * done() runs on the loop thread. */
#ifndef PIXD_JOBS_H
#define PIXD_JOBS_H

#include <stdint.h>
#include <uv.h>

typedef struct pixd_job pixd_job;
typedef struct pixd_jobs pixd_jobs;

struct pixd_job {
    uv_work_t req;
    pixd_jobs *q;
    void (*work)(pixd_job *j);
    /* status 0, or -ECANCELED when the job never ran (shutdown, cancel). */
    void (*done)(pixd_job *j, int status);
    uint64_t queued_ns, started_ns, finished_ns; /* uv_hrtime() stamps */
    pixd_job *next;
    int running;
};

/* Upper bounds (ms) of the time histograms' buckets; a last, unbounded
 * bucket follows. Fixed, so that Prometheus can aggregate across boxes. */
#define PIXD_JOBS_HIST_BOUNDS_MS {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}
#define PIXD_JOBS_HIST_N 14     /* the bounds above plus +Inf */

/* How long jobs waited for a worker, or ran: counts per bucket (not
 * cumulative) and the sum, updated on the loop thread as each job ends. */
typedef struct pixd_jobs_hist {
    uint64_t bucket[PIXD_JOBS_HIST_N];
    uint64_t count, sum_ns;
} pixd_jobs_hist;

struct pixd_jobs {
    uv_loop_t *loop;
    unsigned workers, max_waiting;
    unsigned running, waiting;
    unsigned reserved;          /* places held for jobs whose input is still arriving */
    pixd_job *head, *tail;      /* waiting, oldest first */
    uint64_t done_count, busy_count;
    pixd_jobs_hist queue_hist, run_hist; /* jobs that ran (not cancelled) */
};

extern const unsigned pixd_jobs_hist_bounds_ms[PIXD_JOBS_HIST_N - 1];

/* Call before the loop first uses its thread pool: sizes it for workers
 * plus file I/O. */
void pixd_jobs_size_pool(unsigned workers);
void pixd_jobs_init(pixd_jobs *q, uv_loop_t *loop, unsigned workers, unsigned max_waiting);
/* 0, or -EBUSY when every worker is busy and the waiting line is full. */
int pixd_jobs_submit(pixd_jobs *q, pixd_job *j);
/* Hold a place in the line for a job whose input is still arriving, so
 * that inputs being received count against the line as queued jobs do:
 * 0, or -EBUSY (counted) when running + waiting + reserved fill it.
 * Give the place back with pixd_jobs_unreserve() before submitting the
 * job, or when it is abandoned. */
int pixd_jobs_reserve(pixd_jobs *q);
void pixd_jobs_unreserve(pixd_jobs *q);
/* Take a job that has not started out of the line; done(-ECANCELED) is
 * called. A running job cannot be stopped: returns -EBUSY. */
int pixd_jobs_cancel(pixd_jobs *q, pixd_job *j);
/* Cancel every waiting job (shutdown). */
void pixd_jobs_cancel_all(pixd_jobs *q);
/* Number of online cores, the default for --workers. */
unsigned pixd_jobs_default_workers(void);

#endif
