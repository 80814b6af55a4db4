// The daemon's TLS certificate.  kubectl sends bearer tokens only to https
// servers, so the API also speaks TLS (on the same port as plain HTTP); by
// default with a self-signed certificate generated into the data directory.
#ifndef TW_DAEMON_TLS_CERT_H_
#define TW_DAEMON_TLS_CERT_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace tw::daemon {

// Keeps an existing cert/key pair.  When neither file exists, generates a
// self-signed certificate (EC P-256, SHA-256, valid 10 years, CN
// "threatwalld", subjectAltName IP:127.0.0.1, IP:::1, DNS:localhost, usable
// as its own CA so a kubeconfig can carry it as certificate-authority-data)
// and writes cert (PEM, 0644) and key (PEM, 0600).  IoError naming the path
// if only one of the two exists or on any failure.
Status EnsureSelfSignedCert(const std::string& cert_path, const std::string& key_path);

struct PemPair {
  std::string cert;
  std::string key;
};

// A self-signed certificate in memory: EC P-256, SHA-256, CN `common_name`,
// subjectAltName `alt_names` ("IP:127.0.0.1,DNS:localhost"), CA:TRUE (its
// own trust anchor), valid from an hour ago for `days`.  Internal on an
// OpenSSL failure.
Result<PemPair> MakeSelfSignedPem(std::string_view common_name, std::string_view alt_names, int days);

}  // namespace tw::daemon

#endif  // TW_DAEMON_TLS_CERT_H_
