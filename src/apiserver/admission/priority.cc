#include "apiserver/admission/priority.h"

#include <fmt/format.h>

#include "apiserver/admission/json_access.h"

namespace kpp::apiserver::admission {
namespace {

using boost::json::object;

bool IsPod(const Attributes& attributes) {
  return attributes.Is("", "pods") && attributes.subresource.empty() &&
         attributes.object != nullptr;
}

}  // namespace

std::optional<Rejection> Priority::Admit(Attributes& attributes, Context& context) const {
  if (!IsPod(attributes)) return std::nullopt;
  object& spec = json::EnsureObject(*attributes.object, "spec");
  if (attributes.operation == Operation::kUpdate) {
    // What creation set stays, whatever the update sends.
    const auto* old_spec = json::Object(attributes.old_object, "spec");
    for (std::string_view field : {"priority", "preemptionPolicy"}) {
      if (!json::Has(&spec, field) && json::Has(old_spec, field)) {
        spec[field] = old_spec->at(field);
        context.mutated = true;
      }
    }
    return std::nullopt;
  }
  if (attributes.operation != Operation::kCreate) return std::nullopt;
  int64_t priority = 0;
  std::string preemption_policy = "PreemptLowerPriority";
  const std::string class_name(json::String(&spec, "priorityClassName"));
  if (class_name.empty()) {
    auto classes = context.reader.List("scheduling.k8s.io", "priorityclasses", "");
    if (!classes.ok()) {
      return Rejection{InternalError(fmt::format("failed to get default priority class: {}",
                                                 classes.error().message())),
                       {}};
    }
    // The global default; the lowest value when several claim to be.
    const object* chosen = nullptr;
    for (const auto& priority_class : *classes) {
      if (!json::Bool(&priority_class, "globalDefault").value_or(false)) continue;
      if (chosen == nullptr || json::Int(&priority_class, "value").value_or(0) <
                                   json::Int(chosen, "value").value_or(0)) {
        chosen = &priority_class;
      }
    }
    if (chosen != nullptr) {
      spec["priorityClassName"] = json::String(json::Object(chosen, "metadata"), "name");
      priority = json::Int(chosen, "value").value_or(0);
      if (const auto policy = json::String(chosen, "preemptionPolicy"); !policy.empty()) {
        preemption_policy = policy;
      }
    }
  } else {
    auto found = context.reader.Get("scheduling.k8s.io", "priorityclasses", "", class_name);
    if (!found.ok()) {
      return Rejection{InternalError(fmt::format("failed to get PriorityClass with name {}: {}",
                                                 class_name, found.error().message())),
                       {}};
    }
    if (!found->has_value()) {
      return AdmissionForbidden(attributes,
                                fmt::format("no PriorityClass with name {} was found", class_name));
    }
    priority = json::Int(&**found, "value").value_or(0);
    if (const auto policy = json::String(&**found, "preemptionPolicy"); !policy.empty()) {
      preemption_policy = policy;
    }
  }
  if (const auto sent = json::Int(&spec, "priority"); sent && *sent != priority) {
    return AdmissionForbidden(
        attributes, fmt::format("the integer value of priority ({}) must not be provided in pod "
                                "spec; priority admission controller computed {} from the given "
                                "PriorityClass name",
                                *sent, priority));
  }
  spec["priority"] = priority;
  if (const auto sent = json::String(&spec, "preemptionPolicy");
      !sent.empty() && sent != preemption_policy) {
    return AdmissionForbidden(
        attributes, fmt::format("the string value of PreemptionPolicy ({}) must not be provided "
                                "in pod spec; priority admission controller computed {} from the "
                                "given PriorityClass name",
                                sent, preemption_policy));
  }
  spec["preemptionPolicy"] = preemption_policy;
  context.mutated = true;
  return std::nullopt;
}

std::optional<Rejection> Priority::Validate(const Attributes& attributes, Context& context) const {
  if (!attributes.Is("scheduling.k8s.io", "priorityclasses") || attributes.object == nullptr ||
      (attributes.operation != Operation::kCreate && attributes.operation != Operation::kUpdate)) {
    return std::nullopt;
  }
  if (!json::Bool(attributes.object, "globalDefault").value_or(false)) return std::nullopt;
  auto classes = context.reader.List("scheduling.k8s.io", "priorityclasses", "");
  if (!classes.ok()) return Rejection{classes.error(), {}};
  const std::string_view name = json::String(json::Object(attributes.object, "metadata"), "name");
  for (const auto& priority_class : *classes) {
    const std::string_view other = json::String(json::Object(&priority_class, "metadata"), "name");
    if (other != name && json::Bool(&priority_class, "globalDefault").value_or(false)) {
      return AdmissionForbidden(
          attributes, fmt::format("PriorityClass {} is already marked as default. Only one "
                                  "default can exist",
                                  other));
    }
  }
  return std::nullopt;
}

std::optional<Rejection> DefaultTolerationSeconds::Admit(Attributes& attributes,
                                                         Context& context) const {
  if (!IsPod(attributes) ||
      (attributes.operation != Operation::kCreate && attributes.operation != Operation::kUpdate)) {
    return std::nullopt;
  }
  object& spec = json::EnsureObject(*attributes.object, "spec");
  bool tolerates_not_ready = false, tolerates_unreachable = false;
  if (const auto* tolerations = json::Array(&spec, "tolerations")) {
    for (const auto& toleration : *tolerations) {
      if (!toleration.is_object()) continue;
      const std::string_view key = json::String(&toleration.as_object(), "key");
      const std::string_view effect = json::String(&toleration.as_object(), "effect");
      if (!effect.empty() && effect != "NoExecute") continue;
      if (key.empty() || key == "node.kubernetes.io/not-ready") tolerates_not_ready = true;
      if (key.empty() || key == "node.kubernetes.io/unreachable") tolerates_unreachable = true;
    }
  }
  for (const auto& [tolerated, key] :
       {std::pair{tolerates_not_ready, "node.kubernetes.io/not-ready"},
        std::pair{tolerates_unreachable, "node.kubernetes.io/unreachable"}}) {
    if (tolerated) continue;
    json::EnsureArray(spec, "tolerations")
        .push_back(object{{"key", key},
                          {"operator", "Exists"},
                          {"effect", "NoExecute"},
                          {"tolerationSeconds", 300}});
    context.mutated = true;
  }
  return std::nullopt;
}

std::optional<Rejection> DefaultStorageClass::Admit(Attributes& attributes,
                                                    Context& context) const {
  if (!attributes.Is("", "persistentvolumeclaims") || !attributes.subresource.empty() ||
      attributes.operation != Operation::kCreate || attributes.object == nullptr) {
    return std::nullopt;
  }
  object& spec = json::EnsureObject(*attributes.object, "spec");
  // An explicit class, even "", is the claim's choice.
  if (spec.contains("storageClassName") && !spec.at("storageClassName").is_null()) {
    return std::nullopt;
  }
  auto classes = context.reader.List("storage.k8s.io", "storageclasses", "");
  if (!classes.ok()) return Rejection{classes.error(), {}};
  const object* chosen = nullptr;
  const auto created = [](const object* storage_class) {
    return json::String(json::Object(storage_class, "metadata"), "creationTimestamp");
  };
  const auto name = [](const object* storage_class) {
    return json::String(json::Object(storage_class, "metadata"), "name");
  };
  for (const auto& storage_class : *classes) {
    const auto* annotations = json::Object(json::Object(&storage_class, "metadata"), "annotations");
    if (json::String(annotations, "storageclass.kubernetes.io/is-default-class") != "true" &&
        json::String(annotations, "storageclass.beta.kubernetes.io/is-default-class") != "true") {
      continue;
    }
    // The newest default wins; equal ages go by name.
    if (chosen == nullptr || created(&storage_class) > created(chosen) ||
        (created(&storage_class) == created(chosen) && name(&storage_class) < name(chosen))) {
      chosen = &storage_class;
    }
  }
  if (chosen == nullptr) return std::nullopt;
  spec["storageClassName"] = name(chosen);
  context.mutated = true;
  return std::nullopt;
}

}  // namespace kpp::apiserver::admission
