#include "scheduler/config.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>

#include "apimachinery/intstr/duration.h"
#include "apimachinery/yaml/yaml_to_json.h"
#include "base/error.h"
#include "base/files.h"

namespace kpp::scheduler {
namespace {

using boost::json::object;
using boost::json::value;

Status Unknown(const object& o, std::initializer_list<std::string_view> known,
               const std::string& path) {
  for (const auto& [key, v] : o) {
    if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end()) {
      return InvalidError(
          fmt::format("strict decoding error: unknown field \"{}{}\"", path, std::string(key)));
    }
  }
  return Ok();
}

Result<const object*> ObjectAt(const object& o, std::string_view key, const std::string& path) {
  const value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return static_cast<const object*>(nullptr);
  if (!v->is_object()) {
    return InvalidError(fmt::format("{}{}: Invalid value: expected an object", path, key));
  }
  return &v->as_object();
}

Result<std::optional<int64_t>> IntAt(const object& o, std::string_view key,
                                     const std::string& path) {
  const value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->as_int64());
  if (v->is_uint64()) return std::optional<int64_t>(static_cast<int64_t>(v->as_uint64()));
  if (v->is_double() &&
      v->as_double() == static_cast<double>(static_cast<int64_t>(v->as_double()))) {
    return std::optional<int64_t>(static_cast<int64_t>(v->as_double()));
  }
  return InvalidError(fmt::format("{}{}: Invalid value: expected an integer", path, key));
}

Result<std::optional<std::string>> StringAt(const object& o, std::string_view key,
                                            const std::string& path) {
  const value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string())
    return InvalidError(fmt::format("{}{}: Invalid value: expected a string", path, key));
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::optional<bool>> BoolAt(const object& o, std::string_view key, const std::string& path) {
  const value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (!v->is_bool())
    return InvalidError(fmt::format("{}{}: Invalid value: expected a boolean", path, key));
  return std::optional<bool>(v->as_bool());
}

Result<std::optional<std::chrono::milliseconds>> DurationAt(const object& o, std::string_view key,
                                                            const std::string& path) {
  KPP_ASSIGN_OR_RETURN(auto text, StringAt(o, key, path));
  if (!text) return std::optional<std::chrono::milliseconds>();
  auto parsed = intstr::ParseDuration(*text);
  if (!parsed.ok() || parsed->count() <= 0) {
    return InvalidError(
        fmt::format("{}{}: Invalid value: \"{}\": must be a positive duration", path, key, *text));
  }
  return std::optional<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(*parsed));
}

Result<PluginSet> ParsePluginSet(const object& o, const std::string& path) {
  KPP_RETURN_IF_ERROR(Unknown(o, {"enabled", "disabled"}, path));
  PluginSet set;
  for (const char* which : {"enabled", "disabled"}) {
    const value* list = o.if_contains(which);
    if (list == nullptr || list->is_null()) continue;
    if (!list->is_array())
      return InvalidError(fmt::format("{}{}: Invalid value: expected a list", path, which));
    for (size_t i = 0; i < list->as_array().size(); ++i) {
      const std::string at = fmt::format("{}{}[{}].", path, which, i);
      const value& item = list->as_array()[i];
      if (!item.is_object()) return InvalidError(at + ": Invalid value: expected an object");
      KPP_RETURN_IF_ERROR(Unknown(item.as_object(), {"name", "weight"}, at));
      KPP_ASSIGN_OR_RETURN(auto name, StringAt(item.as_object(), "name", at));
      if (!name || name->empty()) return InvalidError(at + "name: Required value");
      KPP_ASSIGN_OR_RETURN(auto weight, IntAt(item.as_object(), "weight", at));
      if (weight && *weight < 0) {
        return InvalidError(
            fmt::format("{}weight: Invalid value: {}: must be positive", at, *weight));
      }
      if (std::string_view(which) == "enabled") {
        set.enabled.push_back({*name, static_cast<int32_t>(weight.value_or(0))});
      } else {
        set.disabled.push_back(*name);
      }
    }
  }
  return set;
}

Result<ProfileConfig> ParseProfile(const object& o, const std::string& path) {
  KPP_RETURN_IF_ERROR(
      Unknown(o, {"schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig"}, path));
  ProfileConfig profile;
  KPP_ASSIGN_OR_RETURN(auto name, StringAt(o, "schedulerName", path));
  profile.scheduler_name = name.value_or(kDefaultSchedulerName);
  if (profile.scheduler_name.empty()) return InvalidError(path + "schedulerName: Required value");
  KPP_ASSIGN_OR_RETURN(auto percentage, IntAt(o, "percentageOfNodesToScore", path));
  if (percentage) {
    if (*percentage < 0 || *percentage > 100) {
      return InvalidError(
          fmt::format("{}percentageOfNodesToScore: Invalid value: {}: not in "
                      "valid range [0-100]",
                      path, *percentage));
    }
    profile.percentage_of_nodes_to_score = static_cast<int32_t>(*percentage);
  }
  KPP_ASSIGN_OR_RETURN(const object* plugins, ObjectAt(o, "plugins", path));
  if (plugins != nullptr) {
    std::vector<std::string_view> points = {kMultiPoint};
    for (const auto& point : ExtensionPoints())
      points.push_back(point);
    for (const auto& [key, v] : *plugins) {
      if (std::find(points.begin(), points.end(), std::string_view(key)) == points.end()) {
        return InvalidError(fmt::format("strict decoding error: unknown field \"{}plugins.{}\"",
                                        path, std::string(key)));
      }
      if (v.is_null()) continue;
      if (!v.is_object()) {
        return InvalidError(
            fmt::format("{}plugins.{}: Invalid value: expected an object", path, std::string(key)));
      }
      KPP_ASSIGN_OR_RETURN(
          profile.plugins[std::string(key)],
          ParsePluginSet(v.as_object(), fmt::format("{}plugins.{}.", path, std::string(key))));
    }
  }
  const value* configs = o.if_contains("pluginConfig");
  if (configs != nullptr && !configs->is_null()) {
    if (!configs->is_array())
      return InvalidError(path + "pluginConfig: Invalid value: expected a list");
    for (size_t i = 0; i < configs->as_array().size(); ++i) {
      const std::string at = fmt::format("{}pluginConfig[{}].", path, i);
      const value& item = configs->as_array()[i];
      if (!item.is_object()) return InvalidError(at + ": Invalid value: expected an object");
      KPP_RETURN_IF_ERROR(Unknown(item.as_object(), {"name", "args"}, at));
      KPP_ASSIGN_OR_RETURN(auto plugin, StringAt(item.as_object(), "name", at));
      if (!plugin || plugin->empty()) return InvalidError(at + "name: Required value");
      if (profile.plugin_args.contains(*plugin)) {
        return InvalidError(fmt::format("{}name: Duplicate value: \"{}\"", at, *plugin));
      }
      const value* args = item.as_object().if_contains("args");
      profile.plugin_args[*plugin] = args == nullptr ? value() : *args;
    }
  }
  return profile;
}

}  // namespace

SchedulerConfiguration DefaultSchedulerConfiguration() {
  return SchedulerConfiguration{};
}

Result<SchedulerConfiguration> ParseSchedulerConfiguration(std::string_view text) {
  KPP_ASSIGN_OR_RETURN(std::string json, yaml::ToJson(text));
  boost::system::error_code ec;
  value parsed = boost::json::parse(json, ec);
  if (ec || !parsed.is_object())
    return InvalidError("the scheduler configuration is not an object");
  const object& o = parsed.as_object();
  KPP_RETURN_IF_ERROR(
      Unknown(o,
              {"apiVersion", "kind", "parallelism", "leaderElection", "clientConnection",
               "healthzBindAddress", "metricsBindAddress", "enableProfiling",
               "enableContentionProfiling", "percentageOfNodesToScore", "podInitialBackoffSeconds",
               "podMaxBackoffSeconds", "profiles", "extenders", "delayCacheUntilActive"},
              ""));
  KPP_ASSIGN_OR_RETURN(auto api_version, StringAt(o, "apiVersion", ""));
  KPP_ASSIGN_OR_RETURN(auto kind, StringAt(o, "kind", ""));
  if (kind.value_or("") != "KubeSchedulerConfiguration") {
    return InvalidError(fmt::format("kind: Invalid value: \"{}\": want KubeSchedulerConfiguration",
                                    kind.value_or("")));
  }
  if (api_version.value_or("") != "kubescheduler.config.k8s.io/v1") {
    return InvalidError(
        fmt::format("apiVersion: Invalid value: \"{}\": want "
                    "kubescheduler.config.k8s.io/v1",
                    api_version.value_or("")));
  }
  SchedulerConfiguration config;
  KPP_ASSIGN_OR_RETURN(auto parallelism, IntAt(o, "parallelism", ""));
  if (parallelism) {
    if (*parallelism <= 0) {
      return InvalidError(fmt::format(
          "parallelism: Invalid value: {}: should be an integer value greater than zero",
          *parallelism));
    }
    config.options.parallelism = static_cast<int>(*parallelism);
  }
  KPP_ASSIGN_OR_RETURN(auto percentage, IntAt(o, "percentageOfNodesToScore", ""));
  if (percentage) {
    if (*percentage < 0 || *percentage > 100) {
      return InvalidError(fmt::format(
          "percentageOfNodesToScore: Invalid value: {}: not in valid range [0-100]", *percentage));
    }
    config.options.percentage_of_nodes_to_score = static_cast<int32_t>(*percentage);
  }
  KPP_ASSIGN_OR_RETURN(auto initial, IntAt(o, "podInitialBackoffSeconds", ""));
  KPP_ASSIGN_OR_RETURN(auto max, IntAt(o, "podMaxBackoffSeconds", ""));
  const int64_t initial_s = initial.value_or(1);
  const int64_t max_s = max.value_or(10);
  if (initial_s <= 0) {
    return InvalidError(fmt::format(
        "podInitialBackoffSeconds: Invalid value: {}: must be greater than 0", initial_s));
  }
  if (max_s < initial_s) {
    return InvalidError(
        fmt::format("podMaxBackoffSeconds: Invalid value: {}: must be greater "
                    "than or equal to PodInitialBackoffSeconds",
                    max_s));
  }
  config.options.pod_initial_backoff = std::chrono::seconds(initial_s);
  config.options.pod_max_backoff = std::chrono::seconds(max_s);

  if (const value* extenders = o.if_contains("extenders");
      extenders && extenders->is_array() && !extenders->as_array().empty()) {
    return InvalidError("extenders: Forbidden: scheduler extenders are not supported by kpp");
  }

  KPP_ASSIGN_OR_RETURN(const object* election, ObjectAt(o, "leaderElection", ""));
  if (election != nullptr) {
    KPP_RETURN_IF_ERROR(Unknown(*election,
                                {"leaderElect", "leaseDuration", "renewDeadline", "retryPeriod",
                                 "resourceLock", "resourceName", "resourceNamespace"},
                                "leaderElection."));
    auto& le = config.leader_election;
    KPP_ASSIGN_OR_RETURN(auto elect, BoolAt(*election, "leaderElect", "leaderElection."));
    le.leader_elect = elect.value_or(true);
    KPP_ASSIGN_OR_RETURN(auto lease, DurationAt(*election, "leaseDuration", "leaderElection."));
    KPP_ASSIGN_OR_RETURN(auto renew, DurationAt(*election, "renewDeadline", "leaderElection."));
    KPP_ASSIGN_OR_RETURN(auto retry, DurationAt(*election, "retryPeriod", "leaderElection."));
    if (lease) le.lease_duration = *lease;
    if (renew) le.renew_deadline = *renew;
    if (retry) le.retry_period = *retry;
    if (le.leader_elect && le.lease_duration <= le.renew_deadline) {
      return InvalidError(
          "leaderElection.leaseDuration: Invalid value: leaseDuration must be "
          "greater than renewDeadline");
    }
    KPP_ASSIGN_OR_RETURN(auto lock, StringAt(*election, "resourceLock", "leaderElection."));
    if (lock && *lock != "leases") {
      return InvalidError(
          fmt::format("leaderElection.resourceLock: Unsupported value: \"{}\": "
                      "supported values: \"leases\"",
                      *lock));
    }
    KPP_ASSIGN_OR_RETURN(auto name, StringAt(*election, "resourceName", "leaderElection."));
    KPP_ASSIGN_OR_RETURN(auto ns, StringAt(*election, "resourceNamespace", "leaderElection."));
    if (name && !name->empty()) le.resource_name = *name;
    if (ns && !ns->empty()) le.resource_namespace = *ns;
  }
  KPP_ASSIGN_OR_RETURN(const object* connection, ObjectAt(o, "clientConnection", ""));
  if (connection != nullptr) {
    KPP_RETURN_IF_ERROR(Unknown(*connection,
                                {"kubeconfig", "acceptContentTypes", "contentType", "qps", "burst"},
                                "clientConnection."));
    KPP_ASSIGN_OR_RETURN(auto kubeconfig, StringAt(*connection, "kubeconfig", "clientConnection."));
    config.kubeconfig = kubeconfig.value_or("");
    if (const value* qps = connection->if_contains("qps"); qps && qps->is_number()) {
      config.qps = qps->to_number<double>();
    }
    KPP_ASSIGN_OR_RETURN(auto burst, IntAt(*connection, "burst", "clientConnection."));
    if (burst) config.burst = static_cast<int>(*burst);
  }

  const value* profiles = o.if_contains("profiles");
  if (profiles != nullptr && !profiles->is_null()) {
    if (!profiles->is_array()) return InvalidError("profiles: Invalid value: expected a list");
    config.options.profiles.clear();
    std::set<std::string> names;
    for (size_t i = 0; i < profiles->as_array().size(); ++i) {
      const std::string at = fmt::format("profiles[{}].", i);
      const value& item = profiles->as_array()[i];
      if (!item.is_object()) return InvalidError(at + ": Invalid value: expected an object");
      KPP_ASSIGN_OR_RETURN(ProfileConfig profile, ParseProfile(item.as_object(), at));
      if (!names.insert(profile.scheduler_name).second) {
        return InvalidError(
            fmt::format("{}schedulerName: Duplicate value: \"{}\"", at, profile.scheduler_name));
      }
      config.options.profiles.push_back(std::move(profile));
    }
    if (config.options.profiles.empty()) {
      config.options.profiles.push_back(ProfileConfig{});
    }
  }
  return config;
}

Result<SchedulerConfiguration> LoadSchedulerConfiguration(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return std::move(text).error().WithContext(path);
  auto config = ParseSchedulerConfiguration(*text);
  if (!config.ok()) return std::move(config).error().WithContext(path);
  return config;
}

}  // namespace kpp::scheduler
