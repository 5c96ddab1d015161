#include "apiserver/apiserver.h"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "api/runtime/kinds.h"
#include "api/runtime/openapi_data.h"
#include "apimachinery/status.h"
#include "apiserver/admission/priority.h"
#include "apiserver/authn/self_subject_review.h"
#include "apiserver/authn/x509.h"
#include "apiserver/openapi_protobuf.h"
#include "apiserver/responses.h"
#include "apiserver/watchcache/cached_resources.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/version.h"

namespace kpp::apiserver {
namespace {

// Paths that anyone may read, as upstream's system:public-info-viewer role allows.
bool IsPublicPath(std::string_view path) {
  for (std::string_view prefix : {"/healthz", "/livez", "/readyz"}) {
    if (path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/')) return true;
  }
  return path == "/version" || path == "/version/";
}

// The Status for an answer the HTTP server gives by itself.
http::Response ErrorStatusResponse(int status, const std::string& message) {
  switch (status) {
    case 413: return StatusResponse(Error(ErrorCode::kRequestEntityTooLarge, message));
    case 504: return StatusResponse(Error(ErrorCode::kTimeout, "Timeout: " + message));
    case 400: return StatusResponse(Error(ErrorCode::kBadRequest, message));
    default: return StatusResponse(Error(ErrorCode::kInternalError, message));
  }
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

namespace {

// The watch caches of the built-in kinds (each in the version it is stored in), by group and
// resource. Looked up by string_view, without building a key: this is on every admission read
// and every token authentication.
class BuiltinCaches {
 public:
  explicit BuiltinCaches(const ResourceHandler& resources) : resources_(resources) {
    for (const api::KindInfo& kind : api::AllKinds()) {
      if (&api::StorageKind(kind) == &kind) {
        by_group_[std::string(kind.group)].emplace(kind.plural, &kind);
      }
    }
  }

  std::shared_ptr<const std::string> Get(std::string_view group, std::string_view resource,
                                         std::string_view ns, std::string_view name) const {
    const api::KindInfo* kind = Find(group, resource);
    if (kind == nullptr) return nullptr;
    return JsonOf(resources_.cached().Cached(*kind, StorageKey(*kind, ns, name)));
  }

  std::vector<std::shared_ptr<const std::string>> List(std::string_view group,
                                                       std::string_view resource,
                                                       std::string_view ns) const {
    std::vector<std::shared_ptr<const std::string>> jsons;
    const api::KindInfo* kind = Find(group, resource);
    if (kind == nullptr) return jsons;
    for (auto& object : resources_.cached().CachedList(*kind, StorageKey(*kind, ns, ""))) {
      jsons.push_back(JsonOf(std::move(object)));
    }
    return jsons;
  }

 private:
  const api::KindInfo* Find(std::string_view group, std::string_view resource) const {
    auto in_group = by_group_.find(group);
    if (in_group == by_group_.end()) return nullptr;
    auto found = in_group->second.find(resource);
    return found == in_group->second.end() ? nullptr : found->second;
  }

  static std::shared_ptr<const std::string> JsonOf(watchcache::CachedObjectPtr object) {
    if (object == nullptr) return nullptr;
    const std::string* json = &object->json;
    return std::shared_ptr<const std::string>(std::move(object), json);
  }

  const ResourceHandler& resources_;
  std::map<std::string, std::map<std::string, const api::KindInfo*, std::less<>>, std::less<>>
      by_group_;
};

admission::CachedReads CachedReadsOf(const ResourceHandler& resources) {
  auto caches = std::make_shared<const BuiltinCaches>(resources);
  admission::CachedReads reads;
  reads.get = [caches](std::string_view group, std::string_view resource, std::string_view ns,
                       std::string_view name) { return caches->Get(group, resource, ns, name); };
  reads.list = [caches](std::string_view group, std::string_view resource, std::string_view ns) {
    return caches->List(group, resource, ns);
  };
  return reads;
}

// Token authentication reads the service accounts, pods, secrets and nodes tokens name from the
// watch caches directly: no request through the handler for each authenticated request.
ObjectReader::CachedGet CachedCoreObjectReader(const ResourceHandler& resources) {
  return [caches = std::make_shared<const BuiltinCaches>(resources)](
             std::string_view plural, std::string_view ns, std::string_view name) {
    return caches->Get("", plural, ns, name);
  };
}

}  // namespace

ApiServer::ApiServer()
    : documents_(custom_kinds_, api::AllKinds(), api::OpenApiV2Definitions(),
                 KubernetesGitVersion()) {}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(const ApiServerOptions& options) {
  // Under glibc (the tests' allocator), a fixed mmap threshold: glibc otherwise raises it to the
  // largest block freed, after which every LIST's multi-megabyte answer comes from the arena of
  // whichever of the many worker threads built it and stays there (RSS grew 18x the cached JSON
  // after 40 LISTs).
  if (!UsingTcmalloc()) mallopt(M_MMAP_THRESHOLD, 1 << 20);
  std::unique_ptr<ApiServer> server(new ApiServer());
  ApiServer* self = server.get();
  self->clock_ = options.clock;
  self->resource_metrics_ = std::make_unique<ResourceMetrics>(*options.clock);
  KPP_ASSIGN_OR_RETURN(self->auditor_, audit::Auditor::Create(options.audit));
  self->authenticator_.Add(std::make_unique<ClientCertificateAuthenticator>());
  TokenAuthenticationOptions token_options;
  token_options.token_auth_file = options.token_auth_file;
  token_options.service_account_key_file = options.service_account_key_file;
  token_options.service_account_issuer = options.service_account_issuer;
  token_options.ca_pem = options.tls.client_ca_pem;
  KPP_ASSIGN_OR_RETURN(self->tokens_, TokenAuthentication::Create(
                                          token_options,
                                          [self](const http::Request& request) {
                                            return self->HandleLoopback(request);
                                          },
                                          *options.clock));
  self->authenticator_.Add(self->tokens_->RequestAuthenticator());
  self->health_.Add("ping", HealthChecks::kAll, [] { return Ok(); });
  if (options.store != nullptr) {
    // Upstream names the storage check "etcd", whatever the backend; tools look for it.
    self->health_.Add("etcd", HealthChecks::kAll,
                      [store = options.store] { return store->Health(); });
    self->instrumented_store_ =
        std::make_unique<ops::InstrumentedStore>(*options.store, self->metrics_);
    ResourceOptions resources = options.resources;
    admission::StoreReader* admission_reader = nullptr;
    if (!options.admission_plugins.empty() && resources.admission == nullptr) {
      auto reader = std::make_unique<admission::StoreReader>(*self->instrumented_store_);
      admission_reader = reader.get();
      KPP_ASSIGN_OR_RETURN(auto chain,
                           admission::NewChain(options.admission_plugins, std::move(reader),
                                               *options.clock, options.admission_config.get()));
      // The certificate plugins ask the authorizer about signers; it is made further down.
      chain->SetAuthorize([self](const UserInfo& user, std::string_view verb,
                                 std::string_view group, std::string_view resource,
                                 std::string_view name) {
        if (self->authorization_ == nullptr) return true;
        authz::Attributes attributes;
        attributes.user = user;
        attributes.verb = verb;
        attributes.resource_request = true;
        attributes.api_group = group;
        attributes.api_version = "*";
        attributes.resource = resource;
        attributes.name = name;
        return self->authorization_->authorizer().Authorize(attributes).decision ==
               authz::Decision::kAllow;
      });
      resources.admission = std::move(chain);
    }
    self->resources_ = std::make_unique<ResourceHandler>(*self->instrumented_store_, *options.clock,
                                                         api::AllKinds(), &self->custom_kinds_,
                                                         std::move(resources));
    KPP_RETURN_IF_ERROR(self->resources_->Bootstrap());
    self->tokens_->SetCachedGet(CachedCoreObjectReader(*self->resources_));
    if (admission_reader != nullptr) {
      admission_reader->SetCachedReads(CachedReadsOf(*self->resources_));
    }
    self->crd_controller_ = std::make_unique<apiextensions::CrdController>(
        [self](const http::Request& request) { return self->HandleLoopback(request); },
        self->custom_kinds_, api::AllKinds(), *options.clock);
    // The stored definitions are served again before the first request.
    self->crd_controller_->SyncAll();
    self->crd_controller_->Start();
    if (options.authorization) {
      self->authorization_ = std::make_unique<authz::Authorization>(
          [self](const http::Request& request) { return self->HandleLoopback(request); },
          *options.clock);
      KPP_RETURN_IF_ERROR(self->authorization_->Start());
    }
    if (std::find(options.admission_plugins.begin(), options.admission_plugins.end(), "Priority") !=
        options.admission_plugins.end()) {
      // Upstream's scheduling post-start hook: the system classes exist from the start.
      for (const auto& system : admission::kSystemPriorityClasses) {
        self->HandleLoopback(http::Request::LocalJson(
            "POST", "/apis/scheduling.k8s.io/v1/priorityclasses",
            fmt::format(R"({{"metadata":{{"name":"{}"}},"value":{},"description":"{}"}})",
                        system.name, system.value, system.description)));
      }
    }
  }
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
  http_options.max_request_body_bytes = ops::kMaxRequestBodyBytes;
  http_options.body_too_large_message = ops::BodyTooLargeMessage(ops::kMaxRequestBodyBytes);
  http_options.request_timeout = ops::RequestTimeout;
  http_options.request_timeout_message = std::string(ops::kRequestTimeoutMessage);
  http_options.error_response = [](int status, const std::string& message) {
    return ErrorStatusResponse(status, message);
  };
  http_options.observer = [self](const http::Request& request, const http::Response& response,
                                 double seconds) {
    self->operations_.Observe(request, response, seconds);
  };
  KPP_ASSIGN_OR_RETURN(self->server_,
                       http::StartServer(http_options, [self](const http::Request& request) {
                         return self->Serve(request);
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
  if (crd_controller_) crd_controller_->Stop();
  if (server_) server_->Stop();
  if (authorization_) authorization_->Stop();
}

http::Response ApiServer::Handle(const http::Request& request) const {
  KLOG_V(4, "{} {} from {}", request.method, request.target, request.remote_address);
  auto user = authenticator_.Authenticate(request);
  if (user) audit::SetRequestUser(*user);
  // A bearer token that fails is refused even on the public paths, as upstream's.
  if (!user && (!IsPublicPath(request.path) || tokens_->HasBearerToken(request))) {
    return StatusResponse(Error(ErrorCode::kUnauthorized, "Unauthorized"));
  }
  if (user && authorization_ != nullptr) {
    auto answer = authorization_->Check(request, *user);
    // Upstream's audit annotation of the authorizer's verdict.
    if (!answer || answer->status < 400) {
      audit::AddRequestAnnotation("authorization.k8s.io/decision", "allow");
    } else if (answer->status == 403) {
      audit::AddRequestAnnotation("authorization.k8s.io/decision", "forbid");
    }
    if (answer) return *std::move(answer);
  }
  if (user) {
    if (auto review = ServeSelfSubjectReview(request, *user, *clock_)) return *std::move(review);
    if (auto answer = tokens_->Serve(request)) return *std::move(answer);
  }
  http::Response response = Route(request, user ? &*user : nullptr);
  if (authorization_ != nullptr) authorization_->Observe(request, response);
  if (crd_controller_ != nullptr && request.method != "GET" && response.status < 300 &&
      request.path.starts_with("/apis/apiextensions.k8s.io/")) {
    // A client that changed a definition gets its answer once it is served (or gone), as
    // `kubectl apply` followed by `kubectl get <plural>` expects.
    crd_controller_->SyncAll();
  }
  return response;
}

http::Response ApiServer::HandleLoopback(const http::Request& request) const {
  return Route(request, nullptr);
}

http::Response ApiServer::HandleAs(const http::ClientCertificate& identity, http::Request request) {
  request.client_certificate = identity;
  const auto start = std::chrono::steady_clock::now();
  http::Response response = Serve(request);
  operations_.Observe(
      request, response,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return response;
}

http::Response ApiServer::Serve(const http::Request& request) {
  return operations_.Handle(request, [this](const http::Request& measured) {
    return auditor_->Handle(measured,
                            [this](const http::Request& audited) { return Handle(audited); });
  });
}

http::Response ApiServer::Route(const http::Request& request, const UserInfo* user) const {
  if (auto response = health_.Serve(request)) return *std::move(response);
  if (request.path == "/metrics") {
    if (request.method != "GET" && request.method != "HEAD") {
      return StatusResponse(
          Error(ErrorCode::kMethodNotAllowed,
                "the server does not allow this method on the requested resource"));
    }
    return http::Response{
        200, {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}}, metrics_.Render()};
  }
  if (request.path == "/version" || request.path == "/version/") {
    if (request.method != "GET" && request.method != "HEAD") {
      return StatusResponse(
          Error(ErrorCode::kMethodNotAllowed,
                "the server does not allow this method on the requested resource"));
    }
    return JsonResponse(200, VersionInfoJson());
  }
  if (auto response = resource_metrics_->Serve(request)) return *std::move(response);
  if (resources_ != nullptr) {
    if (auto response = resources_->Serve(request, user)) return *std::move(response);
  }
  if (auto response = ServeDiscovery(request)) return *std::move(response);
  if (auto response = ServeOpenApi(request)) return *std::move(response);
  return StatusResponse(
      Error(ErrorCode::kNotFound, "the server could not find the requested resource"));
}

namespace {

// The apidiscovery version ("v2" or "v2beta1") of the first aggregated form that Accept lists;
// nullopt when the client wants the per-group documents. client-go lists v2, then v2beta1, then
// plain JSON.
std::optional<std::string_view> AggregatedDiscoveryVersion(const http::Request& request) {
  const std::string* accept = request.FindHeader("Accept");
  if (accept == nullptr) return std::nullopt;
  std::string_view rest(*accept);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view media_type = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (!media_type.starts_with("application/json") &&
        media_type.find("application/json") == std::string_view::npos) {
      continue;
    }
    if (media_type.find("as=APIGroupDiscoveryList") == std::string_view::npos ||
        media_type.find("g=apidiscovery.k8s.io") == std::string_view::npos) {
      return std::nullopt;  // plain JSON comes first
    }
    if (media_type.find("v=v2beta1") != std::string_view::npos) return "v2beta1";
    if (media_type.find("v=v2") != std::string_view::npos) return "v2";
  }
  return std::nullopt;
}

}  // namespace

std::optional<http::Response> ApiServer::ServeDiscovery(const http::Request& request) const {
  const std::string_view path = request.path;
  if (path != "/api" && !path.starts_with("/api/") && path != "/apis" &&
      !path.starts_with("/apis/")) {
    return std::nullopt;
  }
  const auto discovery = documents_.discovery();
  if (auto version = AggregatedDiscoveryVersion(request)) {
    if (auto aggregated = discovery->AggregatedDocument(path, *version)) {
      http::Response response = JsonResponse(
          200, *std::move(aggregated),
          fmt::format("application/json;g=apidiscovery.k8s.io;v={};as=APIGroupDiscoveryList",
                      *version));
      response.SetHeader("Vary", "Accept");
      return response;
    }
  }
  const std::string* host = request.FindHeader("Host");
  auto document = discovery->Document(path, host != nullptr ? *host : std::string_view());
  if (!document) return std::nullopt;
  if (request.method != "GET" && request.method != "HEAD") {
    return StatusResponse(Error(ErrorCode::kMethodNotAllowed,
                                "the server does not allow this method on the requested resource"));
  }
  return JsonResponse(200, *std::move(document));
}

std::optional<http::Response> ApiServer::ServeOpenApi(const http::Request& request) const {
  const std::string_view path = request.path;
  const OpenApiDocument* document = nullptr;
  bool protobuf = false;
  std::shared_ptr<const OpenApiDocuments> openapi;
  if (path.starts_with("/openapi/")) openapi = documents_.openapi();
  if (path == "/openapi/v2") {
    const std::string* accept = request.FindHeader("Accept");
    std::string_view protobuf_type;
    if (accept != nullptr) {
      for (std::string_view candidate :
           {kOpenApiV2ProtobufMediaType, kOpenApiV2ProtobufMediaTypeDotted}) {
        if (accept->find(candidate) != std::string::npos) protobuf_type = candidate;
      }
    }
    if (!protobuf_type.empty() &&
        (accept->find("application/json") == std::string::npos ||
         accept->find(protobuf_type) < accept->find("application/json"))) {
      protobuf = true;
    } else if (accept != nullptr && !accept->empty() &&
               accept->find("application/json") == std::string::npos &&
               accept->find("*/*") == std::string::npos) {
      return StatusResponse(Error(ErrorCode::kNotAcceptable,
                                  "only application/json and application/com.github.proto-openapi."
                                  "spec.v2@v1.0+protobuf are served for /openapi/v2"));
    }
    document = protobuf ? &openapi->V2Protobuf() : &openapi->V2();
  } else if (path == "/openapi/v3" || path == "/openapi/v3/") {
    document = &openapi->V3Index();
  } else if (path.starts_with("/openapi/v3/")) {
    document = openapi->V3(path.substr(std::string_view("/openapi/v3/").size()));
    if (document == nullptr) {
      return StatusResponse(
          Error(ErrorCode::kNotFound, "the server could not find the requested resource"));
    }
  } else {
    return std::nullopt;
  }
  const std::string* if_none_match = request.FindHeader("If-None-Match");
  if (if_none_match != nullptr && *if_none_match == document->etag) {
    http::Response not_modified{304, {}, {}};
    not_modified.SetHeader("ETag", document->etag);
    return not_modified;
  }
  http::Response response =
      JsonResponse(200, document->json,
                   protobuf ? std::string(kOpenApiV2ProtobufMediaTypeDotted) : "application/json");
  // /openapi/v2 answers in the encoding Accept asks for.
  if (path == "/openapi/v2") response.SetHeader("Vary", "Accept");
  response.SetHeader("ETag", document->etag);
  return response;
}

}  // namespace kpp::apiserver
