#include "apiserver/registry/strategy.h"

#include <fmt/format.h>

#include "api/core/v1/codec.h"
#include "apimachinery/resource/quantity.h"

namespace kpp::apiserver {
namespace {

class DefaultStrategy : public Strategy {};

class NamespaceStrategy final : public Strategy {
 public:
  void PrepareForCreate(api::Object& object) const override {
    auto& ns = static_cast<api::TypedObject<api::core::v1::Namespace>&>(object).value();
    // Upstream adds the "kubernetes" finalizer, which the namespace controller removes after
    // emptying a terminating namespace.
    if (std::find(ns.spec.finalizers.begin(), ns.spec.finalizers.end(), "kubernetes") ==
        ns.spec.finalizers.end()) {
      ns.spec.finalizers.push_back("kubernetes");
    }
    ns.status = {};
    ns.status.phase = "Active";
  }
  Status CheckDelete(const api::KindInfo&, std::string_view name) const override {
    if (name == "default" || name == "kube-system" || name == "kube-public") {
      return Error(
          ErrorCode::kForbidden,
          fmt::format("namespaces \"{}\" is forbidden: this namespace may not be deleted", name));
    }
    return Ok();
  }
};

// Upstream's QoS class: Guaranteed when every container limits cpu and memory and requests
// (defaulted from limits) equal them; BestEffort when no container requests or limits either;
// Burstable otherwise.
std::string QosClass(const api::core::v1::PodSpec& spec) {
  static constexpr std::string_view kCompute[] = {"cpu", "memory"};
  bool any = false;
  bool guaranteed = true;
  auto visit = [&](const api::core::v1::Container& container) {
    const auto& requests = container.resources.requests;
    const auto& limits = container.resources.limits;
    for (std::string_view name : kCompute) {
      const auto request = requests.find(std::string(name));
      const auto limit = limits.find(std::string(name));
      const bool has_request = request != requests.end() && !request->second.text.empty();
      const bool has_limit = limit != limits.end() && !limit->second.text.empty();
      any = any || has_request || has_limit;
      if (!has_limit) {
        guaranteed = false;
        continue;
      }
      if (has_request) {
        auto a = resource::Quantity::Parse(request->second.text);
        auto b = resource::Quantity::Parse(limit->second.text);
        if (!a.ok() || !b.ok() || a->Cmp(*b) != 0) guaranteed = false;
      }
    }
  };
  for (const auto& container : spec.init_containers)
    visit(container);
  for (const auto& container : spec.containers)
    visit(container);
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

class PodStrategy final : public Strategy {
 public:
  // A new pod's status is the server's, whatever the client sent: Pending, with its QoS class.
  void PrepareForCreate(api::Object& object) const override {
    auto& pod = static_cast<api::TypedObject<api::core::v1::Pod>&>(object).value();
    pod.status = {};
    pod.status.phase = "Pending";
    pod.status.qos_class = QosClass(pod.spec);
  }
};

}  // namespace

void Strategy::PrepareForCreate(api::Object&) const {}

// The name is checked by the kind's rule (object_name.h) before the strategy runs.
void Strategy::Validate(const api::Object&, validation::FieldErrors&) const {}

Status Strategy::CheckDelete(const api::KindInfo&, std::string_view) const {
  return Ok();
}

const Strategy& StrategyFor(const api::KindInfo& kind) {
  static const DefaultStrategy default_strategy;
  static const NamespaceStrategy namespace_strategy;
  static const PodStrategy pod_strategy;
  if (kind.group.empty() && kind.kind == "Namespace") return namespace_strategy;
  if (kind.group.empty() && kind.kind == "Pod") return pod_strategy;
  return default_strategy;
}

}  // namespace kpp::apiserver
