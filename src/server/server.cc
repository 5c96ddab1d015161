#include "server/server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>

#include "apiserver/admission/admission.h"
#include "apiserver/apiserver.h"
#include "apiserver/encryption/encrypted_store.h"
#include "base/clock.h"
#include "base/files.h"
#include "base/log.h"
#include "controllers/manager/controller_manager.h"
#include "pki/cluster_tls.h"
#include "scheduler/app.h"
#include "server/component_config.h"
#include "server/component_credentials.h"
#include "server/kubeconfig.h"
#include "storage/etcd/etcd_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace kpp::server {
namespace {

bool IsIpAddress(const std::string& text) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

std::string ParentDirectory(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Blocks the shutdown signals in this thread, so that every thread started afterwards inherits
// the mask and the signals are only ever taken by WaitForShutdownSignal.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A peer closing a socket mid-write must not kill the process.
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

int WaitForShutdownSignal(const sigset_t& signals) {
  int signal_number = 0;
  while (sigwait(&signals, &signal_number) != 0) {
  }
  return signal_number;
}

// The data dir holds the keys and every secret: only its owner may enter it, also when it
// existed before with a looser mode.
Status RestrictToOwner(const std::string& dir) {
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0) return InternalError(fmt::format("stat {}", dir));
  if ((info.st_mode & 077) == 0) return Ok();
  if (::chmod(dir.c_str(), info.st_mode & 0700) != 0) {
    return InternalError(fmt::format("data dir {}: cannot restrict its mode to 0700", dir));
  }
  KLOG_WARNING("data dir {} was accessible to others (mode {:o}); restricted to 0700", dir,
               info.st_mode & 0777);
  return Ok();
}

// The embedded SQLite store, or etcd when --datastore-endpoint names it.
Result<std::unique_ptr<storage::Store>> OpenStore(const ServerConfig& config) {
  if (config.datastore_endpoint.empty()) {
    storage::SqliteStoreOptions options;
    options.dir = config.data_dir + "/db";
    auto store = storage::OpenSqliteStore(options);
    if (!store.ok()) return std::move(store).error().WithContext("opening the store");
    return store;
  }
  storage::EtcdStoreOptions options;
  std::string_view endpoints = config.datastore_endpoint;
  while (!endpoints.empty()) {
    const auto comma = endpoints.find(',');
    if (comma != 0) options.endpoints.emplace_back(endpoints.substr(0, comma));
    if (comma == std::string_view::npos) break;
    endpoints.remove_prefix(comma + 1);
  }
  options.ca_file = config.datastore_cafile;
  options.cert_file = config.datastore_certfile;
  options.key_file = config.datastore_keyfile;
  auto store = storage::OpenEtcdStore(options);
  if (!store.ok()) return std::move(store).error().WithContext("--datastore-endpoint");
  KLOG_INFO("using etcd at {}", config.datastore_endpoint);
  return store;
}

Status Run(const ServerConfig& config, const sigset_t& signals) {
  if (!IsIpAddress(config.bind_address)) {
    return InvalidError(
        fmt::format("invalid --bind-address \"{}\": not an IP address", config.bind_address));
  }
  // Read before anything is created, so a bad file leaves nothing behind.
  KPP_ASSIGN_OR_RETURN(auto admission_config, apiserver::admission::LoadAdmissionConfiguration(
                                                  config.admission_control_config_file));
  if (auto status = EnsureWritableDirectory(config.data_dir, 0700); !status.ok()) {
    return std::move(status).error().WithContext("data dir");
  }
  KPP_RETURN_IF_ERROR(RestrictToOwner(config.data_dir));
  const std::string kubeconfig_path = config.write_kubeconfig.empty()
                                          ? config.data_dir + "/kubeconfig.yaml"
                                          : config.write_kubeconfig;
  if (auto status = EnsureWritableDirectory(ParentDirectory(kubeconfig_path), 0755); !status.ok()) {
    return std::move(status).error().WithContext("--write-kubeconfig");
  }

  auto tls = pki::LoadOrCreateClusterTls(
      config.data_dir + "/tls", pki::DefaultServingNames(config.bind_address), RealClock().Now());
  if (!tls.ok()) return std::move(tls).error().WithContext(config.data_dir);

  auto opened_store = OpenStore(config);
  if (!opened_store.ok()) return std::move(opened_store).error();
  auto store = apiserver::encryption::WrapWithEncryption(
      std::move(opened_store).value(), config.encryption_provider_config, config.data_dir);
  if (!store.ok()) return std::move(store).error();

  apiserver::ApiServerOptions api_options;
  api_options.store = store->get();
  api_options.resources.event_ttl = config.event_ttl;
  api_options.token_auth_file = config.token_auth_file;
  api_options.authorization = config.authorization_mode != "AlwaysAllow";
  api_options.service_account_key_file = config.data_dir + "/tls/service-account.key";
  api_options.service_account_issuer = config.service_account_issuer;
  api_options.audit = {config.audit_log_path, config.audit_policy_file, config.audit_log_maxage,
                       config.audit_log_maxbackup, config.audit_log_maxsize};
  api_options.admission_plugins = apiserver::admission::DefaultEnabledPlugins();
  for (const auto& name : config.enable_admission_plugins) {
    api_options.admission_plugins.push_back(name);
  }
  std::erase_if(api_options.admission_plugins, [&](const std::string& name) {
    return std::find(config.disable_admission_plugins.begin(),
                     config.disable_admission_plugins.end(),
                     name) != config.disable_admission_plugins.end();
  });
  api_options.admission_config =
      std::make_shared<const apiserver::admission::AdmissionConfiguration>(
          std::move(admission_config));
  api_options.bind_address = config.bind_address;
  api_options.port = config.https_listen_port;
  api_options.tls = {tls->serving.certificate_pem, tls->serving.private_key_pem,
                     tls->ca.certificate_pem};
  KPP_ASSIGN_OR_RETURN(auto api, apiserver::ApiServer::Start(api_options));
  const std::string url = LocalServerUrl(config.bind_address, api->port());
  KLOG_INFO("API server listening on {}:{}", config.bind_address, api->port());
  // The scheduler is a separate client of the API server, as system:kube-scheduler with the rights
  // upstream's policy gives that user. Its requests reach the API server in process: they are
  // authenticated (as if by its client certificate), authorized and audited as over HTTPS, but
  // skip the TLS and HTTP both ways (every pod event and binding crossed them twice).
  std::unique_ptr<scheduler::SchedulerApp> scheduler;
  if (!config.disable_scheduler) {
    scheduler::SchedulerAppOptions options;
    // No client certificate: the identity below stands for it.
    options.client_config = client::rest::RestConfig{};
    options.client_config->server = url;
    const http::ClientCertificate identity{SchedulerIdentity().user, SchedulerIdentity().groups};
    options.in_process_handler = [server = api.get(), identity](const http::Request& request) {
      return server->HandleAs(identity, request);
    };
    options.config_file = config.scheduler_config;
    options.leader_elect = false;  // one server, one scheduler
    options.secure_port = 0;
    KPP_ASSIGN_OR_RETURN(scheduler, scheduler::SchedulerApp::Start(std::move(options)));
  }
  if (!config.disable_agent) {
    KLOG_WARNING("the local node (agent) is not implemented yet; running the control plane only");
  }

  // The kubeconfig appears only once the server answers, so its existence means "ready".
  KPP_RETURN_IF_ERROR(WriteFileAtomic(kubeconfig_path,
                                      RenderKubeconfig(url, tls->ca.certificate_pem, tls->admin),
                                      config.write_kubeconfig_mode));
  KLOG_INFO("kpp server is ready: export KUBECONFIG={}", kubeconfig_path);

  // The controller manager talks to the API server over HTTPS like a separate component, as
  // system:kube-controller-manager, and runs each controller as its own service account
  // (kubeadm's --use-service-account-credentials), so each has its system:controller:* rights.
  std::unique_ptr<controllers::ControllerManager> controller_manager;
  if (!config.disable_controller_manager) {
    controllers::ControllerManagerOptions manager_options = config.controller_manager;
    manager_options.use_service_account_credentials = true;
    // The tokens controller signs secret-based tokens with the server's service account key
    // (kubeadm passes the same --service-account-private-key-file).
    if (manager_options.service_account_private_key_file.empty()) {
      manager_options.service_account_private_key_file =
          config.data_dir + "/tls/service-account.key";
    }
    // csrsigning issues certificates with the cluster CA, as kubeadm points it at its CA.
    if (manager_options.csr_signing.cert_file.empty()) {
      manager_options.csr_signing.cert_file = config.data_dir + "/tls/ca.crt";
      manager_options.csr_signing.key_file = config.data_dir + "/tls/ca.key";
    }
    KPP_ASSIGN_OR_RETURN(auto credentials,
                         IssueComponentCredentials(config.data_dir, ControllerManagerIdentity(),
                                                   url, RealClock().Now()));
    manager_options.client_config =
        ComponentRestConfig(url, tls->ca.certificate_pem, credentials.client, "controller-manager");
    KPP_ASSIGN_OR_RETURN(controller_manager,
                         controllers::ControllerManager::Start(std::move(manager_options)));
  }

  const int signal_number = WaitForShutdownSignal(signals);
  KLOG_INFO("received {}, shutting down", strsignal(signal_number));
  if (controller_manager) controller_manager->Stop();
  if (scheduler) scheduler->Stop();
  api->BeginShutdown();
  api->Stop();
  KLOG_INFO("kpp server stopped");
  return Ok();
}

}  // namespace

int RunServer(const ServerConfig& config) {
  const sigset_t signals = BlockShutdownSignals();
  if (auto status = Run(config, signals); !status.ok()) {
    KLOG_ERROR("{}", status.error().message());
    return 1;
  }
  return 0;
}

}  // namespace kpp::server
