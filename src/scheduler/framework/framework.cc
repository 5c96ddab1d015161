#include "scheduler/framework/framework.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "base/error.h"

namespace kpp::scheduler {
namespace {

bool Implements(const std::string& point, Plugin* plugin) {
  if (point == "preEnqueue") return dynamic_cast<PreEnqueuePlugin*>(plugin) != nullptr;
  if (point == "queueSort") return dynamic_cast<QueueSortPlugin*>(plugin) != nullptr;
  if (point == "preFilter") return dynamic_cast<PreFilterPlugin*>(plugin) != nullptr;
  if (point == "filter") return dynamic_cast<FilterPlugin*>(plugin) != nullptr;
  if (point == "postFilter") return dynamic_cast<PostFilterPlugin*>(plugin) != nullptr;
  if (point == "preScore") return dynamic_cast<PreScorePlugin*>(plugin) != nullptr;
  if (point == "score") return dynamic_cast<ScorePlugin*>(plugin) != nullptr;
  if (point == "reserve") return dynamic_cast<ReservePlugin*>(plugin) != nullptr;
  if (point == "permit") return dynamic_cast<PermitPlugin*>(plugin) != nullptr;
  if (point == "preBind") return dynamic_cast<PreBindPlugin*>(plugin) != nullptr;
  if (point == "bind") return dynamic_cast<BindPlugin*>(plugin) != nullptr;
  if (point == "postBind") return dynamic_cast<PostBindPlugin*>(plugin) != nullptr;
  return false;
}

template <typename T>
std::vector<T*> Collect(const std::vector<std::string>& names,
                        const std::map<std::string, std::shared_ptr<Plugin>>& instances) {
  std::vector<T*> out;
  for (const auto& name : names)
    out.push_back(dynamic_cast<T*>(instances.at(name).get()));
  return out;
}

}  // namespace

std::string PluginStatus::Message() const {
  std::string out;
  for (const auto& reason : reasons_) {
    if (!out.empty()) out += ", ";
    out += reason;
  }
  return out;
}

bool ClusterEvent::MatchedBy(const ClusterEvent& registered) const {
  const bool resource_matches =
      registered.resource == EventResource::kWildcard || registered.resource == resource ||
      (registered.resource == EventResource::kPod &&
       (resource == EventResource::kAssignedPod || resource == EventResource::kUnscheduledPod));
  return resource_matches && (registered.actions & actions) != 0;
}

void DefaultNormalizeScore(int64_t max_priority, bool reverse, std::vector<NodeScore>& scores) {
  int64_t max_count = 0;
  for (const auto& score : scores)
    max_count = std::max(max_count, score.score);
  if (max_count == 0) {
    if (reverse) {
      for (auto& score : scores)
        score.score = max_priority;
    }
    return;
  }
  for (auto& score : scores) {
    int64_t value = max_priority * score.score / max_count;
    if (reverse) value = max_priority - value;
    score.score = value;
  }
}

const std::vector<PluginRef>& DefaultPlugins() {
  static const std::vector<PluginRef> plugins = {
      {"SchedulingGates", 0},  {"PrioritySort", 0},      {"NodeUnschedulable", 0},
      {"NodeName", 0},         {"TaintToleration", 3},   {"NodeAffinity", 2},
      {"NodePorts", 0},        {"NodeResourcesFit", 1},  {"PodTopologySpread", 2},
      {"InterPodAffinity", 2}, {"DefaultPreemption", 0}, {"NodeResourcesBalancedAllocation", 1},
      {"ImageLocality", 1},    {"DefaultBinder", 0},
  };
  return plugins;
}

const std::vector<std::string>& ExtensionPoints() {
  static const std::vector<std::string> points = {
      "preEnqueue", "queueSort", "preFilter", "filter",  "postFilter", "preScore",
      "score",      "reserve",   "permit",    "preBind", "bind",       "postBind"};
  return points;
}

Result<std::unique_ptr<Framework>> Framework::Create(const ProfileConfig& config,
                                                     const Registry& registry, Handle* handle,
                                                     const std::string& profile_path) {
  auto framework = std::make_unique<Framework>();
  framework->config_ = config;
  const std::string plugins_path = profile_path + ".plugins";

  // multiPoint: the defaults, minus the disabled, plus the enabled.
  std::vector<PluginRef> multi = DefaultPlugins();
  std::map<std::string, int32_t> default_weights;
  for (const auto& ref : multi)
    default_weights[ref.name] = ref.weight;
  auto remove_disabled = [](std::vector<PluginRef>& list, const std::vector<std::string>& off) {
    for (const auto& name : off) {
      if (name == "*") {
        list.clear();
        return;
      }
      std::erase_if(list, [&](const PluginRef& ref) { return ref.name == name; });
    }
  };
  auto check_exists = [&](const std::string& point, size_t i, const std::string& name) -> Status {
    if (registry.contains(name)) return Ok();
    return InvalidError(
        fmt::format("{}.{}.enabled[{}].name: Invalid value: \"{}\": no plugin "
                    "of that name is registered",
                    plugins_path, point, i, name));
  };
  if (auto it = config.plugins.find(kMultiPoint); it != config.plugins.end()) {
    remove_disabled(multi, it->second.disabled);
    for (size_t i = 0; i < it->second.enabled.size(); ++i) {
      const auto& ref = it->second.enabled[i];
      KPP_RETURN_IF_ERROR(check_exists(kMultiPoint, i, ref.name));
      std::erase_if(multi, [&](const PluginRef& m) { return m.name == ref.name; });
      multi.push_back(ref);
    }
  }

  // Instances: every plugin named anywhere, built once.
  auto instance = [&](const std::string& name) -> Result<Plugin*> {
    auto& slot = framework->instances_[name];
    if (!slot) {
      auto factory = registry.find(name);
      if (factory == registry.end())
        return InvalidError(fmt::format("plugin \"{}\" does not exist", name));
      auto args = config.plugin_args.find(name);
      auto plugin =
          factory->second(args == config.plugin_args.end() ? nullptr : &args->second, handle);
      if (!plugin.ok()) {
        return std::move(plugin).error().WithContext(
            fmt::format("{}.pluginConfig[{}]", profile_path, name));
      }
      slot = *plugin;
    }
    return slot.get();
  };

  std::map<std::string, int64_t> weights;
  for (const auto& point : ExtensionPoints()) {
    std::vector<std::string> names;
    std::vector<PluginRef> from_multi;
    for (const auto& ref : multi) {
      KPP_ASSIGN_OR_RETURN(Plugin * plugin, instance(ref.name));
      if (Implements(point, plugin)) from_multi.push_back(ref);
    }
    auto specific = config.plugins.find(point);
    std::vector<PluginRef> enabled;
    if (specific != config.plugins.end()) {
      remove_disabled(from_multi, specific->second.disabled);
      for (size_t i = 0; i < specific->second.enabled.size(); ++i) {
        const auto& ref = specific->second.enabled[i];
        KPP_RETURN_IF_ERROR(check_exists(point, i, ref.name));
        KPP_ASSIGN_OR_RETURN(Plugin * plugin, instance(ref.name));
        if (!Implements(point, plugin)) {
          return InvalidError(
              fmt::format("{}.{}.enabled[{}].name: Invalid value: \"{}\": the "
                          "plugin does not implement {}",
                          plugins_path, point, i, ref.name, point));
        }
        enabled.push_back(ref);
      }
    }
    // Plugins enabled at this point come first, then the multiPoint ones not named again.
    for (const auto& ref : enabled)
      names.push_back(ref.name);
    for (const auto& ref : from_multi) {
      if (std::find(names.begin(), names.end(), ref.name) == names.end()) names.push_back(ref.name);
    }
    if (point == "score") {
      for (const auto& name : names) {
        int64_t weight = 0;
        for (const auto& ref : enabled) {
          if (ref.name == name && ref.weight > 0) weight = ref.weight;
        }
        for (const auto& ref : multi) {
          if (weight == 0 && ref.name == name && ref.weight > 0) weight = ref.weight;
        }
        if (weight == 0)
          weight = default_weights.contains(name) && default_weights[name] > 0
                       ? default_weights[name]
                       : 1;
        if (weight < 0) {
          return InvalidError(
              fmt::format("{}.score: Invalid value: {}: weight of {} must be positive",
                          plugins_path, weight, name));
        }
        weights[name] = weight;
      }
    }
    framework->names_[point] = names;
  }

  auto& f = *framework;
  if (f.names_["queueSort"].size() != 1) {
    return InvalidError(
        fmt::format("{}.queueSort: Invalid value: {}: exactly one queue sort "
                    "plugin must be enabled",
                    plugins_path, f.names_["queueSort"].size()));
  }
  if (f.names_["bind"].empty()) {
    return InvalidError(
        fmt::format("{}.bind: Required value: at least one bind plugin is needed", plugins_path));
  }
  f.pre_enqueue_ = Collect<PreEnqueuePlugin>(f.names_["preEnqueue"], f.instances_);
  f.queue_sort_ = Collect<QueueSortPlugin>(f.names_["queueSort"], f.instances_)[0];
  f.pre_filter_ = Collect<PreFilterPlugin>(f.names_["preFilter"], f.instances_);
  f.filter_ = Collect<FilterPlugin>(f.names_["filter"], f.instances_);
  f.post_filter_ = Collect<PostFilterPlugin>(f.names_["postFilter"], f.instances_);
  f.pre_score_ = Collect<PreScorePlugin>(f.names_["preScore"], f.instances_);
  for (auto* plugin : Collect<ScorePlugin>(f.names_["score"], f.instances_)) {
    f.score_.emplace_back(plugin, weights[plugin->Name()]);
  }
  f.reserve_ = Collect<ReservePlugin>(f.names_["reserve"], f.instances_);
  f.permit_ = Collect<PermitPlugin>(f.names_["permit"], f.instances_);
  f.pre_bind_ = Collect<PreBindPlugin>(f.names_["preBind"], f.instances_);
  f.bind_ = Collect<BindPlugin>(f.names_["bind"], f.instances_);
  f.post_bind_ = Collect<PostBindPlugin>(f.names_["postBind"], f.instances_);
  return framework;
}

std::vector<std::string> Framework::PluginNames(const std::string& extension_point) const {
  auto it = names_.find(extension_point);
  return it == names_.end() ? std::vector<std::string>{} : it->second;
}

std::map<std::string, std::vector<ClusterEvent>> Framework::EventsToRegister() const {
  std::map<std::string, std::vector<ClusterEvent>> out;
  for (const auto& [name, plugin] : instances_)
    out[name] = plugin->EventsToRegister();
  return out;
}

bool Framework::RunPreEnqueue(const Pod& pod) const {
  for (auto* plugin : pre_enqueue_) {
    if (!plugin->PreEnqueue(pod).IsSuccess()) return false;
  }
  return true;
}

bool Framework::Less(const QueueSortPlugin::QueuedPod& a,
                     const QueueSortPlugin::QueuedPod& b) const {
  return queue_sort_->Less(a, b);
}

PluginStatus Framework::RunPreFilter(CycleState& state, const PodInfo& pod,
                                     PreFilterResult& result) const {
  auto status = RunPreFilterPlugins(state, pod, result);
  state.skip_filter_index.assign(filter_.size(), 0);
  for (size_t i = 0; i < filter_.size(); ++i) {
    state.skip_filter_index[i] = state.skip_filter_plugins.contains(filter_[i]->Name()) ? 1 : 0;
  }
  return status;
}

PluginStatus Framework::RunPreFilterPlugins(CycleState& state, const PodInfo& pod,
                                            PreFilterResult& result) const {
  for (auto* plugin : pre_filter_) {
    PreFilterResult mine;
    auto status = plugin->PreFilter(state, pod, mine);
    if (status.IsSkip()) {
      state.skip_filter_plugins.insert(plugin->Name());
      continue;
    }
    if (!status.IsSuccess()) return status.WithPlugin(plugin->Name());
    if (mine.node_names) {
      if (!result.node_names) {
        result.node_names = std::move(mine.node_names);
      } else {
        std::set<std::string> both;
        for (const auto& name : *result.node_names) {
          if (mine.node_names->contains(name)) both.insert(name);
        }
        result.node_names = std::move(both);
      }
    }
  }
  return {};
}

PluginStatus Framework::RunFilter(const CycleState& state, const PodInfo& pod,
                                  const NodeInfo& node) const {
  const bool indexed = state.skip_filter_index.size() == filter_.size();
  for (size_t i = 0; i < filter_.size(); ++i) {
    auto* plugin = filter_[i];
    if (indexed ? state.skip_filter_index[i] != 0
                : state.skip_filter_plugins.contains(plugin->Name())) {
      continue;
    }
    auto status = plugin->Filter(state, pod, node);
    if (!status.IsSuccess()) return status.WithPlugin(plugin->Name());
  }
  return {};
}

PluginStatus Framework::RunPostFilter(CycleState& state, const PodInfo& pod,
                                      const NodeToStatus& statuses,
                                      PostFilterResult& result) const {
  PluginStatus last(Code::kUnschedulable);
  for (auto* plugin : post_filter_) {
    auto status = plugin->PostFilter(state, pod, statuses, result);
    if (status.IsSuccess()) return status;
    if (status.code() == Code::kError) return status.WithPlugin(plugin->Name());
    last = status.WithPlugin(plugin->Name());
  }
  return last;
}

PluginStatus Framework::RunPreScore(CycleState& state, const PodInfo& pod,
                                    const std::vector<NodeInfoPtr>& nodes) const {
  for (auto* plugin : pre_score_) {
    auto status = plugin->PreScore(state, pod, nodes);
    if (status.IsSkip()) {
      state.skip_score_plugins.insert(plugin->Name());
      continue;
    }
    if (!status.IsSuccess()) return status.WithPlugin(plugin->Name());
  }
  return {};
}

Result<std::vector<int64_t>> Framework::RunScore(const CycleState& state, const PodInfo& pod,
                                                 const std::vector<NodeInfoPtr>& nodes,
                                                 Parallelizer& parallelizer) const {
  std::vector<std::pair<ScorePlugin*, int64_t>> active;
  for (const auto& entry : score_) {
    if (!state.skip_score_plugins.contains(entry.first->Name())) active.push_back(entry);
  }
  std::vector<std::vector<NodeScore>> per_plugin(active.size(),
                                                 std::vector<NodeScore>(nodes.size()));
  std::atomic<bool> failed = false;
  std::string failure;
  std::mutex failure_mutex;
  parallelizer.Until(nodes.size(), [&](size_t i) {
    const std::string_view name = nodes[i]->name_view;
    for (size_t p = 0; p < active.size(); ++p) {
      int64_t score = 0;
      auto status = active[p].first->Score(state, pod, *nodes[i], score);
      if (!status.IsSuccess()) {
        std::lock_guard lock(failure_mutex);
        failed = true;
        failure = active[p].first->Name() + ": " + status.Message();
      }
      per_plugin[p][i] = NodeScore{name, score};
    }
  });
  if (failed) return InternalError("running Score plugin " + failure);
  std::vector<int64_t> totals(nodes.size(), 0);
  for (size_t p = 0; p < active.size(); ++p) {
    auto status = active[p].first->NormalizeScore(state, pod, per_plugin[p]);
    if (!status.IsSuccess()) {
      return InternalError("running NormalizeScore of " + active[p].first->Name() + ": " +
                           status.Message());
    }
    for (size_t i = 0; i < nodes.size(); ++i) {
      const int64_t score = per_plugin[p][i].score;
      if (score < kMinNodeScore || score > kMaxNodeScore) {
        return InternalError(
            fmt::format("plugin \"{}\" returns an invalid score {}, it should in "
                        "the range of [0, 100] after normalizing",
                        active[p].first->Name(), score));
      }
      totals[i] += score * active[p].second;
    }
  }
  return totals;
}

PluginStatus Framework::RunReserve(CycleState& state, const PodInfo& pod,
                                   const std::string& node) const {
  for (auto* plugin : reserve_) {
    auto status = plugin->Reserve(state, pod, node);
    if (!status.IsSuccess()) return status.WithPlugin(plugin->Name());
  }
  return {};
}

void Framework::RunUnreserve(CycleState& state, const PodInfo& pod, const std::string& node) const {
  for (auto it = reserve_.rbegin(); it != reserve_.rend(); ++it)
    (*it)->Unreserve(state, pod, node);
}

PluginStatus Framework::RunPermit(CycleState& state, const PodInfo& pod,
                                  const std::string& node) const {
  for (auto* plugin : permit_) {
    auto status = plugin->Permit(state, pod, node);
    if (status.code() == Code::kWait) {
      return PluginStatus::Unschedulable("waiting on permit is not supported")
          .WithPlugin(plugin->Name());
    }
    if (!status.IsSuccess()) return status.WithPlugin(plugin->Name());
  }
  return {};
}

PluginStatus Framework::RunPreBind(CycleState& state, const PodInfo& pod,
                                   const std::string& node) const {
  for (auto* plugin : pre_bind_) {
    auto status = plugin->PreBind(state, pod, node);
    if (!status.IsSuccess()) return status.WithPlugin(plugin->Name());
  }
  return {};
}

PluginStatus Framework::RunBind(CycleState& state, const PodInfo& pod,
                                const std::string& node) const {
  for (auto* plugin : bind_) {
    auto status = plugin->Bind(state, pod, node);
    if (status.IsSkip()) continue;
    return status.WithPlugin(plugin->Name());
  }
  return PluginStatus::Error("no bind plugin bound the pod");
}

void Framework::RunPostBind(CycleState& state, const PodInfo& pod, const std::string& node) const {
  for (auto* plugin : post_bind_)
    plugin->PostBind(state, pod, node);
}

}  // namespace kpp::scheduler
