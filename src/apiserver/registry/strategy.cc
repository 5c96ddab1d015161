#include "apiserver/registry/strategy.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>

#include "api/core/v1/codec.h"
#include "apiextensions/schema/schema.h"
#include "apimachinery/resource/quantity.h"
#include "apiserver/registry/batch_strategy.h"
#include "apiserver/registry/certificates_strategy.h"
#include "apiserver/registry/lifecycle.h"

namespace kpp::apiserver {
namespace {

class DefaultStrategy : public Strategy {};

// A new quota's status is the quota controller's to fill, as upstream's strategy has it.
class ResourceQuotaStrategy final : public Strategy {
 public:
  void PrepareForCreate(api::Object& object) const override {
    static_cast<api::TypedObject<api::core::v1::ResourceQuota>&>(object).value().status = {};
  }
};

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
  // spec.finalizers change only through the finalize subresource.
  void PrepareForUpdate(const api::KindInfo& kind, api::Object& object,
                        const api::Object& old) const override {
    Strategy::PrepareForUpdate(kind, object, old);
    static_cast<api::TypedObject<api::core::v1::Namespace>&>(object).value().spec.finalizers =
        static_cast<const api::TypedObject<api::core::v1::Namespace>&>(old).value().spec.finalizers;
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
  // The kubelet's status writes may not touch ownerReferences (old kubelets garbled them).
  // A pod is apiVersion, kind, metadata, spec and status: the typed copies below are what the
  // generic JSON ones do, without encoding both pods and decoding the result (hot: every bind
  // and status write).
  void PrepareForStatusUpdate(const api::KindInfo& kind, api::Object& object,
                              const api::Object& old) const override {
    auto* pod = dynamic_cast<api::TypedObject<api::core::v1::Pod>*>(&object);
    const auto* old_pod = dynamic_cast<const api::TypedObject<api::core::v1::Pod>*>(&old);
    if (pod != nullptr && old_pod != nullptr) {
      pod->value().spec = old_pod->value().spec;
    } else {
      Strategy::PrepareForStatusUpdate(kind, object, old);
    }
    object.metadata().owner_references = old.metadata().owner_references;
  }
  void PrepareForUpdate(const api::KindInfo& kind, api::Object& object,
                        const api::Object& old) const override {
    auto* pod = dynamic_cast<api::TypedObject<api::core::v1::Pod>*>(&object);
    const auto* old_pod = dynamic_cast<const api::TypedObject<api::core::v1::Pod>*>(&old);
    if (pod == nullptr || old_pod == nullptr || !HasSubresource(kind, "status") ||
        TracksGeneration(kind)) {
      Strategy::PrepareForUpdate(kind, object, old);
      return;
    }
    pod->value().status = old_pod->value().status;
  }
  // Upstream's CheckGracefulDelete: the requested period, else the pod's
  // terminationGracePeriodSeconds; 0 for a pod no node runs (unscheduled or finished).
  std::optional<int64_t> GracePeriod(const api::Object& object,
                                     std::optional<int64_t> requested) const override {
    const auto& pod = static_cast<const api::TypedObject<api::core::v1::Pod>&>(object).value();
    int64_t period = requested.value_or(pod.spec.termination_grace_period_seconds.value_or(0));
    if (pod.spec.node_name.empty()) period = 0;
    if (pod.status.phase == "Failed" || pod.status.phase == "Succeeded") period = 0;
    if (period < 0) period = 1;
    return period;
  }
};

// Status writes of the apps controllers' kinds keep the labels too, as upstream's do.
class AppsWorkloadStrategy final : public Strategy {
 public:
  void PrepareForStatusUpdate(const api::KindInfo& kind, api::Object& object,
                              const api::Object& old) const override {
    Strategy::PrepareForStatusUpdate(kind, object, old);
    object.metadata().labels = old.metadata().labels;
  }
};

// A definition's schemas must be structural and well-formed (apiextensions/schema), as
// upstream's CRD validation checks them.
class CustomResourceDefinitionStrategy final : public Strategy {
 public:
  void Validate(const api::Object& object, validation::FieldErrors& errors) const override {
    boost::system::error_code ec;
    const auto json = boost::json::parse(object.ToJson(), ec);
    if (ec || !json.is_object()) return;
    const auto* spec = json.as_object().if_contains("spec");
    if (spec == nullptr) return;
    auto found =
        apiextensions::schema::ValidateCrdSpecSchemas(*spec, validation::FieldPath("spec"));
    errors.insert(errors.end(), found.begin(), found.end());
  }
};

}  // namespace

void Strategy::PrepareForCreate(api::Object&) const {}

void Strategy::PrepareForCreateAs(api::Object& object, const UserInfo*) const {
  PrepareForCreate(object);
}

void Strategy::PrepareForSubresourceUpdate(std::string_view, const api::KindInfo&, api::Object&,
                                           const api::Object&) const {}

void Strategy::ValidateUpdate(std::string_view, const api::Object& object, const api::Object&,
                              validation::FieldErrors& errors) const {
  Validate(object, errors);
}

void Strategy::PrepareForUpdate(const api::KindInfo& kind, api::Object& object,
                                const api::Object& old) const {
  if (HasSubresource(kind, "status")) CopyStatus(object, old);
  if (TracksGeneration(kind) && SpecChanged(object, old)) {
    object.metadata().generation = old.metadata().generation + 1;
  }
}

void Strategy::PrepareForStatusUpdate(const api::KindInfo&, api::Object& object,
                                      const api::Object& old) const {
  CopyAllButMetadataAndStatus(object, old);
}

std::optional<int64_t> Strategy::GracePeriod(const api::Object&, std::optional<int64_t>) const {
  return std::nullopt;
}

// The name is checked by the kind's rule (object_name.h) before the strategy runs.
void Strategy::Validate(const api::Object&, validation::FieldErrors&) const {}

Status Strategy::CheckDelete(const api::KindInfo&, std::string_view) const {
  return Ok();
}

const Strategy& StrategyFor(const api::KindInfo& kind) {
  static const DefaultStrategy default_strategy;
  static const NamespaceStrategy namespace_strategy;
  static const PodStrategy pod_strategy;
  static const AppsWorkloadStrategy apps_workload_strategy;
  static const CustomResourceDefinitionStrategy crd_strategy;
  if (kind.group == "apiextensions.k8s.io" && kind.kind == "CustomResourceDefinition") {
    return crd_strategy;
  }
  if (const Strategy* batch = BatchStrategyFor(kind)) return *batch;
  if (const Strategy* certificates = CertificatesStrategyFor(kind)) return *certificates;
  if (kind.group.empty() && kind.kind == "Namespace") return namespace_strategy;
  if (kind.group.empty() && kind.kind == "Pod") return pod_strategy;
  static const ResourceQuotaStrategy resource_quota_strategy;
  if (kind.group.empty() && kind.kind == "ResourceQuota") return resource_quota_strategy;
  if (kind.group == "apps" && (kind.kind == "Deployment" || kind.kind == "ReplicaSet" ||
                               kind.kind == "StatefulSet" || kind.kind == "DaemonSet")) {
    return apps_workload_strategy;
  }
  return default_strategy;
}

}  // namespace kpp::apiserver
