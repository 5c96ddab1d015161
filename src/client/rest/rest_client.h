// client-go's RESTClient: requests to one API server with the config's credentials, a client-side
// token-bucket rate limit (QPS/burst), and retries: a 429 or 5xx answer that carries Retry-After
// is retried after that many seconds (up to max_retries), as is a request that failed on the
// connection when it is idempotent (GET, HEAD, PUT, DELETE) or certainly was not sent. A non-2xx
// answer becomes the Status's typed error (client/rest/errors.h). Thread-safe; share one per
// component.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "client/rest/config.h"
#include "client/rest/transport.h"
#include "client/workqueue/rate_limiters.h"

namespace kpp::client::rest {

struct Request {
  std::string method = "GET";
  std::string path;  // e.g. /api/v1/namespaces/default/pods
  std::vector<std::pair<std::string, std::string>> query;
  std::string body;
  std::string content_type = "application/json";
  std::string accept = "application/json";
  std::chrono::milliseconds timeout{0};  // 0: the config's
};

// "a=b&c=d" with both sides percent-encoded.
std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& query);

class RestClient {
 public:
  static Result<std::shared_ptr<RestClient>> Create(RestConfig config);
  // For tests: a client over any transport.
  RestClient(RestConfig config, std::unique_ptr<Transport> transport);

  // The response of a 2xx answer, else the typed error.
  Result<HttpResponse> Do(const Request& request);
  // Streams a 200 answer's body to `on_body` (see Transport::Stream); an error for any other
  // answer or a connection failure. Rate limited, never retried (the reflector does that).
  Status Stream(const Request& request, const std::function<bool(std::string_view)>& on_body,
                StreamCanceller* canceller, std::chrono::milliseconds idle_timeout);

  const RestConfig& config() const { return config_; }
  Clock& clock() const { return *config_.clock; }

 private:
  HttpRequest Build(const Request& request) const;

  RestConfig config_;
  std::unique_ptr<Transport> transport_;
  workqueue::TokenBucket limiter_;
};

}  // namespace kpp::client::rest
