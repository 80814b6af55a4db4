#include "daemon/tls_cert.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <memory>

#include "base/file.h"

namespace tw::daemon {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool AddExt(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

Result<PemPair> MakeSelfSignedPem(std::string_view common_name, std::string_view alt_names, int days) {
  auto fail = [&](const char* what) { return Status::Internal(std::string("generating a certificate: ") + what); };
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return fail("EC key generation failed");
  X509Ptr cert(X509_new());
  if (!cert) return fail("X509_new failed");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return fail("no randomness");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn(common_name), alt(alt_names);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  if (!AddExt(cert.get(), NID_subject_alt_name, alt.c_str()) ||
      !AddExt(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExt(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") ||
      !AddExt(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !AddExt(cert.get(), NID_subject_key_identifier, "hash"))
    return fail("adding extensions failed");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return fail("signing failed");

  BioPtr cert_bio(BIO_new(BIO_s_mem())), key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return fail("PEM encoding failed");
  return PemPair{BioString(cert_bio.get()), BioString(key_bio.get())};
}

Status EnsureSelfSignedCert(const std::string& cert_path, const std::string& key_path) {
  bool have_cert = Exists(cert_path), have_key = Exists(key_path);
  if (have_cert && have_key) return Status::Ok();
  if (have_cert != have_key)
    return Status::IoError((have_cert ? key_path : cert_path) + ": missing (the TLS certificate and key go together)");
  auto pem = MakeSelfSignedPem("threatwalld", "IP:127.0.0.1,IP:::1,DNS:localhost", 10 * 365);
  if (!pem.ok()) return Status::IoError(cert_path + ": " + pem.error().message());
  // Key first: a cert without its key would block the next start.
  TW_RETURN_IF_ERROR(WriteFileAtomic(key_path, pem->key, 0600));
  return WriteFileAtomic(cert_path, pem->cert, 0644);
}

}  // namespace tw::daemon
