#include "controllers/manager/client_builder.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/json.hpp>
#include <mutex>
#include <thread>
#include <variant>

#include "api/runtime/scalars.h"
#include "base/log.h"
#include "client/rest/errors.h"

namespace kpp::controllers {
namespace {

using client::rest::RestClient;
using client::rest::RestConfig;

std::string ControllerUserAgent(const RestConfig& root, const std::string& name) {
  return root.user_agent + "/" + name;
}

class ServiceAccountTokenSource : public TokenSource {
 public:
  ServiceAccountTokenSource(std::shared_ptr<RestClient> root_client, std::string account_namespace,
                            std::string name, ServiceAccountClientOptions options)
      : root_client_(std::move(root_client)),
        namespace_(std::move(account_namespace)),
        name_(std::move(name)),
        options_(std::move(options)) {}

  Result<std::string> Token() override {
    std::lock_guard lock(mutex_);
    Clock& clock = root_client_->clock();
    const auto now = clock.Now();
    if (!token_.empty() && now < refresh_at_) return token_;
    auto fresh = Request();
    if (!fresh.ok()) {
      if (!token_.empty() && now < expires_at_) {
        KLOG_ERROR("renewing the token of {}/{}: {}", namespace_, name_, fresh.error().message());
        return token_;
      }
      return std::move(fresh).error();
    }
    return token_;
  }

  void ResetTokenOlderThan(std::chrono::steady_clock::time_point sent_at) override {
    std::lock_guard lock(mutex_);
    if (!token_.empty() && obtained_at_ < sent_at) token_.clear();
  }

 private:
  // Under mutex_: a new token in token_, refresh_at_ and expires_at_.
  Status Request() {
    auto response = RequestToken();
    if (!response.ok() && client::IsNotFound(response.error())) {
      // No account yet (the cluster's first start): one request more, not one per renewal.
      KPP_RETURN_IF_ERROR(CreateServiceAccount());
      response = RequestToken();
    }
    if (!response.ok()) return std::move(response).error();
    boost::system::error_code parse_error;
    auto parsed = boost::json::parse(response->body, parse_error);
    const auto* status = parsed.is_object() ? parsed.as_object().if_contains("status") : nullptr;
    const boost::json::value* token = nullptr;
    const boost::json::value* expiration = nullptr;
    if (status != nullptr && status->is_object()) {
      token = status->as_object().if_contains("token");
      expiration = status->as_object().if_contains("expirationTimestamp");
    }
    if (parse_error || token == nullptr || !token->is_string() || token->as_string().empty()) {
      return InternalError(
          fmt::format("the TokenRequest for {}/{} answered no token", namespace_, name_));
    }
    Clock& clock = root_client_->clock();
    const auto now = clock.Now();
    auto expires_at = now + options_.expiration;
    if (expiration != nullptr && expiration->is_string()) {
      if (auto parsed_time = api::Time::Parse(std::string(expiration->as_string()));
          parsed_time.ok()) {
        expires_at = Clock::TimePoint(std::chrono::seconds(parsed_time->unix_seconds));
      }
    }
    // The lifetime the server granted, which may be shorter than the one asked for.
    const auto lifetime = expires_at - now;
    token_ = std::string(token->as_string());
    expires_at_ = expires_at;
    refresh_at_ = expires_at - lifetime * options_.leeway_percent / 100;
    obtained_at_ = clock.Monotonic();
    KLOG_V(
        2, "got a token for {}/{} valid until {}", namespace_, name_,
        api::Time::FromUnixSeconds(
            std::chrono::duration_cast<std::chrono::seconds>(expires_at.time_since_epoch()).count())
            .ToString());
    return Ok();
  }

  Result<client::rest::HttpResponse> RequestToken() {
    boost::json::object spec;
    spec["expirationSeconds"] = options_.expiration.count();
    boost::json::object body;
    body["apiVersion"] = "authentication.k8s.io/v1";
    body["kind"] = "TokenRequest";
    body["spec"] = std::move(spec);
    return root_client_->Do(
        {.method = "POST",
         .path = fmt::format("/api/v1/namespaces/{}/serviceaccounts/{}/token", namespace_, name_),
         .body = boost::json::serialize(body)});
  }

  Status CreateServiceAccount() {
    const std::string collection = fmt::format("/api/v1/namespaces/{}/serviceaccounts", namespace_);
    boost::json::object metadata;
    metadata["name"] = name_;
    metadata["namespace"] = namespace_;
    boost::json::object body;
    body["apiVersion"] = "v1";
    body["kind"] = "ServiceAccount";
    body["metadata"] = std::move(metadata);
    auto created = root_client_->Do(
        {.method = "POST", .path = collection, .body = boost::json::serialize(body)});
    if (created.ok() || client::IsAlreadyExists(created.error())) return Ok();
    return std::move(created).error();
  }

  const std::shared_ptr<RestClient> root_client_;
  const std::string namespace_;
  const std::string name_;
  const ServiceAccountClientOptions options_;
  std::mutex mutex_;
  std::string token_;
  Clock::TimePoint refresh_at_{};
  Clock::TimePoint expires_at_{};
  std::chrono::steady_clock::time_point obtained_at_{};
};

class TokenTransport : public client::rest::Transport {
 public:
  TokenTransport(std::unique_ptr<client::rest::Transport> base, std::shared_ptr<TokenSource> source,
                 Clock& clock)
      : base_(std::move(base)), source_(std::move(source)), clock_(clock) {}

  client::rest::TransportResult<client::rest::HttpResponse> RoundTrip(
      const client::rest::HttpRequest& request, std::chrono::milliseconds timeout) override {
    const auto sent_at = clock_.Monotonic();
    auto result = base_->RoundTrip(WithToken(request), timeout);
    NoteUnauthorized(result, sent_at);
    return result;
  }

  client::rest::TransportResult<client::rest::HttpResponse> Stream(
      const client::rest::HttpRequest& request,
      const std::function<bool(std::string_view)>& on_body,
      client::rest::StreamCanceller* canceller, std::chrono::milliseconds idle_timeout) override {
    const auto sent_at = clock_.Monotonic();
    auto result = base_->Stream(WithToken(request), on_body, canceller, idle_timeout);
    NoteUnauthorized(result, sent_at);
    return result;
  }

 private:
  client::rest::HttpRequest WithToken(const client::rest::HttpRequest& request) {
    client::rest::HttpRequest out = request;
    auto token = source_->Token();
    if (token.ok()) {
      out.headers.emplace_back("Authorization", "Bearer " + *token);
    } else {
      // Sent without credentials: refused as system:anonymous, retried by the controller.
      KLOG_WARNING("no token for {} {}: {}", request.method, request.target,
                   token.error().message());
    }
    return out;
  }

  void NoteUnauthorized(const client::rest::TransportResult<client::rest::HttpResponse>& result,
                        std::chrono::steady_clock::time_point sent_at) {
    const auto* response = std::get_if<client::rest::HttpResponse>(&result);
    if (response != nullptr && response->status == 401) source_->ResetTokenOlderThan(sent_at);
  }

  std::unique_ptr<client::rest::Transport> base_;
  std::shared_ptr<TokenSource> source_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<client::rest::Transport> NewTokenTransport(
    std::unique_ptr<client::rest::Transport> base, std::shared_ptr<TokenSource> source,
    Clock& clock) {
  return std::make_unique<TokenTransport>(std::move(base), std::move(source), clock);
}

namespace {

void ScaleRate(RestConfig& config, ClientRateScale rate) {
  config.qps *= rate.qps;
  config.burst = static_cast<int>(config.burst * rate.burst);
}

}  // namespace

Result<std::shared_ptr<RestClient>> RootClientBuilder::Client(const std::string& name,
                                                              ClientRateScale rate) {
  RestConfig config = root_;
  config.user_agent = ControllerUserAgent(root_, name);
  ScaleRate(config, rate);
  return RestClient::Create(std::move(config));
}

ServiceAccountClientBuilder::ServiceAccountClientBuilder(RestConfig root,
                                                         std::shared_ptr<RestClient> root_client,
                                                         ServiceAccountClientOptions options)
    : root_(std::move(root)), root_client_(std::move(root_client)), options_(std::move(options)) {}

ServiceAccountClientBuilder::~ServiceAccountClientBuilder() {
  WaitForFirstTokens();
}

void ServiceAccountClientBuilder::WaitForFirstTokens() {
  std::vector<Prefetch> prefetches;
  {
    std::lock_guard lock(prefetch_mutex_);
    prefetches.swap(prefetches_);
  }
  for (auto& prefetch : prefetches)
    prefetch.thread.join();
}

Result<std::shared_ptr<RestClient>> ServiceAccountClientBuilder::Client(const std::string& name,
                                                                        ClientRateScale rate) {
  auto source = NewServiceAccountTokenSource(root_client_, options_.namespace_, name, options_);
  // The account and a first token are asked for now but on a thread of their own, all accounts
  // at once: the manager's start does not wait for ~20 accounts one after the other, and one
  // that may not make accounts or tokens still says so at once. A request of the controller
  // made meanwhile waits for that token.
  {
    std::lock_guard lock(prefetch_mutex_);
    // Those of an earlier term of leadership are done: joined here rather than kept.
    std::erase_if(prefetches_, [](Prefetch& prefetch) {
      if (!*prefetch.done) return false;
      prefetch.thread.join();
      return true;
    });
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([source, done, account = options_.namespace_ + "/" + name] {
      if (auto token = source->Token(); !token.ok()) {
        KLOG_WARNING("no token for {} yet: {}", account, token.error().message());
      }
      *done = true;
    });
    prefetches_.push_back({std::move(thread), std::move(done)});
  }
  // Anonymous but for the token, as upstream's rest.AnonymousClientConfig.
  RestConfig config = root_;
  config.tls.client_certificate_pem.clear();
  config.tls.client_key_pem.clear();
  config.bearer_token.clear();
  config.bearer_token_file.clear();
  config.user_agent = ControllerUserAgent(root_, name);
  ScaleRate(config, rate);
  KPP_ASSIGN_OR_RETURN(auto transport, client::rest::NewHttpsTransport(config.server, config.tls));
  Clock& clock = *config.clock;
  return std::make_shared<RestClient>(
      std::move(config), NewTokenTransport(std::move(transport), std::move(source), clock));
}

std::shared_ptr<TokenSource> NewServiceAccountTokenSource(std::shared_ptr<RestClient> root_client,
                                                          std::string account_namespace,
                                                          std::string name,
                                                          ServiceAccountClientOptions options) {
  return std::make_shared<ServiceAccountTokenSource>(
      std::move(root_client), std::move(account_namespace), std::move(name), std::move(options));
}

}  // namespace kpp::controllers
