// The controllers of token secrets, run inside the API server because they need its signing
// key: the tokens controller fills `kubernetes.io/service-account-token` secrets (data.token,
// ca.crt, namespace) and deletes those whose service account is gone; the token cleaner deletes
// expired bootstrap tokens. Both talk to the API server by in-process requests and look every
// second.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "apiserver/authn/object_reader.h"
#include "apiserver/authn/service_account_token.h"
#include "base/clock.h"

namespace kpp::apiserver {

inline constexpr std::string_view kServiceAccountTokenSecretType =
    "kubernetes.io/service-account-token";

class TokenControllers {
 public:
  // `ca_pem` goes into ca.crt of token secrets. `tokens`, `reader` and `clock` must outlive this.
  TokenControllers(const ServiceAccountTokens& tokens, const ObjectReader& reader,
                   const Clock& clock, std::string ca_pem)
      : tokens_(tokens), reader_(reader), clock_(clock), ca_pem_(std::move(ca_pem)) {}
  ~TokenControllers();
  TokenControllers(const TokenControllers&) = delete;
  TokenControllers& operator=(const TokenControllers&) = delete;

  void Start();
  void Stop();

  // One pass of each controller.
  void SyncServiceAccountTokenSecrets();
  void CleanExpiredBootstrapTokens();

 private:
  const ServiceAccountTokens& tokens_;
  const ObjectReader& reader_;
  const Clock& clock_;
  std::string ca_pem_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace kpp::apiserver
