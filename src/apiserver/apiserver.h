// The Kubernetes API server: authenticates each request, then routes it. It serves /version, the
// health endpoints, discovery and OpenAPI; resource requests arrive with the API server issue.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "apiextensions/crd_controller.h"
#include "apiextensions/custom_resources.h"
#include "apiextensions/served_documents.h"
#include "apiserver/admission/admission_config.h"
#include "apiserver/audit/auditor.h"
#include "apiserver/authn/authenticator.h"
#include "apiserver/authn/token_authentication.h"
#include "apiserver/authz/authorization.h"
#include "apiserver/discovery.h"
#include "apiserver/health.h"
#include "apiserver/metrics/resource_metrics.h"
#include "apiserver/openapi.h"
#include "apiserver/ops/instrumented_store.h"
#include "apiserver/ops/metrics.h"
#include "apiserver/ops/operations.h"
#include "apiserver/registry/resource_handler.h"
#include "base/result.h"
#include "http/server.h"

namespace kpp::apiserver {

struct ApiServerOptions {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 6443;  // 0 picks a free port
  http::TlsConfig tls;   // serving pair; client_ca_pem authenticates client certificates
  int threads = 4;
  // Where resources are kept; without one, resource requests are answered 404. Not owned; must
  // outlive the server.
  storage::Store* store = nullptr;
  ResourceOptions resources;
  // Upstream's --token-auth-file: bearer tokens read from this CSV file at start; empty: none.
  std::string token_auth_file;
  // RBAC (with the bootstrap policy written at start); off: every authenticated user may do
  // everything, as before authorization existed.
  bool authorization = true;
  // Service account tokens: the signing key's file (created when missing; empty: a key for
  // this process only) and upstream's --service-account-issuer.
  std::string service_account_key_file;
  std::string service_account_issuer = "https://kubernetes.default.svc.cluster.local";
  // Upstream's --enable-admission-plugins: the admission plugins resource writes go through, by
  // name (admission::OrderedPluginNames); they run in upstream's order. Empty: none.
  std::vector<std::string> admission_plugins;
  // Upstream's --admission-control-config-file, read (null: the plugins' defaults).
  std::shared_ptr<const admission::AdmissionConfiguration> admission_config;
  Clock* clock = &RealClock();
  audit::AuditOptions audit;  // --audit-log-path, --audit-policy-file, ...
};

class ApiServer {
 public:
  // Starts serving. Fails (with the address in the message) when the port cannot be bound.
  static Result<std::unique_ptr<ApiServer>> Start(const ApiServerOptions& options);
  ~ApiServer();

  uint16_t port() const;
  // Makes /readyz report failure, so load balancers drain us before Stop(). Thread-safe.
  void BeginShutdown();
  // Stops serving; waits for requests in flight. Idempotent.
  void Stop();
  // Answers a request from a component in this process (upstream's loopback client), which is
  // trusted as the server itself: no authentication. Thread-safe.
  http::Response HandleLoopback(const http::Request& request) const;
  // Answers a request from a component in this process that is a client with a user of its
  // own (the scheduler inside `kpp server`) as if it came over HTTPS with `identity` as its
  // verified client certificate: authenticated, authorized, audited and measured alike, without
  // TLS and HTTP between the two. Thread-safe.
  http::Response HandleAs(const http::ClientCertificate& identity, http::Request request);

 private:
  ApiServer();
  // Every request a client sends, from the HTTP server or HandleAs: measured, audited, handled.
  http::Response Serve(const http::Request& request);
  http::Response Handle(const http::Request& request) const;
  // Routes a request for `user` (null: the server itself).
  http::Response Route(const http::Request& request, const UserInfo* user) const;
  std::optional<http::Response> ServeDiscovery(const http::Request& request) const;
  std::optional<http::Response> ServeOpenApi(const http::Request& request) const;

  // Before everything that reports to them, so they go last.
  ops::ApiMetrics metrics_;
  ops::RequestOperations operations_{metrics_};
  std::unique_ptr<audit::Auditor> auditor_;
  std::unique_ptr<ops::InstrumentedStore> instrumented_store_;
  HealthChecks health_;
  // Custom resources (apiextensions/): what CustomResourceDefinitions make served, the
  // discovery and OpenAPI documents that include them, and the controller that keeps them.
  apiextensions::CustomResourceKinds custom_kinds_;
  apiextensions::ServedDocuments documents_;
  std::unique_ptr<ResourceHandler> resources_;
  std::unique_ptr<apiextensions::CrdController> crd_controller_;
  std::atomic<bool> shutting_down_{false};
  UnionAuthenticator authenticator_;
  std::unique_ptr<authz::Authorization> authorization_;
  // Bearer tokens, TokenRequest, TokenReview and the token secret controllers (authn/).
  std::unique_ptr<TokenAuthentication> tokens_;
  // metrics.k8s.io, in memory, fed by the nodes' usage reports (metrics/).
  std::unique_ptr<ResourceMetrics> resource_metrics_;
  Clock* clock_ = nullptr;
  http::ServerPtr server_;
};

// The /version document (Kubernetes version.Info).
std::string VersionInfoJson();

}  // namespace kpp::apiserver
