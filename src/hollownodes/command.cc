#include "hollownodes/command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <tuple>

#include "apimachinery/intstr/duration.h"
#include "apimachinery/resource/quantity.h"

namespace kpp::hollownodes {

CLI::App* AddHollowNodesCommand(CLI::App& app, HollowNodesFlags& flags) {
  CLI::App* command = app.add_subcommand(
      "hollow-nodes",
      "Run many simulated kubelets in one process: nodes that register, heartbeat and run the "
      "pods bound to them without containers");
  command->fallthrough();
  auto& config = flags.config;
  auto& node = config.node_template;
  command->add_option("--kubeconfig", flags.kubeconfig, "Kubeconfig of the API server")->required();
  command->add_option("--count", config.count, "Number of hollow nodes")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command->add_option("--cpu", node.cpu, "CPU capacity of each node")->capture_default_str();
  command->add_option("--memory", node.memory, "Memory capacity of each node")
      ->capture_default_str();
  command->add_option("--pods", node.pods, "Pod capacity of each node")->capture_default_str();
  command
      ->add_option("--ephemeral-storage", node.ephemeral_storage,
                   "Ephemeral storage capacity of each node")
      ->capture_default_str();
  command->add_option("--labels", flags.labels, "Extra node labels, k=v,...");
  command->add_option("--taints", flags.taints,
                      "Taints the nodes register with, k=v:NoSchedule,...");
  command->add_option("--name-prefix", node.name_prefix, "Node names are <prefix><index>")
      ->capture_default_str();
  command
      ->add_option("--pod-run-time", flags.pod_run_time,
                   "Pods with restartPolicy Never or OnFailure succeed after this long (Go "
                   "duration; 0: they run until deleted)")
      ->capture_default_str();
  command
      ->add_option("--max-termination-grace", flags.max_termination_grace,
                   "A deleted pod is removed after its grace period, at most this long")
      ->capture_default_str();
  command
      ->add_option("--node-status-report-frequency", flags.node_status_report_frequency,
                   "How often a node writes its status when nothing changed (the kubelet's "
                   "nodeStatusReportFrequency)")
      ->capture_default_str();
  command
      ->add_option("--pod-cpu-usage", flags.pod_cpu_usage,
                   "CPU each container of a running pod uses, reported to metrics.k8s.io (a "
                   "quantity, e.g. 250m; the pod annotation kpp.dev/hollow-cpu-usage overrides "
                   "it); with this or --pod-memory-usage the nodes report usage")
      ->capture_default_str();
  command
      ->add_option("--pod-memory-usage", flags.pod_memory_usage,
                   "Memory each container of a running pod uses (e.g. 64Mi; the pod annotation "
                   "kpp.dev/hollow-memory-usage overrides it)")
      ->capture_default_str();
  command
      ->add_option("--usage-report-interval", flags.usage_report_interval,
                   "How often each node reports its pods' usage to metrics.k8s.io (the window of "
                   "the metrics)")
      ->capture_default_str();
  command
      ->add_option("--pod-cidr-base", node.pod_cidr_base,
                   "Network the nodes' pod ranges are cut from, one per node")
      ->capture_default_str();
  command
      ->add_option("--node-cidr-mask-size", node.node_cidr_prefix,
                   "Prefix length of each node's pod range")
      ->capture_default_str();
  command
      ->add_option("--node-ip-base", node.node_ip_base,
                   "Network the nodes' InternalIP addresses come from")
      ->capture_default_str();
  command
      ->add_option("--events", config.events,
                   "Record the kubelet's node and pod events (false saves writes at scale)")
      ->capture_default_str();
  command
      ->add_option("--heartbeat-workers", config.heartbeat_workers,
                   "Threads writing registrations, leases and node status")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--pod-workers", config.pod_workers, "Threads writing pod status")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  return command;
}

int RunHollowNodesCommand(HollowNodesFlags& flags) {
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "kpp hollow-nodes: %s\n", message.c_str());
    return 2;
  };
  auto labels = ParseLabels(flags.labels);
  if (!labels.ok()) return fail(labels.error().message());
  flags.config.node_template.labels = std::move(*labels);
  auto taints = ParseTaints(flags.taints);
  if (!taints.ok()) return fail(taints.error().message());
  flags.config.node_template.taints = std::move(*taints);
  auto run_time = intstr::ParseDuration(flags.pod_run_time);
  if (!run_time.ok() || run_time->count() < 0) {
    return fail("invalid --pod-run-time \"" + flags.pod_run_time + "\"");
  }
  flags.config.pod_run_time = std::chrono::ceil<std::chrono::seconds>(*run_time);
  auto grace = intstr::ParseDuration(flags.max_termination_grace);
  if (!grace.ok() || grace->count() < 0) {
    return fail("invalid --max-termination-grace \"" + flags.max_termination_grace + "\"");
  }
  flags.config.max_termination_grace =
      std::chrono::duration_cast<std::chrono::milliseconds>(*grace);
  auto report = intstr::ParseDuration(flags.node_status_report_frequency);
  if (!report.ok() || report->count() <= 0) {
    return fail("invalid --node-status-report-frequency \"" + flags.node_status_report_frequency +
                "\"");
  }
  flags.config.status_report_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(*report);
  flags.config.status_check_interval =
      std::min(flags.config.status_check_interval, flags.config.status_report_interval);
  for (auto [flag, text, target] :
       {std::tuple{"--pod-cpu-usage", &flags.pod_cpu_usage, &flags.config.pod_usage.cpu},
        std::tuple{"--pod-memory-usage", &flags.pod_memory_usage,
                   &flags.config.pod_usage.memory}}) {
    if (text->empty()) continue;
    auto quantity = resource::Quantity::Parse(*text);
    if (!quantity.ok() || quantity->Sign() < 0) {
      return fail(fmt::format("invalid {} \"{}\"", flag, *text));
    }
    *target = quantity->String();
    flags.config.report_usage = true;
  }
  auto usage_interval = intstr::ParseDuration(flags.usage_report_interval);
  if (!usage_interval.ok() || usage_interval->count() <= 0) {
    return fail("invalid --usage-report-interval \"" + flags.usage_report_interval + "\"");
  }
  flags.config.usage_report_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(*usage_interval);
  if (auto plan = PlanNodes(flags.config.node_template, flags.config.count); !plan.ok()) {
    return fail(plan.error().message());
  }
  return RunHollowNodes(flags.kubeconfig, flags.config);
}

}  // namespace kpp::hollownodes
