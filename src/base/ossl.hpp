#pragma once
// RAII owners for OpenSSL 3 objects, so that no early return leaks one, and the error-queue reader; shared by
// the JWT/JWK code (src/security) and the listeners' TLS contexts (src/http). Each owner is a std::unique_ptr with
// a deleter calling the matching *_free. Shared ownership of a key (many Key copies, many threads verifying with
// it) goes through SharedPkey; OpenSSL 3 allows one EVP_PKEY to be used concurrently by several threads for
// verification as long as nobody modifies it, and nothing in Herald modifies a loaded key.
//
// Only OpenSSL 3 APIs are used; src/security is compiled with OPENSSL_NO_DEPRECATED so a deprecated call there
// is a build error.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace herald::ossl {

template <auto Free>
struct Deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using MdPtr = std::unique_ptr<EVP_MD, Deleter<EVP_MD_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using DecoderCtxPtr = std::unique_ptr<OSSL_DECODER_CTX, Deleter<OSSL_DECODER_CTX_free>>;

using SharedPkey = std::shared_ptr<EVP_PKEY>;

inline SharedPkey share(PkeyPtr key) { return SharedPkey(key.release(), Deleter<EVP_PKEY_free>{}); }

// The text of the oldest error on this thread's OpenSSL error queue, and clears the queue (a
// failure left on the queue would be misreported by the next, unrelated OpenSSL call on the same
// thread).
std::string last_error();

}  // namespace herald::ossl
