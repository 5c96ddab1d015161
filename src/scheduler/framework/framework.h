// One scheduling profile's plugins per extension point (upstream's frameworkImpl), built from
// the profile's configuration and a registry of plugin factories, and the Run* calls the
// scheduling cycle makes.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/parallelizer.h"

namespace kpp::scheduler {

struct PluginRef {
  std::string name;
  int32_t weight = 0;  // score plugins only; 0: the default
};
struct PluginSet {
  std::vector<PluginRef> enabled;
  std::vector<std::string> disabled;  // "*" disables every default
};

inline constexpr char kMultiPoint[] = "multiPoint";
inline constexpr char kDefaultSchedulerName[] = "default-scheduler";

struct ProfileConfig {
  std::string scheduler_name = kDefaultSchedulerName;
  std::optional<int32_t> percentage_of_nodes_to_score;
  // Extension point ("multiPoint", "queueSort", "preFilter", "filter", ...) -> changes to the
  // defaults.
  std::map<std::string, PluginSet> plugins;
  // Plugin name -> its args object (pluginConfig).
  std::map<std::string, boost::json::value> plugin_args;
};

// Builds a plugin from its args (null: defaults); an error names what is wrong in the args.
using PluginFactory =
    std::function<Result<std::shared_ptr<Plugin>>(const boost::json::value* args, Handle* handle)>;
using Registry = std::map<std::string, PluginFactory>;

// The default multiPoint plugins, in upstream's order, with their score weights.
const std::vector<PluginRef>& DefaultPlugins();
// The extension points of the configuration, in cycle order.
const std::vector<std::string>& ExtensionPoints();

class Framework {
 public:
  // `profile_path` (e.g. "profiles[0]") prefixes configuration errors.
  static Result<std::unique_ptr<Framework>> Create(const ProfileConfig& config,
                                                   const Registry& registry, Handle* handle,
                                                   const std::string& profile_path = "profiles[0]");

  const std::string& scheduler_name() const { return config_.scheduler_name; }
  const ProfileConfig& config() const { return config_; }
  // The plugin names per extension point, after merging the configuration into the defaults.
  std::vector<std::string> PluginNames(const std::string& extension_point) const;
  std::map<std::string, std::vector<ClusterEvent>> EventsToRegister() const;

  bool RunPreEnqueue(const Pod& pod) const;
  bool Less(const QueueSortPlugin::QueuedPod& a, const QueueSortPlugin::QueuedPod& b) const;
  PluginStatus RunPreFilter(CycleState& state, const PodInfo& pod, PreFilterResult& result) const;
  // The first rejection, tagged with the plugin; success when every filter passes.
  PluginStatus RunFilter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const;
  bool HasPostFilter() const { return !post_filter_.empty(); }
  PluginStatus RunPostFilter(CycleState& state, const PodInfo& pod, const NodeToStatus& statuses,
                             PostFilterResult& result) const;
  PluginStatus RunPreScore(CycleState& state, const PodInfo& pod,
                           const std::vector<NodeInfoPtr>& nodes) const;
  bool HasScore() const { return !score_.empty(); }
  // The weighted total score per node (same order as `nodes`).
  Result<std::vector<int64_t>> RunScore(const CycleState& state, const PodInfo& pod,
                                        const std::vector<NodeInfoPtr>& nodes,
                                        Parallelizer& parallelizer) const;
  PluginStatus RunReserve(CycleState& state, const PodInfo& pod, const std::string& node) const;
  void RunUnreserve(CycleState& state, const PodInfo& pod, const std::string& node) const;
  PluginStatus RunPermit(CycleState& state, const PodInfo& pod, const std::string& node) const;
  PluginStatus RunPreBind(CycleState& state, const PodInfo& pod, const std::string& node) const;
  PluginStatus RunBind(CycleState& state, const PodInfo& pod, const std::string& node) const;
  void RunPostBind(CycleState& state, const PodInfo& pod, const std::string& node) const;

 private:
  PluginStatus RunPreFilterPlugins(CycleState& state, const PodInfo& pod,
                                   PreFilterResult& result) const;

  ProfileConfig config_;
  std::map<std::string, std::shared_ptr<Plugin>> instances_;
  std::map<std::string, std::vector<std::string>> names_;  // extension point -> plugin names
  std::vector<PreEnqueuePlugin*> pre_enqueue_;
  QueueSortPlugin* queue_sort_ = nullptr;
  std::vector<PreFilterPlugin*> pre_filter_;
  std::vector<FilterPlugin*> filter_;
  std::vector<PostFilterPlugin*> post_filter_;
  std::vector<PreScorePlugin*> pre_score_;
  std::vector<std::pair<ScorePlugin*, int64_t>> score_;
  std::vector<ReservePlugin*> reserve_;
  std::vector<PermitPlugin*> permit_;
  std::vector<PreBindPlugin*> pre_bind_;
  std::vector<BindPlugin*> bind_;
  std::vector<PostBindPlugin*> post_bind_;
};

}  // namespace kpp::scheduler
