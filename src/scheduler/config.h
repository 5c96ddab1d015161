// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) read from a YAML or JSON file:
// profiles (schedulerName, plugins per extension point, pluginConfig args), global settings,
// leader election and client connection. Unknown fields and invalid values are refused naming
// the field, as upstream's strict decoding and validation do.
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"
#include "scheduler/scheduler.h"

namespace kpp::scheduler {

struct LeaderElectionSettings {
  bool leader_elect = true;
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  std::string resource_name = "kube-scheduler";
  std::string resource_namespace = "kube-system";
};

struct SchedulerConfiguration {
  SchedulerOptions options;
  LeaderElectionSettings leader_election;
  std::string kubeconfig;  // clientConnection.kubeconfig
  double qps = 50;
  int burst = 100;
};

// The defaults: one profile "default-scheduler" with the default plugins.
SchedulerConfiguration DefaultSchedulerConfiguration();
Result<SchedulerConfiguration> ParseSchedulerConfiguration(std::string_view text);
Result<SchedulerConfiguration> LoadSchedulerConfiguration(const std::string& path);

}  // namespace kpp::scheduler
