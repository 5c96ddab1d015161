#include "controllers/manager/controller_manager.h"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "base/log.h"
#include "base/random.h"
#include "client/discovery/cached_discovery.h"
#include "client/informers/shared_informer.h"
#include "client/leaderelection/leader_elector.h"
#include "client/record/event_recorder.h"
#include "client/rest/rest_client.h"
#include "controllers/bootstrap/token_cleaner.h"
#include "controllers/common/rest_controller_client.h"
#include "controllers/cronjob/cronjob.h"
#include "controllers/daemon/daemon_set.h"
#include "controllers/deployment/deployment.h"
#include "controllers/disruption/disruption.h"
#include "controllers/endpoint/endpoints_controller.h"
#include "controllers/endpointslice/endpointslice_controller.h"
#include "controllers/endpointslicemirroring/mirroring_controller.h"
#include "controllers/garbagecollector/garbage_collector.h"
#include "controllers/history/rest_workload_client.h"
#include "controllers/job/job.h"
#include "controllers/manager/client_builder.h"
#include "controllers/manager/controller_context.h"
#include "controllers/manager/security_controllers.h"
#include "controllers/namespace/namespace_controller.h"
#include "controllers/podautoscaler/horizontal.h"
#include "controllers/podgc/pod_gc.h"
#include "controllers/replicaset/replica_set.h"
#include "controllers/statefulset/stateful_set.h"
#include "controllers/ttlafterfinished/ttl_after_finished.h"
#include "http/server.h"
#include "pki/certificates.h"

namespace kpp::controllers {
namespace {

constexpr char kLeaseName[] = "kube-controller-manager";

std::string DefaultIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host) + "_" + NewUuid();
}

}  // namespace

const std::vector<std::string>& KnownControllers() {
  // All on by default ("*"); tokencleaner too, as kubeadm runs it (upstream's default: off).
  static const std::vector<std::string> known = {"cronjob",
                                                 "csrapproving",
                                                 "csrcleaner",
                                                 "csrsigning",
                                                 "daemonset",
                                                 "deployment",
                                                 "disruption",
                                                 "endpoint",
                                                 "endpointslice",
                                                 "endpointslicemirroring",
                                                 "garbagecollector",
                                                 "horizontalpodautoscaling",
                                                 "job",
                                                 "namespace",
                                                 "nodelifecycle",
                                                 "podgc",
                                                 "replicaset",
                                                 "replicationcontroller",
                                                 "resourcequota",
                                                 "root-ca-cert-publisher",
                                                 "serviceaccount",
                                                 "serviceaccount-token",
                                                 "statefulset",
                                                 "tokencleaner",
                                                 "ttl-after-finished"};
  return known;
}

Result<std::vector<std::string>> EnabledControllers(const std::vector<std::string>& flags) {
  const auto& known = KnownControllers();
  bool star = false;
  std::vector<std::string> enabled;
  std::vector<std::string> disabled;
  for (const auto& flag : flags) {
    if (flag.empty()) continue;
    if (flag == "*") {
      star = true;
      continue;
    }
    const bool off = flag[0] == '-';
    const std::string name = off ? flag.substr(1) : flag;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return InvalidError(fmt::format("\"{}\" is not in the list of known controllers", flag));
    }
    (off ? disabled : enabled).push_back(name);
  }
  std::vector<std::string> result;
  for (const auto& name : known) {
    const bool explicitly_on = std::find(enabled.begin(), enabled.end(), name) != enabled.end();
    const bool explicitly_off = std::find(disabled.begin(), disabled.end(), name) != disabled.end();
    if (explicitly_off) continue;
    if (explicitly_on || star) result.push_back(name);
  }
  return result;
}

struct ControllerManager::State {
  ControllerManagerOptions options;
  std::vector<std::string> enabled;
  std::shared_ptr<client::rest::RestClient> client;  // the manager's own identity
  std::shared_ptr<client::rest::RestClient> anonymous_client;
  std::unique_ptr<ControllerClientBuilder> client_builder;
  http::ServerPtr healthz;

  std::mutex mutex;
  std::condition_variable changed;
  bool lost_or_stopping = false;  // ends the current term of Lead()
  bool stopping = false;          // ends the manager
  bool stopped = false;
  client::leaderelection::LeaderElectionConfig election;
  client::leaderelection::LeaderElector* elector = nullptr;  // of the current campaign
  std::thread elector_thread;
  std::thread direct_thread;  // without leader election

  // Builds the controllers on a fresh factory, runs them until told to stop, then stops them.
  // The informers list and watch as the manager; each controller writes as itself.
  void Lead() {
    client::informers::SharedInformerFactory factory(client);
    // One discovery cache for the controllers that map kinds or list what is served, as
    // upstream's shared RESTMapper.
    client::discovery::CachedDiscovery discovery(client);
    ControllerContexts contexts(*client_builder, anonymous_client);
    std::vector<std::unique_ptr<ReplicaSetController>> replica_sets;
    std::vector<std::unique_ptr<DeploymentController>> deployments;
    std::unique_ptr<GarbageCollectorController> garbage_collector;
    std::vector<std::unique_ptr<StatefulSetController>> stateful_sets;
    std::vector<std::unique_ptr<DaemonSetController>> daemon_sets;
    std::unique_ptr<EndpointsController> endpoints;
    std::unique_ptr<EndpointSliceController> endpoint_slices;
    std::unique_ptr<EndpointSliceMirroringController> endpoint_slice_mirroring;
    std::unique_ptr<PodGCController> pod_gc;
    std::unique_ptr<NodeLifecycleController> node_lifecycle;
    std::unique_ptr<JobController> jobs;
    std::unique_ptr<CronJobController> cron_jobs;
    std::unique_ptr<TtlAfterFinishedController> ttl_after_finished;
    std::unique_ptr<podautoscaler::HorizontalController> horizontal;
    std::unique_ptr<certificates::CertificateControllers> csrs;
    std::unique_ptr<DisruptionController> disruption;
    std::unique_ptr<NamespaceController> namespaces;
    std::unique_ptr<bootstrap::TokenCleaner> token_cleaner;
    // The service account, root CA, tokens and quota controllers (security_controllers.h).
    auto security = SecurityControllers::Create(factory, client, contexts, options, enabled);
    if (!security.ok()) KLOG_ERROR("{}", security.error().message());
    for (const auto& name : enabled) {
      if (SecurityControllers::Handles(name)) continue;
      ControllerContext& context = contexts.For(name);
      if (name == "replicaset") {
        replica_sets.push_back(std::make_unique<ReplicaSetController>(
            ReplicaSetKindInfo(), factory, context.Make<RestControllerClient>(), context.events(),
            ReplicaSetControllerOptions{options.concurrent_replicaset_syncs}));
      } else if (name == "replicationcontroller") {
        replica_sets.push_back(std::make_unique<ReplicaSetController>(
            ReplicationControllerKindInfo(), factory, context.Make<RestControllerClient>(),
            context.events(), ReplicaSetControllerOptions{options.concurrent_rc_syncs}));
      } else if (name == "garbagecollector") {
        // Metadata-only informers of its own, over every resource discovery finds.
        garbage_collector = std::make_unique<GarbageCollectorController>(
            context.client(), GarbageCollectorOptions{options.concurrent_gc_syncs});
      } else if (name == "deployment") {
        deployments.push_back(std::make_unique<DeploymentController>(
            factory, context.Make<RestControllerClient>(), context.events(),
            DeploymentControllerOptions{options.concurrent_deployment_syncs}));
      } else if (name == "statefulset") {
        stateful_sets.push_back(std::make_unique<StatefulSetController>(
            factory, context.Make<RestWorkloadClient>(), context.events()));
      } else if (name == "daemonset") {
        daemon_sets.push_back(std::make_unique<DaemonSetController>(
            factory, context.Make<RestWorkloadClient>(), context.events()));
      } else if (name == "endpoint") {
        endpoints =
            std::make_unique<EndpointsController>(factory, context.Make<RestEndpointsClient>());
      } else if (name == "endpointslice") {
        endpoint_slices = std::make_unique<EndpointSliceController>(
            factory, context.Make<RestEndpointsClient>(),
            EndpointSliceControllerOptions{.max_endpoints_per_slice =
                                               options.max_endpoints_per_slice});
      } else if (name == "nodelifecycle") {
        node_lifecycle = std::make_unique<NodeLifecycleController>(
            factory, context.Make<RestNodeLifecycleClient>(), context.events(),
            options.node_lifecycle);
      } else if (name == "podgc") {
        pod_gc = std::make_unique<PodGCController>(
            factory, context.Make<RestPodGCClient>(),
            PodGCControllerOptions{.terminated_pod_gc_threshold =
                                       options.terminated_pod_gc_threshold});
      } else if (name == "horizontalpodautoscaling") {
        horizontal = std::make_unique<podautoscaler::HorizontalController>(
            factory, context.Make<podautoscaler::RestHpaClient>(discovery), context.events(),
            options.horizontal_pod_autoscaler);
      } else if (name == "disruption") {
        disruption = std::make_unique<DisruptionController>(
            factory, context.Make<RestDisruptionClient>(discovery), context.events());
      } else if (name == "namespace") {
        namespaces = std::make_unique<NamespaceController>(
            factory, context.Make<RestNamespaceDeleterClient>(discovery),
            NamespaceControllerOptions{.workers = options.concurrent_namespace_syncs});
      } else if (name == "endpointslicemirroring") {
        endpoint_slice_mirroring = std::make_unique<EndpointSliceMirroringController>(
            factory, context.Make<RestEndpointsClient>());
      } else if (name == "job") {
        jobs = std::make_unique<JobController>(factory, context.Make<RestBatchClient>(),
                                               context.events());
      } else if (name == "cronjob") {
        cron_jobs = std::make_unique<CronJobController>(factory, context.Make<RestBatchClient>(),
                                                        context.events());
      } else if (name == "csrapproving" || name == "csrsigning" || name == "csrcleaner") {
        // The three share upstream's certificate-controller account, so one client serves all.
        if (!csrs) {
          csrs = std::make_unique<certificates::CertificateControllers>(
              context.client(), factory, enabled, options.csr_signing);
        }
      } else if (name == "tokencleaner") {
        token_cleaner = std::make_unique<bootstrap::TokenCleaner>(
            factory, context.Make<bootstrap::RestTokenCleanerClient>());
      } else if (name == "ttl-after-finished") {
        ttl_after_finished =
            std::make_unique<TtlAfterFinishedController>(factory, context.Make<RestBatchClient>());
      }
    }
    factory.Start();
    while (!factory.WaitForCacheSync(std::chrono::seconds(5))) {
      std::lock_guard lock(mutex);
      if (lost_or_stopping) break;
      KLOG_INFO("waiting for the informer caches to sync");
    }
    for (auto& controller : replica_sets)
      controller->Run();
    for (auto& controller : deployments)
      controller->Run();
    if (garbage_collector) garbage_collector->Run();
    if (jobs) jobs->Run();
    if (cron_jobs) cron_jobs->Run();
    if (ttl_after_finished) ttl_after_finished->Run();
    if (csrs) csrs->Run();
    for (auto& controller : stateful_sets)
      controller->Run();
    for (auto& controller : daemon_sets)
      controller->Run();
    if (endpoints) endpoints->Run();
    if (endpoint_slices) endpoint_slices->Run();
    if (endpoint_slice_mirroring) endpoint_slice_mirroring->Run();
    if (pod_gc) pod_gc->Run();
    if (node_lifecycle) node_lifecycle->Run();
    if (horizontal) horizontal->Run();
    if (disruption) disruption->Run();
    if (namespaces) namespaces->Run();
    if (token_cleaner) token_cleaner->Run();
    if (security.ok()) (*security)->Run();
    KLOG_INFO("started controllers: {}", fmt::join(enabled, ","));
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return lost_or_stopping; });
    }
    for (auto& controller : replica_sets)
      controller->Stop();
    for (auto& controller : deployments)
      controller->Stop();
    if (garbage_collector) garbage_collector->Stop();
    if (jobs) jobs->Stop();
    if (cron_jobs) cron_jobs->Stop();
    if (ttl_after_finished) ttl_after_finished->Stop();
    if (csrs) csrs->Stop();
    for (auto& controller : stateful_sets)
      controller->Stop();
    for (auto& controller : daemon_sets)
      controller->Stop();
    if (endpoints) endpoints->Stop();
    if (endpoint_slices) endpoint_slices->Stop();
    if (endpoint_slice_mirroring) endpoint_slice_mirroring->Stop();
    if (pod_gc) pod_gc->Stop();
    if (node_lifecycle) node_lifecycle->Stop();
    if (horizontal) horizontal->Stop();
    if (disruption) disruption->Stop();
    if (namespaces) namespaces->Stop();
    if (token_cleaner) token_cleaner->Stop();
    if (security.ok()) (*security)->Stop();
    factory.Shutdown();
  }

  void StopLeading() {
    std::lock_guard lock(mutex);
    lost_or_stopping = true;
    changed.notify_all();
  }

  // Campaigns, leads, and after a lost lease campaigns again (upstream's process exits and is
  // restarted; inside `kpp server` nothing would restart it).
  void Campaign() {
    while (true) {
      auto created = client::leaderelection::LeaderElector::Create(client, election);
      if (!created.ok()) {
        KLOG_ERROR("leader election: {}", created.error().message());
        return;
      }
      {
        std::lock_guard lock(mutex);
        if (stopping) return;
        lost_or_stopping = false;
        elector = created->get();
      }
      (*created)->Run();
      std::unique_lock lock(mutex);
      elector = nullptr;
      if (changed.wait_for(lock, options.retry_period, [&] { return stopping; })) return;
      KLOG_INFO("campaigning again for {}/{}", "kube-system", kLeaseName);
    }
  }
};

ControllerManager::ControllerManager(std::unique_ptr<State> state) : state_(std::move(state)) {}

ControllerManager::~ControllerManager() {
  Stop();
}

Result<std::unique_ptr<ControllerManager>> ControllerManager::Start(
    ControllerManagerOptions options) {
  auto state = std::make_unique<State>();
  KPP_ASSIGN_OR_RETURN(state->enabled, EnabledControllers(options.controllers));
  if (options.identity.empty()) options.identity = DefaultIdentity();
  options.client_config.user_agent = "kube-controller-manager";
  // Upstream's controller-manager defaults (--kube-api-qps/--kube-api-burst).
  options.client_config.qps = 20;
  options.client_config.burst = 30;
  state->options = options;
  KPP_ASSIGN_OR_RETURN(state->client, client::rest::RestClient::Create(options.client_config));
  client::rest::RestConfig anonymous = options.client_config;
  anonymous.tls.client_certificate_pem.clear();
  anonymous.tls.client_key_pem.clear();
  anonymous.bearer_token.clear();
  anonymous.bearer_token_file.clear();
  KPP_ASSIGN_OR_RETURN(state->anonymous_client, client::rest::RestClient::Create(anonymous));
  if (options.use_service_account_credentials) {
    // Accounts and tokens on a client of their own (upstream's "controller-discovery"), so they
    // do not wait in the informers' rate limit, nor the informers in theirs.
    KPP_ASSIGN_OR_RETURN(auto accounts_client,
                         client::rest::RestClient::Create(options.client_config));
    state->client_builder =
        std::make_unique<ServiceAccountClientBuilder>(options.client_config, accounts_client);
  } else {
    state->client_builder = std::make_unique<RootClientBuilder>(options.client_config);
  }

  if (options.secure_port >= 0) {
    KPP_ASSIGN_OR_RETURN(auto ca, pki::GenerateCa("kube-controller-manager-ca@self-signed",
                                                  std::chrono::hours(24 * 365)));
    pki::CertificateRequest serving_request;
    serving_request.common_name = "kube-controller-manager@self-signed";
    serving_request.dns_names = {"localhost"};
    serving_request.ip_addresses = {"127.0.0.1"};
    KPP_ASSIGN_OR_RETURN(auto serving, pki::IssueCertificate(ca, serving_request));
    http::ServerOptions server_options;
    server_options.bind_address = options.bind_address;
    server_options.port = static_cast<uint16_t>(options.secure_port);
    server_options.tls.certificate_pem = serving.certificate_pem + ca.certificate_pem;
    server_options.tls.private_key_pem = serving.private_key_pem;
    server_options.threads = 1;
    server_options.min_handler_threads = 1;
    server_options.max_handler_threads = 2;
    KPP_ASSIGN_OR_RETURN(
        state->healthz, http::StartServer(server_options, [](const http::Request& request) {
          http::Response response;
          response.SetHeader("Content-Type", "text/plain; charset=utf-8");
          if (request.path == "/healthz" || request.path == "/livez" || request.path == "/readyz") {
            response.body = "ok";
          } else {
            response.status = 404;
            response.body = "404 page not found\n";
          }
          return response;
        }));
  }

  State* raw = state.get();
  if (options.leader_elect) {
    client::leaderelection::LeaderElectionConfig election;
    election.lease_namespace = "kube-system";
    election.lease_name = kLeaseName;
    election.identity = options.identity;
    election.lease_duration = options.lease_duration;
    election.renew_deadline = options.renew_deadline;
    election.retry_period = options.retry_period;
    election.callbacks.on_started_leading = [raw] {
      KLOG_INFO("became the leader of {}/{}", "kube-system", kLeaseName);
      raw->Lead();
    };
    election.callbacks.on_stopped_leading = [raw] {
      KLOG_INFO("leader election lost or ended; stopping the controllers");
      raw->StopLeading();
    };
    election.callbacks.on_new_leader = [raw](const std::string& identity) {
      if (identity != raw->options.identity) KLOG_INFO("new leader elected: {}", identity);
    };
    // Checks the durations now rather than on the campaign's thread.
    if (auto check = client::leaderelection::LeaderElector::Create(state->client, election);
        !check.ok()) {
      return std::move(check).error();
    }
    state->election = std::move(election);
    state->elector_thread = std::thread([raw] { raw->Campaign(); });
  } else {
    state->direct_thread = std::thread([raw] { raw->Lead(); });
  }
  return std::unique_ptr<ControllerManager>(new ControllerManager(std::move(state)));
}

void ControllerManager::Stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    state_->lost_or_stopping = true;
    state_->changed.notify_all();
    if (state_->elector != nullptr) state_->elector->Stop();
  }
  if (state_->elector_thread.joinable()) state_->elector_thread.join();
  if (state_->direct_thread.joinable()) state_->direct_thread.join();
  if (state_->healthz) state_->healthz->Stop();
}

bool ControllerManager::IsLeader() const {
  if (!state_->options.leader_elect) return true;
  std::lock_guard lock(state_->mutex);
  return state_->elector != nullptr && state_->elector->IsLeader();
}

int ControllerManager::healthz_port() const {
  return state_->healthz ? state_->healthz->port() : -1;
}

int RunControllerManager(ControllerManagerOptions options, const std::string& kubeconfig) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  auto config = client::rest::LoadKubeconfig(kubeconfig);
  if (!config.ok()) {
    KLOG_ERROR("--kubeconfig {}: {}", kubeconfig, config.error().message());
    return 1;
  }
  options.client_config = *config;
  auto manager = ControllerManager::Start(std::move(options));
  if (!manager.ok()) {
    KLOG_ERROR("{}", manager.error().message());
    return 1;
  }
  KLOG_INFO("kube-controller-manager serving /healthz on port {}", (*manager)->healthz_port());
  int signal_number = 0;
  while (sigwait(&signals, &signal_number) != 0) {
  }
  KLOG_INFO("received {}, shutting down", strsignal(signal_number));
  (*manager)->Stop();
  return 0;
}

}  // namespace kpp::controllers
