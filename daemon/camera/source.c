/* Which kind of source a --camera names. */
#include <string.h>

#include "source.h"

int pixd_source_open(pixd_hub *hub, const pixd_camera_spec *spec, char *err, size_t errlen) {
    if (strcmp(spec->source, "test") == 0)
        return pixd_source_test_open(hub, spec, err, errlen);
    if (strncmp(spec->source, "/dev/", 5) == 0)
        return pixd_source_v4l2_open(hub, spec, err, errlen);
    return pixd_source_file_open(hub, spec, err, errlen);
}
