#include "apiserver/admission/node_restriction.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "apiserver/admission/json_access.h"

namespace kpp::apiserver::admission {
namespace {

using boost::json::object;

std::string_view LabelNamespace(std::string_view key) {
  const auto slash = key.find('/');
  return slash == std::string_view::npos ? std::string_view() : key.substr(0, slash);
}

bool InNamespace(std::string_view label_namespace, std::string_view domain) {
  return label_namespace == domain ||
         (label_namespace.size() > domain.size() && label_namespace.ends_with(domain) &&
          label_namespace[label_namespace.size() - domain.size() - 1] == '.');
}

// The labels a kubelet sets on its own Node (upstream's kubelet label set).
bool IsKubeletLabel(std::string_view key) {
  static constexpr std::string_view kLabels[] = {
      "kubernetes.io/hostname",
      "failure-domain.beta.kubernetes.io/zone",
      "failure-domain.beta.kubernetes.io/region",
      "topology.kubernetes.io/zone",
      "topology.kubernetes.io/region",
      "beta.kubernetes.io/instance-type",
      "node.kubernetes.io/instance-type",
      "kubernetes.io/os",
      "kubernetes.io/arch",
      "beta.kubernetes.io/os",
      "beta.kubernetes.io/arch",
  };
  if (std::find(std::begin(kLabels), std::end(kLabels), key) != std::end(kLabels)) return true;
  const auto label_namespace = LabelNamespace(key);
  return InNamespace(label_namespace, "kubelet.kubernetes.io") ||
         InNamespace(label_namespace, "node.kubernetes.io");
}

const object* Labels(const object* node) {
  return json::Object(json::Object(node, "metadata"), "labels");
}

// Keys whose value differs between the two label sets, sorted.
std::set<std::string> ModifiedLabels(const object* a, const object* b) {
  std::set<std::string> modified;
  const auto compare = [&](const object* one, const object* other) {
    if (one == nullptr) return;
    for (const auto& [key, value] : *one) {
      const auto* there = other != nullptr ? other->if_contains(key) : nullptr;
      if (there == nullptr || *there != value) modified.emplace(key);
    }
  };
  compare(a, b);
  compare(b, a);
  return modified;
}

std::string ForbiddenLabels(const std::set<std::string>& modified) {
  std::string forbidden;
  for (const auto& key : modified) {
    if (NodeMayChangeLabel(key)) continue;
    if (!forbidden.empty()) forbidden += ", ";
    forbidden += key;
  }
  return forbidden;
}

// Whether the pod names a secret or configmap anywhere upstream's visitors look.
bool References(const object* spec, std::string_view what) {
  const bool secrets = what == "secrets";
  if (secrets) {
    if (const auto* pull = json::Array(spec, "imagePullSecrets"); pull && !pull->empty()) {
      return true;
    }
  }
  if (const auto* volumes = json::Array(spec, "volumes")) {
    for (const auto& volume : *volumes) {
      if (!volume.is_object()) continue;
      const object* source = &volume.as_object();
      if (secrets) {
        if (json::Has(source, "secret")) return true;
        for (std::string_view kind : {"azureFile", "cephfs", "cinder", "flexVolume", "iscsi", "rbd",
                                      "scaleIO", "storageos", "csi"}) {
          const object* fields = json::Object(source, kind);
          if (json::Has(fields, "secretRef") || json::Has(fields, "secretName") ||
              json::Has(fields, "nodePublishSecretRef")) {
            return true;
          }
        }
      } else if (json::Has(source, "configMap")) {
        return true;
      }
      if (const auto* sources = json::Array(json::Object(source, "projected"), "sources")) {
        for (const auto& projection : *sources) {
          if (projection.is_object() &&
              json::Has(&projection.as_object(), secrets ? "secret" : "configMap")) {
            return true;
          }
        }
      }
    }
  }
  for (std::string_view list : {"initContainers", "containers", "ephemeralContainers"}) {
    const auto* containers = json::Array(spec, list);
    if (containers == nullptr) continue;
    for (const auto& container : *containers) {
      if (!container.is_object()) continue;
      if (const auto* env_from = json::Array(&container.as_object(), "envFrom")) {
        for (const auto& source : *env_from) {
          if (source.is_object() &&
              json::Has(&source.as_object(), secrets ? "secretRef" : "configMapRef")) {
            return true;
          }
        }
      }
      if (const auto* env = json::Array(&container.as_object(), "env")) {
        for (const auto& variable : *env) {
          if (!variable.is_object()) continue;
          if (json::Has(json::Object(&variable.as_object(), "valueFrom"),
                        secrets ? "secretKeyRef" : "configMapKeyRef")) {
            return true;
          }
        }
      }
    }
  }
  return false;
}

std::string_view NodeNameOf(const object* pod) {
  return json::String(json::Object(pod, "spec"), "nodeName");
}

std::optional<Rejection> AdmitPodCreate(const std::string& node, const Attributes& attributes,
                                        Context& context) {
  const object* pod = attributes.object;
  const auto* metadata = json::Object(pod, "metadata");
  const auto* spec = json::Object(pod, "spec");
  if (!json::Has(json::Object(metadata, "annotations"), "kubernetes.io/config.mirror")) {
    return AdmissionForbidden(
        attributes, fmt::format("pod does not have \"kubernetes.io/config.mirror\" annotation, "
                                "node \"{}\" can only create mirror pods",
                                node));
  }
  if (NodeNameOf(pod) != node) {
    return AdmissionForbidden(
        attributes,
        fmt::format("node \"{}\" can only create pods with spec.nodeName set to itself", node));
  }
  const auto* owners = json::Array(metadata, "ownerReferences");
  if (owners != nullptr && owners->size() > 1) {
    return AdmissionForbidden(
        attributes,
        fmt::format("node \"{}\" can only create pods with a single owner reference set to itself",
                    node));
  }
  if (owners == nullptr || owners->empty() || !owners->at(0).is_object()) {
    return AdmissionForbidden(
        attributes,
        fmt::format("node \"{}\" can only create pods with an owner reference set to itself",
                    node));
  }
  const object* owner = &owners->at(0).as_object();
  if (json::String(owner, "apiVersion") != "v1" || json::String(owner, "kind") != "Node" ||
      json::String(owner, "name") != node) {
    return AdmissionForbidden(
        attributes,
        fmt::format("node \"{}\" can only create pods with an owner reference set to itself",
                    node));
  }
  if (!json::Bool(owner, "controller").value_or(false)) {
    return AdmissionForbidden(
        attributes, fmt::format("node \"{}\" can only create pods with a controller owner "
                                "reference set to itself",
                                node));
  }
  if (json::Bool(owner, "blockOwnerDeletion").value_or(false)) {
    return AdmissionForbidden(
        attributes,
        fmt::format("node \"{}\" must not set blockOwnerDeletion on an owner reference", node));
  }
  auto node_object = context.reader.Get("", "nodes", "", node);
  if (!node_object.ok()) {
    return AdmissionForbidden(attributes, fmt::format("error looking up node {} to verify uid: {}",
                                                      node, node_object.error().message()));
  }
  if (!node_object->has_value()) return NotFound("", "nodes", node);
  const auto uid = json::String(json::Object(&**node_object, "metadata"), "uid");
  if (json::String(owner, "uid") != uid) {
    return AdmissionForbidden(attributes, fmt::format("node {} UID mismatch: expected {} got {}",
                                                      node, json::String(owner, "uid"), uid));
  }
  if (!json::String(spec, "serviceAccountName").empty()) {
    return AdmissionForbidden(
        attributes,
        fmt::format("node \"{}\" can not create pods that reference a service account", node));
  }
  if (References(spec, "secrets")) {
    return AdmissionForbidden(
        attributes, fmt::format("node \"{}\" can not create pods that reference secrets", node));
  }
  if (References(spec, "configmaps")) {
    return AdmissionForbidden(
        attributes, fmt::format("node \"{}\" can not create pods that reference configmaps", node));
  }
  if (const auto* volumes = json::Array(spec, "volumes")) {
    for (const auto& volume : *volumes) {
      if (!volume.is_object()) continue;
      if (const auto* sources =
              json::Array(json::Object(&volume.as_object(), "projected"), "sources")) {
        for (const auto& source : *sources) {
          if (source.is_object() && json::Has(&source.as_object(), "clusterTrustBundle")) {
            return AdmissionForbidden(attributes,
                                      fmt::format("node \"{}\" can not create pods that reference "
                                                  "clustertrustbundles",
                                                  node));
          }
        }
      }
    }
    for (const auto& volume : *volumes) {
      if (volume.is_object() && json::Has(&volume.as_object(), "persistentVolumeClaim")) {
        return AdmissionForbidden(
            attributes,
            fmt::format("node \"{}\" can not create pods that reference persistentvolumeclaims",
                        node));
      }
    }
  }
  return std::nullopt;
}

std::optional<Rejection> AdmitPod(const std::string& node, const Attributes& attributes,
                                  Context& context) {
  if (attributes.subresource.empty()) {
    if (attributes.operation == Operation::kCreate) {
      return AdmitPodCreate(node, attributes, context);
    }
    if (attributes.operation == Operation::kDelete) {
      if (NodeNameOf(attributes.old_object) != node) {
        return AdmissionForbidden(
            attributes,
            fmt::format("node \"{}\" can only delete pods with spec.nodeName set to itself", node));
      }
      return std::nullopt;
    }
    return AdmissionForbidden(attributes,
                              fmt::format("unexpected operation \"{}\", node \"{}\" can only "
                                          "create and delete mirror pods",
                                          OperationName(attributes.operation), node));
  }
  if (attributes.subresource == "status") {
    if (attributes.operation != Operation::kUpdate) {
      return AdmissionForbidden(attributes, fmt::format("unexpected operation \"{}\"",
                                                        OperationName(attributes.operation)));
    }
    if (NodeNameOf(attributes.old_object) != node) {
      return AdmissionForbidden(attributes,
                                fmt::format("node \"{}\" can only update pod status for pods "
                                            "with spec.nodeName set to itself",
                                            node));
    }
    const auto* old_labels =
        json::Object(json::Object(attributes.old_object, "metadata"), "labels");
    const auto* new_labels = json::Object(json::Object(attributes.object, "metadata"), "labels");
    if (!ModifiedLabels(old_labels, new_labels).empty()) {
      return AdmissionForbidden(
          attributes, fmt::format("node \"{}\" cannot update labels through pod status", node));
    }
    return std::nullopt;
  }
  if (attributes.subresource == "eviction") {
    if (attributes.operation != Operation::kCreate) {
      return AdmissionForbidden(
          attributes, fmt::format("unexpected operation {}", OperationName(attributes.operation)));
    }
    if (attributes.name.empty()) {
      return AdmissionForbidden(attributes, "could not determine pod from request data");
    }
    auto pod = context.reader.Get("", "pods", attributes.namespace_, attributes.name);
    if (!pod.ok()) return AdmissionForbidden(attributes, pod.error().message());
    if (!pod->has_value()) return NotFound("", "pods", attributes.name);
    if (NodeNameOf(&**pod) != node) {
      return AdmissionForbidden(
          attributes,
          fmt::format("node {} can only evict pods with spec.nodeName set to itself", node));
    }
    return std::nullopt;
  }
  return AdmissionForbidden(attributes,
                            fmt::format("unexpected pod subresource \"{}\", only 'status' and "
                                        "'eviction' are allowed",
                                        attributes.subresource));
}

std::optional<Rejection> AdmitNode(const std::string& node, const Attributes& attributes) {
  if (attributes.name != node) {
    return AdmissionForbidden(
        attributes,
        fmt::format("node \"{}\" is not allowed to modify node \"{}\"", node, attributes.name));
  }
  const auto* spec = json::Object(attributes.object, "spec");
  if (attributes.operation == Operation::kCreate) {
    if (json::Has(spec, "configSource")) {
      return AdmissionForbidden(
          attributes,
          fmt::format("node \"{}\" is not allowed to create pods with a non-nil configSource",
                      node));
    }
    const auto forbidden = ForbiddenLabels(ModifiedLabels(Labels(attributes.object), nullptr));
    if (!forbidden.empty()) {
      return AdmissionForbidden(
          attributes, fmt::format("node \"{}\" is not allowed to set the following labels: {}",
                                  node, forbidden));
    }
  }
  if (attributes.operation == Operation::kUpdate) {
    const auto* old_spec = json::Object(attributes.old_object, "spec");
    const auto field = [](const object* fields, std::string_view key) {
      const auto* value = fields != nullptr ? fields->if_contains(key) : nullptr;
      return value != nullptr && !value->is_null() ? *value : boost::json::value();
    };
    if (json::Has(spec, "configSource") &&
        field(spec, "configSource") != field(old_spec, "configSource")) {
      return AdmissionForbidden(attributes,
                                fmt::format("node \"{}\" is not allowed to update configSource to "
                                            "a new non-nil configSource",
                                            node));
    }
    const auto taints = [&](const object* fields) {
      const auto value = field(fields, "taints");
      return value.is_array() && value.as_array().empty() ? boost::json::value() : value;
    };
    if (taints(spec) != taints(old_spec)) {
      return AdmissionForbidden(attributes,
                                fmt::format("node \"{}\" is not allowed to modify taints", node));
    }
    const auto forbidden =
        ForbiddenLabels(ModifiedLabels(Labels(attributes.object), Labels(attributes.old_object)));
    if (!forbidden.empty()) {
      return AdmissionForbidden(attributes,
                                fmt::format("is not allowed to modify labels: {}", forbidden));
    }
  }
  return std::nullopt;
}

std::optional<Rejection> AdmitPvcStatus(const std::string& node, const Attributes& attributes) {
  if (attributes.subresource != "status") {
    return AdmissionForbidden(attributes, "may only update PVC status");
  }
  if (attributes.operation != Operation::kUpdate) {
    return AdmissionForbidden(attributes, fmt::format("unexpected operation \"{}\"",
                                                      OperationName(attributes.operation)));
  }
  const auto comparable = [](const object* pvc) {
    object copy = pvc != nullptr ? *pvc : object();
    if (auto* metadata = copy.if_contains("metadata"); metadata && metadata->is_object()) {
      metadata->as_object().erase("resourceVersion");
      metadata->as_object().erase("managedFields");
    }
    if (auto* status = copy.if_contains("status"); status && status->is_object()) {
      status->as_object().erase("capacity");
      status->as_object().erase("conditions");
    }
    return copy;
  };
  if (comparable(attributes.object) != comparable(attributes.old_object)) {
    return AdmissionForbidden(attributes,
                              fmt::format("node \"{}\" is not allowed to update fields other than "
                                          "status.capacity and status.conditions",
                                          node));
  }
  return std::nullopt;
}

std::optional<Rejection> AdmitToken(const std::string& node, const Attributes& attributes,
                                    Context& context) {
  if (attributes.operation != Operation::kCreate || attributes.subresource != "token" ||
      attributes.object == nullptr) {
    return std::nullopt;
  }
  const auto* ref = json::Object(json::Object(attributes.object, "spec"), "boundObjectRef");
  if (ref == nullptr || json::String(ref, "apiVersion") != "v1" ||
      json::String(ref, "kind") != "Pod" || json::String(ref, "name").empty()) {
    return AdmissionForbidden(attributes, "node requested token not bound to a pod");
  }
  if (json::String(ref, "uid").empty()) {
    return AdmissionForbidden(attributes, "node requested token with a pod binding without a uid");
  }
  auto pod = context.reader.Get("", "pods", attributes.namespace_, json::String(ref, "name"));
  if (!pod.ok()) return AdmissionForbidden(attributes, pod.error().message());
  if (!pod->has_value()) return NotFound("", "pods", json::String(ref, "name"));
  if (json::String(json::Object(&**pod, "metadata"), "uid") != json::String(ref, "uid")) {
    return AdmissionForbidden(
        attributes, fmt::format("the UID in the bound object reference ({}) does not match the UID "
                                "in record. The object might have been deleted and then recreated",
                                json::String(ref, "uid")));
  }
  if (NodeNameOf(&**pod) != node) {
    return AdmissionForbidden(attributes,
                              "node requested token bound to a pod scheduled on a different node");
  }
  return std::nullopt;
}

// Leases and CSINodes: only the one named after the node.
std::optional<Rejection> AdmitNamedAfterNode(const std::string& node, const Attributes& attributes,
                                             std::string_view what) {
  const std::string_view name =
      attributes.operation == Operation::kCreate
          ? json::String(json::Object(attributes.object, "metadata"), "name")
          : std::string_view(attributes.name);
  if (name != node) {
    return AdmissionForbidden(attributes, fmt::format("can only access {} with the same name as "
                                                      "the requesting node",
                                                      what));
  }
  return std::nullopt;
}

}  // namespace

bool NodeMayChangeLabel(std::string_view key) {
  const auto label_namespace = LabelNamespace(key);
  if (InNamespace(label_namespace, "node-restriction.kubernetes.io")) return false;
  const bool kubernetes_label =
      InNamespace(label_namespace, "kubernetes.io") || InNamespace(label_namespace, "k8s.io");
  return !kubernetes_label || IsKubeletLabel(key);
}

std::optional<Rejection> NodeRestriction::Admit(Attributes& attributes, Context& context) const {
  const std::string& user = attributes.user.name;
  if (!user.starts_with("system:node:")) return std::nullopt;
  const auto& groups = attributes.user.groups;
  if (std::find(groups.begin(), groups.end(), "system:nodes") == groups.end()) return std::nullopt;
  const std::string node = user.substr(std::string_view("system:node:").size());
  if (node.empty()) {
    return AdmissionForbidden(attributes,
                              fmt::format("could not determine node from user \"{}\"", user));
  }
  if (attributes.Is("", "pods")) return AdmitPod(node, attributes, context);
  if (attributes.Is("", "nodes")) return AdmitNode(node, attributes);
  if (attributes.Is("", "persistentvolumeclaims")) return AdmitPvcStatus(node, attributes);
  if (attributes.Is("", "serviceaccounts")) return AdmitToken(node, attributes, context);
  if (attributes.Is("coordination.k8s.io", "leases")) {
    if (attributes.namespace_ != "kube-node-lease") {
      return AdmissionForbidden(
          attributes, "can only access leases in the \"kube-node-lease\" system namespace");
    }
    return AdmitNamedAfterNode(node, attributes, "node lease");
  }
  if (attributes.Is("storage.k8s.io", "csinodes")) {
    return AdmitNamedAfterNode(node, attributes, "CSINode");
  }
  return std::nullopt;
}

}  // namespace kpp::apiserver::admission
