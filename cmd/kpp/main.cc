// kpp: one binary, one subcommand per role. This file only defines the command line and
// dispatches; each subcommand's work lives with its component under src/.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "apimachinery/intstr/duration.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/version.h"
#include "controllers/manager/controller_manager.h"
#include "hollownodes/command.h"
#include "scheduler/app.h"
#include "server/server.h"

namespace {

void PrintVersion() {
  const kpp::BuildInfo& build = kpp::GetBuildInfo();
  std::printf("kpp version %s (Kubernetes %s)\n", build.version.c_str(),
              kpp::KubernetesGitVersion().c_str());
  std::printf("git commit: %s (%s)\n", build.git_commit.c_str(), build.git_tree_state.c_str());
  std::printf("build date: %s\n", build.build_date.c_str());
  std::printf("compiler: %s\n", build.compiler.c_str());
  std::printf("platform: %s\n", kpp::Platform().c_str());
}

// Parses an octal file mode such as "600" or "0644".
bool ParseFileMode(const std::string& text, mode_t& mode) {
  if (text.empty() || text.size() > 4) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return false;
    value = value * 8 + static_cast<unsigned>(c - '0');
  }
  mode = static_cast<mode_t>(value);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  kpp::LimitMallocArenas();  // before any thread
  CLI::App app{"kpp: a lightweight Kubernetes in one binary", "kpp"};
  app.require_subcommand(0, 1);
  // A repeated flag takes its last value, as k3s does.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  int verbosity = 0;
  app.add_option("-v,--v", verbosity, "Log verbosity: messages at this level and below are logged")
      ->check(CLI::NonNegativeNumber);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print version information and exit");

  CLI::App* version = app.add_subcommand("version", "Print version information");
  version->fallthrough();

  kpp::server::ServerConfig server_config;
  std::string kubeconfig_mode = "0600";
  CLI::App* server = app.add_subcommand(
      "server", "Run the control plane (API server) and, unless disabled, a local node");
  server->fallthrough();
  server->add_option("-d,--data-dir", server_config.data_dir, "Folder to hold state")
      ->capture_default_str();
  server
      ->add_option("--bind-address", server_config.bind_address,
                   "IP address the API server listens on")
      ->capture_default_str();
  server
      ->add_option("--https-listen-port", server_config.https_listen_port,
                   "HTTPS port of the API server (0 picks a free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  server->add_flag("--disable-agent", server_config.disable_agent,
                   "Do not run a local node (control plane only)");
  server->add_flag("--disable-controller-manager", server_config.disable_controller_manager,
                   "Do not run the controller manager");
  server->add_option("-o,--write-kubeconfig", server_config.write_kubeconfig,
                     "Where to write the admin kubeconfig (default <data-dir>/kubeconfig.yaml)");
  server->add_option("--datastore-endpoint", server_config.datastore_endpoint,
                     "etcd client URLs, comma-separated (default: the embedded SQLite store)");
  server->add_option("--datastore-cafile", server_config.datastore_cafile,
                     "CA file to verify the etcd members with");
  server->add_option("--datastore-certfile", server_config.datastore_certfile,
                     "Client certificate file for etcd");
  server->add_option("--datastore-keyfile", server_config.datastore_keyfile,
                     "Client key file for etcd");
  server->add_option(
      "--token-auth-file", server_config.token_auth_file,
      "A CSV file of bearer tokens (token,user,uid,\"group1,group2\"), read at start");
  server
      ->add_option("--authorization-mode", server_config.authorization_mode,
                   "Node,RBAC (the node authorizer and RBAC, with upstream's bootstrap policy) or "
                   "AlwaysAllow (every authenticated user may do everything)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](const std::string& mode) -> std::string {
            for (const char* known : {"Node,RBAC", "RBAC,Node", "RBAC", "AlwaysAllow"}) {
              if (mode == known) return "";
            }
            return "\"" + mode + "\" is not Node,RBAC or AlwaysAllow";
          },
          "MODE"));
  server
      ->add_option("--service-account-issuer", server_config.service_account_issuer,
                   "The issuer (\"iss\") of service account tokens, and their default audience")
      ->capture_default_str();
  server->add_option("--encryption-provider-config", server_config.encryption_provider_config,
                     "EncryptionConfiguration file (YAML or JSON) saying which resources are "
                     "encrypted at rest and how (default: secrets under AES-GCM with a key "
                     "generated in <data-dir>/cred/encryption-config.json)");
  server->add_option("--audit-log-path", server_config.audit_log_path,
                     "Write audit events (audit.k8s.io/v1 Event JSON lines) to this file; '-' "
                     "means standard out");
  server->add_option("--audit-policy-file", server_config.audit_policy_file,
                     "Audit policy (audit.k8s.io/v1 Policy, YAML or JSON); without it nothing "
                     "is recorded");
  server
      ->add_option("--audit-log-maxage", server_config.audit_log_maxage,
                   "Days to keep rotated audit log files (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  server
      ->add_option("--audit-log-maxbackup", server_config.audit_log_maxbackup,
                   "Rotated audit log files to keep (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  server
      ->add_option("--audit-log-maxsize", server_config.audit_log_maxsize,
                   "Megabytes an audit log file reaches before it is rotated (0: never)")
      ->check(CLI::NonNegativeNumber);
  server
      ->add_option("--enable-admission-plugins", server_config.enable_admission_plugins,
                   "Admission plugins to enable besides the default ones (comma-separated)")
      ->delimiter(',');
  server
      ->add_option("--disable-admission-plugins", server_config.disable_admission_plugins,
                   "Default admission plugins to disable (comma-separated)")
      ->delimiter(',');
  server->add_option("--admission-control-config-file", server_config.admission_control_config_file,
                     "AdmissionConfiguration file (apiserver.config.k8s.io/v1, YAML or JSON) with "
                     "the admission plugins' configurations (PodSecurity's defaults and "
                     "exemptions)");
  std::string event_ttl = "1h0m0s";
  server
      ->add_option("--event-ttl", event_ttl,
                   "How long events are kept after their last update (Go duration, e.g. 1h, 30m)")
      ->capture_default_str();
  server
      ->add_option("--write-kubeconfig-mode", kubeconfig_mode,
                   "File mode of the admin kubeconfig, in octal")
      ->capture_default_str();

  kpp::hollownodes::HollowNodesFlags hollow_flags;
  CLI::App* hollow_nodes = kpp::hollownodes::AddHollowNodesCommand(app, hollow_flags);
  kpp::controllers::ControllerManagerOptions manager_options;
  std::string manager_kubeconfig;
  std::string manager_controllers = "*";
  CLI::App* manager = app.add_subcommand(
      "controller-manager", "Run the controllers (kube-controller-manager) against an API server");
  manager->fallthrough();
  manager->add_option("--kubeconfig", manager_kubeconfig, "Kubeconfig of the API server to use")
      ->required();
  manager
      ->add_flag("--leader-elect", manager_options.leader_elect,
                 "Take the kube-system/kube-controller-manager Lease before running "
                 "(--leader-elect=false to run at once)")
      ->capture_default_str();
  manager
      ->add_flag("--use-service-account-credentials",
                 manager_options.use_service_account_credentials,
                 "Run each controller as its own service account in kube-system (the "
                 "kubeconfig's user creates them and requests their tokens)")
      ->capture_default_str();
  manager->add_option("--service-account-private-key-file",
                      manager_options.service_account_private_key_file,
                      "PEM private key the tokens controller signs service account token "
                      "secrets with (the API server's service account key); without it that "
                      "controller does not run");
  manager->add_option("--root-ca-file", manager_options.root_ca_file,
                      "CA bundle published as kube-root-ca.crt and put in token secrets "
                      "(default: the kubeconfig's CA)");
  // `kpp server` passes it to its embedded controller manager.
  for (CLI::App* command : {server, manager}) {
    command
        ->add_option("--controllers", manager_controllers,
                     "Controllers to run: '*' for the default ones, 'foo' enables, '-foo' "
                     "disables")
        ->capture_default_str();
  }
  manager
      ->add_option("--concurrent-deployment-syncs", manager_options.concurrent_deployment_syncs,
                   "Deployments synced at once")
      ->capture_default_str();
  manager
      ->add_option("--concurrent-replicaset-syncs", manager_options.concurrent_replicaset_syncs,
                   "Replica sets synced at once")
      ->capture_default_str();
  manager
      ->add_option("--concurrent-rc-syncs", manager_options.concurrent_rc_syncs,
                   "Replication controllers synced at once")
      ->capture_default_str();
  manager
      ->add_option("--concurrent-gc-syncs", manager_options.concurrent_gc_syncs,
                   "Garbage collector workers")
      ->capture_default_str();
  manager
      ->add_option("--concurrent-namespace-syncs", manager_options.concurrent_namespace_syncs,
                   "Terminating namespaces emptied at once")
      ->capture_default_str();
  manager
      ->add_option("--max-endpoints-per-slice", manager_options.max_endpoints_per_slice,
                   "Most endpoints in one EndpointSlice")
      ->capture_default_str();
  manager
      ->add_option("--terminated-pod-gc-threshold", manager_options.terminated_pod_gc_threshold,
                   "Finished pods kept before the oldest are deleted (0: no limit)")
      ->capture_default_str();
  std::string cluster_signing_duration = "8760h0m0s";
  manager->add_option("--cluster-signing-cert-file", manager_options.csr_signing.cert_file,
                      "PEM CA certificate the csrsigning controller issues certificates with");
  manager->add_option("--cluster-signing-key-file", manager_options.csr_signing.key_file,
                      "PEM private key of that CA");
  manager
      ->add_option("--cluster-signing-duration", cluster_signing_duration,
                   "Longest validity of the certificates it issues (Go duration)")
      ->capture_default_str();
  manager
      ->add_option("--secure-port", manager_options.secure_port,
                   "HTTPS port of /healthz (0 picks a free one, -1 serves none)")
      ->capture_default_str();
  manager->add_option("--bind-address", manager_options.bind_address, "Address of /healthz")
      ->capture_default_str();
  server->add_flag("--disable-scheduler", server_config.disable_scheduler,
                   "Do not run the scheduler");
  server->add_option("--scheduler-config", server_config.scheduler_config,
                     "A KubeSchedulerConfiguration file for the scheduler");

  kpp::scheduler::SchedulerAppOptions scheduler_options;
  CLI::App* scheduler = app.add_subcommand("scheduler", "Run the scheduler against an API server");
  scheduler->fallthrough();
  scheduler->add_option("--kubeconfig", scheduler_options.kubeconfig,
                        "kubeconfig of the API server to schedule for");
  scheduler->add_option("--config", scheduler_options.config_file,
                        "A KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1)");
  bool leader_elect = true;
  CLI::Option* leader_elect_flag = scheduler->add_flag(
      "--leader-elect", leader_elect,
      "Take the kube-system/kube-scheduler Lease before scheduling (default true; "
      "--leader-elect=false to run alone)");
  scheduler
      ->add_option("--bind-address", scheduler_options.bind_address,
                   "IP address to serve /healthz and /metrics on")
      ->capture_default_str();
  scheduler
      ->add_option("--secure-port", scheduler_options.secure_port,
                   "HTTPS port for /healthz and /metrics (0 disables)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));

  // The node lifecycle controller's timing, on `kpp server` (its embedded manager) and on
  // `kpp controller-manager`.
  std::string node_monitor_period = "5s";
  std::string node_monitor_grace_period = "40s";
  std::string node_startup_grace_period = "1m0s";
  for (CLI::App* command : {server, manager}) {
    command
        ->add_option("--node-monitor-period", node_monitor_period,
                     "How often node health is checked")
        ->capture_default_str();
    command
        ->add_option("--node-monitor-grace-period", node_monitor_grace_period,
                     "How long a node may go without renewing its lease before it is Unknown")
        ->capture_default_str();
    command
        ->add_option("--node-startup-grace-period", node_startup_grace_period,
                     "How long a new node that never posted status may take before it is "
                     "Unknown")
        ->capture_default_str();
  }
  manager
      ->add_option("--node-eviction-rate", manager_options.node_lifecycle.node_eviction_rate,
                   "Nodes per second per zone that get NoExecute taints")
      ->capture_default_str();
  manager
      ->add_option("--secondary-node-eviction-rate",
                   manager_options.node_lifecycle.secondary_node_eviction_rate,
                   "The same in a partially disrupted large zone")
      ->capture_default_str();
  manager
      ->add_option("--large-cluster-size-threshold",
                   manager_options.node_lifecycle.large_cluster_size_threshold,
                   "Zones larger than this use the secondary rate when partially disrupted")
      ->capture_default_str();
  manager
      ->add_option("--unhealthy-zone-threshold",
                   manager_options.node_lifecycle.unhealthy_zone_threshold,
                   "Fraction of not-ready nodes that makes a zone partially disrupted")
      ->capture_default_str();
  // The horizontal pod autoscaler's flags, on both as well.
  std::string hpa_sync_period = "15s";
  std::string hpa_downscale_stabilization = "5m0s";
  std::string hpa_cpu_initialization_period = "5m0s";
  std::string hpa_initial_readiness_delay = "30s";
  double hpa_tolerance = 0.1;
  for (CLI::App* command : {server, manager}) {
    command
        ->add_option("--horizontal-pod-autoscaler-sync-period", hpa_sync_period,
                     "How often each HorizontalPodAutoscaler is synced")
        ->capture_default_str();
    command
        ->add_option("--horizontal-pod-autoscaler-downscale-stabilization",
                     hpa_downscale_stabilization,
                     "How far back the autoscaler looks for higher recommendations before "
                     "scaling down")
        ->capture_default_str();
    command
        ->add_option("--horizontal-pod-autoscaler-tolerance", hpa_tolerance,
                     "Smallest usage-to-target ratio change away from 1.0 that scales")
        ->capture_default_str();
    command
        ->add_option("--horizontal-pod-autoscaler-cpu-initialization-period",
                     hpa_cpu_initialization_period,
                     "How long after a pod starts its cpu samples are trusted only once a "
                     "whole window follows its readiness")
        ->capture_default_str();
    command
        ->add_option("--horizontal-pod-autoscaler-initial-readiness-delay",
                     hpa_initial_readiness_delay,
                     "How long after a pod starts a not-ready pod counts as never ready yet")
        ->capture_default_str();
  }
  manager
      ->add_option("--concurrent-horizontal-pod-autoscaler-syncs",
                   manager_options.horizontal_pod_autoscaler.workers,
                   "HorizontalPodAutoscalers synced at once")
      ->capture_default_str();
  auto apply_node_monitor_flags = [&](kpp::controllers::ControllerManagerOptions& options) {
    auto& hpa = options.horizontal_pod_autoscaler;
    hpa.syncer.calculator.tolerance = hpa_tolerance;
    for (auto [text, name, out] : {std::tuple{
             &hpa_sync_period, "--horizontal-pod-autoscaler-sync-period", &hpa.sync_period}}) {
      auto parsed = kpp::intstr::ParseDuration(*text);
      if (!parsed.ok() || parsed->count() <= 0) {
        std::fprintf(stderr, "kpp: invalid %s \"%s\"\n", name, text->c_str());
        return false;
      }
      *out = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
    }
    for (auto [text, name, out] :
         {std::tuple{&hpa_downscale_stabilization,
                     "--horizontal-pod-autoscaler-downscale-stabilization",
                     &hpa.syncer.downscale_stabilization_window},
          std::tuple{&hpa_cpu_initialization_period,
                     "--horizontal-pod-autoscaler-cpu-initialization-period",
                     &hpa.syncer.calculator.cpu_initialization_period},
          std::tuple{&hpa_initial_readiness_delay,
                     "--horizontal-pod-autoscaler-initial-readiness-delay",
                     &hpa.syncer.calculator.delay_of_initial_readiness_status}}) {
      auto parsed = kpp::intstr::ParseDuration(*text);
      if (!parsed.ok() || parsed->count() < 0) {
        std::fprintf(stderr, "kpp: invalid %s \"%s\"\n", name, text->c_str());
        return false;
      }
      *out = std::chrono::duration_cast<std::chrono::seconds>(*parsed);
    }
    for (auto [text, name, out] :
         {std::tuple{&node_monitor_period, "--node-monitor-period",
                     &options.node_lifecycle.node_monitor_period},
          std::tuple{&node_monitor_grace_period, "--node-monitor-grace-period",
                     &options.node_lifecycle.node_monitor_grace_period},
          std::tuple{&node_startup_grace_period, "--node-startup-grace-period",
                     &options.node_lifecycle.node_startup_grace_period}}) {
      auto parsed = kpp::intstr::ParseDuration(*text);
      if (!parsed.ok() || parsed->count() <= 0) {
        std::fprintf(stderr, "kpp: invalid %s \"%s\"\n", name, text->c_str());
        return false;
      }
      *out = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
    }
    return true;
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, naming the problem; CLI11's own output spans several.
    std::fprintf(stderr, "kpp: %s (see 'kpp --help')\n", e.what());
    return 2;
  }
  kpp::log::SetVerbosity(verbosity);

  if (show_version || version->parsed()) {
    PrintVersion();
    return 0;
  }
  // --controllers: a comma-separated list, checked against the known names.
  auto apply_controllers_flag = [&](kpp::controllers::ControllerManagerOptions& options) {
    options.controllers.clear();
    std::string_view rest = manager_controllers;
    while (true) {
      const auto comma = rest.find(',');
      options.controllers.emplace_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (auto enabled = kpp::controllers::EnabledControllers(options.controllers); !enabled.ok()) {
      std::fprintf(stderr, "kpp: invalid --controllers: %s\n", enabled.error().message().c_str());
      return false;
    }
    return true;
  };
  if (server->parsed() || hollow_nodes->parsed() || manager->parsed() || scheduler->parsed()) {
    kpp::StartMemoryReleaser();
  }
  if (server->parsed()) {
    if (!apply_node_monitor_flags(server_config.controller_manager)) return 2;
    if (!apply_controllers_flag(server_config.controller_manager)) return 2;
    if (!ParseFileMode(kubeconfig_mode, server_config.write_kubeconfig_mode)) {
      std::fprintf(stderr,
                   "kpp: invalid --write-kubeconfig-mode \"%s\": want an octal mode such as 0600\n",
                   kubeconfig_mode.c_str());
      return 2;
    }
    auto ttl = kpp::intstr::ParseDuration(event_ttl);
    if (!ttl.ok() || ttl->count() <= 0) {
      std::fprintf(stderr, "kpp: invalid --event-ttl \"%s\": %s\n", event_ttl.c_str(),
                   ttl.ok() ? "must be positive" : ttl.error().message().c_str());
      return 2;
    }
    server_config.event_ttl = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
    if (server_config.event_ttl.count() == 0) server_config.event_ttl = std::chrono::seconds(1);
    return kpp::server::RunServer(server_config);
  }
  if (hollow_nodes->parsed()) return kpp::hollownodes::RunHollowNodesCommand(hollow_flags);
  if (manager->parsed()) {
    if (!apply_node_monitor_flags(manager_options)) return 2;
    auto signing_duration = kpp::intstr::ParseDuration(cluster_signing_duration);
    if (!signing_duration.ok() || signing_duration->count() <= 0) {
      std::fprintf(stderr, "kpp: invalid --cluster-signing-duration \"%s\"\n",
                   cluster_signing_duration.c_str());
      return 2;
    }
    manager_options.csr_signing.duration =
        std::chrono::duration_cast<std::chrono::seconds>(*signing_duration);
    if (!apply_controllers_flag(manager_options)) return 2;
    return kpp::controllers::RunControllerManager(manager_options, manager_kubeconfig);
  }
  if (scheduler->parsed()) {
    if (leader_elect_flag->count() > 0) scheduler_options.leader_elect = leader_elect;
    return kpp::scheduler::RunSchedulerCommand(scheduler_options);
  }
  std::fputs(app.help().c_str(), stdout);
  return 0;
}
