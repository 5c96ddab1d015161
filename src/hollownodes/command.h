// The `kpp hollow-nodes` command line: its flags and their checks, kept beside the component so
// cmd/kpp/main.cc only dispatches.
#pragma once

#include <string>

#include "hollownodes/hollow_nodes.h"

namespace CLI {
class App;
}  // namespace CLI

namespace kpp::hollownodes {

struct HollowNodesFlags {
  std::string kubeconfig;
  HollowNodesConfig config;
  std::string labels;
  std::string taints;
  std::string pod_run_time = "0s";
  std::string max_termination_grace = "2s";
  std::string node_status_report_frequency = "5m";
  std::string pod_cpu_usage;
  std::string pod_memory_usage;
  std::string usage_report_interval = "10s";
};

// Adds the subcommand to `app`, writing into `flags`.
CLI::App* AddHollowNodesCommand(CLI::App& app, HollowNodesFlags& flags);
// Checks the flags and runs the nodes until SIGTERM; the process exit code.
int RunHollowNodesCommand(HollowNodesFlags& flags);

}  // namespace kpp::hollownodes
