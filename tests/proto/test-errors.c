/* Error codes and message type names. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pixproto.h"

static void errors_every_code_has_name_and_text(void **state)
{
#define CHECK(name, code, text)                                                \
    assert_int_equal(PIXPROTO_E##name, -(code));                               \
    assert_string_equal(pixproto_errname(code), #name);                        \
    assert_string_equal(pixproto_errname(-(code)), #name);                     \
    assert_string_equal(pixproto_strerror(code), text);                        \
    assert_string_equal(pixproto_strerror(-(code)), text);
    PIXPROTO_ERRNO_MAP(CHECK)
#undef CHECK
}

static void errors_codes_are_dense_from_one(void **state)
{
    int n = 0;

#define COUNT(name, code, text) n++;
    PIXPROTO_ERRNO_MAP(COUNT)
#undef COUNT
    for (int code = 1; code <= n; code++)
        assert_non_null(pixproto_errname(code));
    assert_null(pixproto_errname(n + 1));
}

static void errors_unknown_code_is_sensible(void **state)
{
    const int unknown[] = {999, -999, 1000, INT_MAX, INT_MIN, -200};

    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_null(pixproto_errname(unknown[i]));
        assert_string_equal(pixproto_strerror(unknown[i]), "unknown error");
    }
    assert_null(pixproto_errname(0));
    assert_string_equal(pixproto_strerror(0), "success");
}

static void errors_every_type_has_a_name(void **state)
{
#define CHECK(name, code, str)                                                 \
    assert_string_equal(pixproto_type_name(PIXPROTO_T_##name), str);           \
    assert_true(pixproto_type_known(code));
    PIXPROTO_TYPE_MAP(CHECK)
#undef CHECK
}

static void errors_unknown_type_has_no_name(void **state)
{
    const int unknown[] = {0, 0x0f, 0x7f, 0xff, 0x100, -1, INT_MIN};

    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_null(pixproto_type_name(unknown[i]));
        assert_false(pixproto_type_known(unknown[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(errors_every_code_has_name_and_text),
        cmocka_unit_test(errors_codes_are_dense_from_one),
        cmocka_unit_test(errors_unknown_code_is_sensible),
        cmocka_unit_test(errors_every_type_has_a_name),
        cmocka_unit_test(errors_unknown_type_has_no_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
