#include "apiserver/apiserver.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "apimachinery/status.h"
#include "apiserver/authn/x509.h"
#include "base/log.h"
#include "base/version.h"

namespace kpp::apiserver {
namespace {

http::Response JsonResponse(int status, std::string body) {
  http::Response response{status, {}, std::move(body)};
  response.SetHeader("Content-Type", "application/json");
  response.SetHeader("Cache-Control", "no-cache, private");
  return response;
}

http::Response StatusResponse(const Error& error) {
  return JsonResponse(error.http_status(), apimachinery::StatusJson(error));
}

// Paths that anyone may read, as upstream's system:public-info-viewer role allows.
bool IsPublicPath(std::string_view path) {
  for (std::string_view prefix : {"/healthz", "/livez", "/readyz"}) {
    if (path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/')) return true;
  }
  return path == "/version" || path == "/version/";
}

}  // namespace

std::string VersionInfoJson() {
  const BuildInfo& build = GetBuildInfo();
  boost::json::object info;
  info["major"] = std::to_string(kKubernetesMajor);
  info["minor"] = std::to_string(kKubernetesMinor);
  info["gitVersion"] = KubernetesGitVersion();
  info["gitCommit"] = build.git_commit;
  info["gitTreeState"] = build.git_tree_state;
  info["buildDate"] = build.build_date;
  // Clients expect a goVersion; kpp has no Go, so it names the C++ compiler instead.
  info["goVersion"] = build.compiler;
  info["compiler"] = "g++";
  info["platform"] = Platform();
  return boost::json::serialize(info);
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiServerOptions& options) {
  std::unique_ptr<ApiServer> server(new ApiServer());
  ApiServer* self = server.get();
  self->health_.Add("ping", HealthChecks::kAll, [] { return Ok(); });
  self->health_.Add("shutdown", HealthChecks::kReadyz, [self]() -> Status {
    if (self->shutting_down_) {
      return Error(ErrorCode::kServiceUnavailable, "server is shutting down");
    }
    return Ok();
  });
  http::ServerOptions http_options;
  http_options.bind_address = options.bind_address;
  http_options.port = options.port;
  http_options.tls = options.tls;
  http_options.threads = options.threads;
  KPP_ASSIGN_OR_RETURN(self->server_,
                       http::StartServer(http_options, [self](const http::Request& request) {
                         return self->Handle(request);
                       }));
  return server;
}

ApiServer::~ApiServer() {
  Stop();
}

uint16_t ApiServer::port() const {
  return server_->port();
}

void ApiServer::BeginShutdown() {
  shutting_down_ = true;
}

void ApiServer::Stop() {
  shutting_down_ = true;
  if (server_) server_->Stop();
}

http::Response ApiServer::Handle(const http::Request& request) const {
  KLOG_V(4, "{} {} from {}", request.method, request.target, request.remote_address);
  const auto user = AuthenticateClientCertificate(request);
  if (!user && !IsPublicPath(request.path)) {
    return StatusResponse(Error(ErrorCode::kUnauthorized, "Unauthorized"));
  }
  if (auto response = health_.Serve(request)) return *std::move(response);
  if (request.path == "/version" || request.path == "/version/") {
    if (request.method != "GET" && request.method != "HEAD") {
      return StatusResponse(
          Error(ErrorCode::kMethodNotAllowed,
                "the server does not allow this method on the requested resource"));
    }
    return JsonResponse(200, VersionInfoJson());
  }
  return StatusResponse(
      Error(ErrorCode::kNotFound, "the server could not find the requested resource"));
}

}  // namespace kpp::apiserver
