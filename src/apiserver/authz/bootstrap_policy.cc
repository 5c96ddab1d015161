#include "apiserver/authz/bootstrap_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "base/log.h"

namespace kpp::apiserver::authz {
namespace {

using Strings = std::vector<std::string>;

const Strings kRead = {"get", "list", "watch"};
const Strings kWrite = {"create", "delete", "deletecollection", "patch", "update"};
const Strings kReadWrite = {"get",    "list",  "watch",  "create",
                            "update", "patch", "delete", "deletecollection"};
const Strings kEventWrite = {"create", "update", "patch"};

PolicyRule Rule(Strings verbs, Strings groups, Strings resources, Strings names = {}) {
  return {std::move(verbs), std::move(groups), std::move(resources), std::move(names), {}};
}
PolicyRule UrlRule(Strings verbs, Strings urls) {
  return {std::move(verbs), {}, {}, {}, std::move(urls)};
}
PolicyRule Events() {
  return Rule(kEventWrite, {"", "events.k8s.io"}, {"events"});
}

const std::map<std::string, std::string> kBootstrapLabels = {
    {"kubernetes.io/bootstrapping", "rbac-defaults"}};

Role ClusterRole(std::string name, std::vector<PolicyRule> rules,
                 std::map<std::string, std::string> extra_labels = {}) {
  Role role;
  role.name = std::move(name);
  role.labels = kBootstrapLabels;
  role.labels.insert(extra_labels.begin(), extra_labels.end());
  role.annotations = {{kAutoupdateAnnotation, "true"}};
  role.rules = std::move(rules);
  return role;
}

Role Aggregated(std::string name, std::string aggregate_label,
                std::map<std::string, std::string> extra_labels = {}) {
  Role role = ClusterRole(std::move(name), {}, std::move(extra_labels));
  boost::json::object selector;
  boost::json::object match_labels;
  match_labels[aggregate_label] = "true";
  selector["matchLabels"] = std::move(match_labels);
  role.aggregation_selectors = std::vector<boost::json::value>{std::move(selector)};
  return role;
}

Role NamespacedRole(std::string namespace_, std::string name, std::vector<PolicyRule> rules) {
  Role role = ClusterRole(std::move(name), std::move(rules));
  role.namespace_ = std::move(namespace_);
  return role;
}

Subject User(std::string name) {
  return {"User", kRbacGroup, std::move(name), ""};
}
Subject Group(std::string name) {
  return {"Group", kRbacGroup, std::move(name), ""};
}
Subject ServiceAccount(std::string namespace_, std::string name) {
  return {"ServiceAccount", "", std::move(name), std::move(namespace_)};
}

Binding ClusterBinding(std::string name, std::string role, std::vector<Subject> subjects) {
  Binding binding;
  binding.name = std::move(name);
  binding.annotations = {{kAutoupdateAnnotation, "true"}};
  binding.subjects = std::move(subjects);
  binding.role_ref = {kRbacGroup, "ClusterRole", std::move(role)};
  return binding;
}

Binding NamespacedBinding(std::string namespace_, std::string name, std::string role,
                          std::vector<Subject> subjects) {
  Binding binding = ClusterBinding(std::move(name), std::move(role), std::move(subjects));
  binding.namespace_ = std::move(namespace_);
  binding.role_ref.kind = "Role";
  return binding;
}

// The controller roles the controller manager's controllers run with (each as the service
// account kube-system/<name>), as upstream's bootstrap policy grants them.
// Rights as of 1.32's latest patch release, which grants watch wherever a controller lists (its
// clients list through watches).
void AddControllerRoles(BootstrapPolicy& policy) {
  auto add = [&policy](const std::string& controller, std::vector<PolicyRule> rules,
                       bool records_events = true) {
    if (records_events) rules.push_back(Events());
    const std::string role = "system:controller:" + controller;
    policy.cluster_roles.push_back(ClusterRole(role, std::move(rules)));
    policy.cluster_role_bindings.push_back(
        ClusterBinding(role, role, {ServiceAccount("kube-system", controller)}));
  };
  add("attachdetach-controller",
      {Rule({"list", "watch"}, {""}, {"persistentvolumes", "persistentvolumeclaims"}),
       Rule({"get", "list", "watch"}, {""}, {"nodes"}),
       Rule({"patch", "update"}, {""}, {"nodes/status"}), Rule({"list", "watch"}, {""}, {"pods"}),
       Rule({"get", "create", "delete", "list", "watch"}, {"storage.k8s.io"},
            {"volumeattachments"}),
       Rule({"get", "list", "watch"}, {"storage.k8s.io"}, {"csidrivers", "csinodes"})});
  add("clusterrole-aggregation-controller",
      {Rule({"escalate", "get", "list", "watch", "update", "patch"}, {kRbacGroup},
            {"clusterroles"})});
  add("cronjob-controller",
      {Rule({"get", "list", "watch", "update"}, {"batch"}, {"cronjobs"}),
       Rule({"get", "list", "watch", "create", "update", "delete", "patch"}, {"batch"}, {"jobs"}),
       Rule({"update"}, {"batch"}, {"cronjobs/status"}),
       Rule({"update"}, {"batch"}, {"cronjobs/finalizers"}),
       Rule({"list", "watch", "delete"}, {""}, {"pods"})});
  add("daemon-set-controller",
      {Rule(kRead, {"apps", "extensions"}, {"daemonsets"}),
       Rule({"update"}, {"apps", "extensions"}, {"daemonsets/status"}),
       Rule({"update"}, {"apps", "extensions"}, {"daemonsets/finalizers"}),
       Rule({"list", "watch"}, {""}, {"nodes"}),
       Rule({"list", "watch", "create", "delete", "patch"}, {""}, {"pods"}),
       Rule({"create"}, {""}, {"pods/binding"}),
       Rule({"get", "list", "watch", "create", "delete", "update", "patch"}, {"apps"},
            {"controllerrevisions"})});
  add("deployment-controller",
      {Rule({"get", "list", "watch", "update"}, {"apps", "extensions"}, {"deployments"}),
       Rule({"update"}, {"apps", "extensions"}, {"deployments/status"}),
       Rule({"update"}, {"apps", "extensions"}, {"deployments/finalizers"}),
       Rule({"get", "list", "watch", "create", "update", "patch", "delete"}, {"apps", "extensions"},
            {"replicasets"}),
       Rule({"get", "list", "watch", "update"}, {""}, {"pods"})});
  add("endpoint-controller",
      {Rule(kRead, {""}, {"services", "pods"}),
       Rule({"get", "list", "watch", "create", "update", "delete"}, {""}, {"endpoints"}),
       Rule({"create"}, {""}, {"endpoints/restricted"})});
  add("endpointslice-controller", {Rule(kRead, {""}, {"services", "pods", "nodes"}),
                                   Rule({"update"}, {""}, {"services/finalizers"}),
                                   Rule({"get", "list", "watch", "create", "update", "delete"},
                                        {"discovery.k8s.io"}, {"endpointslices"})});
  add("endpointslicemirroring-controller",
      {Rule(kRead, {""}, {"services", "endpoints"}),
       Rule({"update"}, {""}, {"services/finalizers", "endpoints/finalizers"}),
       Rule({"get", "list", "watch", "create", "update", "delete"}, {"discovery.k8s.io"},
            {"endpointslices"})});
  add("expand-controller",
      {Rule({"get", "list", "watch", "update", "patch"}, {""}, {"persistentvolumes"}),
       Rule({"update", "patch"}, {""}, {"persistentvolumeclaims/status"}),
       Rule(kRead, {""}, {"persistentvolumeclaims"}), Rule({"get"}, {""}, {"services"})});
  add("ephemeral-volume-controller",
      {Rule(kRead, {""}, {"pods"}), Rule({"update"}, {""}, {"pods/finalizers"}),
       Rule({"get", "list", "watch", "create"}, {""}, {"persistentvolumeclaims"})});
  add("generic-garbage-collector",
      {Rule({"get", "list", "watch", "patch", "update", "delete"}, {"*"}, {"*"})});
  add("horizontal-pod-autoscaler",
      {Rule({"get", "list", "watch"}, {"autoscaling"}, {"horizontalpodautoscalers"}),
       Rule({"update"}, {"autoscaling"}, {"horizontalpodautoscalers/status"}),
       Rule({"get", "update"}, {"*"}, {"*/scale"}), Rule({"list", "watch"}, {""}, {"pods"}),
       Rule({"list", "watch"}, {"metrics.k8s.io"}, {"pods"}),
       Rule(kRead, {"custom.metrics.k8s.io"}, {"*"}),
       Rule(kRead, {"external.metrics.k8s.io"}, {"*"})});
  add("job-controller", {Rule({"get", "list", "watch", "update", "patch"}, {"batch"}, {"jobs"}),
                         Rule({"update"}, {"batch"}, {"jobs/status"}),
                         Rule({"update"}, {"batch"}, {"jobs/finalizers"}),
                         Rule({"list", "watch", "create", "delete", "patch"}, {""}, {"pods"})});
  add("namespace-controller",
      {Rule({"get", "list", "watch", "delete"}, {""}, {"namespaces"}),
       Rule({"update"}, {""}, {"namespaces/finalize", "namespaces/status"}),
       Rule({"get", "list", "watch", "delete", "deletecollection"}, {"*"}, {"*"})},
      /*records_events=*/false);
  add("node-controller",
      {Rule({"get", "list", "watch", "update", "delete", "patch"}, {""}, {"nodes"}),
       Rule({"patch", "update"}, {""}, {"nodes/status"}),
       Rule({"patch", "update"}, {""}, {"pods/status"}),
       Rule({"list", "watch", "delete"}, {""}, {"pods"})});
  add("persistent-volume-binder",
      {Rule({"get", "list", "watch", "update", "create", "delete"}, {""}, {"persistentvolumes"}),
       Rule({"update"}, {""}, {"persistentvolumes/status"}),
       Rule({"get", "list", "watch", "update"}, {""}, {"persistentvolumeclaims"}),
       Rule({"update"}, {""}, {"persistentvolumeclaims/status"}),
       Rule({"list", "watch", "get", "create", "delete"}, {""}, {"pods"}),
       Rule({"get", "list", "watch"}, {"storage.k8s.io"}, {"storageclasses"}),
       Rule({"get", "create", "delete"}, {""}, {"services", "endpoints"})});
  add("pod-garbage-collector",
      {Rule({"list", "watch", "delete"}, {""}, {"pods"}), Rule(kRead, {""}, {"nodes"}),
       Rule({"patch"}, {""}, {"pods/status"})},
      /*records_events=*/false);
  add("replicaset-controller",
      {Rule({"get", "list", "watch", "update"}, {"apps", "extensions"}, {"replicasets"}),
       Rule({"update"}, {"apps", "extensions"}, {"replicasets/status"}),
       Rule({"update"}, {"apps", "extensions"}, {"replicasets/finalizers"}),
       Rule({"list", "watch", "patch", "create", "delete"}, {""}, {"pods"})});
  add("replication-controller",
      {Rule({"get", "list", "watch", "update"}, {""}, {"replicationcontrollers"}),
       Rule({"update"}, {""}, {"replicationcontrollers/status"}),
       Rule({"update"}, {""}, {"replicationcontrollers/finalizers"}),
       Rule({"list", "watch", "patch", "create", "delete"}, {""}, {"pods"})});
  add("resourcequota-controller",
      {Rule({"list", "watch"}, {"*"}, {"*"}), Rule({"update"}, {""}, {"resourcequotas/status"})});
  add("root-ca-cert-publisher", {Rule({"create", "update"}, {""}, {"configmaps"})});
  add("route-controller",
      {Rule({"list", "watch"}, {""}, {"nodes"}), Rule({"patch"}, {""}, {"nodes/status"})});
  add("service-account-controller", {Rule({"create"}, {""}, {"serviceaccounts"})});
  add("service-controller",
      {Rule(kRead, {""}, {"services"}), Rule({"patch", "update"}, {""}, {"services/status"}),
       Rule({"list", "watch"}, {""}, {"nodes"})});
  add("statefulset-controller",
      {Rule({"list", "watch"}, {""}, {"pods"}), Rule(kRead, {"apps"}, {"statefulsets"}),
       Rule({"update"}, {"apps"}, {"statefulsets/status"}),
       Rule({"update"}, {"apps"}, {"statefulsets/finalizers"}),
       Rule({"get", "create", "delete", "update", "patch"}, {""}, {"pods"}),
       Rule({"get", "create", "delete", "update", "patch", "list", "watch"}, {"apps"},
            {"controllerrevisions"}),
       Rule({"get", "create"}, {""}, {"persistentvolumeclaims"}),
       Rule({"update", "delete"}, {""}, {"persistentvolumeclaims"})});
  add("ttl-controller", {Rule({"update", "patch", "list", "watch"}, {""}, {"nodes"})});
  add("ttl-after-finished-controller",
      {Rule({"get", "list", "watch", "delete"}, {"batch"}, {"jobs"})});
  add("disruption-controller",
      {Rule(kRead, {"apps", "extensions"}, {"deployments", "replicasets"}),
       Rule(kRead, {""}, {"replicationcontrollers"}),
       Rule(kRead, {"policy"}, {"poddisruptionbudgets"}), Rule(kRead, {"apps"}, {"statefulsets"}),
       Rule({"update"}, {"policy"}, {"poddisruptionbudgets/status"}),
       Rule({"patch", "update"}, {""}, {"pods/status"}), Rule({"get"}, {"*"}, {"*/scale"})});
  add("certificate-controller",
      {Rule({"get", "list", "watch", "delete"}, {"certificates.k8s.io"},
            {"certificatesigningrequests"}),
       Rule({"update"}, {"certificates.k8s.io"},
            {"certificatesigningrequests/status", "certificatesigningrequests/approval"}),
       Rule({"approve"}, {"certificates.k8s.io"}, {"signers"},
            {"kubernetes.io/kube-apiserver-client-kubelet"}),
       Rule({"sign"}, {"certificates.k8s.io"}, {"signers"},
            {"kubernetes.io/legacy-unknown", "kubernetes.io/kube-apiserver-client",
             "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving"}),
       Rule({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"})});
  add("pvc-protection-controller",
      {Rule({"get", "list", "watch", "update"}, {""}, {"persistentvolumeclaims"}),
       Rule(kRead, {""}, {"pods"})});
  add("pv-protection-controller",
      {Rule({"get", "list", "watch", "update"}, {""}, {"persistentvolumes"})});
  add("validatingadmissionpolicy-status-controller",
      {Rule(kRead, {"admissionregistration.k8s.io"}, {"validatingadmissionpolicies"}),
       Rule({"get", "patch", "update"}, {"admissionregistration.k8s.io"},
            {"validatingadmissionpolicies/status"})});
  add("legacy-service-account-token-cleaner",
      {Rule({"get"}, {""}, {"configmaps"},
            {"kube-apiserver-legacy-service-account-token-tracking"}),
       Rule({"patch", "delete"}, {""}, {"secrets"})},
      /*records_events=*/false);
}

BootstrapPolicy BuildPolicy() {
  BootstrapPolicy policy;
  auto& roles = policy.cluster_roles;
  roles.push_back(ClusterRole("cluster-admin", {Rule({"*"}, {"*"}, {"*"}), UrlRule({"*"}, {"*"})}));
  roles.push_back(ClusterRole(
      "system:discovery",
      {UrlRule({"get"}, {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                         "/openapi/*", "/readyz", "/version", "/version/"})}));
  roles.push_back(
      ClusterRole("system:monitoring",
                  {UrlRule({"get"}, {"/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics",
                                     "/metrics/slis", "/readyz", "/readyz/*"})}));
  roles.push_back(ClusterRole(
      "system:basic-user", {Rule({"create"}, {"authorization.k8s.io"},
                                 {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}),
                            Rule({"create"}, {"authentication.k8s.io"}, {"selfsubjectreviews"})}));
  roles.push_back(
      ClusterRole("system:public-info-viewer",
                  {UrlRule({"get"}, {"/healthz", "/livez", "/readyz", "/version", "/version/"})}));
  // The user-facing roles are aggregated from the system:aggregate-to-* ones (and any a user
  // labels alike).
  const std::string to_admin = "rbac.authorization.k8s.io/aggregate-to-admin";
  const std::string to_edit = "rbac.authorization.k8s.io/aggregate-to-edit";
  const std::string to_view = "rbac.authorization.k8s.io/aggregate-to-view";
  roles.push_back(Aggregated("admin", to_admin));
  roles.push_back(Aggregated("edit", to_edit, {{to_admin, "true"}}));
  roles.push_back(Aggregated("view", to_view, {{to_edit, "true"}}));
  roles.push_back(
      ClusterRole("system:aggregate-to-admin",
                  {Rule({"create"}, {"authorization.k8s.io"}, {"localsubjectaccessreviews"}),
                   Rule(kReadWrite, {kRbacGroup}, {"rolebindings", "roles"})},
                  {{to_admin, "true"}}));
  roles.push_back(ClusterRole(
      "system:aggregate-to-edit",
      {Rule(kRead, {""},
            {"pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",
             "services/proxy"}),
       Rule({"impersonate"}, {""}, {"serviceaccounts"}),
       Rule(kWrite, {""}, {"pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"}),
       Rule({"create"}, {""}, {"pods/eviction"}),
       Rule(kWrite, {""},
            {"configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
             "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
             "services/proxy"}),
       Rule({"create"}, {""}, {"serviceaccounts/token"}),
       Rule(kWrite, {"apps"},
            {"daemonsets", "deployments", "deployments/rollback", "deployments/scale",
             "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"}),
       Rule(kWrite, {"autoscaling"}, {"horizontalpodautoscalers"}),
       Rule(kWrite, {"batch"}, {"cronjobs", "jobs"}),
       Rule(
           kWrite, {"extensions"},
           {"daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses",
            "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"}),
       Rule(kWrite, {"policy"}, {"poddisruptionbudgets"}),
       Rule(kWrite, {"networking.k8s.io"}, {"ingresses", "networkpolicies"}),
       Rule(kReadWrite, {"coordination.k8s.io"}, {"leases"})},
      {{to_edit, "true"}}));
  roles.push_back(ClusterRole(
      "system:aggregate-to-view",
      {Rule(kRead, {""},
            {"configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
             "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
             "services", "services/status"}),
       Rule(kRead, {""},
            {"bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
             "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"}),
       Rule(kRead, {""}, {"namespaces"}), Rule(kRead, {"discovery.k8s.io"}, {"endpointslices"}),
       Rule(kRead, {"apps"},
            {"controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
             "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
             "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"}),
       Rule(kRead, {"autoscaling"},
            {"horizontalpodautoscalers", "horizontalpodautoscalers/status"}),
       Rule(kRead, {"batch"}, {"cronjobs", "cronjobs/status", "jobs", "jobs/status"}),
       Rule(
           kRead, {"extensions"},
           {"daemonsets", "daemonsets/status", "deployments", "deployments/scale",
            "deployments/status", "ingresses", "ingresses/status", "networkpolicies", "replicasets",
            "replicasets/scale", "replicasets/status", "replicationcontrollers/scale"}),
       Rule(kRead, {"policy"}, {"poddisruptionbudgets", "poddisruptionbudgets/status"}),
       Rule(kRead, {"networking.k8s.io"}, {"ingresses", "ingresses/status", "networkpolicies"})},
      {{to_view, "true"}}));
  // What metrics-server's manifest installs for metrics.k8s.io (served by kpp itself), so that
  // view, edit and admin can run `kubectl top`.
  roles.push_back(ClusterRole(
      "system:aggregated-metrics-reader", {Rule(kRead, {"metrics.k8s.io"}, {"pods", "nodes"})},
      {{"k8s-app", "metrics-server"}, {to_admin, "true"}, {to_edit, "true"}, {to_view, "true"}}));
  roles.push_back(
      ClusterRole("system:auth-delegator",
                  {Rule({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
                   Rule({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"})}));
  roles.push_back(ClusterRole(
      "system:node",
      {Rule({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
       Rule({"create"}, {"authorization.k8s.io"},
            {"subjectaccessreviews", "localsubjectaccessreviews"}),
       Rule(kRead, {""}, {"services"}),
       Rule({"create", "get", "list", "watch"}, {""}, {"nodes"}),
       Rule({"update", "patch"}, {""}, {"nodes/status"}),
       Rule({"update", "patch", "delete"}, {""}, {"nodes"}),
       Rule({"create", "update", "patch"}, {""}, {"events"}),
       Rule({"get", "list", "watch"}, {""}, {"pods"}),
       Rule({"create", "delete"}, {""}, {"pods"}),
       Rule({"update", "patch"}, {""}, {"pods/status"}),
       Rule({"create"}, {""}, {"pods/eviction"}),
       Rule({"get"}, {""}, {"secrets", "configmaps"}),
       Rule({"get"}, {""}, {"persistentvolumeclaims", "persistentvolumes"}),
       Rule({"get"}, {""}, {"endpoints"}),
       Rule({"create", "get", "list", "watch"}, {"certificates.k8s.io"},
            {"certificatesigningrequests"}),
       Rule({"get", "create", "update", "patch", "delete"}, {"coordination.k8s.io"}, {"leases"}),
       Rule({"get"}, {"storage.k8s.io"}, {"volumeattachments"}),
       Rule({"create"}, {""}, {"serviceaccounts/token"}),
       Rule({"get", "update", "patch"}, {""}, {"persistentvolumeclaims/status"}),
       Rule(kRead, {"storage.k8s.io"}, {"csidrivers"}),
       Rule(kRead, {"storage.k8s.io"}, {"csinodes"}),
       Rule({"create", "delete", "get", "patch", "update"}, {"storage.k8s.io"}, {"csinodes"}),
       Rule(kRead, {"node.k8s.io"}, {"runtimeclasses"})}));
  roles.push_back(ClusterRole("system:node-proxier",
                              {Rule({"list", "watch"}, {""}, {"services", "endpoints"}),
                               Rule({"get", "list", "watch"}, {""}, {"nodes"}), Events(),
                               Rule({"list", "watch"}, {"discovery.k8s.io"}, {"endpointslices"})}));
  roles.push_back(
      ClusterRole("system:kube-scheduler",
                  {Events(),
                   Rule({"create"}, {"coordination.k8s.io"}, {"leases"}),
                   Rule({"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"kube-scheduler"}),
                   Rule({"create"}, {""}, {"endpoints"}),
                   Rule({"get", "update"}, {""}, {"endpoints"}, {"kube-scheduler"}),
                   Rule(kRead, {""}, {"nodes"}),
                   Rule({"get", "list", "watch", "delete"}, {""}, {"pods"}),
                   Rule({"create"}, {""}, {"bindings", "pods/binding"}),
                   Rule({"patch", "update"}, {""}, {"pods/status"}),
                   Rule(kRead, {""}, {"replicationcontrollers", "services"}),
                   Rule(kRead, {"apps", "extensions"}, {"replicasets"}),
                   Rule(kRead, {"apps"}, {"statefulsets"}),
                   Rule(kRead, {"policy"}, {"poddisruptionbudgets"}),
                   Rule(kRead, {""}, {"persistentvolumeclaims", "persistentvolumes"}),
                   Rule({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
                   Rule({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"}),
                   Rule(kRead, {"storage.k8s.io"}, {"csinodes"}),
                   Rule(kRead, {""}, {"namespaces"}),
                   Rule(kRead, {"storage.k8s.io"}, {"csidrivers"}),
                   Rule(kRead, {"storage.k8s.io"}, {"csistoragecapacities"})}));
  roles.push_back(ClusterRole(
      "system:volume-scheduler",
      {Rule({"get", "list", "patch", "update", "watch"}, {""}, {"persistentvolumes"}),
       Rule(kRead, {"storage.k8s.io"}, {"storageclasses"}),
       Rule({"get", "list", "patch", "update", "watch"}, {""}, {"persistentvolumeclaims"})}));
  roles.push_back(ClusterRole(
      "system:kube-controller-manager",
      {Events(), Rule({"create"}, {"coordination.k8s.io"}, {"leases"}),
       Rule({"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"kube-controller-manager"}),
       Rule({"create"}, {""}, {"secrets", "serviceaccounts"}), Rule({"delete"}, {""}, {"secrets"}),
       Rule({"get"}, {""}, {"configmaps", "namespaces", "secrets", "serviceaccounts"}),
       Rule({"update"}, {""}, {"secrets", "serviceaccounts"}),
       Rule({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
       Rule({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"}),
       Rule({"list", "watch"}, {"*"}, {"*"}), Rule({"create"}, {""}, {"serviceaccounts/token"})}));
  roles.push_back(ClusterRole("system:kube-dns",
                              {Rule({"list", "watch"}, {""}, {"endpoints", "services"}),
                               Rule({"list", "watch"}, {"discovery.k8s.io"}, {"endpointslices"})}));
  roles.push_back(ClusterRole(
      "system:node-problem-detector",
      {Rule({"get"}, {""}, {"nodes"}), Rule({"patch"}, {""}, {"nodes/status"}), Events()}));
  roles.push_back(ClusterRole(
      "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
      {Rule({"create"}, {"certificates.k8s.io"}, {"certificatesigningrequests/nodeclient"})}));
  roles.push_back(ClusterRole(
      "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
      {Rule({"create"}, {"certificates.k8s.io"}, {"certificatesigningrequests/selfnodeclient"})}));
  roles.push_back(ClusterRole("system:node-bootstrapper",
                              {Rule({"create", "get", "list", "watch"}, {"certificates.k8s.io"},
                                    {"certificatesigningrequests"})}));
  roles.push_back(
      ClusterRole("system:service-account-issuer-discovery",
                  {UrlRule({"get"}, {"/.well-known/openid-configuration", "/openid/v1/jwks"})}));

  auto& bindings = policy.cluster_role_bindings;
  bindings.push_back(ClusterBinding("cluster-admin", "cluster-admin", {Group("system:masters")}));
  bindings.push_back(
      ClusterBinding("system:discovery", "system:discovery", {Group("system:authenticated")}));
  bindings.push_back(
      ClusterBinding("system:basic-user", "system:basic-user", {Group("system:authenticated")}));
  bindings.push_back(
      ClusterBinding("system:public-info-viewer", "system:public-info-viewer",
                     {Group("system:authenticated"), Group("system:unauthenticated")}));
  bindings.push_back(
      ClusterBinding("system:monitoring", "system:monitoring", {Group("system:monitoring")}));
  bindings.push_back(
      ClusterBinding("system:node-proxier", "system:node-proxier", {User("system:kube-proxy")}));
  bindings.push_back(ClusterBinding("system:kube-scheduler", "system:kube-scheduler",
                                    {User("system:kube-scheduler")}));
  bindings.push_back(ClusterBinding("system:volume-scheduler", "system:volume-scheduler",
                                    {User("system:kube-scheduler")}));
  bindings.push_back(ClusterBinding("system:kube-controller-manager",
                                    "system:kube-controller-manager",
                                    {User("system:kube-controller-manager")}));
  bindings.push_back(ClusterBinding("system:kube-dns", "system:kube-dns",
                                    {ServiceAccount("kube-system", "kube-dns")}));
  bindings.push_back(ClusterBinding("system:service-account-issuer-discovery",
                                    "system:service-account-issuer-discovery",
                                    {Group("system:serviceaccounts")}));
  // Upstream binds system:node to nobody: the node authorizer decides for kubelets.
  bindings.push_back(ClusterBinding("system:node", "system:node", {}));
  AddControllerRoles(policy);

  policy.roles.push_back(
      NamespacedRole("kube-system", "extension-apiserver-authentication-reader",
                     {Rule(kRead, {""}, {"configmaps"}, {"extension-apiserver-authentication"})}));
  policy.roles.push_back(
      NamespacedRole("kube-system", "system::leader-locking-kube-controller-manager",
                     {Rule({"watch"}, {""}, {"configmaps"}),
                      Rule({"get", "update"}, {""}, {"configmaps"}, {"kube-controller-manager"})}));
  policy.roles.push_back(
      NamespacedRole("kube-system", "system::leader-locking-kube-scheduler",
                     {Rule({"watch"}, {""}, {"configmaps"}),
                      Rule({"get", "update"}, {""}, {"configmaps"}, {"kube-scheduler"})}));
  policy.roles.push_back(NamespacedRole("kube-system", "system:controller:bootstrap-signer",
                                        {Rule(kRead, {""}, {"secrets"})}));
  policy.roles.push_back(
      NamespacedRole("kube-system", "system:controller:cloud-provider",
                     {Rule({"create", "get", "list", "watch"}, {""}, {"configmaps"})}));
  policy.roles.push_back(
      NamespacedRole("kube-system", "system:controller:token-cleaner",
                     {Rule({"delete", "get", "list", "watch"}, {""}, {"secrets"}), Events()}));
  policy.roles.push_back(
      NamespacedRole("kube-public", "system:controller:bootstrap-signer",
                     {Rule(kRead, {""}, {"configmaps"}),
                      Rule({"update"}, {""}, {"configmaps"}, {"cluster-info"}), Events()}));

  auto& role_bindings = policy.role_bindings;
  role_bindings.push_back(
      NamespacedBinding("kube-system", "system::extension-apiserver-authentication-reader",
                        "extension-apiserver-authentication-reader",
                        {User("system:kube-controller-manager"), User("system:kube-scheduler")}));
  role_bindings.push_back(
      NamespacedBinding("kube-system", "system::leader-locking-kube-controller-manager",
                        "system::leader-locking-kube-controller-manager",
                        {User("system:kube-controller-manager"),
                         ServiceAccount("kube-system", "kube-controller-manager")}));
  role_bindings.push_back(NamespacedBinding(
      "kube-system", "system::leader-locking-kube-scheduler",
      "system::leader-locking-kube-scheduler",
      {User("system:kube-scheduler"), ServiceAccount("kube-system", "kube-scheduler")}));
  role_bindings.push_back(NamespacedBinding("kube-system", "system:controller:bootstrap-signer",
                                            "system:controller:bootstrap-signer",
                                            {ServiceAccount("kube-system", "bootstrap-signer")}));
  role_bindings.push_back(NamespacedBinding("kube-system", "system:controller:cloud-provider",
                                            "system:controller:cloud-provider",
                                            {ServiceAccount("kube-system", "cloud-provider")}));
  role_bindings.push_back(NamespacedBinding("kube-system", "system:controller:token-cleaner",
                                            "system:controller:token-cleaner",
                                            {ServiceAccount("kube-system", "token-cleaner")}));
  role_bindings.push_back(NamespacedBinding("kube-public", "system:controller:bootstrap-signer",
                                            "system:controller:bootstrap-signer",
                                            {ServiceAccount("kube-system", "bootstrap-signer")}));
  return policy;
}

boost::json::object StringObject(const std::map<std::string, std::string>& map) {
  boost::json::object object;
  for (const auto& [key, value] : map)
    object[key] = value;
  return object;
}

boost::json::object Metadata(const std::string& namespace_, const std::string& name,
                             const std::map<std::string, std::string>& labels,
                             const std::map<std::string, std::string>& annotations) {
  boost::json::object metadata;
  metadata["name"] = name;
  if (!namespace_.empty()) metadata["namespace"] = namespace_;
  if (!labels.empty()) metadata["labels"] = StringObject(labels);
  if (!annotations.empty()) metadata["annotations"] = StringObject(annotations);
  return metadata;
}

boost::json::object SubjectToJson(const Subject& subject) {
  boost::json::object object;
  object["kind"] = subject.kind;
  if (!subject.api_group.empty()) object["apiGroup"] = subject.api_group;
  object["name"] = subject.name;
  if (!subject.namespace_.empty()) object["namespace"] = subject.namespace_;
  return object;
}

bool AutoupdateOff(const boost::json::object& existing) {
  const auto* metadata = existing.if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return false;
  const auto* annotations = metadata->as_object().if_contains("annotations");
  if (annotations == nullptr || !annotations->is_object()) return false;
  const auto* value = annotations->as_object().if_contains(kAutoupdateAnnotation);
  return value != nullptr && value->is_string() && value->get_string() == "false";
}

// Adds the labels and annotations of `wanted` that `existing` lacks; true when it added one.
bool MergeMetadata(boost::json::object& existing, const std::map<std::string, std::string>& labels,
                   const std::map<std::string, std::string>& annotations) {
  bool changed = false;
  auto& metadata = existing["metadata"].as_object();
  for (const auto& [field, wanted] :
       {std::pair{"labels", &labels}, {"annotations", &annotations}}) {
    if (wanted->empty()) continue;
    if (!metadata.contains(field) || !metadata[field].is_object()) {
      metadata[field] = boost::json::object();
    }
    auto& map = metadata[field].as_object();
    for (const auto& [key, value] : *wanted) {
      if (!map.contains(key)) {
        map[key] = value;
        changed = true;
      }
    }
  }
  return changed;
}

}  // namespace

const BootstrapPolicy& DefaultBootstrapPolicy() {
  static const BootstrapPolicy policy = BuildPolicy();
  return policy;
}

boost::json::object RoleToJson(const Role& role) {
  boost::json::object object;
  object["apiVersion"] = std::string(kRbacGroup) + "/v1";
  object["kind"] = role.namespace_.empty() ? "ClusterRole" : "Role";
  object["metadata"] = Metadata(role.namespace_, role.name, role.labels, role.annotations);
  boost::json::array rules;
  for (const auto& rule : role.rules)
    rules.push_back(PolicyRuleToJson(rule));
  object["rules"] = std::move(rules);
  if (role.aggregation_selectors) {
    boost::json::array selectors;
    for (const auto& selector : *role.aggregation_selectors)
      selectors.push_back(selector);
    boost::json::object aggregation;
    aggregation["clusterRoleSelectors"] = std::move(selectors);
    object["aggregationRule"] = std::move(aggregation);
  }
  return object;
}

boost::json::object BindingToJson(const Binding& binding) {
  boost::json::object object;
  object["apiVersion"] = std::string(kRbacGroup) + "/v1";
  object["kind"] = binding.namespace_.empty() ? "ClusterRoleBinding" : "RoleBinding";
  object["metadata"] = Metadata(binding.namespace_, binding.name, {}, binding.annotations);
  if (!binding.subjects.empty()) {
    boost::json::array subjects;
    for (const auto& subject : binding.subjects)
      subjects.push_back(SubjectToJson(subject));
    object["subjects"] = std::move(subjects);
  }
  boost::json::object role_ref;
  role_ref["apiGroup"] = binding.role_ref.api_group;
  role_ref["kind"] = binding.role_ref.kind;
  role_ref["name"] = binding.role_ref.name;
  object["roleRef"] = std::move(role_ref);
  return object;
}

std::optional<boost::json::object> ReconcileRole(const boost::json::object& existing,
                                                 const Role& wanted) {
  if (AutoupdateOff(existing)) return std::nullopt;
  boost::json::object updated = existing;
  bool changed = MergeMetadata(updated, wanted.labels, wanted.annotations);
  const Role current = ParseRole(existing);
  std::vector<PolicyRule> missing;
  // Aggregated roles get their rules from the aggregation, not from here.
  if (!wanted.aggregation_selectors && !Covers(current.rules, wanted.rules, &missing)) {
    auto& rules = updated["rules"];
    if (!rules.is_array()) rules = boost::json::array();
    for (const auto& rule : wanted.rules) {
      std::vector<PolicyRule> lacking;
      if (!Covers(current.rules, {rule}, &lacking))
        rules.as_array().push_back(PolicyRuleToJson(rule));
    }
    changed = true;
  }
  if (wanted.aggregation_selectors) {
    std::vector<boost::json::value> selectors =
        current.aggregation_selectors.value_or(std::vector<boost::json::value>{});
    bool added = false;
    for (const auto& selector : *wanted.aggregation_selectors) {
      if (std::find(selectors.begin(), selectors.end(), selector) == selectors.end()) {
        selectors.push_back(selector);
        added = true;
      }
    }
    if (added) {
      boost::json::array array(selectors.begin(), selectors.end());
      boost::json::object aggregation;
      aggregation["clusterRoleSelectors"] = std::move(array);
      updated["aggregationRule"] = std::move(aggregation);
      changed = true;
    }
  }
  if (!changed) return std::nullopt;
  return updated;
}

std::optional<boost::json::object> ReconcileBinding(const boost::json::object& existing,
                                                    const Binding& wanted) {
  if (AutoupdateOff(existing)) return std::nullopt;
  boost::json::object updated = existing;
  bool changed = MergeMetadata(updated, {}, wanted.annotations);
  const Binding current = ParseBinding(existing);
  for (const auto& subject : wanted.subjects) {
    const bool present =
        std::any_of(current.subjects.begin(), current.subjects.end(), [&](const Subject& s) {
          return s.kind == subject.kind && s.name == subject.name &&
                 s.namespace_ == subject.namespace_;
        });
    if (present) continue;
    auto& subjects = updated["subjects"];
    if (!subjects.is_array()) subjects = boost::json::array();
    subjects.as_array().push_back(SubjectToJson(subject));
    changed = true;
  }
  if (!changed) return std::nullopt;
  return updated;
}

namespace {

Status Apply(const LoopbackCall& call, const std::string& collection, const std::string& name,
             const boost::json::object& wanted,
             const std::function<std::optional<boost::json::object>(const boost::json::object&)>&
                 reconcile) {
  auto send = [&](std::string method, std::string path, std::string body) {
    http::Request request =
        http::Request::LocalJson(std::move(method), std::move(path), std::move(body));
    request.headers.push_back({"User-Agent", "kpp-rbac-bootstrap"});
    return call(request);
  };
  const http::Response current = send("GET", collection + "/" + name, "");
  if (current.status == 404) {
    const http::Response created = send("POST", collection, boost::json::serialize(wanted));
    if (created.status >= 300 && created.status != 409) {
      return Error(ErrorCode::kInternalError,
                   fmt::format("creating bootstrap {} {}: {}", collection, name, created.body));
    }
    return Ok();
  }
  if (current.status != 200) {
    return Error(ErrorCode::kInternalError,
                 fmt::format("reading bootstrap {} {}: {}", collection, name, current.body));
  }
  boost::system::error_code ec;
  auto parsed = boost::json::parse(current.body, ec);
  if (ec || !parsed.is_object()) return Ok();
  if (auto updated = reconcile(parsed.as_object())) {
    const http::Response put =
        send("PUT", collection + "/" + name, boost::json::serialize(*updated));
    if (put.status >= 300) {
      KLOG_WARNING("reconciling bootstrap {} {} failed: {}", collection, name, put.body);
    } else {
      KLOG_INFO("reconciled bootstrap {} {}", collection, name);
    }
  }
  return Ok();
}

std::string Collection(std::string_view namespace_, std::string_view plural) {
  if (namespace_.empty()) return fmt::format("/apis/{}/v1/{}", kRbacGroup, plural);
  return fmt::format("/apis/{}/v1/namespaces/{}/{}", kRbacGroup, namespace_, plural);
}

}  // namespace

Status ReconcileBootstrapPolicy(const LoopbackCall& call) {
  const BootstrapPolicy& policy = DefaultBootstrapPolicy();
  for (const Role& role : policy.cluster_roles) {
    KPP_RETURN_IF_ERROR(Apply(call, Collection("", "clusterroles"), role.name, RoleToJson(role),
                              [&](const auto& existing) { return ReconcileRole(existing, role); }));
  }
  for (const Binding& binding : policy.cluster_role_bindings) {
    KPP_RETURN_IF_ERROR(
        Apply(call, Collection("", "clusterrolebindings"), binding.name, BindingToJson(binding),
              [&](const auto& existing) { return ReconcileBinding(existing, binding); }));
  }
  for (const Role& role : policy.roles) {
    KPP_RETURN_IF_ERROR(Apply(call, Collection(role.namespace_, "roles"), role.name,
                              RoleToJson(role),
                              [&](const auto& existing) { return ReconcileRole(existing, role); }));
  }
  for (const Binding& binding : policy.role_bindings) {
    KPP_RETURN_IF_ERROR(Apply(
        call, Collection(binding.namespace_, "rolebindings"), binding.name, BindingToJson(binding),
        [&](const auto& existing) { return ReconcileBinding(existing, binding); }));
  }
  return Ok();
}

}  // namespace kpp::apiserver::authz
