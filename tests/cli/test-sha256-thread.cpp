// Sha256Thread (pixctl's hashing beside transfers): the digest is that of
// the bytes given in order, whatever the piece sizes and however far the
// caller runs ahead; buffers come back for reuse; leaving early is safe.
#include <cstdarg>
#include <cstddef>
#include <csetjmp>
#include <cstdint>
#include <random>
#include <vector>

extern "C" {
#include <cmocka.h>
}

#include "sha256.hpp"
#include "sha256_thread.hpp"

using pixctl::Sha256;
using pixctl::Sha256Thread;

static std::vector<uint8_t> random_bytes(std::size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto &b : v)
        b = static_cast<uint8_t>(rng());
    return v;
}

static Sha256::Digest direct(const std::vector<uint8_t> &data)
{
    Sha256 s;
    s.update(data.data(), data.size());
    return s.finish();
}

// Pieces of 0..64 KiB, each in a buffer larger than the part to hash (the
// tail must not be hashed), queue depth 1 and 4.
static void test_digest_matches_in_order(void **)
{
    std::vector<uint8_t> data = random_bytes(3u << 20, 1);
    for (std::size_t depth : {1u, 4u}) {
        Sha256Thread t(depth);
        std::mt19937 rng(7);
        std::size_t at = 0;
        while (at < data.size()) {
            std::size_t n = std::min<std::size_t>(rng() % (64u << 10), data.size() - at);
            std::vector<uint8_t> buf = t.spare(n + 100);
            std::copy(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + n),
                      buf.begin());
            buf[n] = 0xff; // beyond n: never hashed
            t.update(std::move(buf), n);
            at += n;
        }
        assert_true(t.finish() == direct(data));
    }
}

static void test_empty_input(void **)
{
    Sha256Thread t;
    assert_true(t.finish() == direct({}));
}

// spare() hands back a buffer of the size asked for, reused when one came
// back from the thread, new otherwise.
static void test_spare_sizes(void **)
{
    Sha256Thread t(2);
    for (int i = 0; i < 20; i++) {
        std::vector<uint8_t> b = t.spare(4096);
        assert_int_equal(b.size(), 4096);
        t.update(std::move(b), 4096);
        assert_int_equal(t.spare(100).size(), 100);
    }
    t.finish();
}

// Dropped with pieces still queued (an error mid-transfer): no hang, no leak.
static void test_destroy_with_work_pending(void **)
{
    for (int i = 0; i < 50; i++) {
        Sha256Thread t(4);
        for (int j = 0; j < 4; j++)
            t.update(random_bytes(256u << 10, static_cast<unsigned>(j)), 256u << 10);
    }
}

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_matches_in_order),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_spare_sizes),
        cmocka_unit_test(test_destroy_with_work_pending),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
