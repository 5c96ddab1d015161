// Certificates for tests that serve TLS in-process: a CA, a serving pair for 127.0.0.1, a client
// pair from that CA ("client": CN alice, O devs and ops) and one from another CA ("intruder"),
// written to a temp dir so curl can use them.
#pragma once

#include <string>
#include <vector>

#include "pki/certificates.h"
#include "support/subprocess.h"

namespace kpp::testing {

class TestPki {
 public:
  // Generates everything; check ok() before use.
  TestPki();
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  bool ok() const { return ok_; }
  const pki::CertificateAndKey& ca() const { return ca_; }
  const pki::CertificateAndKey& serving() const { return serving_; }

  // curl against https://127.0.0.1:<port><path>, verifying the server with the CA, presenting
  // the pair named `identity` ("client", "intruder", or "" for none). Output ends with
  // "\n<http status>".
  ProcessResult Curl(int port, const std::string& path, const std::string& identity = "",
                     const std::vector<std::string>& extra = {}) const;
  const std::string& dir() const { return dir_; }

 private:
  bool ok_ = false;
  std::string dir_;
  pki::CertificateAndKey ca_;
  pki::CertificateAndKey serving_;
};

}  // namespace kpp::testing
