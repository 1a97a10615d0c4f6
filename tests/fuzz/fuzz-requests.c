/* libFuzzer target: the request layer behind the handlers. The same
 * in-process server and client socket as fuzz-handlers (whose harness is
 * included), but built with what parses a request's fields and query
 * instrumented: native_store.c, native_resize.c, native_camera.c and the
 * HTTP route files, so the fuzzer is guided into store, resize and camera
 * requests rather than stopping at the framing. */
#include "fuzz-handlers.c"
