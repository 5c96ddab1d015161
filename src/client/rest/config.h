// How to reach and authenticate to an API server (client-go's rest.Config), from a kubeconfig
// file or from the pod's service account (in-cluster).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "client/rest/transport.h"

namespace kpp::client::rest {

struct RestConfig {
  std::string server;  // "https://host:port"
  TlsConfig tls;
  std::string bearer_token;
  std::string bearer_token_file;  // read at each request when set (service account tokens rotate)
  std::string user_agent = "kpp";
  // Client-side rate limit, client-go's defaults; qps <= 0 disables it.
  double qps = 5;
  int burst = 10;
  // Per request (not for watches); 0 means none beyond the transport's connect timeout.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  // Retries of a request answered 429/5xx with Retry-After, or failed on the connection.
  int max_retries = 10;
  // The namespace of the kubeconfig context or the service account; "default" when unset.
  std::string default_namespace = "default";
  Clock* clock = &RealClock();
};

// Reads a kubeconfig (YAML or JSON): the `context` named, or current-context when empty.
// Relative file paths in it are relative to the file's directory.
Result<RestConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");
// The same from text; `base_dir` resolves relative paths.
Result<RestConfig> ParseKubeconfig(std::string_view text, const std::string& context = "",
                                   const std::string& base_dir = ".");

// In-cluster config from KUBERNETES_SERVICE_HOST/PORT and the service account files under
// `service_account_dir`; `getenv` is injectable for tests.
Result<RestConfig> InClusterConfig(
    const std::string& service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount",
    const std::function<const char*(const char*)>& getenv = nullptr);

}  // namespace kpp::client::rest
