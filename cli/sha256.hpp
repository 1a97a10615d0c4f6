// SHA-256 over data that arrives in pieces, by OpenSSL's EVP interface.
#ifndef PIXCTL_SHA256_HPP
#define PIXCTL_SHA256_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace pixctl {

class Sha256 {
public:
    using Digest = std::array<uint8_t, 32>;

    // Throws std::runtime_error if OpenSSL cannot provide SHA-256.
    Sha256();
    ~Sha256();
    Sha256(Sha256 &&) noexcept;
    Sha256 &operator=(Sha256 &&) noexcept;

    void update(const void *p, std::size_t n);
    // The digest of everything given so far; the object is then spent.
    Digest finish();

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

} // namespace pixctl

#endif
