#include "apiserver/admission/pod_security.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "apimachinery/validation/field_errors.h"
#include "apiserver/admission/json_access.h"

namespace kpp::apiserver::admission {
namespace {

using boost::json::object;

struct Container {
  std::string name;
  const object* spec = nullptr;
  const object* security_context = nullptr;
};

std::vector<Container> Containers(const object* pod_spec) {
  std::vector<Container> containers;
  for (std::string_view list : {"initContainers", "containers", "ephemeralContainers"}) {
    const auto* array = json::Array(pod_spec, list);
    if (array == nullptr) continue;
    for (const auto& item : *array) {
      if (!item.is_object()) continue;
      const object* spec = &item.as_object();
      containers.push_back(
          {std::string(json::String(spec, "name")), spec, json::Object(spec, "securityContext")});
    }
  }
  return containers;
}

std::string JoinQuote(const std::vector<std::string>& items) {
  if (items.empty()) return "";
  std::string joined;
  for (const auto& item : items) {
    if (!joined.empty()) joined += ", ";
    joined += "\"" + item + "\"";
  }
  return joined;
}

std::string JoinQuote(const std::set<std::string>& items) {
  return JoinQuote(std::vector<std::string>(items.begin(), items.end()));
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string joined;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) joined += separator;
    joined += items[i];
  }
  return joined;
}

std::string_view Plural(std::string_view singular, std::string_view plural, size_t count) {
  return count == 1 ? singular : plural;
}

// "container \"a\"" / "containers \"a\", \"b\"".
std::string ContainersPhrase(const std::vector<std::string>& names) {
  return fmt::format("{} {}", Plural("container", "containers", names.size()), JoinQuote(names));
}

std::string GoQuote(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

struct Result {
  std::string reason;  // empty: allowed
  std::string detail;
};

bool IsWindows(const object* pod_spec) {
  return json::String(json::Object(pod_spec, "os"), "name") == "windows";
}

// Baseline checks.

Result AppArmorProfile(const object* metadata, const object* spec, int) {
  std::vector<std::string> bad_setters;
  std::set<std::string> bad_values;
  const auto allowed = [](std::string_view type) {
    return type == "RuntimeDefault" || type == "Localhost";
  };
  if (const auto* profile =
          json::Object(json::Object(spec, "securityContext"), "appArmorProfile")) {
    if (!allowed(json::String(profile, "type"))) {
      bad_setters.push_back("pod");
      bad_values.insert(std::string(json::String(profile, "type")));
    }
  }
  std::vector<std::string> bad_containers;
  for (const auto& container : Containers(spec)) {
    if (const auto* profile = json::Object(container.security_context, "appArmorProfile")) {
      if (!allowed(json::String(profile, "type"))) {
        bad_containers.push_back(container.name);
        bad_values.insert(std::string(json::String(profile, "type")));
      }
    }
  }
  if (!bad_containers.empty()) bad_setters.push_back(ContainersPhrase(bad_containers));
  std::vector<std::string> bad_value_list(bad_values.begin(), bad_values.end());
  std::vector<std::string> forbidden_annotations;
  if (const auto* annotations = json::Object(metadata, "annotations")) {
    for (const auto& [key, value] : *annotations) {
      if (!key.starts_with("container.apparmor.security.beta.kubernetes.io/")) continue;
      const std::string_view profile =
          value.is_string() ? std::string_view(value.as_string()) : std::string_view();
      if (profile.empty() || profile == "runtime/default" || profile.starts_with("localhost/")) {
        continue;
      }
      forbidden_annotations.push_back(
          fmt::format("{}={}", std::string_view(key), GoQuote(profile)));
    }
  }
  if (!forbidden_annotations.empty()) {
    std::sort(forbidden_annotations.begin(), forbidden_annotations.end());
    bad_value_list.insert(bad_value_list.end(), forbidden_annotations.begin(),
                          forbidden_annotations.end());
    bad_setters.emplace_back(Plural("annotation", "annotations", forbidden_annotations.size()));
  }
  if (bad_setters.empty()) return {};
  return {std::string(Plural("forbidden AppArmor profile", "forbidden AppArmor profiles",
                             bad_value_list.size())),
          fmt::format("{} must not set AppArmor profile type to {}", Join(bad_setters, " and "),
                      JoinQuote(bad_value_list))};
}

const std::set<std::string, std::less<>>& BaselineCapabilities() {
  static const std::set<std::string, std::less<>> allowed = {
      "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL",      "MKNOD",
      "NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT"};
  return allowed;
}

Result CapabilitiesBaseline(const object*, const object* spec, int) {
  std::vector<std::string> bad_containers;
  std::set<std::string> capabilities;
  for (const auto& container : Containers(spec)) {
    const auto* add = json::Array(json::Object(container.security_context, "capabilities"), "add");
    if (add == nullptr) continue;
    bool valid = true;
    for (const auto& capability : *add) {
      const std::string_view name =
          capability.is_string() ? std::string_view(capability.as_string()) : std::string_view();
      if (!BaselineCapabilities().contains(name)) {
        valid = false;
        capabilities.insert(std::string(name));
      }
    }
    if (!valid) bad_containers.push_back(container.name);
  }
  if (bad_containers.empty()) return {};
  return {"non-default capabilities",
          fmt::format("{} must not include {} in securityContext.capabilities.add",
                      ContainersPhrase(bad_containers), JoinQuote(capabilities))};
}

Result HostNamespaces(const object*, const object* spec, int) {
  std::vector<std::string> namespaces;
  if (json::Bool(spec, "hostNetwork").value_or(false)) namespaces.push_back("hostNetwork=true");
  if (json::Bool(spec, "hostPID").value_or(false)) namespaces.push_back("hostPID=true");
  if (json::Bool(spec, "hostIPC").value_or(false)) namespaces.push_back("hostIPC=true");
  if (namespaces.empty()) return {};
  return {"host namespaces", Join(namespaces, ", ")};
}

Result HostPathVolumes(const object*, const object* spec, int) {
  std::vector<std::string> volumes;
  if (const auto* list = json::Array(spec, "volumes")) {
    for (const auto& volume : *list) {
      if (volume.is_object() && json::Has(&volume.as_object(), "hostPath")) {
        volumes.emplace_back(json::String(&volume.as_object(), "name"));
      }
    }
  }
  if (volumes.empty()) return {};
  return {"hostPath volumes",
          fmt::format("{} {}", Plural("volume", "volumes", volumes.size()), JoinQuote(volumes))};
}

Result HostPorts(const object*, const object* spec, int) {
  std::vector<std::string> bad_containers;
  std::set<std::string> ports;  // sorted as strings, as upstream's
  for (const auto& container : Containers(spec)) {
    bool valid = true;
    if (const auto* list = json::Array(container.spec, "ports")) {
      for (const auto& port : *list) {
        const auto host_port = port.is_object() ? json::Int(&port.as_object(), "hostPort") : 0;
        if (host_port.value_or(0) != 0) {
          valid = false;
          ports.insert(std::to_string(*host_port));
        }
      }
    }
    if (!valid) bad_containers.push_back(container.name);
  }
  if (bad_containers.empty()) return {};
  return {"hostPort",
          fmt::format("{} {} {} {}", ContainersPhrase(bad_containers),
                      Plural("uses", "use", bad_containers.size()),
                      Plural("hostPort", "hostPorts", ports.size()),
                      Join(std::vector<std::string>(ports.begin(), ports.end()), ", "))};
}

Result Privileged(const object*, const object* spec, int) {
  std::vector<std::string> bad_containers;
  for (const auto& container : Containers(spec)) {
    if (json::Bool(container.security_context, "privileged").value_or(false)) {
      bad_containers.push_back(container.name);
    }
  }
  if (bad_containers.empty()) return {};
  return {"privileged", fmt::format("{} must not set securityContext.privileged=true",
                                    ContainersPhrase(bad_containers))};
}

Result ProcMount(const object*, const object* spec, int) {
  std::vector<std::string> bad_containers;
  std::set<std::string> types;
  for (const auto& container : Containers(spec)) {
    if (!json::Has(container.security_context, "procMount")) continue;
    const std::string_view type = json::String(container.security_context, "procMount");
    if (type != "Default") {
      bad_containers.push_back(container.name);
      types.insert(std::string(type));
    }
  }
  if (bad_containers.empty()) return {};
  return {"procMount", fmt::format("{} must not set securityContext.procMount to {}",
                                   ContainersPhrase(bad_containers), JoinQuote(types))};
}

Result SeLinuxOptions(const object*, const object* spec, int minor) {
  static const std::set<std::string, std::less<>> kAllowedTypes = {
      "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"};
  const auto allowed_type = [minor](std::string_view type) {
    return kAllowedTypes.contains(type) && (minor >= 31 || type != "container_engine_t");
  };
  std::vector<std::string> bad_setters;
  std::set<std::string> bad_types;
  bool set_user = false, set_role = false;
  const auto valid = [&](const object* options) {
    bool ok = true;
    const std::string_view type = json::String(options, "type");
    if (!allowed_type(type)) {
      ok = false;
      bad_types.insert(std::string(type));
    }
    if (!json::String(options, "user").empty()) {
      ok = false;
      set_user = true;
    }
    if (!json::String(options, "role").empty()) {
      ok = false;
      set_role = true;
    }
    return ok;
  };
  if (const auto* options = json::Object(json::Object(spec, "securityContext"), "seLinuxOptions")) {
    if (!valid(options)) bad_setters.push_back("pod");
  }
  std::vector<std::string> bad_containers;
  for (const auto& container : Containers(spec)) {
    if (const auto* options = json::Object(container.security_context, "seLinuxOptions")) {
      if (!valid(options)) bad_containers.push_back(container.name);
    }
  }
  if (!bad_containers.empty()) bad_setters.push_back(ContainersPhrase(bad_containers));
  if (bad_setters.empty()) return {};
  std::vector<std::string> bad_data;
  if (!bad_types.empty()) {
    bad_data.push_back(
        fmt::format("{} {}", Plural("type", "types", bad_types.size()), JoinQuote(bad_types)));
  }
  if (set_user) bad_data.push_back("user may not be set");
  if (set_role) bad_data.push_back("role may not be set");
  return {"seLinuxOptions", fmt::format("{} set forbidden securityContext.seLinuxOptions: {}",
                                        Join(bad_setters, " and "), Join(bad_data, "; "))};
}

bool ValidSeccomp(std::string_view type) {
  return type == "Localhost" || type == "RuntimeDefault";
}

// Both seccomp checks; `restricted` also requires a profile to be set.
Result Seccomp(const object* spec, bool restricted) {
  std::vector<std::string> bad_setters;
  std::set<std::string> bad_values;
  bool pod_set = false;
  if (const auto* profile = json::Object(json::Object(spec, "securityContext"), "seccompProfile")) {
    const std::string_view type = json::String(profile, "type");
    if (!ValidSeccomp(type)) {
      bad_setters.push_back("pod");
      bad_values.insert(std::string(type));
    } else {
      pod_set = true;
    }
  }
  std::vector<std::string> explicitly_bad, implicitly_bad;
  for (const auto& container : Containers(spec)) {
    if (const auto* profile = json::Object(container.security_context, "seccompProfile")) {
      const std::string_view type = json::String(profile, "type");
      if (!ValidSeccomp(type)) {
        explicitly_bad.push_back(container.name);
        bad_values.insert(std::string(type));
      }
    } else if (!pod_set) {
      implicitly_bad.push_back(container.name);
    }
  }
  if (!explicitly_bad.empty()) bad_setters.push_back(ContainersPhrase(explicitly_bad));
  if (!bad_setters.empty()) {
    return {"seccompProfile",
            fmt::format("{} must not set securityContext.seccompProfile.type to {}",
                        Join(bad_setters, " and "), JoinQuote(bad_values))};
  }
  if (restricted && !implicitly_bad.empty()) {
    return {"seccompProfile",
            fmt::format("pod or {} must set securityContext.seccompProfile.type to "
                        "\"RuntimeDefault\" or \"Localhost\"",
                        ContainersPhrase(implicitly_bad))};
  }
  return {};
}

bool ValidSeccompAnnotation(std::string_view value) {
  return value == "runtime/default" || value == "docker/default" || value.starts_with("localhost/");
}

// Before 1.19 the baseline looks at the seccomp annotations of the alpha days, not the field.
Result SeccompAnnotations(const object* metadata, const object* spec) {
  const auto* annotations = json::Object(metadata, "annotations");
  std::set<std::string> forbidden;
  const auto check = [&](const std::string& key) {
    if (!json::Has(annotations, key)) return;
    const std::string_view value = json::String(annotations, key);
    if (!ValidSeccompAnnotation(value)) forbidden.insert(fmt::format("{}={}", key, GoQuote(value)));
  };
  check("seccomp.security.alpha.kubernetes.io/pod");
  for (const auto& container : Containers(spec)) {
    check("container.seccomp.security.alpha.kubernetes.io/" + container.name);
  }
  if (forbidden.empty()) return {};
  return {"seccompProfile",
          fmt::format("forbidden {} {}", Plural("annotation", "annotations", forbidden.size()),
                      Join(std::vector<std::string>(forbidden.begin(), forbidden.end()), ", "))};
}

Result SeccompBaseline(const object* metadata, const object* spec, int minor) {
  if (minor < 19) return SeccompAnnotations(metadata, spec);
  return Seccomp(spec, false);
}

Result Sysctls(const object*, const object* spec, int minor) {
  // Each allowed sysctl with the version that allowed it.
  static const std::map<std::string, int, std::less<>> kAllowedSince = {
      {"kernel.shm_rmid_forced", 0},
      {"net.ipv4.ip_local_port_range", 0},
      {"net.ipv4.tcp_syncookies", 0},
      {"net.ipv4.ping_group_range", 0},
      {"net.ipv4.ip_unprivileged_port_start", 0},
      {"net.ipv4.ip_local_reserved_ports", 27},
      {"net.ipv4.tcp_keepalive_time", 29},
      {"net.ipv4.tcp_fin_timeout", 29},
      {"net.ipv4.tcp_keepalive_intvl", 29},
      {"net.ipv4.tcp_keepalive_probes", 29},
      {"net.ipv4.tcp_rmem", 32},
      {"net.ipv4.tcp_wmem", 32}};
  const auto allowed = [minor](std::string_view name) {
    const auto found = kAllowedSince.find(name);
    return found != kAllowedSince.end() && minor >= found->second;
  };
  std::vector<std::string> forbidden;
  if (const auto* list = json::Array(json::Object(spec, "securityContext"), "sysctls")) {
    for (const auto& sysctl : *list) {
      const std::string_view name =
          sysctl.is_object() ? json::String(&sysctl.as_object(), "name") : std::string_view();
      if (!allowed(name)) forbidden.emplace_back(name);
    }
  }
  if (forbidden.empty()) return {};
  return {"forbidden sysctls", Join(forbidden, ", ")};
}

Result WindowsHostProcess(const object*, const object* spec, int) {
  const auto host_process = [](const object* security_context) {
    return json::Bool(json::Object(security_context, "windowsOptions"), "hostProcess")
        .value_or(false);
  };
  std::vector<std::string> setters;
  if (host_process(json::Object(spec, "securityContext"))) setters.push_back("pod");
  std::vector<std::string> bad_containers;
  for (const auto& container : Containers(spec)) {
    if (host_process(container.security_context)) bad_containers.push_back(container.name);
  }
  if (!bad_containers.empty()) setters.push_back(ContainersPhrase(bad_containers));
  if (setters.empty()) return {};
  return {"hostProcess",
          fmt::format("{} must not set securityContext.windowsOptions.hostProcess=true",
                      Join(setters, " and "))};
}

// Restricted checks.

Result AllowPrivilegeEscalation(const object*, const object* spec, int minor) {
  if (minor >= 25 && IsWindows(spec)) return {};
  std::vector<std::string> bad_containers;
  for (const auto& container : Containers(spec)) {
    if (json::Bool(container.security_context, "allowPrivilegeEscalation").value_or(true)) {
      bad_containers.push_back(container.name);
    }
  }
  if (bad_containers.empty()) return {};
  return {"allowPrivilegeEscalation != false",
          fmt::format("{} must set securityContext.allowPrivilegeEscalation=false",
                      ContainersPhrase(bad_containers))};
}

Result CapabilitiesRestricted(const object*, const object* spec, int minor) {
  if (minor >= 25 && IsWindows(spec)) return {};
  std::vector<std::string> missing_drop_all, adding_forbidden;
  std::set<std::string> forbidden;
  for (const auto& container : Containers(spec)) {
    const auto* capabilities = json::Object(container.security_context, "capabilities");
    if (capabilities == nullptr) {
      missing_drop_all.push_back(container.name);
      continue;
    }
    bool dropped_all = false;
    if (const auto* drop = json::Array(capabilities, "drop")) {
      for (const auto& capability : *drop) {
        if (capability.is_string() && capability.as_string() == "ALL") dropped_all = true;
      }
    }
    if (!dropped_all) missing_drop_all.push_back(container.name);
    bool added_forbidden = false;
    if (const auto* add = json::Array(capabilities, "add")) {
      for (const auto& capability : *add) {
        const std::string_view name =
            capability.is_string() ? std::string_view(capability.as_string()) : std::string_view();
        if (name != "NET_BIND_SERVICE") {
          added_forbidden = true;
          forbidden.insert(std::string(name));
        }
      }
    }
    if (added_forbidden) adding_forbidden.push_back(container.name);
  }
  std::vector<std::string> details;
  if (!missing_drop_all.empty()) {
    details.push_back(fmt::format("{} must set securityContext.capabilities.drop=[\"ALL\"]",
                                  ContainersPhrase(missing_drop_all)));
  }
  if (!adding_forbidden.empty()) {
    details.push_back(fmt::format("{} must not include {} in securityContext.capabilities.add",
                                  ContainersPhrase(adding_forbidden), JoinQuote(forbidden)));
  }
  if (details.empty()) return {};
  return {"unrestricted capabilities", Join(details, "; ")};
}

Result RestrictedVolumes(const object*, const object* spec, int) {
  static const std::set<std::string, std::less<>> kAllowed = {
      "configMap", "csi",   "downwardAPI",           "emptyDir",
      "ephemeral", "image", "persistentVolumeClaim", "projected",
      "secret"};
  // Upstream's names of the other volume sources, in the order it tests them.
  static constexpr std::string_view kKnown[] = {"hostPath",
                                                "gcePersistentDisk",
                                                "awsElasticBlockStore",
                                                "gitRepo",
                                                "nfs",
                                                "iscsi",
                                                "glusterfs",
                                                "rbd",
                                                "flexVolume",
                                                "cinder",
                                                "cephfs",
                                                "flocker",
                                                "fc",
                                                "azureFile",
                                                "vsphereVolume",
                                                "quobyte",
                                                "azureDisk",
                                                "photonPersistentDisk",
                                                "portworxVolume",
                                                "scaleIO",
                                                "storageos"};
  std::vector<std::string> bad_volumes;
  std::set<std::string> bad_types;
  if (const auto* list = json::Array(spec, "volumes")) {
    for (const auto& item : *list) {
      if (!item.is_object()) continue;
      const object* volume = &item.as_object();
      const bool allowed = std::any_of(kAllowed.begin(), kAllowed.end(), [&](const auto& source) {
        return json::Has(volume, source);
      });
      if (allowed) continue;
      bad_volumes.emplace_back(json::String(volume, "name"));
      std::string type = "unknown";
      for (std::string_view source : kKnown) {
        if (json::Has(volume, source)) {
          type = source;
          break;
        }
      }
      bad_types.insert(type);
    }
  }
  if (bad_volumes.empty()) return {};
  return {"restricted volume types",
          fmt::format("{} {} {} {} {}", Plural("volume", "volumes", bad_volumes.size()),
                      JoinQuote(bad_volumes), Plural("uses", "use", bad_volumes.size()),
                      Plural("restricted volume type", "restricted volume types", bad_types.size()),
                      JoinQuote(bad_types))};
}

Result RunAsNonRoot(const object*, const object* spec, int) {
  std::vector<std::string> bad_setters;
  bool pod_non_root = false;
  const auto* pod_context = json::Object(spec, "securityContext");
  if (const auto value = json::Bool(pod_context, "runAsNonRoot")) {
    if (!*value) {
      bad_setters.push_back("pod");
    } else {
      pod_non_root = true;
    }
  }
  std::vector<std::string> explicitly_bad, implicitly_bad;
  for (const auto& container : Containers(spec)) {
    if (const auto value = json::Bool(container.security_context, "runAsNonRoot")) {
      if (!*value) explicitly_bad.push_back(container.name);
    } else if (!pod_non_root) {
      implicitly_bad.push_back(container.name);
    }
  }
  if (!explicitly_bad.empty()) bad_setters.push_back(ContainersPhrase(explicitly_bad));
  if (!bad_setters.empty()) {
    return {"runAsNonRoot != true",
            fmt::format("{} must not set securityContext.runAsNonRoot=false",
                        Join(bad_setters, " and "))};
  }
  if (!implicitly_bad.empty()) {
    return {"runAsNonRoot != true",
            fmt::format("pod or {} must set securityContext.runAsNonRoot=true",
                        ContainersPhrase(implicitly_bad))};
  }
  return {};
}

Result RunAsUser(const object*, const object* spec, int) {
  std::vector<std::string> bad_setters;
  if (json::Int(json::Object(spec, "securityContext"), "runAsUser") == 0) {
    bad_setters.push_back("pod");
  }
  std::vector<std::string> bad_containers;
  for (const auto& container : Containers(spec)) {
    if (json::Int(container.security_context, "runAsUser") == 0) {
      bad_containers.push_back(container.name);
    }
  }
  if (!bad_containers.empty()) bad_setters.push_back(ContainersPhrase(bad_containers));
  if (bad_setters.empty()) return {};
  return {"runAsUser=0", fmt::format("{} must not set runAsUser=0", Join(bad_setters, " and "))};
}

Result SeccompRestricted(const object*, const object* spec, int minor) {
  if (minor >= 25 && IsWindows(spec)) return {};
  return Seccomp(spec, true);
}

using Check = Result (*)(const object*, const object*, int minor);

// Upstream's order: baseline check IDs sorted, then restricted ones sorted. A check applies from
// the version upstream introduced it (`since`, a 1.x minor); a restricted level skips the
// baseline checks its own replace (capabilities, hostPath volumes, seccomp) from the version the
// replacing check exists (`replaced_since`; -1: never replaced).
struct NamedCheck {
  Check check;
  bool baseline;
  int since;
  int replaced_since;
};
constexpr NamedCheck kChecks[] = {
    {AppArmorProfile, true, 0, -1},            // appArmorProfile
    {CapabilitiesBaseline, true, 0, 22},       // capabilities_baseline
    {HostNamespaces, true, 0, -1},             // hostNamespaces
    {HostPathVolumes, true, 0, 0},             // hostPathVolumes
    {HostPorts, true, 0, -1},                  // hostPorts
    {Privileged, true, 0, -1},                 // privileged
    {ProcMount, true, 0, -1},                  // procMount
    {SeLinuxOptions, true, 0, -1},             // seLinuxOptions
    {SeccompBaseline, true, 0, 19},            // seccompProfile_baseline
    {Sysctls, true, 0, -1},                    // sysctls
    {WindowsHostProcess, true, 0, -1},         // windowsHostProcess
    {AllowPrivilegeEscalation, false, 8, -1},  // allowPrivilegeEscalation
    {CapabilitiesRestricted, false, 22, -1},   // capabilities_restricted
    {RestrictedVolumes, false, 0, -1},         // restrictedVolumes
    {RunAsNonRoot, false, 0, -1},              // runAsNonRoot
    {RunAsUser, false, 23, -1},                // runAsUser
    {SeccompRestricted, false, 19, -1},        // seccompProfile_restricted
};

bool Applies(const NamedCheck& check, PodSecurityLevel level, int minor) {
  if (level == PodSecurityLevel::kPrivileged || minor < check.since) return false;
  if (level == PodSecurityLevel::kBaseline) return check.baseline;
  return check.replaced_since < 0 || minor < check.replaced_since;
}

struct LevelVersion : PodSecurityLevelVersion {
  // The checks of this 1.x minor: newer ones than this server knows are evaluated as its own.
  int Minor() const {
    if (version == "latest" || version.size() > 6) return kLatestPodSecurityMinor;
    return std::min(std::stoi(version.substr(3)), kLatestPodSecurityMinor);
  }
  std::string Text() const {
    const char* name = level == PodSecurityLevel::kRestricted ? "restricted"
                       : level == PodSecurityLevel::kBaseline ? "baseline"
                                                              : "privileged";
    return fmt::format("{}:{}", name, version);
  }
};

struct Policy {
  LevelVersion enforce, audit, warn;

  static Policy Defaults(const PodSecurityConfig& config) {
    return {{config.enforce}, {config.audit}, {config.warn}};
  }
  bool FullyPrivileged() const {
    return enforce.level == PodSecurityLevel::kPrivileged &&
           audit.level == PodSecurityLevel::kPrivileged &&
           warn.level == PodSecurityLevel::kPrivileged;
  }
};

std::optional<PodSecurityLevel> ParseLevel(std::string_view text) {
  if (text == "privileged") return PodSecurityLevel::kPrivileged;
  if (text == "baseline") return PodSecurityLevel::kBaseline;
  if (text == "restricted") return PodSecurityLevel::kRestricted;
  return std::nullopt;
}

// "latest" or "v1.<n>" (no leading zeros), as upstream's ParseVersion.
bool ValidVersion(std::string_view text) {
  if (text == "latest") return true;
  if (!text.starts_with("v1.") || text.size() == 3) return false;
  const std::string_view minor = text.substr(3);
  if (minor.size() > 1 && minor[0] == '0') return false;
  return std::all_of(minor.begin(), minor.end(), [](char c) { return c >= '0' && c <= '9'; });
}

constexpr std::string_view kLabelPrefix = "pod-security.kubernetes.io/";

// Upstream's PolicyToEvaluate: an invalid enforce level fails closed (restricted), invalid warn
// and audit levels fail open, invalid versions are latest; warn defaults to a stricter enforce
// level. `errors` (optional) gets upstream's field errors for invalid labels.
Policy PolicyOf(const object* labels, const Policy& defaults,
                validation::FieldErrors* errors = nullptr) {
  Policy policy = defaults;
  const auto path = validation::FieldPath("metadata").Child("labels");
  const auto invalid = [&](std::string_view label, std::string_view value, const char* detail) {
    if (errors != nullptr) errors->push_back(validation::Invalid(path.Key(label), value, detail));
  };
  constexpr const char* kLevelError = "must be one of privileged, baseline, restricted";
  constexpr const char* kVersionError = "must be \"latest\" or \"v1.x\"";
  const auto read_level = [&](std::string_view mode, LevelVersion& target, bool fail_open) {
    const std::string label = std::string(kLabelPrefix) + std::string(mode);
    if (!json::Has(labels, label)) return false;
    const std::string_view text = json::String(labels, label);
    const auto level = ParseLevel(text);
    if (!level) invalid(label, text, kLevelError);
    target.level =
        level.value_or(fail_open ? PodSecurityLevel::kPrivileged : PodSecurityLevel::kRestricted);
    return level.has_value();
  };
  const auto read_version = [&](std::string_view mode, LevelVersion& target) {
    const std::string label = std::string(kLabelPrefix) + std::string(mode) + "-version";
    if (!json::Has(labels, label)) return false;
    const std::string_view text = json::String(labels, label);
    if (ValidVersion(text)) {
      target.version = text;
    } else {
      invalid(label, text, kVersionError);
      target.version = "latest";
    }
    return true;
  };
  const bool has_enforce_level = read_level("enforce", policy.enforce, false);
  read_version("enforce", policy.enforce);
  read_level("audit", policy.audit, true);
  read_version("audit", policy.audit);
  const bool has_warn_level = json::Has(labels, std::string(kLabelPrefix) + "warn");
  read_level("warn", policy.warn, true);
  const bool has_warn_version = read_version("warn", policy.warn);
  if (!has_warn_level && has_enforce_level && policy.enforce.level > policy.warn.level) {
    policy.warn.level = policy.enforce.level;
    if (!has_warn_version) policy.warn.version = policy.enforce.version;
  }
  return policy;
}

constexpr std::string_view kAnnotationPrefix = "pod-security.kubernetes.io/";

void AddAuditAnnotation(Context& context, std::string_view key, std::string value) {
  if (context.audit_annotations == nullptr) return;
  context.audit_annotations->emplace_back(std::string(kAnnotationPrefix) + std::string(key),
                                          std::move(value));
}

// Upstream's exemption responses: "namespace", "user" or "runtimeClass".
void AddExemption(Context& context, std::string_view reason) {
  AddAuditAnnotation(context, "exempt", std::string(reason));
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The reasons only ("privileged, runAsNonRoot != true"), as the namespace warnings list them.
std::string PodSecurityReasons(PodSecurityLevel level, const object* pod_metadata,
                               const object* pod_spec, int minor);

// Upstream's warnings when a namespace's enforce level becomes stricter: which existing pods
// would now be refused, one line per distinct set of reasons, naming the first pod by name.
std::vector<std::string> ExistingPodWarnings(const std::string& namespace_,
                                             const LevelVersion& enforce, Context& context) {
  auto pods = context.reader.List("", "pods", namespace_);
  if (!pods.ok()) return {"failed to list pods while checking new PodSecurity enforce level"};
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::string, int>> by_reasons;  // reasons -> first pod, count
  for (const auto& pod : *pods) {
    const auto* metadata = json::Object(&pod, "metadata");
    const std::string reasons =
        PodSecurityReasons(enforce.level, metadata, json::Object(&pod, "spec"), enforce.Minor());
    if (reasons.empty()) continue;
    const std::string name(json::String(metadata, "name"));
    auto [entry, inserted] = by_reasons.emplace(reasons, std::pair{name, 0});
    if (inserted) order.push_back(reasons);
    if (name < entry->second.first) entry->second.first = name;
    ++entry->second.second;
  }
  if (order.empty()) return {};
  std::vector<std::string> lines;
  for (const auto& reasons : order) {
    const auto& [pod, count] = by_reasons.at(reasons);
    if (count == 1) {
      lines.push_back(fmt::format("{}: {}", pod, reasons));
    } else if (count == 2) {
      lines.push_back(fmt::format("{} (and 1 other pod): {}", pod, reasons));
    } else {
      lines.push_back(fmt::format("{} (and {} other pods): {}", pod, count - 1, reasons));
    }
  }
  std::sort(lines.begin(), lines.end());
  lines.insert(lines.begin(),
               fmt::format("existing pods in namespace \"{}\" violate the new PodSecurity enforce "
                           "level \"{}\"",
                           namespace_, enforce.Text()));
  return lines;
}

std::optional<Rejection> ValidateNamespace(const Attributes& attributes, const Policy& defaults,
                                           bool exempt, Context& context) {
  if (!attributes.subresource.empty() || attributes.object == nullptr) return std::nullopt;
  const auto labels = [](const object* ns) {
    return json::Object(json::Object(ns, "metadata"), "labels");
  };
  validation::FieldErrors errors;
  const Policy policy = PolicyOf(labels(attributes.object), defaults, &errors);
  const std::string name(json::String(json::Object(attributes.object, "metadata"), "name"));
  const auto refuse = [&] {
    Error error = validation::ToInvalidError("Namespace", name, errors);
    return Rejection{std::move(error), {name, "", "Namespace"}};
  };
  if (attributes.operation == Operation::kCreate) {
    if (!errors.empty()) return refuse();
    return std::nullopt;
  }
  if (attributes.operation != Operation::kUpdate) return std::nullopt;
  validation::FieldErrors old_errors;
  const Policy old_policy = PolicyOf(labels(attributes.old_object), defaults, &old_errors);
  const auto texts = [](const validation::FieldErrors& list) {
    std::vector<std::string> lines;
    for (const auto& error : list)
      lines.push_back(error.ToString());
    return lines;
  };
  // Labels that were already invalid do not block other changes.
  if (!errors.empty() && (old_errors.empty() || texts(errors) != texts(old_errors))) {
    return refuse();
  }
  if (policy.enforce.level == old_policy.enforce.level &&
      policy.enforce.version == old_policy.enforce.version) {
    return std::nullopt;
  }
  if (policy.enforce.level == PodSecurityLevel::kPrivileged) return std::nullopt;
  if (policy.enforce.version == old_policy.enforce.version &&
      policy.enforce.level <= old_policy.enforce.level) {
    return std::nullopt;
  }
  if (exempt) {
    AddExemption(context, "namespace");
    return std::nullopt;
  }
  for (auto& warning : ExistingPodWarnings(name, policy.enforce, context)) {
    context.warnings.push_back(std::move(warning));
  }
  return std::nullopt;
}

// Where a workload kind keeps its pod template: {metadata, spec}; nulls when it has none.
std::pair<const object*, const object*> PodTemplateOf(const Attributes& attributes) {
  const object* root = attributes.object;
  const object* template_ = nullptr;
  if (attributes.Is("", "podtemplates")) {
    template_ = json::Object(root, "template");
  } else if (attributes.Is("", "replicationcontrollers") ||
             (attributes.group == "apps" &&
              (attributes.resource == "deployments" || attributes.resource == "replicasets" ||
               attributes.resource == "statefulsets" || attributes.resource == "daemonsets")) ||
             attributes.Is("batch", "jobs")) {
    template_ = json::Object(json::Object(root, "spec"), "template");
  } else if (attributes.Is("batch", "cronjobs")) {
    template_ = json::Object(
        json::Object(json::Object(json::Object(root, "spec"), "jobTemplate"), "spec"), "template");
  } else {
    return {nullptr, nullptr};
  }
  return {json::Object(template_, "metadata"), json::Object(template_, "spec")};
}

bool IsWorkload(const Attributes& attributes) {
  return attributes.Is("", "podtemplates") || attributes.Is("", "replicationcontrollers") ||
         (attributes.group == "apps" &&
          (attributes.resource == "deployments" || attributes.resource == "replicasets" ||
           attributes.resource == "statefulsets" || attributes.resource == "daemonsets")) ||
         attributes.Is("batch", "jobs") || attributes.Is("batch", "cronjobs");
}

// Upstream evaluates a pod update only when it adds or removes containers or changes an image
// (the spec fields an update may change that the checks could care about).
bool IsSignificantPodUpdate(const object* pod, const object* old_pod) {
  const auto* spec = json::Object(pod, "spec");
  const auto* old_spec = json::Object(old_pod, "spec");
  const auto image = [](const boost::json::value& container) {
    return container.is_object() ? json::String(&container.as_object(), "image")
                                 : std::string_view();
  };
  for (std::string_view list : {"containers", "initContainers"}) {
    const auto* now = json::Array(spec, list);
    const auto* before = json::Array(old_spec, list);
    const size_t count = now != nullptr ? now->size() : 0;
    if (count != (before != nullptr ? before->size() : 0)) return true;
    for (size_t i = 0; i < count; ++i) {
      if (image((*now)[i]) != image((*before)[i])) return true;
    }
  }
  if (const auto* ephemeral = json::Array(spec, "ephemeralContainers")) {
    const auto* before = json::Array(old_spec, "ephemeralContainers");
    for (const auto& container : *ephemeral) {
      const boost::json::value* old_container = nullptr;
      if (before != nullptr && container.is_object()) {
        for (const auto& candidate : *before) {
          if (candidate.is_object() && json::String(&candidate.as_object(), "name") ==
                                           json::String(&container.as_object(), "name")) {
            old_container = &candidate;
          }
        }
      }
      if (old_container == nullptr || image(container) != image(*old_container)) return true;
    }
  }
  return false;
}

}  // namespace

namespace {

std::string PodSecurityReasons(PodSecurityLevel level, const object* pod_metadata,
                               const object* pod_spec, int minor) {
  std::vector<std::string> reasons;
  for (const auto& check : kChecks) {
    if (!Applies(check, level, minor)) continue;
    Result result = check.check(pod_metadata, pod_spec, minor);
    if (!result.reason.empty()) reasons.push_back(std::move(result.reason));
  }
  return Join(reasons, ", ");
}

}  // namespace

std::string PodSecurityViolations(PodSecurityLevel level, const object* pod_metadata,
                                  const object* pod_spec, int minor) {
  std::vector<std::string> parts;
  for (const auto& check : kChecks) {
    if (!Applies(check, level, minor)) continue;
    Result result = check.check(pod_metadata, pod_spec, minor);
    if (result.reason.empty()) continue;
    parts.push_back(result.detail.empty() ? result.reason
                                          : fmt::format("{} ({})", result.reason, result.detail));
  }
  return Join(parts, ", ");
}

bool PodSecurity::NeedsObject(const Attributes& attributes) const {
  // What Validate looks at: a pod's status or binding is not its business.
  if (attributes.Is("", "pods")) {
    return attributes.subresource.empty() || attributes.subresource == "ephemeralcontainers";
  }
  return (attributes.Is("", "namespaces") || IsWorkload(attributes)) &&
         attributes.subresource.empty();
}

namespace {

// Upstream's EvaluatePod: the enforce level (pods only), then audit, then warn (unless refused),
// each evaluated once per distinct level and version.
std::optional<Rejection> EvaluatePod(const Attributes& attributes, const Policy& policy,
                                     const validation::FieldErrors& policy_errors,
                                     const object* metadata, const object* spec,
                                     const PodSecurityConfig& config, bool enforce,
                                     Context& context) {
  if (Contains(config.exempt_runtime_classes, json::String(spec, "runtimeClassName"))) {
    AddExemption(context, "runtimeClass");
    return std::nullopt;
  }
  if (!policy_errors.empty()) {
    std::vector<std::string> texts;
    for (const auto& error : policy_errors)
      texts.push_back(error.ToString());
    // Go's aggregate error: one error as is, several in brackets.
    AddAuditAnnotation(context, "error",
                       "Failed to parse policy: " +
                           (texts.size() == 1 ? texts[0] : "[" + Join(texts, ", ") + "]"));
  }
  std::map<std::string, std::string> evaluated;  // "level:version" -> violations
  const auto violations = [&](const LevelVersion& mode) -> const std::string& {
    const std::string key = mode.Text();
    auto found = evaluated.find(key);
    if (found == evaluated.end()) {
      found =
          evaluated.emplace(key, PodSecurityViolations(mode.level, metadata, spec, mode.Minor()))
              .first;
    }
    return found->second;
  };
  std::optional<Rejection> rejection;
  if (enforce) {
    AddAuditAnnotation(context, "enforce-policy", policy.enforce.Text());
    if (const auto& enforced = violations(policy.enforce); !enforced.empty()) {
      rejection = Forbidden(
          attributes, attributes.name,
          fmt::format("violates PodSecurity \"{}\": {}", policy.enforce.Text(), enforced));
    }
  }
  if (const auto& audited = violations(policy.audit); !audited.empty()) {
    AddAuditAnnotation(
        context, "audit-violations",
        fmt::format("would violate PodSecurity \"{}\": {}", policy.audit.Text(), audited));
  }
  if (rejection) return rejection;
  if (const auto& warned = violations(policy.warn); !warned.empty()) {
    context.warnings.push_back(
        fmt::format("would violate PodSecurity \"{}\": {}", policy.warn.Text(), warned));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Rejection> PodSecurity::Validate(const Attributes& attributes,
                                               Context& context) const {
  if (attributes.operation != Operation::kCreate && attributes.operation != Operation::kUpdate) {
    return std::nullopt;
  }
  const Policy defaults = Policy::Defaults(config_);
  if (attributes.Is("", "namespaces")) {
    return ValidateNamespace(attributes, defaults,
                             Contains(config_.exempt_namespaces, attributes.name), context);
  }
  if (attributes.object == nullptr || attributes.namespace_.empty()) return std::nullopt;
  const bool pod = attributes.Is("", "pods");
  if (pod) {
    // Only the pod itself and its ephemeral containers; exec, status, binding... are not.
    if (!attributes.subresource.empty() && attributes.subresource != "ephemeralcontainers") {
      return std::nullopt;
    }
  } else if (!IsWorkload(attributes) || !attributes.subresource.empty()) {
    return std::nullopt;
  }
  if (Contains(config_.exempt_namespaces, attributes.namespace_)) {
    AddExemption(context, "namespace");
    return std::nullopt;
  }
  if (Contains(config_.exempt_usernames, attributes.user.name)) {
    AddExemption(context, "user");
    return std::nullopt;
  }
  auto namespace_ = context.reader.Get("", "namespaces", "", attributes.namespace_);
  if (!namespace_.ok() || !namespace_->has_value()) {
    if (!pod) {
      AddAuditAnnotation(context, "error",
                         fmt::format("failed to lookup namespace \"{}\"", attributes.namespace_));
      return std::nullopt;
    }
    return Rejection{InternalError(fmt::format("Internal error occurred: failed to lookup "
                                               "namespace \"{}\"",
                                               attributes.namespace_)),
                     {}};
  }
  validation::FieldErrors policy_errors;
  const Policy policy = PolicyOf(json::Object(json::Object(&**namespace_, "metadata"), "labels"),
                                 defaults, &policy_errors);
  if (pod) {
    if (policy_errors.empty() && policy.FullyPrivileged()) return std::nullopt;
    if (attributes.operation == Operation::kUpdate && attributes.old_object != nullptr &&
        !IsSignificantPodUpdate(attributes.object, attributes.old_object)) {
      return std::nullopt;
    }
    return EvaluatePod(attributes, policy, policy_errors,
                       json::Object(attributes.object, "metadata"),
                       json::Object(attributes.object, "spec"), config_, true, context);
  }
  if (policy_errors.empty() && policy.warn.level == PodSecurityLevel::kPrivileged &&
      policy.audit.level == PodSecurityLevel::kPrivileged) {
    return std::nullopt;
  }
  const auto [metadata, spec] = PodTemplateOf(attributes);
  if (spec == nullptr) return std::nullopt;
  return EvaluatePod(attributes, policy, policy_errors, metadata, spec, config_, false, context);
}

}  // namespace kpp::apiserver::admission
