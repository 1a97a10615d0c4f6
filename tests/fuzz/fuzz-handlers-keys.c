/* libFuzzer target: fuzz-handlers.c with access keys configured, so every
 * input meets what an unauthenticated client reaches: WELCOME's challenge,
 * AUTH parsing and refusal, the per-message gates and HTTP's 401s. */
#define FUZZ_WITH_KEYS 1
#include "fuzz-handlers.c"
