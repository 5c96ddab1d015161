#include "apiserver/registry/update_validation.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/core/v1/types.h"
#include "base/go_quote.h"

namespace kpp::apiserver {
namespace {

namespace json = boost::json;
using validation::FieldPath;

const json::value kNull;

// The value at a dotted path of an object's JSON form; null when any part is absent.
const json::value& At(const json::value& root, std::string_view path) {
  const json::value* current = &root;
  while (!path.empty()) {
    const size_t dot = path.find('.');
    const std::string_view part = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    const auto* object = current->if_object();
    if (object == nullptr) return kNull;
    const auto found = object->find(part);
    if (found == object->end()) return kNull;
    current = &found->value();
  }
  return *current;
}

bool IsNilLike(const json::value& value) {
  return value.is_null() || (value.is_array() && value.get_array().empty());
}

// Upstream's semantic equality on JSON forms: a nil list equals an empty one (and an absent
// field, which omitempty leaves out), numbers compare by value.
bool SemanticEqual(const json::value& a, const json::value& b) {
  if (IsNilLike(a) || IsNilLike(b)) return IsNilLike(a) && IsNilLike(b);
  if (a.is_number() && b.is_number()) return a.to_number<double>() == b.to_number<double>();
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!SemanticEqual(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    for (const auto& member : x) {
      const auto other = y.find(member.key());
      if (!SemanticEqual(member.value(), other == y.end() ? kNull : other->value())) return false;
    }
    for (const auto& member : y) {
      if (!x.contains(member.key()) && !IsNilLike(member.value())) return false;
    }
    return true;
  }
  return a == b;
}

// Go's %#v of a []string.
std::string GoStringSlice(const json::value& value) {
  if (!value.is_array()) return "[]string(nil)";
  std::string out = "[]string{";
  const auto& items = value.get_array();
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += GoQuote(items[i].is_string() ? std::string_view(items[i].get_string()) : "");
  }
  return out + "}";
}

// Go's %#v of a metav1.LabelSelector, as upstream's messages show a selector.
std::string GoLabelSelector(const json::value& selector) {
  std::string out = "v1.LabelSelector{MatchLabels:";
  const auto* labels = At(selector, "matchLabels").if_object();
  if (labels == nullptr || labels->empty()) {
    out += "map[string]string(nil)";
  } else {
    std::vector<std::pair<std::string, std::string>> sorted;
    for (const auto& member : *labels) {
      sorted.emplace_back(member.key(), member.value().is_string()
                                            ? std::string(member.value().get_string())
                                            : std::string());
    }
    std::sort(sorted.begin(), sorted.end());
    out += "map[string]string{";
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (i > 0) out += ", ";
      out += GoQuote(sorted[i].first) + ":" + GoQuote(sorted[i].second);
    }
    out += "}";
  }
  out += ", MatchExpressions:";
  const auto* expressions = At(selector, "matchExpressions").if_array();
  if (expressions == nullptr || expressions->empty()) {
    out += "[]v1.LabelSelectorRequirement(nil)";
  } else {
    out += "[]v1.LabelSelectorRequirement{";
    for (size_t i = 0; i < expressions->size(); ++i) {
      const auto& requirement = (*expressions)[i];
      const auto text = [&](std::string_view key) {
        const auto& value = At(requirement, key);
        return GoQuote(value.is_string() ? std::string_view(value.get_string()) : "");
      };
      if (i > 0) out += ", ";
      out += fmt::format("v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                         text("key"), text("operator"), GoStringSlice(At(requirement, "values")));
    }
    out += "}";
  }
  return out + "}";
}

// The value as upstream's field errors print it: strings quoted, numbers and booleans as they
// are, a label selector in Go syntax. Other structs, which upstream prints in Go syntax with
// its internal type names, are shown as JSON.
std::string GoValue(std::string_view path, const json::value& value) {
  if (value.is_null()) return "null";
  if (value.is_string()) return GoQuote(value.get_string());
  if (value.is_object() && (path == "selector" || path.ends_with(".selector"))) {
    return GoLabelSelector(value);
  }
  return json::serialize(value);
}

void CheckImmutable(const json::value& old_json, const json::value& new_json, std::string_view path,
                    validation::FieldErrors& errors) {
  const auto& old_value = At(old_json, path);
  const auto& new_value = At(new_json, path);
  if (SemanticEqual(old_value, new_value)) return;
  errors.push_back({validation::FieldErrorType::kInvalid, std::string(path),
                    GoValue(path, new_value), "field is immutable"});
}

// `object` without the members named in `keys`: what must stay equal once they may change.
json::value Without(const json::value& object, std::span<const std::string_view> keys) {
  json::value copy = object.is_object() ? object : json::object();
  for (auto key : keys)
    copy.get_object().erase(key);
  return copy;
}

bool IsTrue(const json::value& value) {
  return value.is_bool() && value.get_bool();
}

std::string_view Text(const json::value& value) {
  return value.is_string() ? std::string_view(value.get_string()) : std::string_view();
}

void ValidateStatefulSet(const json::value& old_json, const json::value& new_json,
                         validation::FieldErrors& errors) {
  static constexpr std::string_view kMutable[] = {"replicas",
                                                  "ordinals",
                                                  "template",
                                                  "updateStrategy",
                                                  "persistentVolumeClaimRetentionPolicy",
                                                  "minReadySeconds"};
  if (!SemanticEqual(Without(At(old_json, "spec"), kMutable),
                     Without(At(new_json, "spec"), kMutable))) {
    errors.push_back(validation::Forbidden(
        FieldPath("spec"),
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
        "forbidden"));
  }
}

// The immutable ConfigMap or Secret: once `immutable: true`, neither it nor the data may change.
void ValidateImmutableData(const json::value& old_json, const json::value& new_json,
                           std::initializer_list<std::string_view> data_fields,
                           validation::FieldErrors& errors) {
  if (!IsTrue(At(old_json, "immutable"))) return;
  static constexpr std::string_view kMessage = "field is immutable when `immutable` is set";
  if (!IsTrue(At(new_json, "immutable"))) {
    errors.push_back(validation::Forbidden(FieldPath("immutable"), std::string(kMessage)));
  }
  for (auto field : data_fields) {
    if (!SemanticEqual(At(old_json, field), At(new_json, field))) {
      errors.push_back(validation::Forbidden(FieldPath(field), std::string(kMessage)));
    }
  }
}

void ValidateService(const json::value& old_json, const json::value& new_json,
                     validation::FieldErrors& errors) {
  const auto primary = [](const json::value& service) {
    const auto& ips = At(service, "spec.clusterIPs");
    if (ips.is_array() && !ips.get_array().empty()) return Text(ips.get_array()[0]);
    return Text(At(service, "spec.clusterIP"));
  };
  const std::string_view old_ip = primary(old_json);
  std::string_view new_ip = Text(At(new_json, "spec.clusterIP"));
  // A changed clusterIP wins over the list it heads, as upstream makes them agree.
  if (new_ip.empty() || new_ip == old_ip) new_ip = primary(new_json);
  const bool external = Text(At(old_json, "spec.type")) == "ExternalName" ||
                        Text(At(new_json, "spec.type")) == "ExternalName";
  // An update that leaves the address out keeps the allocated one.
  if (external || old_ip.empty() || new_ip.empty() || new_ip == old_ip) return;
  json::array ips;
  ips.emplace_back(new_ip);
  const auto& new_ips = At(new_json, "spec.clusterIPs");
  if (new_ips.is_array()) {
    for (size_t i = 1; i < new_ips.get_array().size(); ++i)
      ips.push_back(new_ips.get_array()[i]);
  }
  errors.push_back({validation::FieldErrorType::kInvalid, "spec.clusterIPs[0]", GoStringSlice(ips),
                    "may not change once set"});
}

void ValidateClaim(const json::value& old_json, const json::value& new_json,
                   validation::FieldErrors& errors) {
  json::value old_spec = At(old_json, "spec");
  json::value new_spec = At(new_json, "spec");
  if (!old_spec.is_object() || !new_spec.is_object()) return;
  // The volume controller sets volumeName once; a bound claim may change its storage request.
  if (Text(At(old_spec, "volumeName")).empty()) {
    old_spec.get_object().erase("volumeName");
    new_spec.get_object().erase("volumeName");
  }
  if (Text(At(old_json, "status.phase")) == "Bound") {
    for (auto* spec : {&old_spec, &new_spec}) {
      auto* requests = (*spec).get_object()["resources"].if_object();
      if (requests != nullptr) {
        if (auto* values = (*requests)["requests"].if_object()) values->erase("storage");
      }
    }
  }
  if (!SemanticEqual(old_spec, new_spec)) {
    errors.push_back(validation::Forbidden(
        FieldPath("spec"),
        "spec is immutable after creation except resources.requests for bound claims"));
  }
}

void ValidateRoleRef(const json::value& old_json, const json::value& new_json,
                     validation::FieldErrors& errors) {
  const auto& role_ref = At(new_json, "roleRef");
  if (SemanticEqual(At(old_json, "roleRef"), role_ref)) return;
  errors.push_back(
      {validation::FieldErrorType::kInvalid, "roleRef",
       fmt::format("rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
                   GoQuote(Text(At(role_ref, "apiGroup"))), GoQuote(Text(At(role_ref, "kind"))),
                   GoQuote(Text(At(role_ref, "name")))),
       "cannot change roleRef"});
}

void ValidateStorageClass(const json::value& old_json, const json::value& new_json,
                          validation::FieldErrors& errors) {
  for (std::string_view field : {"parameters", "provisioner", "reclaimPolicy"}) {
    if (!SemanticEqual(At(old_json, field), At(new_json, field))) {
      errors.push_back(validation::Forbidden(FieldPath(field),
                                             fmt::format("updates to {} are forbidden.", field)));
    }
  }
}

void ValidatePriorityClass(const json::value& old_json, const json::value& new_json,
                           validation::FieldErrors& errors) {
  if (!SemanticEqual(At(old_json, "value"), At(new_json, "value"))) {
    errors.push_back(validation::Forbidden(FieldPath("value"), "may not be changed in an update."));
  }
  CheckImmutable(old_json, new_json, "preemptionPolicy", errors);
}

// Clears what a pod update may change in a pod spec: the containers' images, the deadline,
// added tolerations, and a negative grace period set to 1.
void MaskPodSpec(json::value& spec, const json::value& old_spec) {
  auto* object = spec.if_object();
  if (object == nullptr) return;
  for (std::string_view list : {"containers", "initContainers"}) {
    if (auto* containers = (*object)[list].if_array()) {
      for (auto& container : *containers) {
        if (auto* fields = container.if_object()) fields->erase("image");
      }
    }
  }
  object->erase("activeDeadlineSeconds");
  const auto& old_tolerations = At(old_spec, "tolerations");
  const auto& new_tolerations = At(spec, "tolerations");
  if (new_tolerations.is_array()) {
    // Additions only: every old toleration is still there.
    bool kept = true;
    if (old_tolerations.is_array()) {
      for (const auto& old_toleration : old_tolerations.get_array()) {
        bool found = false;
        for (const auto& toleration : new_tolerations.get_array())
          found = found || SemanticEqual(old_toleration, toleration);
        kept = kept && found;
      }
    }
    if (kept) (*object)["tolerations"] = old_tolerations;
  }
  const auto& old_grace = At(old_spec, "terminationGracePeriodSeconds");
  const auto& new_grace = At(spec, "terminationGracePeriodSeconds");
  if (old_grace.is_int64() && old_grace.get_int64() < 0 && new_grace.is_int64() &&
      new_grace.get_int64() == 1) {
    (*object)["terminationGracePeriodSeconds"] = old_grace;
  }
}

void ValidatePod(const json::value& old_json, const json::value& new_json,
                 validation::FieldErrors& errors) {
  json::value old_spec = At(old_json, "spec");
  json::value new_spec = At(new_json, "spec");
  MaskPodSpec(new_spec, old_spec);
  MaskPodSpec(old_spec, old_spec);
  if (SemanticEqual(old_spec, new_spec)) return;
  // Upstream follows the list with a diff of the two specs (go-cmp's); this names the fields
  // that differ instead.
  std::string changed;
  if (old_spec.is_object() && new_spec.is_object()) {
    for (const auto& member : new_spec.get_object()) {
      const auto* old_value = old_spec.get_object().if_contains(member.key());
      if (!SemanticEqual(old_value == nullptr ? kNull : *old_value, member.value())) {
        changed += fmt::format("\n  spec.{}", std::string_view(member.key()));
      }
    }
    for (const auto& member : old_spec.get_object()) {
      if (!new_spec.get_object().contains(member.key()) && !IsNilLike(member.value())) {
        changed += fmt::format("\n  spec.{}", std::string_view(member.key()));
      }
    }
  }
  errors.push_back(validation::Forbidden(
      FieldPath("spec"),
      "pod updates may not change fields other than `spec.containers[*].image`,"
      "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
      "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
      "set to 1 if it was previously negative)\n" +
          changed));
}

// Whether both objects are pods with equal specs (typed, so nothing the JSON rule could object to).
bool SamePodSpec(const api::Object& old_object, const api::Object& new_object) {
  using Pod = api::TypedObject<api::core::v1::Pod>;
  const auto* old_pod = dynamic_cast<const Pod*>(&old_object);
  const auto* new_pod = dynamic_cast<const Pod*>(&new_object);
  return old_pod != nullptr && new_pod != nullptr && old_pod->value().spec == new_pod->value().spec;
}

}  // namespace

void ValidateUpdate(const api::KindInfo& kind, const api::Object& old_object,
                    const api::Object& new_object, validation::FieldErrors& errors) {
  const api::KindInfo& stored = api::StorageKind(kind);
  const std::string_view group = stored.group;
  const std::string_view name = stored.kind;
  using Rule = void (*)(const json::value&, const json::value&, validation::FieldErrors&);
  Rule rule = nullptr;
  if (group == "apps" && name == "StatefulSet") rule = &ValidateStatefulSet;
  if (group.empty() && name == "Pod") rule = &ValidatePod;
  if (group.empty() && name == "PersistentVolumeClaim") rule = &ValidateClaim;
  if (group.empty() && name == "Service") rule = &ValidateService;
  if (group == "rbac.authorization.k8s.io" &&
      (name == "RoleBinding" || name == "ClusterRoleBinding"))
    rule = &ValidateRoleRef;
  if (group == "storage.k8s.io" && name == "StorageClass") rule = &ValidateStorageClass;
  if (group == "scheduling.k8s.io" && name == "PriorityClass") rule = &ValidatePriorityClass;
  if (group.empty() && name == "ConfigMap") {
    rule = [](const json::value& a, const json::value& b, validation::FieldErrors& e) {
      ValidateImmutableData(a, b, {"data", "binaryData"}, e);
    };
  }
  if (group.empty() && name == "Secret") {
    rule = [](const json::value& a, const json::value& b, validation::FieldErrors& e) {
      CheckImmutable(a, b, "type", e);
      ValidateImmutableData(a, b, {"data"}, e);
    };
  }
  if (rule == nullptr && kind.immutable_fields.empty()) return;
  if (rule == &ValidatePod && kind.immutable_fields.empty() &&
      SamePodSpec(old_object, new_object)) {
    // Most pod updates (status writes, bindings, labels) leave the spec alone: nothing to compare
    // field by field, and no JSON to build for it.
    return;
  }
  const json::value old_json = json::parse(old_object.ToJson());
  const json::value new_json = json::parse(new_object.ToJson());
  for (std::string_view path : kind.immutable_fields)
    CheckImmutable(old_json, new_json, path, errors);
  if (rule != nullptr) rule(old_json, new_json, errors);
}

}  // namespace kpp::apiserver
