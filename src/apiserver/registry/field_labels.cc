#include "apiserver/registry/field_labels.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <charconv>

namespace kpp::apiserver {
namespace {

using enum FieldFormat;

constexpr FieldLabel kObjectMeta[] = {
    {"metadata.name", "metadata.name"},
    {"metadata.namespace", "metadata.namespace"},
};

constexpr FieldLabel kPod[] = {
    {"metadata.name", "metadata.name"},
    {"metadata.namespace", "metadata.namespace"},
    {"spec.nodeName", "spec.nodeName"},
    // What clients of the first v1 releases call spec.nodeName.
    {"spec.host", "spec.nodeName"},
    {"spec.restartPolicy", "spec.restartPolicy"},
    {"spec.schedulerName", "spec.schedulerName"},
    {"spec.serviceAccountName", "spec.serviceAccountName"},
    {"spec.hostNetwork", "spec.hostNetwork", kBool},
    {"status.phase", "status.phase"},
    // The primary IP; a status written by an old kubelet may carry only status.podIP.
    {"status.podIP", "status.podIPs.0.ip", kString, "status.podIP"},
    {"status.podIPs", ""},
    {"status.nominatedNodeName", "status.nominatedNodeName"},
};

// Cluster-scoped kinds with labels of their own do not accept metadata.namespace.
constexpr FieldLabel kNode[] = {
    {"metadata.name", "metadata.name"},
    {"spec.unschedulable", "spec.unschedulable", kBool},
};

constexpr FieldLabel kNamespace[] = {
    {"metadata.name", "metadata.name"},
    {"status.phase", "status.phase"},
};

constexpr FieldLabel kSecret[] = {
    {"metadata.name", "metadata.name"},
    {"metadata.namespace", "metadata.namespace"},
    {"type", "type"},
};

constexpr FieldLabel kReplicas[] = {
    {"metadata.name", "metadata.name"},
    {"metadata.namespace", "metadata.namespace"},
    {"status.replicas", "status.replicas", kInteger},
};

constexpr FieldLabel kJob[] = {
    {"metadata.name", "metadata.name"},
    {"metadata.namespace", "metadata.namespace"},
    {"status.successful", "status.succeeded", kInteger},
};

constexpr FieldLabel kCertificateSigningRequest[] = {
    {"metadata.name", "metadata.name"},
    {"spec.signerName", "spec.signerName"},
};

constexpr FieldLabel kCoreEvent[] = {
    {"metadata.name", "metadata.name"},
    {"metadata.namespace", "metadata.namespace"},
    {"involvedObject.kind", "involvedObject.kind"},
    {"involvedObject.namespace", "involvedObject.namespace"},
    {"involvedObject.name", "involvedObject.name"},
    {"involvedObject.uid", "involvedObject.uid"},
    {"involvedObject.apiVersion", "involvedObject.apiVersion"},
    {"involvedObject.resourceVersion", "involvedObject.resourceVersion"},
    {"involvedObject.fieldPath", "involvedObject.fieldPath"},
    {"reason", "reason"},
    {"reportingComponent", "reportingComponent"},
    // Events written through events.k8s.io have no source; their reporting controller stands in.
    {"source", "source.component", kString, "reportingComponent"},
    {"type", "type"},
};

// The same events seen through events.k8s.io/v1, under that version's field names.
constexpr FieldLabel kEventsEvent[] = {
    {"metadata.name", "metadata.name"},
    {"metadata.namespace", "metadata.namespace"},
    {"regarding.kind", "regarding.kind", kString, {}, "involvedObject.kind"},
    {"regarding.namespace", "regarding.namespace", kString, {}, "involvedObject.namespace"},
    {"regarding.name", "regarding.name", kString, {}, "involvedObject.name"},
    {"regarding.uid", "regarding.uid", kString, {}, "involvedObject.uid"},
    {"regarding.apiVersion", "regarding.apiVersion", kString, {}, "involvedObject.apiVersion"},
    {"regarding.resourceVersion",
     "regarding.resourceVersion",
     kString,
     {},
     "involvedObject.resourceVersion"},
    {"regarding.fieldPath", "regarding.fieldPath", kString, {}, "involvedObject.fieldPath"},
    {"reason", "reason"},
    {"reportingController", "reportingController", kString, {}, "reportingComponent"},
    {"source", "deprecatedSource.component", kString, "reportingController"},
    {"type", "type"},
};

struct KindLabels {
  std::string_view group;
  std::string_view kind;
  std::span<const FieldLabel> labels;
};

constexpr KindLabels kKindLabels[] = {
    {"", "Pod", kPod},
    {"", "Node", kNode},
    {"", "Namespace", kNamespace},
    {"", "Secret", kSecret},
    {"", "ReplicationController", kReplicas},
    {"", "Event", kCoreEvent},
    {"apps", "ReplicaSet", kReplicas},
    {"extensions", "ReplicaSet", kReplicas},
    {"batch", "Job", kJob},
    {"certificates.k8s.io", "CertificateSigningRequest", kCertificateSigningRequest},
    {"events.k8s.io", "Event", kEventsEvent},
};

const FieldLabel* Find(std::span<const FieldLabel> labels, std::string_view label) {
  for (const auto& candidate : labels) {
    if (candidate.label == label) return &candidate;
  }
  return nullptr;
}

// The value at a dotted path, or null when some step is missing.
const boost::json::value* At(const boost::json::value& root, std::string_view path) {
  const boost::json::value* current = &root;
  while (!path.empty()) {
    const size_t dot = path.find('.');
    const std::string_view step = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (const auto* object = current->if_object()) {
      current = object->if_contains(step);
    } else if (const auto* array = current->if_array()) {
      size_t index = 0;
      const auto [end, error] = std::from_chars(step.data(), step.data() + step.size(), index);
      if (error != std::errc() || end != step.data() + step.size() || index >= array->size()) {
        return nullptr;
      }
      current = &(*array)[index];
    } else {
      return nullptr;
    }
    if (current == nullptr) return nullptr;
  }
  return current;
}

std::string Format(const boost::json::value* value, FieldFormat format) {
  switch (format) {
    case kString:
      if (value != nullptr && value->is_string()) return std::string(value->get_string());
      return "";
    case kBool: return value != nullptr && value->is_bool() && value->get_bool() ? "true" : "false";
    case kInteger:
      if (value != nullptr && value->is_int64()) return std::to_string(value->get_int64());
      if (value != nullptr && value->is_uint64()) return std::to_string(value->get_uint64());
      return "0";
  }
  return "";
}

}  // namespace

std::string_view StoredFieldLabel(std::span<const FieldLabel> requested, std::string_view label) {
  const FieldLabel* row = Find(requested, label);
  return row != nullptr && !row->stored_label.empty() ? row->stored_label : label;
}

std::span<const FieldLabel> FieldLabelsOf(std::string_view group, std::string_view kind) {
  for (const auto& entry : kKindLabels) {
    if (entry.group == group && entry.kind == kind) return entry.labels;
  }
  return kObjectMeta;
}

Status CheckFieldLabels(std::span<const FieldLabel> labels, const fields::Selector& selector) {
  for (const auto& requirement : selector.requirements()) {
    if (Find(labels, requirement.field) == nullptr) {
      return BadRequestError("field label not supported: " + requirement.field);
    }
  }
  return Ok();
}

std::string FieldValue(const FieldLabel& label, const boost::json::value& object) {
  if (label.path.empty()) return "";
  const boost::json::value* value = At(object, label.path);
  const bool empty =
      value == nullptr || value->is_null() || (value->is_string() && value->get_string().empty());
  if (empty && !label.fallback.empty()) value = At(object, label.fallback);
  return Format(value, label.format);
}

fields::Set SelectableFields(std::span<const FieldLabel> labels,
                             const std::vector<std::string>& wanted, const api::Object& object) {
  fields::Set values;
  boost::json::value json;
  bool parsed = false;
  for (const auto& name : wanted) {
    const FieldLabel* label = Find(labels, name);
    if (label == nullptr) continue;
    if (label->path == "metadata.name") {
      values[name] = object.metadata().name;
    } else if (label->path == "metadata.namespace") {
      values[name] = object.metadata().namespace_;
    } else {
      if (!parsed) {
        json = boost::json::parse(object.ToJson());
        parsed = true;
      }
      values[name] = FieldValue(*label, json);
    }
  }
  return values;
}

}  // namespace kpp::apiserver
