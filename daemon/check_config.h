/* pixd --check-config: everything pixd would refuse at start, found
 * without binding a socket, creating the store or opening a camera. */
#ifndef PIXD_CHECK_CONFIG_H
#define PIXD_CHECK_CONFIG_H

#include <stdio.h>

#include "options.h"

/* Checks the parsed options: listen addresses resolve and are allowed,
 * unix socket directories exist, the store directory is (or can be made)
 * writable, camera sources exist. Prints what it checked and every
 * problem to out. Returns 0 when pixd would start, else 1. */
int pixd_check_config(const pixd_options *o, FILE *out);

#endif
