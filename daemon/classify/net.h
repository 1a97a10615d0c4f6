/* The interface between pixd and its classification module,
 * pixd-classify.so: OpenCV dnn, kept out of the always-loaded daemon
 * (ARCHITECTURE.md, "Memory budget") and loaded with dlopen at start only
 * when --model is given.
 *
 * The module exports one symbol, PIXD_NET_SYMBOL, a table of functions
 * whose first field is the ABI version; the loader refuses any other. No
 * C++ exception crosses it. */
#ifndef PIXD_CLASSIFY_NET_H
#define PIXD_CLASSIFY_NET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PIXD_NET_ABI 1
#define PIXD_NET_SYMBOL "pixd_net_v1"
#define PIXD_NET_FILE "pixd-classify.so"

typedef struct pixd_net_params {
    uint32_t width, height; /* network input */
    float mean[3];          /* R, G, B */
    float scale;
    int rgb;                /* the network takes RGB (1) or BGR (0) */
} pixd_net_params;

/* 8-bit pixels: 1 (gray), 3 (BGR) or 4 (BGRA) channels, the caller's. */
typedef struct pixd_net_pixels {
    const uint8_t *data;
    uint32_t width, height;
    size_t stride;
    int channels;
} pixd_net_pixels;

typedef struct pixd_net_ops {
    int abi; /* PIXD_NET_ABI */
    /* Read the ONNX file at path (kept in memory: worker threads build
     * their networks from these bytes) and check it with one forward pass
     * on zeros. On success *model is the module's, *outputs the number of
     * scores per image. Returns 0, -ENOENT (file missing), -EINVAL (not a
     * model OpenCV can run; err carries OpenCV's reason) or -ENOMEM. */
    int (*load)(const char *path, const pixd_net_params *p, void **model, size_t *outputs,
                char *err, size_t errlen);
    /* On a worker thread: resize px to the input, normalise, run the
     * a network borrowed from the model's idle pool (built when none is
     * idle) and write outputs scores. pre_ms: resize and normalise;
     * infer_ms: forward (not a network's build). Thread-safe. */
    int (*run)(void *model, const pixd_net_pixels *px, float *scores, size_t outputs,
               double *pre_ms, double *infer_ms, char *err, size_t errlen);
    void (*free)(void *model); /* accepts NULL; no thread may still run it */
} pixd_net_ops;

/* net_load.c: the module, loaded once; 0, or -ENOENT / -EIO with err
 * saying what to do. */
int pixd__net_get(const pixd_net_ops **out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
