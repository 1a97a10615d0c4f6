#include "sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace pixctl {

struct Sha256::Ctx {
    struct Free {
        void operator()(EVP_MD_CTX *c) const noexcept { EVP_MD_CTX_free(c); }
    };
    std::unique_ptr<EVP_MD_CTX, Free> md{EVP_MD_CTX_new()};
};

Sha256::Sha256() : ctx_(new Ctx)
{
    if (!ctx_->md || EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("cannot compute SHA-256: OpenSSL's libcrypto refused to start it");
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256 &&) noexcept = default;
Sha256 &Sha256::operator=(Sha256 &&) noexcept = default;

void Sha256::update(const void *p, std::size_t n)
{
    if (n > 0 && EVP_DigestUpdate(ctx_->md.get(), p, n) != 1)
        throw std::runtime_error("cannot compute SHA-256: OpenSSL failed");
}

Sha256::Digest Sha256::finish()
{
    Digest d{};
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_->md.get(), d.data(), &len) != 1 || len != d.size())
        throw std::runtime_error("cannot compute SHA-256: OpenSSL failed");
    return d;
}

} // namespace pixctl
