/* The job queue: cap in flight, bounded waiting line, busy, cancel, order. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jobs.h"

typedef struct tjob {
    pixd_job job;
    int id;
    int status;
    int *order;
    int *n;
    uv_sem_t *gate; /* the first job waits here so others must queue */
} tjob;

static void work(pixd_job *j) {
    tjob *t = (tjob *)j;
    if (t->gate)
        uv_sem_wait(t->gate);
}

static void done(pixd_job *j, int status) {
    tjob *t = (tjob *)j;
    t->status = status;
    t->order[(*t->n)++] = t->id;
}

static void init(tjob *t, int id, int *order, int *n, uv_sem_t *gate) {
    memset(t, 0, sizeof *t);
    t->job.work = work;
    t->job.done = done;
    t->id = id;
    t->order = order;
    t->n = n;
    t->gate = gate;
    t->status = 1;
}

static void jobs_cap_queue_and_busy(void **state) {
    uv_loop_t loop;
    pixd_jobs q;
    uv_sem_t gate;
    tjob t[4];
    int order[4], n = 0;

    assert_int_equal(uv_loop_init(&loop), 0);
    uv_sem_init(&gate, 0);
    pixd_jobs_init(&q, &loop, 1, 2);
    for (int i = 0; i < 4; i++)
        init(&t[i], i, order, &n, i == 0 ? &gate : NULL);
    assert_int_equal(pixd_jobs_submit(&q, &t[0].job), 0);
    assert_int_equal(pixd_jobs_submit(&q, &t[1].job), 0);
    assert_int_equal(pixd_jobs_submit(&q, &t[2].job), 0);
    /* One running, two waiting: the fourth is refused at once. */
    assert_int_equal(pixd_jobs_submit(&q, &t[3].job), -EBUSY);
    assert_int_equal(q.running, 1);
    assert_int_equal(q.waiting, 2);
    uv_sem_post(&gate);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n, 3);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
    assert_int_equal(t[2].status, 0);
    assert_true(t[1].job.queued_ns <= t[1].job.started_ns);
    assert_true(t[1].job.started_ns <= t[1].job.finished_ns);
    uv_sem_destroy(&gate);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Inputs still arriving hold places: with one worker and a line of two,
 * three reservations fill it, and a place given back frees one. */
static void jobs_reserve_counts_against_line(void **state) {
    uv_loop_t loop;
    pixd_jobs q;
    uv_sem_t gate;
    tjob t[2];
    int order[2], n = 0;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    uv_sem_init(&gate, 0);
    pixd_jobs_init(&q, &loop, 1, 2);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pixd_jobs_reserve(&q), 0);
    assert_int_equal(pixd_jobs_reserve(&q), -EBUSY);
    assert_int_equal(q.busy_count, 1);
    /* A reserved job submits after giving its place back. */
    init(&t[0], 0, order, &n, &gate);
    pixd_jobs_unreserve(&q);
    assert_int_equal(pixd_jobs_submit(&q, &t[0].job), 0);
    assert_int_equal(pixd_jobs_reserve(&q), -EBUSY);
    /* An abandoned input gives its place back too. */
    pixd_jobs_unreserve(&q);
    assert_int_equal(pixd_jobs_reserve(&q), 0);
    pixd_jobs_unreserve(&q);
    pixd_jobs_unreserve(&q);
    pixd_jobs_unreserve(&q);
    assert_int_equal(q.reserved, 0);
    pixd_jobs_unreserve(&q); /* never below zero */
    assert_int_equal(q.reserved, 0);
    init(&t[1], 1, order, &n, NULL);
    assert_int_equal(pixd_jobs_submit(&q, &t[1].job), 0);
    uv_sem_post(&gate);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n, 2);
    uv_sem_destroy(&gate);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void jobs_cancel_waiting(void **state) {
    uv_loop_t loop;
    pixd_jobs q;
    uv_sem_t gate;
    tjob t[3];
    int order[3], n = 0;

    assert_int_equal(uv_loop_init(&loop), 0);
    uv_sem_init(&gate, 0);
    pixd_jobs_init(&q, &loop, 1, 4);
    for (int i = 0; i < 3; i++)
        init(&t[i], i, order, &n, i == 0 ? &gate : NULL);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pixd_jobs_submit(&q, &t[i].job), 0);
    assert_int_equal(pixd_jobs_cancel(&q, &t[0].job), -EBUSY);
    assert_int_equal(pixd_jobs_cancel(&q, &t[2].job), 0);
    assert_int_equal(t[2].status, -ECANCELED);
    assert_int_equal(pixd_jobs_cancel(&q, &t[2].job), -ENOENT);
    pixd_jobs_cancel_all(&q);
    assert_int_equal(t[1].status, -ECANCELED);
    uv_sem_post(&gate);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(t[0].status, 0);
    assert_int_equal(n, 3);
    uv_sem_destroy(&gate);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void jobs_parallel_up_to_workers(void **state) {
    uv_loop_t loop;
    pixd_jobs q;
    uv_sem_t gate;
    tjob t[3];
    int order[3], n = 0;

    assert_int_equal(uv_loop_init(&loop), 0);
    uv_sem_init(&gate, 0);
    pixd_jobs_init(&q, &loop, 2, 0);
    for (int i = 0; i < 3; i++)
        init(&t[i], i, order, &n, &gate);
    assert_int_equal(pixd_jobs_submit(&q, &t[0].job), 0);
    assert_int_equal(pixd_jobs_submit(&q, &t[1].job), 0);
    assert_int_equal(pixd_jobs_submit(&q, &t[2].job), -EBUSY);
    assert_int_equal(q.running, 2);
    uv_sem_post(&gate);
    uv_sem_post(&gate);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n, 2);
    uv_sem_destroy(&gate);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
    pixd_jobs_size_pool(4);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jobs_cap_queue_and_busy),
        cmocka_unit_test(jobs_reserve_counts_against_line),
        cmocka_unit_test(jobs_cancel_waiting),
        cmocka_unit_test(jobs_parallel_up_to_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
