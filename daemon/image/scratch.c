/* Scratch buffers: sets of one buffer per stage of a job, kept in one
 * process-wide pool and lent to a thread while it runs a job.
 *
 * Why a pool and not one set per thread: jobs run on libuv's pool, which
 * has --workers + 4 threads (file I/O shares it), and any of them may pick
 * up the next job. Sets kept per thread grew to one per pool thread that
 * ever ran a job (5 sets, 20 MB, with --workers 1); lent from a pool there
 * are only as many as jobs ever ran at once (at most --workers), and the
 * most recently returned set, whose pages are resident, goes out first.
 *
 * Buffers are mmap'ed, and when a set goes back to the pool the pages of
 * every slot but DECODE are dropped (MADV_DONTNEED: the mapping stays, the
 * memory goes). A job's peak is while it decodes, holding its input too;
 * the resampled pixels of the last job would only add to that peak, and
 * refaulting them costs ~0.4 ms per MB against a decode of ~25 ms. */
#include <sys/mman.h>
#include <unistd.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "image.h"
#include "internal.h"

typedef struct {
    uint8_t *p;
    size_t cap;
} slot;

typedef struct scratch {
    slot s[PIXD__SCRATCH_COUNT];
    struct scratch *next; /* in the pool */
} scratch;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static scratch *pool; /* idle sets, most recently returned first */

static pthread_key_t key; /* the set lent to this thread, if any */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void slot_free(slot *s) {
    if (s->p)
        munmap(s->p, s->cap);
    s->p = NULL;
    s->cap = 0;
}

static void destroy(scratch *sc) {
    if (!sc)
        return;
    for (int i = 0; i < PIXD__SCRATCH_COUNT; i++)
        slot_free(&sc->s[i]);
    free(sc);
}

static void put_back(scratch *sc) {
    pthread_mutex_lock(&pool_lock);
    sc->next = pool;
    pool = sc;
    pthread_mutex_unlock(&pool_lock);
}

/* A thread that exits holding a set gives it back. */
static void on_thread_exit(void *v) {
    if (v)
        put_back(v);
}

static void make_key(void) {
    /* Without a key there is no scratch: every call then reports ENOMEM. */
    if (pthread_key_create(&key, on_thread_exit) != 0)
        abort();
}

static scratch *get(int create) {
    scratch *sc;
    pthread_once(&key_once, make_key);
    sc = pthread_getspecific(key);
    if (sc || !create)
        return sc;
    pthread_mutex_lock(&pool_lock);
    if ((sc = pool))
        pool = sc->next;
    pthread_mutex_unlock(&pool_lock);
    if (!sc && !(sc = calloc(1, sizeof *sc)))
        return NULL;
    sc->next = NULL;
    if (pthread_setspecific(key, sc) != 0) {
        put_back(sc);
        return NULL;
    }
    return sc;
}

uint8_t *pixd__scratch(int slot_id, size_t n) {
    scratch *sc;
    slot *s;

    if (slot_id < 0 || slot_id >= PIXD__SCRATCH_COUNT || !(sc = get(1)))
        return NULL;
    s = &sc->s[slot_id];
    if (n > s->cap) {
        /* The old contents are not needed, so no copy; a margin keeps
         * sizes that vary a little from one job to the next from mapping
         * again every time (pages of it never touched cost nothing). */
        size_t page = (size_t)sysconf(_SC_PAGESIZE), cap = n + n / 8 + page;
        void *p;
        cap -= cap % page;
        slot_free(s);
        p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        s->p = p;
        s->cap = cap;
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

void pixd__scratch_done(size_t keep) {
    scratch *sc = get(0);
    if (!sc)
        return;
    for (int i = 0; i < PIXD__SCRATCH_COUNT; i++) {
        if (sc->s[i].cap > keep)
            slot_free(&sc->s[i]);
        else if (sc->s[i].p && i != PIXD__SCRATCH_DECODE)
            madvise(sc->s[i].p, sc->s[i].cap, MADV_DONTNEED);
    }
    pthread_setspecific(key, NULL);
    put_back(sc);
}

void pixd_image_thread_release(void) {
    scratch *sc = get(0), *all;

    if (sc) {
        pthread_setspecific(key, NULL);
        destroy(sc);
    }
    pthread_mutex_lock(&pool_lock);
    all = pool;
    pool = NULL;
    pthread_mutex_unlock(&pool_lock);
    while (all) {
        sc = all->next;
        destroy(all);
        all = sc;
    }
}
