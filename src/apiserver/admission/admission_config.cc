#include "apiserver/admission/admission_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <optional>

#include "apimachinery/labels/validation.h"
#include "apimachinery/validation/field_errors.h"
#include "apimachinery/yaml/yaml_to_json.h"
#include "base/files.h"

namespace kpp::apiserver::admission {
namespace {

namespace json = boost::json;
using validation::FieldErrors;
using validation::FieldPath;

Result<json::value> ParseDocument(std::string_view text) {
  auto json_text = yaml::ToJson(text);
  if (!json_text.ok()) return InvalidError(json_text.error().message());
  boost::system::error_code error;
  json::value document = json::parse(*json_text, error);
  if (error || !document.is_object()) return InvalidError("not an object");
  return document;
}

std::string_view StringOf(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string_view(value->get_string())
                                                : std::string_view();
}

// Upstream decodes strictly: a field it does not know is an error naming it.
Status RefuseUnknownFields(const json::object& object,
                           std::initializer_list<std::string_view> known, std::string_view prefix) {
  for (const auto& [key, value] : object) {
    if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end()) {
      return InvalidError(
          fmt::format("strict decoding error: unknown field \"{}{}\"", prefix, key));
    }
  }
  return Ok();
}

std::optional<PodSecurityLevel> LevelNamed(std::string_view text) {
  if (text == "privileged") return PodSecurityLevel::kPrivileged;
  if (text == "baseline") return PodSecurityLevel::kBaseline;
  if (text == "restricted") return PodSecurityLevel::kRestricted;
  return std::nullopt;
}

bool IsPolicyVersion(std::string_view text) {
  if (text == "latest") return true;
  if (!text.starts_with("v1.") || text.size() == 3) return false;
  const std::string_view minor = text.substr(3);
  if (minor.size() > 1 && minor[0] == '0') return false;
  return std::all_of(minor.begin(), minor.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<std::vector<std::string>> StringList(const json::object& object, std::string_view key,
                                            const FieldPath& path) {
  std::vector<std::string> items;
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return items;
  if (!value->is_array()) return InvalidError(fmt::format("{}: must be a list", path.str()));
  for (size_t i = 0; i < value->get_array().size(); ++i) {
    const json::value& item = value->get_array()[i];
    if (!item.is_string()) {
      return InvalidError(fmt::format("{}: must be a string", path.Index(i).str()));
    }
    items.emplace_back(item.get_string());
  }
  return items;
}

}  // namespace

Result<PodSecurityConfig> ParsePodSecurityConfig(const json::value& configuration) {
  if (!configuration.is_object()) return InvalidError("the configuration is not an object");
  const json::object& root = configuration.get_object();
  const std::string_view api_version = StringOf(root, "apiVersion");
  if (StringOf(root, "kind") != "PodSecurityConfiguration" ||
      (api_version != "pod-security.admission.config.k8s.io/v1" &&
       api_version != "pod-security.admission.config.k8s.io/v1beta1" &&
       api_version != "pod-security.admission.config.k8s.io/v1alpha1")) {
    return InvalidError(fmt::format(
        "expected a pod-security.admission.config.k8s.io/v1 PodSecurityConfiguration, got kind "
        "\"{}\" apiVersion \"{}\"",
        StringOf(root, "kind"), api_version));
  }
  KPP_RETURN_IF_ERROR(
      RefuseUnknownFields(root, {"apiVersion", "kind", "defaults", "exemptions"}, ""));
  PodSecurityConfig config;
  FieldErrors errors;
  const json::value* defaults = root.if_contains("defaults");
  if (defaults != nullptr && defaults->is_object()) {
    const json::object& modes = defaults->get_object();
    KPP_RETURN_IF_ERROR(RefuseUnknownFields(
        modes, {"enforce", "enforce-version", "audit", "audit-version", "warn", "warn-version"},
        "defaults."));
    const FieldPath path("defaults");
    for (auto [mode, target] :
         {std::pair{"enforce", &config.enforce}, std::pair{"audit", &config.audit},
          std::pair{"warn", &config.warn}}) {
      // Absent fields keep v1's defaults (privileged, latest).
      if (modes.contains(mode)) {
        const std::string_view text = StringOf(modes, mode);
        if (auto level = LevelNamed(text)) {
          target->level = *level;
        } else {
          errors.push_back(validation::Invalid(path.Child(mode), text,
                                               "must be one of privileged, baseline, restricted"));
        }
      }
      const std::string version_field = std::string(mode) + "-version";
      if (modes.contains(version_field)) {
        const std::string_view text = StringOf(modes, version_field);
        if (IsPolicyVersion(text)) {
          target->version = text;
        } else {
          errors.push_back(validation::Invalid(path.Child(version_field), text,
                                               "must be \"latest\" or \"v1.x\""));
        }
      }
    }
  } else if (defaults != nullptr && !defaults->is_null()) {
    return InvalidError("defaults: must be an object");
  }
  const json::value* exemptions = root.if_contains("exemptions");
  if (exemptions != nullptr && exemptions->is_object()) {
    const json::object& lists = exemptions->get_object();
    KPP_RETURN_IF_ERROR(
        RefuseUnknownFields(lists, {"usernames", "runtimeClasses", "namespaces"}, "exemptions."));
    const FieldPath path("exemptions");
    KPP_ASSIGN_OR_RETURN(config.exempt_usernames,
                         StringList(lists, "usernames", path.Child("usernames")));
    KPP_ASSIGN_OR_RETURN(config.exempt_runtime_classes,
                         StringList(lists, "runtimeClasses", path.Child("runtimeClasses")));
    KPP_ASSIGN_OR_RETURN(config.exempt_namespaces,
                         StringList(lists, "namespaces", path.Child("namespaces")));
    for (size_t i = 0; i < config.exempt_namespaces.size(); ++i) {
      for (auto& message : validation::IsDNS1123Label(config.exempt_namespaces[i])) {
        errors.push_back(validation::Invalid(path.Child("namespaces").Index(i),
                                             config.exempt_namespaces[i], message));
      }
    }
    for (size_t i = 0; i < config.exempt_runtime_classes.size(); ++i) {
      const std::string& name = config.exempt_runtime_classes[i];
      auto messages = validation::IsPathSegmentName(name);
      if (name.empty()) messages.insert(messages.begin(), "must not be empty");
      for (auto& message : messages) {
        errors.push_back(validation::Invalid(path.Child("runtimeClasses").Index(i), name, message));
      }
    }
    for (size_t i = 0; i < config.exempt_usernames.size(); ++i) {
      if (config.exempt_usernames[i].empty()) {
        errors.push_back(validation::Invalid(path.Child("usernames").Index(i), "",
                                             "username must not be empty"));
      }
    }
  } else if (exemptions != nullptr && !exemptions->is_null()) {
    return InvalidError("exemptions: must be an object");
  }
  if (!errors.empty()) {
    std::string text;
    for (const auto& error : errors) {
      if (!text.empty()) text += ", ";
      text += error.ToString();
    }
    return InvalidError(errors.size() == 1 ? text : "[" + text + "]");
  }
  return config;
}

Result<AdmissionConfiguration> ParseAdmissionConfiguration(std::string_view text,
                                                           const std::string& directory) {
  KPP_ASSIGN_OR_RETURN(json::value document, ParseDocument(text));
  const json::object& root = document.get_object();
  const std::string_view api_version = StringOf(root, "apiVersion");
  if (StringOf(root, "kind") != "AdmissionConfiguration" ||
      (api_version != "apiserver.config.k8s.io/v1" && api_version != "apiserver.k8s.io/v1alpha1")) {
    return InvalidError(fmt::format(
        "expected an apiserver.config.k8s.io/v1 AdmissionConfiguration, got kind \"{}\" "
        "apiVersion \"{}\"",
        StringOf(root, "kind"), api_version));
  }
  AdmissionConfiguration config;
  const json::value* plugins = root.if_contains("plugins");
  if (plugins == nullptr || plugins->is_null()) return config;
  if (!plugins->is_array()) return InvalidError("plugins: must be a list");
  for (size_t i = 0; i < plugins->get_array().size(); ++i) {
    const json::value& entry = plugins->get_array()[i];
    const FieldPath path = FieldPath("plugins").Index(i);
    if (!entry.is_object()) return InvalidError(fmt::format("{}: must be an object", path.str()));
    const json::object& plugin = entry.get_object();
    if (StringOf(plugin, "name") != "PodSecurity") continue;
    json::value configuration;
    if (const json::value* inline_config = plugin.if_contains("configuration");
        inline_config != nullptr && !inline_config->is_null()) {
      configuration = *inline_config;
    } else if (const std::string_view file = StringOf(plugin, "path"); !file.empty()) {
      const std::string full = file.starts_with("/") || directory.empty()
                                   ? std::string(file)
                                   : directory + "/" + std::string(file);
      auto contents = ReadFile(full);
      if (!contents.ok()) {
        return InvalidError(fmt::format("{}.path: {}", path.str(), contents.error().message()));
      }
      auto parsed = ParseDocument(*contents);
      if (!parsed.ok()) {
        return InvalidError(fmt::format("{}: {}", full, parsed.error().message()));
      }
      configuration = *std::move(parsed);
    } else {
      continue;  // upstream's defaults
    }
    auto pod_security = ParsePodSecurityConfig(configuration);
    if (!pod_security.ok()) {
      return InvalidError(fmt::format("couldn't init admission plugin \"PodSecurity\": {}",
                                      pod_security.error().message()));
    }
    config.pod_security = *std::move(pod_security);
  }
  return config;
}

Result<AdmissionConfiguration> LoadAdmissionConfiguration(const std::string& path) {
  if (path.empty()) return AdmissionConfiguration{};
  auto text = ReadFile(path);
  if (!text.ok()) return std::move(text).error().WithContext("--admission-control-config-file");
  const size_t slash = path.rfind('/');
  auto config =
      ParseAdmissionConfiguration(*text, slash == std::string::npos ? "." : path.substr(0, slash));
  if (!config.ok()) {
    return std::move(config).error().WithContext("--admission-control-config-file " + path);
  }
  return config;
}

}  // namespace kpp::apiserver::admission
