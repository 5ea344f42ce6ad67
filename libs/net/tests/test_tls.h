// Test helper: a self-signed certificate for 127.0.0.1 (EC P-256, SAN IP:127.0.0.1), written to
// PEM files in a fresh temp directory, so TLS tests need no network and no files in the repo.
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>
#include <string>

namespace tickmesh::net::testing {

struct TestCert {
  std::string cert_file;  // PEM certificate (also usable as the CA file: it is self-signed)
  std::string key_file;   // PEM private key
  bool ok = false;
};

inline bool AddExt(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

inline TestCert MakeSelfSignedCert() {
  TestCert out;
  char dir[] = "/tmp/tickmesh-net-tls-XXXXXX";
  if (mkdtemp(dir) == nullptr) return out;
  out.cert_file = std::string(dir) + "/cert.pem";
  out.key_file = std::string(dir) + "/key.pem";
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  bool ok = key != nullptr && cert != nullptr;
  if (ok) {
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    ok = AddExt(cert, NID_subject_alt_name, "IP:127.0.0.1") &&
         AddExt(cert, NID_basic_constraints, "critical,CA:TRUE") &&
         AddExt(cert, NID_key_usage, "critical,digitalSignature,keyCertSign") &&
         X509_sign(cert, key, EVP_sha256()) > 0;
  }
  if (ok) {
    FILE* c = fopen(out.cert_file.c_str(), "w");
    FILE* k = fopen(out.key_file.c_str(), "w");
    ok = c != nullptr && k != nullptr && PEM_write_X509(c, cert) == 1 &&
         PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    if (c != nullptr) fclose(c);
    if (k != nullptr) fclose(k);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  out.ok = ok;
  return out;
}

}  // namespace tickmesh::net::testing
