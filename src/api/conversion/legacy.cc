#include "api/conversion/legacy.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace kpp::api::conversion {
namespace {

boost::json::object* Member(boost::json::object& object, std::string_view key) {
  auto* value = object.if_contains(key);
  return value != nullptr && value->is_object() ? &value->as_object() : nullptr;
}

boost::json::object& Annotations(boost::json::object& object) {
  auto& metadata = object["metadata"];
  if (!metadata.is_object()) metadata = boost::json::object();
  auto& annotations = metadata.as_object()["annotations"];
  if (!annotations.is_object()) annotations = boost::json::object();
  return annotations.as_object();
}

// Removes annotation `key` and returns its value; empty when absent. An emptied annotation map
// goes too, as Go leaves it out.
std::string TakeAnnotation(boost::json::object& object, std::string_view key) {
  auto* metadata = Member(object, "metadata");
  auto* annotations = metadata != nullptr ? Member(*metadata, "annotations") : nullptr;
  if (annotations == nullptr) return "";
  std::string value;
  if (auto* found = annotations->if_contains(key); found != nullptr && found->is_string()) {
    value = std::string(found->as_string());
  }
  annotations->erase(key);
  if (annotations->empty()) metadata->erase("annotations");
  return value;
}

bool ParseInt64(std::string_view text, int64_t& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, out);
  return !text.empty() && error == std::errc() && ptr == end;
}

int64_t IntegerOr(const boost::json::value* value, int64_t fallback) {
  if (value == nullptr) return fallback;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) return static_cast<int64_t>(value->as_uint64());
  return fallback;
}

boost::json::object& Spec(boost::json::object& object) {
  auto& spec = object["spec"];
  if (!spec.is_object()) spec = boost::json::object();
  return spec.as_object();
}

// {serviceName, servicePort, resource} -> {service: {name, port: {number|name}}, resource}, as
// upstream: a service when either is set (a string port counts, even empty).
void BackendToNetworkingV1(boost::json::value& value) {
  if (!value.is_object()) return;
  auto& backend = value.as_object();
  std::string name;
  if (auto* found = backend.if_contains("serviceName"); found != nullptr && found->is_string()) {
    name = std::string(found->as_string());
  }
  boost::json::value port;
  if (auto* found = backend.if_contains("servicePort")) port = *found;
  backend.erase("serviceName");
  backend.erase("servicePort");
  const bool named_port = port.is_string();
  const int64_t number = IntegerOr(&port, 0);
  if (name.empty() && !named_port && number == 0) return;
  boost::json::object service_port;
  if (named_port) {
    if (!port.as_string().empty()) service_port["name"] = port.as_string();
  } else if (number != 0) {
    service_port["number"] = number;
  }
  backend["service"] = boost::json::object{{"name", name}, {"port", std::move(service_port)}};
}

void BackendToExtensionsV1beta1(boost::json::value& value) {
  if (!value.is_object()) return;
  auto& backend = value.as_object();
  auto* service = Member(backend, "service");
  if (service == nullptr) {
    backend.erase("service");
    return;
  }
  boost::json::value name = "";
  if (auto* found = service->if_contains("name"); found != nullptr && found->is_string()) {
    name = *found;
  }
  boost::json::value port = 0;
  if (auto* service_port = Member(*service, "port")) {
    auto* port_name = service_port->if_contains("name");
    if (port_name != nullptr && port_name->is_string() && !port_name->as_string().empty()) {
      port = *port_name;
    } else {
      port = IntegerOr(service_port->if_contains("number"), 0);
    }
  }
  backend.erase("service");
  backend["serviceName"] = std::move(name);
  backend["servicePort"] = std::move(port);
}

// Applies `convert` to spec's default backend (renaming `from` to `to`) and to the backend of
// every rule path.
void ConvertBackends(boost::json::object& ingress, std::string_view from, std::string_view to,
                     void (*convert)(boost::json::value&)) {
  auto* spec = Member(ingress, "spec");
  if (spec == nullptr) return;
  if (auto* found = spec->if_contains(from)) {
    boost::json::value backend = std::move(*found);
    spec->erase(from);
    convert(backend);
    (*spec)[to] = std::move(backend);
  }
  auto* rules = spec->if_contains("rules");
  if (rules == nullptr || !rules->is_array()) return;
  for (auto& rule : rules->as_array()) {
    if (!rule.is_object()) continue;
    auto* http = Member(rule.as_object(), "http");
    auto* paths = http != nullptr ? http->if_contains("paths") : nullptr;
    if (paths == nullptr || !paths->is_array()) continue;
    for (auto& path : paths->as_array()) {
      if (!path.is_object()) continue;
      if (auto* backend = path.as_object().if_contains("backend")) convert(*backend);
    }
  }
}

}  // namespace

void DeploymentRollbackToAnnotation(boost::json::object& deployment) {
  auto* spec = Member(deployment, "spec");
  if (auto* rollback = spec != nullptr ? Member(*spec, "rollbackTo") : nullptr) {
    const int64_t revision = IntegerOr(rollback->if_contains("revision"), 0);
    Annotations(deployment)[kRollbackToAnnotation] = std::to_string(revision);
    spec->erase("rollbackTo");
  } else {
    TakeAnnotation(deployment, kRollbackToAnnotation);
  }
}

void DeploymentRollbackToField(boost::json::object& deployment) {
  int64_t revision = 0;
  if (!ParseInt64(TakeAnnotation(deployment, kRollbackToAnnotation), revision)) return;
  boost::json::object rollback;
  if (revision != 0) rollback["revision"] = revision;
  Spec(deployment)["rollbackTo"] = std::move(rollback);
}

void DaemonSetTemplateGenerationToAnnotation(boost::json::object& daemon_set) {
  auto* spec = Member(daemon_set, "spec");
  const int64_t generation =
      spec != nullptr ? IntegerOr(spec->if_contains("templateGeneration"), 0) : 0;
  if (generation != 0) {
    Annotations(daemon_set)[kTemplateGenerationAnnotation] = std::to_string(generation);
  } else {
    TakeAnnotation(daemon_set, kTemplateGenerationAnnotation);
  }
  if (spec != nullptr) spec->erase("templateGeneration");
}

void DaemonSetTemplateGenerationToField(boost::json::object& daemon_set) {
  int64_t generation = 0;
  if (!ParseInt64(TakeAnnotation(daemon_set, kTemplateGenerationAnnotation), generation)) return;
  Spec(daemon_set)["templateGeneration"] = generation;
}

void IngressToNetworkingV1(boost::json::object& ingress) {
  ConvertBackends(ingress, "backend", "defaultBackend", &BackendToNetworkingV1);
}

void IngressToExtensionsV1beta1(boost::json::object& ingress) {
  ConvertBackends(ingress, "defaultBackend", "backend", &BackendToExtensionsV1beta1);
}

}  // namespace kpp::api::conversion
