/* --model specs and labels files: one case per rule of model_spec.h, with
 * the texts users see. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "classify/model_spec.h"

static pixd_model_spec spec;

static void accepted(const char *arg) {
    char err[512] = "";
    if (pixd_model_spec_parse(arg, &spec, err, sizeof err) != 0)
        fail_msg("\"%s\" refused: %s", arg, err);
}

static void refused(const char *arg, const char *why) {
    char err[512] = "";
    assert_int_equal(pixd_model_spec_parse(arg, &spec, err, sizeof err), -EINVAL);
    if (!strstr(err, why))
        fail_msg("reason \"%s\" for \"%s\" does not mention \"%s\"", err, arg, why);
}

static void model_spec_defaults(void **state) {
    (void)state;
    accepted("cats=/m/cats.onnx");
    assert_string_equal(spec.name, "cats");
    assert_string_equal(spec.path, "/m/cats.onnx");
    assert_string_equal(spec.labels, "");
    assert_int_equal(spec.width, 224);
    assert_int_equal(spec.height, 224);
    assert_true(spec.mean[0] == 0.0f && spec.mean[1] == 0.0f && spec.mean[2] == 0.0f);
    assert_true(spec.scale > 0.00392f && spec.scale < 0.00393f);
    assert_int_equal(spec.rgb, 1);
    assert_string_equal(spec.positive, "");
}

static void model_spec_needs_name_and_path(void **state) {
    (void)state;
    refused("cats.onnx", "must be NAME=PATH");
    refused("=cats.onnx", "must be NAME=PATH");
    refused("cats=", "path of the ONNX file is missing");
    refused("cats=,labels=x", "path of the ONNX file is missing");
}

static void model_spec_name_characters(void **state) {
    char long_name[80];
    (void)state;
    accepted("a.b_c-D9=m.onnx");
    refused("my cats=m.onnx", "letters, digits");
    refused("c/ats=m.onnx", "letters, digits");
    memset(long_name, 'n', 64);
    strcpy(long_name + 64, "=m.onnx");
    refused(long_name, "1 to 63");
    long_name[63] = '=';
    accepted(long_name);
}

static void model_spec_path_ends_at_comma(void **state) {
    (void)state;
    accepted("m=/a b/c=d.onnx,rgb=0");
    assert_string_equal(spec.path, "/a b/c=d.onnx");
    assert_int_equal(spec.rgb, 0);
}

static void model_spec_labels(void **state) {
    (void)state;
    accepted("m=m.onnx,labels=/m/labels.txt");
    assert_string_equal(spec.labels, "/m/labels.txt");
    refused("m=m.onnx,labels=", "labels needs a file name");
}

static void model_spec_size(void **state) {
    (void)state;
    accepted("m=m.onnx,size=32x16");
    assert_int_equal(spec.width, 32);
    assert_int_equal(spec.height, 16);
    accepted("m=m.onnx,size=4096X1");
    assert_int_equal(spec.width, 4096);
    refused("m=m.onnx,size=0x10", "each side from 1 to 4096");
    refused("m=m.onnx,size=4097x10", "each side from 1 to 4096");
    refused("m=m.onnx,size=32", "WIDTHxHEIGHT");
    refused("m=m.onnx,size=32x32x3", "WIDTHxHEIGHT");
    refused("m=m.onnx,size=-3x3", "WIDTHxHEIGHT");
    refused("m=m.onnx,size=99999999999999999999x3", "WIDTHxHEIGHT");
}

static void model_spec_mean(void **state) {
    (void)state;
    accepted("m=m.onnx,mean=123.7,116.3,103.5,scale=0.5");
    assert_true(spec.mean[0] > 123.6f && spec.mean[0] < 123.8f);
    assert_true(spec.mean[2] > 103.4f && spec.mean[2] < 103.6f);
    assert_true(spec.scale == 0.5f);
    accepted("m=m.onnx,mean=-1,0,1e2");
    assert_true(spec.mean[0] == -1.0f && spec.mean[2] == 100.0f);
    refused("m=m.onnx,mean=1,2", "three numbers");
    refused("m=m.onnx,mean=1,2,x", "three numbers");
    refused("m=m.onnx,mean=1,2,nan", "three numbers");
    refused("m=m.onnx,mean=1,,3", "three numbers");
}

static void model_spec_scale(void **state) {
    (void)state;
    accepted("m=m.onnx,scale=0.017");
    assert_true(spec.scale > 0.0169f && spec.scale < 0.0171f);
    refused("m=m.onnx,scale=0", "above 0");
    refused("m=m.onnx,scale=-1", "above 0");
    refused("m=m.onnx,scale=inf", "above 0");
    refused("m=m.onnx,scale=1/255", "above 0");
}

static void model_spec_rgb(void **state) {
    (void)state;
    accepted("m=m.onnx,rgb=0");
    assert_int_equal(spec.rgb, 0);
    accepted("m=m.onnx,rgb=1");
    assert_int_equal(spec.rgb, 1);
    refused("m=m.onnx,rgb=yes", "rgb must be 1");
    refused("m=m.onnx,rgb=", "rgb must be 1");
}

static void model_spec_positive(void **state) {
    char arg[200];
    (void)state;
    accepted("m=m.onnx,positive=person");
    assert_string_equal(spec.positive, "person");
    refused("m=m.onnx,positive=", "positive must name a label");
    strcpy(arg, "m=m.onnx,positive=");
    memset(arg + strlen(arg), 'p', 128);
    arg[18 + 128] = '\0';
    refused(arg, "1 to 127");
}

static void model_spec_refuses_unknown_twice_and_bare(void **state) {
    (void)state;
    refused("m=m.onnx,colour=1", "unknown option \"colour\"");
    refused("m=m.onnx,rgb=1,rgb=0", "given twice");
    refused("m=m.onnx,rgb", "needs a value");
    refused("m=m.onnx,", "needs a value");
    refused("m=m.onnx,=1", "unknown option");
    refused("m=m.onnx,averyveryverylongkey=1", "unknown option");
}

static void model_spec_all_options_any_order(void **state) {
    (void)state;
    accepted("rb=/m/rb.onnx,positive=red,mean=1,2,3,size=32x32,labels=/m/l.txt,rgb=0,"
             "scale=2");
    assert_string_equal(spec.positive, "red");
    assert_true(spec.mean[0] == 1.0f && spec.mean[1] == 2.0f && spec.mean[2] == 3.0f);
    assert_int_equal(spec.width, 32);
    assert_string_equal(spec.labels, "/m/l.txt");
    assert_int_equal(spec.rgb, 0);
    assert_true(spec.scale == 2.0f);
}

/* ---- labels files ---- */

static pixd_labels labels;

static void labels_ok(const char *text, size_t n) {
    char err[256] = "";
    if (pixd_labels_parse(text, n, &labels, err, sizeof err) != 0)
        fail_msg("labels refused: %s", err);
}

static void labels_refused(const char *text, size_t n, const char *why) {
    char err[256] = "";
    assert_int_equal(pixd_labels_parse(text, n, &labels, err, sizeof err), -EINVAL);
    assert_null(labels.names);
    if (!strstr(err, why))
        fail_msg("reason \"%s\" does not mention \"%s\"", err, why);
}

static void labels_one_a_line(void **state) {
    (void)state;
    labels_ok("red\nblue\n", 9);
    assert_int_equal(labels.n, 2);
    assert_string_equal(labels.names[0], "red");
    assert_string_equal(labels.names[1], "blue");
    pixd_labels_free(&labels);
    labels_ok("red\nblue", 8); /* the last newline is optional */
    assert_int_equal(labels.n, 2);
    assert_string_equal(labels.names[1], "blue");
    pixd_labels_free(&labels);
}

static void labels_trim_blanks_and_crlf(void **state) {
    (void)state;
    labels_ok("  tabby cat \r\n\tdog\r\n", 20);
    assert_int_equal(labels.n, 2);
    assert_string_equal(labels.names[0], "tabby cat");
    assert_string_equal(labels.names[1], "dog");
    pixd_labels_free(&labels);
}

static void labels_refuse_empty_and_blank_lines(void **state) {
    (void)state;
    labels_refused("", 0, "empty");
    labels_refused("red\n\nblue\n", 10, "line 2: empty");
    labels_refused("red\n \r\n", 7, "line 2: empty");
    labels_refused("\n", 1, "line 1: empty");
}

static void labels_refuse_nul_and_long(void **state) {
    char text[200];
    (void)state;
    labels_refused("red\0blue\n", 9, "NUL");
    memset(text, 'x', 128);
    text[128] = '\n';
    labels_refused(text, 129, "longer than 127");
    labels_ok(text + 1, 128);
    pixd_labels_free(&labels);
}

static void labels_refuse_too_many(void **state) {
    size_t n = (PIXD_LABELS_MAX + 1) * 2;
    char *text = malloc(n);
    (void)state;
    assert_non_null(text);
    for (size_t i = 0; i < n; i += 2)
        text[i] = 'a', text[i + 1] = '\n';
    labels_refused(text, n, "at most 100000");
    labels_ok(text, n - 2);
    assert_int_equal(labels.n, PIXD_LABELS_MAX);
    pixd_labels_free(&labels);
    free(text);
}

static void labels_find_by_name(void **state) {
    (void)state;
    labels_ok("red\nblue\n", 9);
    assert_int_equal(pixd_labels_find(&labels, "blue"), 1);
    assert_int_equal(pixd_labels_find(&labels, "green"), -1);
    pixd_labels_free(&labels);
    pixd_labels_free(&labels); /* twice, and NULL: harmless */
    pixd_labels_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_spec_defaults),
        cmocka_unit_test(model_spec_needs_name_and_path),
        cmocka_unit_test(model_spec_name_characters),
        cmocka_unit_test(model_spec_path_ends_at_comma),
        cmocka_unit_test(model_spec_labels),
        cmocka_unit_test(model_spec_size),
        cmocka_unit_test(model_spec_mean),
        cmocka_unit_test(model_spec_scale),
        cmocka_unit_test(model_spec_rgb),
        cmocka_unit_test(model_spec_positive),
        cmocka_unit_test(model_spec_refuses_unknown_twice_and_bare),
        cmocka_unit_test(model_spec_all_options_any_order),
        cmocka_unit_test(labels_one_a_line),
        cmocka_unit_test(labels_trim_blanks_and_crlf),
        cmocka_unit_test(labels_refuse_empty_and_blank_lines),
        cmocka_unit_test(labels_refuse_nul_and_long),
        cmocka_unit_test(labels_refuse_too_many),
        cmocka_unit_test(labels_find_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
