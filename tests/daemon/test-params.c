/* --listen NAME=ADDR,KEY=VALUE parameters: the split, the value rule,
 * the refusals, and each legacy handler checking its own keys. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"
#include "params.h"

static void params_split_addr_from_keys(void **state) {
    assert_int_equal(pixd_params_split("127.0.0.1:9000"), 14);
    assert_int_equal(pixd_params_split("127.0.0.1:9000,prefix=cam"), 14);
    assert_int_equal(pixd_params_split("[::1]:9000,max-clients=4"), 10);
    /* A comma not followed by KEY= belongs to the address (unix paths). */
    assert_int_equal(pixd_params_split("unix:/tmp/a,b.sock"), 18);
    assert_int_equal(pixd_params_split("unix:/tmp/a,b.sock,camera=x"), 18);
    assert_int_equal(pixd_params_split(""), 0);
}

static void params_value_runs_to_next_key(void **state) {
    pixd_params p;
    char err[200];
    assert_int_equal(pixd_params_parse("camera=test,quality=90,unsharp=2,150,3", &p, err,
                                       sizeof err), 0);
    assert_int_equal(p.n, 3);
    assert_string_equal(pixd_params_get(&p, "camera"), "test");
    assert_string_equal(pixd_params_get(&p, "quality"), "90");
    assert_string_equal(pixd_params_get(&p, "unsharp"), "2,150,3");
    assert_int_equal(pixd_params_parse("unsharp=2,150,3,camera=a", &p, err, sizeof err), 0);
    assert_string_equal(pixd_params_get(&p, "unsharp"), "2,150,3");
    assert_string_equal(pixd_params_get(&p, "camera"), "a");
    /* Uppercase after a comma is not a key: it stays in the value. */
    assert_int_equal(pixd_params_parse("x=a,B=c", &p, err, sizeof err), 0);
    assert_string_equal(pixd_params_get(&p, "x"), "a,B=c");
    assert_null(pixd_params_get(&p, "B"));
}

static void params_empty_is_empty_list(void **state) {
    pixd_params p;
    char err[200];
    assert_int_equal(pixd_params_parse("", &p, err, sizeof err), 0);
    assert_int_equal(p.n, 0);
    assert_null(pixd_params_get(&p, "camera"));
}

static void params_refuses_malformed(void **state) {
    pixd_params p;
    char err[200];
    assert_int_equal(pixd_params_parse("camera", &p, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "KEY=VALUE"));
    assert_int_equal(pixd_params_parse("Camera=x", &p, err, sizeof err), -EINVAL);
    assert_int_equal(pixd_params_parse("=x", &p, err, sizeof err), -EINVAL);
    assert_int_equal(pixd_params_parse("camera=", &p, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "needs a value"));
    assert_int_equal(pixd_params_parse("a=1,a=2", &p, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "twice"));
}

static void params_refuses_too_many_or_too_long(void **state) {
    pixd_params p;
    char err[200], buf[400];
    assert_int_equal(pixd_params_parse("a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1", &p, err, sizeof err), 0);
    assert_int_equal(pixd_params_parse("a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1", &p, err,
                                       sizeof err), -EINVAL);
    memset(buf, 'v', sizeof buf);
    memcpy(buf, "k=", 2);
    buf[PIXD_PARAM_VALUE_MAX + 2] = '\0';
    assert_int_equal(pixd_params_parse(buf, &p, err, sizeof err), -EINVAL);
    buf[PIXD_PARAM_VALUE_MAX + 1] = '\0'; /* exactly the largest value */
    assert_int_equal(pixd_params_parse(buf, &p, err, sizeof err), 0);
    memset(buf, 'k', sizeof buf);
    memcpy(buf + PIXD_PARAM_KEY_MAX, "=1", 3);
    assert_int_equal(pixd_params_parse(buf, &p, err, sizeof err), -EINVAL);
}

static void params_unknown_key_names_known(void **state) {
    static const char *const known[] = {"prefix", "max-clients", NULL};
    pixd_params p;
    char err[200];
    assert_int_equal(pixd_params_parse("prefix=a,colour=red", &p, err, sizeof err), 0);
    assert_int_equal(pixd_params_check_known(&p, known, "legacy-camfeed", err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "colour"));
    assert_non_null(strstr(err, "max-clients"));
    assert_int_equal(pixd_params_check_known(&p, NULL, "native", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "none"));
}

static void params_uint_range(void **state) {
    pixd_params p;
    char err[200];
    unsigned v;
    assert_int_equal(pixd_params_parse("q=90,z=0,big=99999999999999999999,neg=-1", &p, err,
                                       sizeof err), 0);
    assert_int_equal(pixd_params_uint(&p, "q", 1, 100, 5, &v, err, sizeof err), 0);
    assert_int_equal(v, 90);
    assert_int_equal(pixd_params_uint(&p, "absent", 1, 100, 5, &v, err, sizeof err), 0);
    assert_int_equal(v, 5);
    assert_int_equal(pixd_params_uint(&p, "z", 1, 100, 5, &v, err, sizeof err), -EINVAL);
    assert_int_equal(pixd_params_uint(&p, "big", 1, 100, 5, &v, err, sizeof err), -EINVAL);
    assert_int_equal(pixd_params_uint(&p, "neg", 0, 100, 5, &v, err, sizeof err), -EINVAL);
}

static int set_listen(pixd_options *o, const char *v, char *err) {
    return pixd_options_set(o, "listen", v, err, 300);
}

static void params_listen_stores_them(void **state) {
    pixd_options o;
    char err[300];
    pixd_options_defaults(&o);
    assert_int_equal(set_listen(&o, "legacy-snapshot=127.0.0.1:9001,camera=test,quality=90,"
                                    "unsharp=2,150,3", err), 0);
    assert_string_equal(o.listens[0].addr, "127.0.0.1:9001");
    assert_string_equal(pixd_params_get(&o.listens[0].params, "unsharp"), "2,150,3");
    assert_int_equal(set_listen(&o, "legacy-camfeed=127.0.0.1:9000,prefix=cam,max-clients=4",
                                err), 0);
    assert_string_equal(o.listens[1].addr, "127.0.0.1:9000");
    assert_string_equal(pixd_params_get(&o.listens[1].params, "prefix"), "cam");
    assert_int_equal(set_listen(&o, "legacy-resize=127.0.0.1:65432", err), 0);
    assert_int_equal(o.listens[2].params.n, 0);
}

static void params_listen_handlers_check_their_keys(void **state) {
    pixd_options o;
    char err[300];
    pixd_options_defaults(&o);
    assert_int_equal(set_listen(&o, "native=127.0.0.1:0,camera=x", err), -EINVAL);
    assert_non_null(strstr(err, "camera"));
    assert_int_equal(set_listen(&o, "legacy-resize=127.0.0.1:0,quality=5", err), -EINVAL);
    assert_int_equal(set_listen(&o, "legacy-camfeed=127.0.0.1:0,prefx=a", err), -EINVAL);
    assert_non_null(strstr(err, "prefix"));
    assert_int_equal(set_listen(&o, "legacy-camfeed=127.0.0.1:0,max-clients=0", err), -EINVAL);
    assert_int_equal(set_listen(&o, "legacy-camfeed=127.0.0.1:0,prefix=a/b", err), -EINVAL);
    assert_int_equal(set_listen(&o, "legacy-snapshot=127.0.0.1:0,quality=101", err), -EINVAL);
    assert_int_equal(set_listen(&o, "legacy-snapshot=127.0.0.1:0,unsharp=2,150", err), -EINVAL);
    assert_non_null(strstr(err, "RADIUS,PERCENT,THRESHOLD"));
    assert_int_equal(set_listen(&o, "legacy-snapshot=127.0.0.1:0,camera=../x", err), -EINVAL);
    assert_int_equal(o.n_listens, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params_split_addr_from_keys),
        cmocka_unit_test(params_value_runs_to_next_key),
        cmocka_unit_test(params_empty_is_empty_list),
        cmocka_unit_test(params_refuses_malformed),
        cmocka_unit_test(params_refuses_too_many_or_too_long),
        cmocka_unit_test(params_unknown_key_names_known),
        cmocka_unit_test(params_uint_range),
        cmocka_unit_test(params_listen_stores_them),
        cmocka_unit_test(params_listen_handlers_check_their_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
