// NodeResourcesFit (filter on requests against allocatable, score by a strategy) and
// NodeResourcesBalancedAllocation.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "scheduler/plugins/registry.h"

namespace kpp::scheduler::plugins {
namespace {

struct ResourceSpec {
  std::string name;
  int64_t weight = 1;
};
struct ShapePoint {
  int64_t utilization = 0;
  int64_t score = 0;
};

std::string FieldKeys(const boost::json::object& object,
                      std::initializer_list<std::string_view> known, bool& unknown) {
  for (const auto& [key, value] : object) {
    if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end()) {
      unknown = true;
      return std::string(key);
    }
  }
  unknown = false;
  return "";
}

Status CheckKnown(const boost::json::object& object, std::initializer_list<std::string_view> known,
                  const std::string& path) {
  bool unknown = false;
  std::string key = FieldKeys(object, known, unknown);
  if (unknown) {
    return InvalidError(fmt::format("strict decoding error: unknown field \"{}{}\"", path, key));
  }
  return Ok();
}

Result<std::vector<ResourceSpec>> ParseResources(const boost::json::value& value,
                                                 const std::string& path) {
  if (!value.is_array()) return InvalidError(path + ": Invalid value: must be a list");
  std::vector<ResourceSpec> out;
  for (size_t i = 0; i < value.as_array().size(); ++i) {
    const auto& item = value.as_array()[i];
    const std::string at = fmt::format("{}[{}]", path, i);
    if (!item.is_object()) return InvalidError(at + ": Invalid value: must be an object");
    KPP_RETURN_IF_ERROR(CheckKnown(item.as_object(), {"name", "weight"}, at + "."));
    ResourceSpec spec;
    if (auto* name = item.as_object().if_contains("name"); name && name->is_string()) {
      spec.name = std::string(name->as_string());
    }
    if (auto* weight = item.as_object().if_contains("weight"); weight && weight->is_int64()) {
      spec.weight = weight->as_int64();
    } else {
      spec.weight = 0;
    }
    if (spec.weight < 1 || spec.weight > 100) {
      return InvalidError(
          fmt::format("{}.weight: Invalid value: {}: resource weight of {} should "
                      "be in the range of [1, 100]",
                      at, spec.weight, spec.name));
    }
    out.push_back(std::move(spec));
  }
  return out;
}

const std::vector<ResourceSpec>& DefaultResources() {
  static const std::vector<ResourceSpec> resources = {{kResourceCpu, 1}, {kResourceMemory, 1}};
  return resources;
}

// The allocatable and requested amounts of one resource on a node with the pod added; for
// scoring (non-zero cpu/memory defaults unless `use_requested`).
std::pair<int64_t, int64_t> AllocatableAndRequested(const NodeInfo& node, const PodInfo& pod,
                                                    const std::string& resource,
                                                    bool use_requested) {
  const Resource& node_requested = use_requested ? node.requested : node.non_zero_requested;
  const Resource& pod_requested = use_requested ? pod.requests : pod.non_zero_requests;
  if (resource == kResourceCpu || resource == kResourceMemory ||
      resource == kResourceEphemeralStorage) {
    return {node.allocatable.Get(resource),
            node_requested.Get(resource) + pod_requested.Get(resource)};
  }
  const int64_t wanted = pod.requests.Get(resource);
  if (wanted == 0 && IsScalarResourceName(resource)) return {0, 0};
  return {node.allocatable.Get(resource), node.requested.Get(resource) + wanted};
}

class NodeResourcesFit final : public PreFilterPlugin, public FilterPlugin, public ScorePlugin {
 public:
  enum class Strategy { kLeastAllocated, kMostAllocated, kRequestedToCapacityRatio };

  std::string Name() const override { return "NodeResourcesFit"; }

  PluginStatus PreFilter(CycleState&, const PodInfo&, PreFilterResult&) override { return {}; }

  PluginStatus Filter(const CycleState&, const PodInfo& pod, const NodeInfo& node) override {
    std::vector<std::string> reasons;
    if (static_cast<int64_t>(node.pods.size()) + 1 > node.allocatable.allowed_pod_number) {
      reasons.push_back("Too many pods");
    }
    const Resource& wanted = pod.requests;
    auto check = [&](const std::string& name, int64_t request) {
      if (request == 0) return;
      if (ignored_.contains(name)) return;
      const auto slash = name.find('/');
      if (slash != std::string::npos && ignored_groups_.contains(name.substr(0, slash))) return;
      if (request > node.allocatable.Get(name) - node.requested.Get(name)) {
        reasons.push_back("Insufficient " + name);
      }
    };
    if (!wanted.IsZero()) {
      check(kResourceCpu, wanted.milli_cpu);
      check(kResourceMemory, wanted.memory);
      check(kResourceEphemeralStorage, wanted.ephemeral_storage);
      for (const auto& [name, value] : wanted.scalar)
        check(name, value);
    }
    if (reasons.empty()) return {};
    return PluginStatus(Code::kUnschedulable, std::move(reasons));
  }

  PluginStatus Score(const CycleState&, const PodInfo& pod, const NodeInfo& node,
                     int64_t& score) override {
    int64_t total = 0;
    int64_t weight_sum = 0;
    for (const auto& resource : resources_) {
      auto [allocatable, requested] = AllocatableAndRequested(node, pod, resource.name, false);
      if (allocatable == 0) continue;
      int64_t resource_score = 0;
      switch (strategy_) {
        case Strategy::kLeastAllocated:
          resource_score =
              requested > allocatable ? 0 : (allocatable - requested) * kMaxNodeScore / allocatable;
          break;
        case Strategy::kMostAllocated:
          resource_score = std::min(requested, allocatable) * kMaxNodeScore / allocatable;
          break;
        case Strategy::kRequestedToCapacityRatio:
          resource_score =
              BrokenLinear(requested > allocatable ? 100 : requested * 100 / allocatable);
          // upstream leaves resources scoring 0 out of this strategy's mean
          if (resource_score <= 0) continue;
          break;
      }
      total += resource_score * resource.weight;
      weight_sum += resource.weight;
    }
    score = weight_sum == 0 ? 0 : total / weight_sum;
    if (strategy_ == Strategy::kRequestedToCapacityRatio && weight_sum != 0) {
      // upstream rounds this strategy's weighted mean to nearest
      score = static_cast<int64_t>(
          std::llround(static_cast<double>(total) / static_cast<double>(weight_sum)));
    }
    return {};
  }

  std::vector<ClusterEvent> EventsToRegister() const override {
    return {{EventResource::kAssignedPod, kDelete | kUpdatePodScaleDown, "AssignedPodDelete"},
            {EventResource::kNode, kAdd | kUpdateNodeAllocatable, "Node"}};
  }

  static Result<std::shared_ptr<Plugin>> Create(const boost::json::value* args) {
    auto plugin = std::make_shared<NodeResourcesFit>();
    plugin->resources_ = DefaultResources();
    if (args == nullptr || args->is_null()) return std::shared_ptr<Plugin>(plugin);
    if (!args->is_object()) return InvalidError("NodeResourcesFitArgs must be an object");
    const auto& object = args->as_object();
    KPP_RETURN_IF_ERROR(CheckKnown(
        object,
        {"apiVersion", "kind", "ignoredResources", "ignoredResourceGroups", "scoringStrategy"},
        ""));
    auto strings = [](const boost::json::value* list, std::set<std::string>& out) {
      if (list == nullptr || !list->is_array()) return;
      for (const auto& item : list->as_array()) {
        if (item.is_string()) out.insert(std::string(item.as_string()));
      }
    };
    strings(object.if_contains("ignoredResources"), plugin->ignored_);
    strings(object.if_contains("ignoredResourceGroups"), plugin->ignored_groups_);
    for (const auto& group : plugin->ignored_groups_) {
      if (group.find('/') != std::string::npos) {
        return InvalidError(
            fmt::format("ignoredResourceGroups: Invalid value: \"{}\": "
                        "resource group name can't contain \"/\"",
                        group));
      }
    }
    const auto* strategy = object.if_contains("scoringStrategy");
    if (strategy == nullptr || strategy->is_null()) return std::shared_ptr<Plugin>(plugin);
    if (!strategy->is_object()) return InvalidError("scoringStrategy: must be an object");
    const auto& s = strategy->as_object();
    KPP_RETURN_IF_ERROR(
        CheckKnown(s, {"type", "resources", "requestedToCapacityRatio"}, "scoringStrategy."));
    std::string type = "LeastAllocated";
    if (auto* t = s.if_contains("type"); t && t->is_string()) type = std::string(t->as_string());
    if (type == "LeastAllocated") {
      plugin->strategy_ = Strategy::kLeastAllocated;
    } else if (type == "MostAllocated") {
      plugin->strategy_ = Strategy::kMostAllocated;
    } else if (type == "RequestedToCapacityRatio") {
      plugin->strategy_ = Strategy::kRequestedToCapacityRatio;
    } else {
      return InvalidError(fmt::format(
          "scoringStrategy.type: Unsupported value: \"{}\": supported values: \"LeastAllocated\", "
          "\"MostAllocated\", \"RequestedToCapacityRatio\"",
          type));
    }
    if (auto* resources = s.if_contains("resources"); resources && !resources->is_null()) {
      KPP_ASSIGN_OR_RETURN(plugin->resources_,
                           ParseResources(*resources, "scoringStrategy.resources"));
    }
    if (plugin->strategy_ == Strategy::kRequestedToCapacityRatio) {
      const auto* ratio = s.if_contains("requestedToCapacityRatio");
      const boost::json::value* shape = nullptr;
      if (ratio != nullptr && ratio->is_object()) shape = ratio->as_object().if_contains("shape");
      if (shape == nullptr || !shape->is_array() || shape->as_array().empty()) {
        return InvalidError(
            "scoringStrategy.requestedToCapacityRatio.shape: Required value: at least one point "
            "must be specified");
      }
      for (size_t i = 0; i < shape->as_array().size(); ++i) {
        const auto& point = shape->as_array()[i];
        const std::string at = fmt::format("scoringStrategy.requestedToCapacityRatio.shape[{}]", i);
        if (!point.is_object()) return InvalidError(at + ": must be an object");
        ShapePoint p;
        if (auto* u = point.as_object().if_contains("utilization"); u && u->is_int64()) {
          p.utilization = u->as_int64();
        }
        if (auto* sc = point.as_object().if_contains("score"); sc && sc->is_int64()) {
          p.score = sc->as_int64();
        }
        if (p.utilization < 0 || p.utilization > 100) {
          return InvalidError(
              fmt::format("{}.utilization: Invalid value: {}: not in valid range "
                          "[0, 100]",
                          at, p.utilization));
        }
        if (p.score < 0 || p.score > 10) {
          return InvalidError(
              fmt::format("{}.score: Invalid value: {}: not in valid range [0, 10]", at, p.score));
        }
        if (!plugin->shape_.empty() && p.utilization <= plugin->shape_.back().utilization) {
          return InvalidError(
              fmt::format("{}.utilization: Invalid value: {}: utilization values "
                          "must be sorted in increasing order",
                          at, p.utilization));
        }
        p.score *= kMaxNodeScore / 10;  // the shape's scores are 0-10
        plugin->shape_.push_back(p);
      }
    }
    return std::shared_ptr<Plugin>(plugin);
  }

 private:
  int64_t BrokenLinear(int64_t utilization) const {
    for (size_t i = 0; i < shape_.size(); ++i) {
      if (utilization <= shape_[i].utilization) {
        if (i == 0) return shape_[0].score;
        const auto& a = shape_[i - 1];
        const auto& b = shape_[i];
        return a.score + (b.score - a.score) * (utilization - a.utilization) /
                             (b.utilization - a.utilization);
      }
    }
    return shape_.back().score;
  }

  Strategy strategy_ = Strategy::kLeastAllocated;
  std::vector<ResourceSpec> resources_;
  std::vector<ShapePoint> shape_;
  std::set<std::string> ignored_;
  std::set<std::string> ignored_groups_;
};

class BalancedAllocation final : public ScorePlugin {
 public:
  std::string Name() const override { return "NodeResourcesBalancedAllocation"; }
  PluginStatus Score(const CycleState&, const PodInfo& pod, const NodeInfo& node,
                     int64_t& score) override {
    std::vector<double> fractions;
    double total = 0;
    for (const auto& resource : resources_) {
      auto [allocatable, requested] =
          AllocatableAndRequested(node, pod, resource.name, /*use_requested=*/true);
      if (allocatable == 0) continue;
      const double fraction =
          std::min(1.0, static_cast<double>(requested) / static_cast<double>(allocatable));
      total += fraction;
      fractions.push_back(fraction);
    }
    double deviation = 0;
    if (fractions.size() == 2) {
      deviation = std::abs((fractions[0] - fractions[1]) / 2);
    } else if (fractions.size() > 2) {
      const double mean = total / static_cast<double>(fractions.size());
      double sum = 0;
      for (double f : fractions)
        sum += (f - mean) * (f - mean);
      deviation = std::sqrt(sum / static_cast<double>(fractions.size()));
    }
    score = static_cast<int64_t>((1 - deviation) * static_cast<double>(kMaxNodeScore));
    return {};
  }

  static Result<std::shared_ptr<Plugin>> Create(const boost::json::value* args) {
    auto plugin = std::make_shared<BalancedAllocation>();
    plugin->resources_ = DefaultResources();
    if (args != nullptr && args->is_object()) {
      KPP_RETURN_IF_ERROR(CheckKnown(args->as_object(), {"apiVersion", "kind", "resources"}, ""));
      if (auto* resources = args->as_object().if_contains("resources");
          resources && !resources->is_null()) {
        KPP_ASSIGN_OR_RETURN(plugin->resources_, ParseResources(*resources, "resources"));
      }
    }
    return std::shared_ptr<Plugin>(plugin);
  }

 private:
  std::vector<ResourceSpec> resources_;
};

}  // namespace

Result<std::shared_ptr<Plugin>> NewNodeResourcesFit(const boost::json::value* args, Handle*) {
  return NodeResourcesFit::Create(args);
}
Result<std::shared_ptr<Plugin>> NewBalancedAllocation(const boost::json::value* args, Handle*) {
  return BalancedAllocation::Create(args);
}

}  // namespace kpp::scheduler::plugins
