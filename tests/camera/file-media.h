/* Test media for the file: and URL camera tests, made here: a JPEG image
 * sequence, an MJPEG AVI written by hand, and an MJPEG-over-HTTP stream
 * served from loopback. Each frame is a flat gray whose level says which
 * frame of the file it is (level 5 + 6 * i). */
#ifndef PIXD_TEST_FILE_MEDIA_H
#define PIXD_TEST_FILE_MEDIA_H

#include <stdatomic.h>

#include <uv.h>

#define W 160
#define H 120
#define SEQ_LEN 40 /* frames in the image sequence and the video */

/* The directory the media are in (made by make_media). */
extern char dir[64];

/* Group setup and teardown: img_0000.jpg.., clip.avi (10 fps) and
 * garbage.avi in a new dir; and its removal. */
int make_media(void **state);
int remove_media(void **state);

/* ---- a stream: multipart MJPEG over HTTP from loopback ---- */

typedef struct server {
    int fd, port;
    unsigned fps, per_connection;
    atomic_int stop, connections;
    uv_thread_t thread;
} server;

/* Serve each connection per_connection frames at fps, then hang up, as a
 * camera that restarts would; on a loopback port of its own (sv->port). */
void server_start(server *sv, unsigned fps, unsigned per_connection);
void server_stop(server *sv);

#endif
