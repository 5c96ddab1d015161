#include "apiserver/authz/node_authorizer.h"

#include <fmt/format.h>

#include <boost/json.hpp>

namespace kpp::apiserver::authz {
namespace {

constexpr std::string_view kNodeUserPrefix = "system:node:";
constexpr std::string_view kNodesGroup = "system:nodes";
constexpr std::string_view kNodeLeaseNamespace = "kube-node-lease";

const boost::json::object* Object(const boost::json::object& parent, std::string_view field) {
  const auto* value = parent.if_contains(field);
  return value != nullptr && value->is_object() ? &value->get_object() : nullptr;
}

const boost::json::array* Array(const boost::json::object& parent, std::string_view field) {
  const auto* value = parent.if_contains(field);
  return value != nullptr && value->is_array() ? &value->get_array() : nullptr;
}

std::string String(const boost::json::object* parent, std::string_view field) {
  if (parent == nullptr) return {};
  const auto* value = parent->if_contains(field);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

bool IsReadVerb(std::string_view verb) {
  return verb == "get" || verb == "list" || verb == "watch";
}

}  // namespace

std::string NodeNameOf(const UserInfo& user) {
  if (!user.name.starts_with(kNodeUserPrefix)) return {};
  for (const auto& group : user.groups) {
    if (group == kNodesGroup) return user.name.substr(kNodeUserPrefix.size());
  }
  return {};
}

void AddPodReferences(const boost::json::object& pod, NodeReferences& references) {
  const auto* metadata = Object(pod, "metadata");
  const std::string namespace_ = String(metadata, "namespace");
  const std::string pod_name = String(metadata, "name");
  const auto* spec = Object(pod, "spec");
  if (spec == nullptr) return;
  auto add = [&](std::string_view kind, const std::string& name) {
    if (!name.empty()) references.insert(fmt::format("{}/{}/{}", kind, namespace_, name));
  };
  add("pod", pod_name);
  std::string service_account = String(spec, "serviceAccountName");
  add("serviceaccount", service_account.empty() ? "default" : service_account);
  if (const auto* secrets = Array(*spec, "imagePullSecrets")) {
    for (const auto& secret : *secrets) {
      if (secret.is_object()) add("secret", String(&secret.get_object(), "name"));
    }
  }
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    const auto* containers = Array(*spec, list);
    if (containers == nullptr) continue;
    for (const auto& container : *containers) {
      if (!container.is_object()) continue;
      if (const auto* env_from = Array(container.get_object(), "envFrom")) {
        for (const auto& source : *env_from) {
          if (!source.is_object()) continue;
          add("secret", String(Object(source.get_object(), "secretRef"), "name"));
          add("configmap", String(Object(source.get_object(), "configMapRef"), "name"));
        }
      }
      if (const auto* env = Array(container.get_object(), "env")) {
        for (const auto& variable : *env) {
          if (!variable.is_object()) continue;
          const auto* from = Object(variable.get_object(), "valueFrom");
          if (from == nullptr) continue;
          add("secret", String(Object(*from, "secretKeyRef"), "name"));
          add("configmap", String(Object(*from, "configMapKeyRef"), "name"));
        }
      }
    }
  }
  if (const auto* volumes = Array(*spec, "volumes")) {
    for (const auto& item : *volumes) {
      if (!item.is_object()) continue;
      const auto& volume = item.get_object();
      add("secret", String(Object(volume, "secret"), "secretName"));
      add("configmap", String(Object(volume, "configMap"), "name"));
      add("pvc", String(Object(volume, "persistentVolumeClaim"), "claimName"));
      if (Object(volume, "ephemeral") != nullptr) {
        add("pvc", pod_name + "-" + String(&volume, "name"));
      }
      for (const char* plugin : {"azureFile", "cephfs", "cinder", "flexVolume", "rbd", "scaleIO",
                                 "storageos", "iscsi"}) {
        if (const auto* source = Object(volume, plugin)) {
          add("secret", String(Object(*source, "secretRef"), "name"));
        }
      }
      if (const auto* projected = Object(volume, "projected")) {
        if (const auto* sources = Array(*projected, "sources")) {
          for (const auto& source : *sources) {
            if (!source.is_object()) continue;
            add("secret", String(Object(source.get_object(), "secret"), "name"));
            add("configmap", String(Object(source.get_object(), "configMap"), "name"));
          }
        }
      }
    }
  }
}

NodeAuthorizer::NodeAuthorizer(LoopbackCall call, std::vector<PolicyRule> node_rules)
    : call_(std::move(call)), node_rules_(std::move(node_rules)) {}

NodeReferences NodeAuthorizer::Load(const std::string& node) const {
  NodeReferences references;
  http::Request request = http::Request::LocalJson("GET", "/api/v1/pods", "",
                                                   {{"fieldSelector", "spec.nodeName=" + node}});
  request.headers.push_back({"User-Agent", "kpp-node-authorizer"});
  const http::Response response = call_(request);
  if (response.status != 200) return references;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(response.body, ec);
  if (ec || !parsed.is_object()) return references;
  if (const auto* items = Array(parsed.as_object(), "items")) {
    for (const auto& pod : *items) {
      if (pod.is_object()) AddPodReferences(pod.get_object(), references);
    }
  }
  // The volumes bound to the claims those pods use.
  std::vector<std::string> claims;
  for (const auto& key : references) {
    if (key.starts_with("pvc/")) claims.push_back(key.substr(4));
  }
  for (const auto& claim : claims) {
    const auto slash = claim.find('/');
    http::Request get = http::Request::LocalJson(
        "GET", fmt::format("/api/v1/namespaces/{}/persistentvolumeclaims/{}",
                           claim.substr(0, slash), claim.substr(slash + 1)));
    const http::Response found = call_(get);
    if (found.status != 200) continue;
    auto pvc = boost::json::parse(found.body, ec);
    if (ec || !pvc.is_object()) continue;
    const std::string volume = String(Object(pvc.as_object(), "spec"), "volumeName");
    if (!volume.empty()) references.insert("pv//" + volume);
  }
  return references;
}

bool NodeAuthorizer::References(const std::string& node, const std::string& key) const {
  {
    std::lock_guard lock(mutex_);
    const auto found = references_.find(node);
    if (found != references_.end() && found->second.contains(key)) return true;
  }
  NodeReferences fresh = Load(node);
  const bool referenced = fresh.contains(key);
  std::lock_guard lock(mutex_);
  references_[node] = std::move(fresh);
  return referenced;
}

Verdict NodeAuthorizer::ReadObject(const std::string& node, const Attributes& attributes,
                                   std::string_view kind) const {
  if (!IsReadVerb(attributes.verb))
    return {Decision::kNoOpinion, "can only read resources of this type"};
  if (!attributes.subresource.empty()) {
    return {Decision::kNoOpinion, "cannot read subresource"};
  }
  if (attributes.namespace_.empty() && kind != "pv") {
    return {Decision::kNoOpinion, "can only read namespaced object of this type"};
  }
  if (attributes.name.empty()) {
    return {Decision::kNoOpinion, "No Object name found"};
  }
  if (!References(node, fmt::format("{}/{}/{}", kind, attributes.namespace_, attributes.name))) {
    return {Decision::kNoOpinion,
            fmt::format("no relationship found between node '{}' and this object", node)};
  }
  return {Decision::kAllow, ""};
}

Verdict NodeAuthorizer::Authorize(const Attributes& attributes) const {
  const std::string node = NodeNameOf(attributes.user);
  if (node.empty()) return {};
  if (attributes.resource_request) {
    const std::string& group = attributes.api_group;
    const std::string& resource = attributes.resource;
    if (group.empty() && resource == "secrets") return ReadObject(node, attributes, "secret");
    if (group.empty() && resource == "configmaps") {
      return ReadObject(node, attributes, "configmap");
    }
    if (group.empty() && resource == "persistentvolumeclaims") {
      if (attributes.subresource == "status") {
        if (attributes.verb != "update" && attributes.verb != "patch") {
          return {Decision::kNoOpinion, "can only get/update/patch this type"};
        }
        if (!References(node, fmt::format("pvc/{}/{}", attributes.namespace_, attributes.name))) {
          return {Decision::kNoOpinion,
                  fmt::format("no relationship found between node '{}' and this object", node)};
        }
        return {Decision::kAllow, ""};
      }
      if (attributes.verb != "get")
        return {Decision::kNoOpinion, "can only get individual resources of this type"};
      return ReadObject(node, attributes, "pvc");
    }
    if (group.empty() && resource == "persistentvolumes") {
      if (attributes.verb != "get")
        return {Decision::kNoOpinion, "can only get individual resources of this type"};
      return ReadObject(node, attributes, "pv");
    }
    if (group.empty() && resource == "serviceaccounts" && attributes.subresource == "token") {
      if (attributes.verb != "create") {
        return {Decision::kNoOpinion, "can only create tokens for individual service accounts"};
      }
      if (!References(
              node, fmt::format("serviceaccount/{}/{}", attributes.namespace_, attributes.name))) {
        return {Decision::kNoOpinion,
                fmt::format("no relationship found between node '{}' and this object", node)};
      }
      return {Decision::kAllow, ""};
    }
    if (group == "coordination.k8s.io" && resource == "leases") {
      static const std::set<std::string, std::less<>> kLeaseVerbs = {"get", "create", "update",
                                                                     "patch", "delete"};
      if (!kLeaseVerbs.contains(attributes.verb)) {
        return {Decision::kNoOpinion,
                "can only get, create, update, patch, or delete a node lease"};
      }
      if (attributes.namespace_ != kNodeLeaseNamespace) {
        return {
            Decision::kNoOpinion,
            fmt::format("can only access leases in the {} system namespace", kNodeLeaseNamespace)};
      }
      if (attributes.verb != "create" && attributes.name != node) {
        return {Decision::kNoOpinion,
                "can only access node lease with the same name as the requesting node"};
      }
      return {Decision::kAllow, ""};
    }
    // kpp's metrics.k8s.io (apiserver/metrics): a node reports its own pods' usage only.
    if (group == "metrics.k8s.io" && resource == "nodes" && attributes.subresource == "report") {
      if (attributes.verb == "create" && attributes.name == node) return {Decision::kAllow, ""};
      return {Decision::kNoOpinion, "can only report the usage of its own node"};
    }
    // Writes of other Nodes, and of the statuses of pods bound elsewhere, pass here, as
    // upstream's: NodeRestriction admission refuses them with its own message.
  }
  for (const auto& rule : node_rules_) {
    if (RuleAllows(attributes, rule)) return {Decision::kAllow, ""};
  }
  return {};
}

}  // namespace kpp::apiserver::authz
