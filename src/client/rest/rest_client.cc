#include "client/rest/rest_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/files.h"
#include "base/log.h"
#include "client/rest/errors.h"

namespace kpp::client::rest {
namespace {

bool IsIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS";
}

// Retry-After in whole seconds (the only form the API server sends); -1 when absent or invalid.
int RetryAfterSeconds(const HttpResponse& response) {
  const std::string value = response.Header("Retry-After");
  int seconds = -1;
  if (value.empty()) return -1;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return -1;
  return seconds;
}

void AppendEscaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

}  // namespace

std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::string out;
  for (const auto& [key, value] : query) {
    if (!out.empty()) out += '&';
    AppendEscaped(out, key);
    out += '=';
    AppendEscaped(out, value);
  }
  return out;
}

Result<std::shared_ptr<RestClient>> RestClient::Create(RestConfig config) {
  KPP_ASSIGN_OR_RETURN(auto transport, NewHttpsTransport(config.server, config.tls));
  return std::make_shared<RestClient>(std::move(config), std::move(transport));
}

RestClient::RestClient(RestConfig config, std::unique_ptr<Transport> transport)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      limiter_(config_.qps, config_.burst, *config_.clock) {}

HttpRequest RestClient::Build(const Request& request) const {
  HttpRequest out;
  out.method = request.method;
  out.target = request.path;
  if (!request.query.empty()) out.target += "?" + EncodeQuery(request.query);
  out.headers.emplace_back("Accept", request.accept);
  out.headers.emplace_back("User-Agent", config_.user_agent);
  if (!request.body.empty()) out.headers.emplace_back("Content-Type", request.content_type);
  std::string token = config_.bearer_token;
  if (!config_.bearer_token_file.empty()) {
    if (auto content = ReadFile(config_.bearer_token_file); content.ok()) {
      token = *content;
      while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
        token.pop_back();
    }
  }
  if (!token.empty()) out.headers.emplace_back("Authorization", "Bearer " + token);
  out.body = request.body;
  return out;
}

Result<HttpResponse> RestClient::Do(const Request& request) {
  const HttpRequest http_request = Build(request);
  const auto timeout = request.timeout.count() > 0 ? request.timeout
                       : config_.timeout.count() > 0
                           ? config_.timeout
                           : std::chrono::milliseconds(std::chrono::hours(24));
  auto connection_backoff = std::chrono::milliseconds(100);
  for (int attempt = 0;; ++attempt) {
    limiter_.Accept();
    auto result = transport_->RoundTrip(http_request, timeout);
    if (auto* failure = std::get_if<TransportFailure>(&result)) {
      const bool retryable = IsIdempotent(request.method) || !failure->maybe_sent;
      if (!retryable || attempt >= config_.max_retries) {
        return Error(ErrorCode::kServiceUnavailable,
                     fmt::format("{} {}: {}", request.method, request.path, failure->message));
      }
      KLOG_V(2, "retrying {} {} after {}: {}", request.method, request.path,
             connection_backoff.count(), failure->message);
      clock().SleepFor(connection_backoff);
      connection_backoff = std::min(connection_backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    auto& response = std::get<HttpResponse>(result);
    if (response.status >= 200 && response.status < 300) return std::move(response);
    const bool retry_status =
        response.status == 429 || (response.status >= 500 && response.status < 600);
    const int retry_after = RetryAfterSeconds(response);
    if (retry_status && retry_after >= 0 && attempt < config_.max_retries) {
      KLOG_V(2, "{} {} answered {}; retrying after {}s", request.method, request.path,
             response.status, retry_after);
      clock().SleepFor(std::chrono::seconds(retry_after));
      continue;
    }
    return ErrorFromResponse(response.status, response.body);
  }
}

Status RestClient::Stream(const Request& request,
                          const std::function<bool(std::string_view)>& on_body,
                          StreamCanceller* canceller, std::chrono::milliseconds idle_timeout) {
  limiter_.Accept();
  auto result = transport_->Stream(Build(request), on_body, canceller, idle_timeout);
  if (auto* failure = std::get_if<TransportFailure>(&result)) {
    return Error(ErrorCode::kServiceUnavailable,
                 fmt::format("{} {}: {}", request.method, request.path, failure->message));
  }
  auto& response = std::get<HttpResponse>(result);
  if (response.status != 200) return ErrorFromResponse(response.status, response.body);
  return Ok();
}

}  // namespace kpp::client::rest
