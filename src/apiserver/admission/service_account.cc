#include "apiserver/admission/service_account.h"

#include <fmt/format.h>

#include <thread>

#include "apiserver/admission/json_access.h"
#include "base/random.h"

namespace kpp::apiserver::admission {
namespace {

using boost::json::array;
using boost::json::object;

object TokenVolume(const std::string& name) {
  object token{{"expirationSeconds", 3607}, {"path", "token"}};
  object config_map{{"name", "kube-root-ca.crt"},
                    {"items", array{object{{"key", "ca.crt"}, {"path", "ca.crt"}}}}};
  object downward{
      {"items", array{object{{"path", "namespace"},
                             {"fieldRef", object{{"apiVersion", "v1"},
                                                 {"fieldPath", "metadata.namespace"}}}}}}};
  return object{
      {"name", name},
      {"projected", object{{"sources", array{object{{"serviceAccountToken", std::move(token)}},
                                             object{{"configMap", std::move(config_map)}},
                                             object{{"downwardAPI", std::move(downward)}}}},
                           {"defaultMode", 420}}}};
}

// Mounts the token volume into every (init) container that mounts nothing at the token path.
void MountToken(object& spec) {
  std::string volume_name;
  bool has_volume = false;
  if (const auto* volumes = json::Array(&spec, "volumes")) {
    for (const auto& volume : *volumes) {
      const std::string_view name =
          volume.is_object() ? json::String(&volume.as_object(), "name") : "";
      if (name.starts_with("kube-api-access-")) {
        volume_name = name;
        has_volume = true;
        break;
      }
    }
  }
  if (volume_name.empty()) {
    volume_name = "kube-api-access-" + RandomString(5, "bcdfghjklmnpqrstvwxz2456789");
  }
  bool needs_volume = false;
  for (std::string_view list : {"initContainers", "containers"}) {
    auto* containers = spec.if_contains(list);
    if (containers == nullptr || !containers->is_array()) continue;
    for (auto& container : containers->as_array()) {
      if (!container.is_object()) continue;
      auto& fields = container.as_object();
      bool mounted = false;
      if (const auto* mounts = json::Array(&fields, "volumeMounts")) {
        for (const auto& mount : *mounts) {
          if (mount.is_object() &&
              json::String(&mount.as_object(), "mountPath") == kServiceAccountTokenMountPath) {
            mounted = true;
          }
        }
      }
      if (mounted) continue;
      json::EnsureArray(fields, "volumeMounts")
          .push_back(object{{"name", volume_name},
                            {"readOnly", true},
                            {"mountPath", kServiceAccountTokenMountPath}});
      needs_volume = true;
    }
  }
  if (!has_volume && needs_volume) {
    json::EnsureArray(spec, "volumes").push_back(TokenVolume(volume_name));
  }
}

}  // namespace

std::optional<Rejection> ServiceAccount::Admit(Attributes& attributes, Context& context) const {
  if (attributes.operation != Operation::kCreate || !attributes.Is("", "pods") ||
      !attributes.subresource.empty() || attributes.object == nullptr) {
    return std::nullopt;
  }
  object& pod = *attributes.object;
  object& spec = json::EnsureObject(pod, "spec");
  const auto* annotations = json::Object(json::Object(&pod, "metadata"), "annotations");
  if (json::Has(annotations, "kubernetes.io/config.mirror")) {
    // A kubelet's static pods run without service accounts.
    if (!json::String(&spec, "serviceAccountName").empty()) {
      return AdmissionForbidden(attributes, "a mirror pod may not reference service accounts");
    }
    return std::nullopt;
  }
  std::string name(json::String(&spec, "serviceAccountName"));
  if (name.empty()) {
    name = "default";
    spec["serviceAccountName"] = name;
    context.mutated = true;
  }
  if (json::String(&spec, "serviceAccount").empty()) {
    spec["serviceAccount"] = name;  // the deprecated alias, as the v1 conversion fills it
    context.mutated = true;
  }
  std::optional<object> service_account;
  const int lookups = name == "default" ? std::max(default_lookups_, 1) : 1;
  const auto retry_interval =
      std::chrono::milliseconds(100 + std::stoi(RandomString(2, "0123456789")));
  for (int attempt = 0; attempt < lookups && !service_account; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(retry_interval);
    auto found = context.reader.Get("", "serviceaccounts", attributes.namespace_, name);
    if (!found.ok()) {
      return AdmissionForbidden(attributes,
                                fmt::format("error looking up service account {}/{}: {}",
                                            attributes.namespace_, name, found.error().message()));
    }
    service_account = *std::move(found);
  }
  if (!service_account) {
    return AdmissionForbidden(
        attributes, fmt::format("error looking up service account {}/{}: serviceaccount \"{}\" "
                                "not found",
                                attributes.namespace_, name, name));
  }
  const auto automount =
      json::Bool(&spec, "automountServiceAccountToken")
          .value_or(json::Bool(&*service_account, "automountServiceAccountToken").value_or(true));
  if (automount) {
    MountToken(spec);
    context.mutated = true;
  }
  const auto* pull_secrets = json::Array(&spec, "imagePullSecrets");
  const auto* account_secrets = json::Array(&*service_account, "imagePullSecrets");
  if ((pull_secrets == nullptr || pull_secrets->empty()) && account_secrets != nullptr &&
      !account_secrets->empty()) {
    array secrets;
    for (const auto& secret : *account_secrets) {
      if (secret.is_object()) {
        secrets.push_back(object{{"name", json::String(&secret.as_object(), "name")}});
      }
    }
    spec["imagePullSecrets"] = std::move(secrets);
    context.mutated = true;
  }
  return std::nullopt;
}

}  // namespace kpp::apiserver::admission
