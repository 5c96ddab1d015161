#include "client/rest/config.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cctype>
#include <cstdlib>

#include "base/encoding.h"
#include "base/files.h"
#include "apimachinery/yaml/yaml_to_json.h"

namespace kpp::client::rest {
namespace {

namespace json = boost::json;

std::string StringField(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return "";
  return std::string(value->as_string());
}

bool BoolField(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) return false;
  if (value->is_bool()) return value->as_bool();
  return value->is_string() && (value->as_string() == "true" || value->as_string() == "True");
}

// The `inner` object of the entry of list `list` whose name is `name` (clusters[].cluster).
const json::object* NamedEntry(const json::object& config, std::string_view list,
                               std::string_view inner, std::string_view name) {
  const auto* entries = config.if_contains(list);
  if (entries == nullptr || !entries->is_array()) return nullptr;
  for (const auto& entry : entries->as_array()) {
    if (!entry.is_object()) continue;
    if (StringField(entry.as_object(), "name") != name) continue;
    const auto* value = entry.as_object().if_contains(inner);
    static const json::object kEmpty;
    if (value == nullptr || !value->is_object()) return &kEmpty;
    return &value->as_object();
  }
  return nullptr;
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return base_dir + "/" + path;
}

// A PEM from "<key>-data" (base64) or from the file named by "<key>".
Result<std::string> PemFrom(const json::object& object, const std::string& key,
                            const std::string& base_dir) {
  const std::string data = StringField(object, key + "-data");
  if (!data.empty()) {
    auto decoded = Base64Decode(data);
    if (!decoded.ok()) return InvalidError(fmt::format("{}-data is not valid base64", key));
    return decoded;
  }
  const std::string file = StringField(object, key);
  if (file.empty()) return std::string();
  auto content = ReadFile(Resolve(base_dir, file));
  if (!content.ok()) return std::move(content).error().WithContext(key);
  return content;
}

}  // namespace

Result<RestConfig> ParseKubeconfig(std::string_view text, const std::string& context,
                                   const std::string& base_dir) {
  KPP_ASSIGN_OR_RETURN(std::string converted, yaml::ToJson(text));
  const json::value document = json::parse(converted);
  if (!document.is_object()) return InvalidError("kubeconfig is not a mapping");
  const auto& config = document.as_object();
  const std::string context_name =
      context.empty() ? StringField(config, "current-context") : context;
  if (context_name.empty())
    return InvalidError("kubeconfig: no context chosen and no current-context");
  const json::object* chosen = NamedEntry(config, "contexts", "context", context_name);
  if (chosen == nullptr)
    return InvalidError(fmt::format("context \"{}\" does not exist", context_name));
  const std::string cluster_name = StringField(*chosen, "cluster");
  const json::object* cluster = NamedEntry(config, "clusters", "cluster", cluster_name);
  if (cluster == nullptr) {
    return InvalidError(
        fmt::format("cluster \"{}\" of context \"{}\" does not exist", cluster_name, context_name));
  }
  RestConfig out;
  out.server = StringField(*cluster, "server");
  if (out.server.empty())
    return InvalidError(fmt::format("cluster \"{}\" has no server", cluster_name));
  while (out.server.ends_with('/'))
    out.server.pop_back();
  out.tls.insecure_skip_verify = BoolField(*cluster, "insecure-skip-tls-verify");
  out.tls.server_name = StringField(*cluster, "tls-server-name");
  KPP_ASSIGN_OR_RETURN(out.tls.ca_pem, PemFrom(*cluster, "certificate-authority", base_dir));
  const std::string user_name = StringField(*chosen, "user");
  if (!user_name.empty()) {
    const json::object* user = NamedEntry(config, "users", "user", user_name);
    if (user == nullptr) return InvalidError(fmt::format("user \"{}\" does not exist", user_name));
    KPP_ASSIGN_OR_RETURN(out.tls.client_certificate_pem,
                         PemFrom(*user, "client-certificate", base_dir));
    KPP_ASSIGN_OR_RETURN(out.tls.client_key_pem, PemFrom(*user, "client-key", base_dir));
    out.bearer_token = StringField(*user, "token");
    const std::string token_file = StringField(*user, "tokenFile");
    if (out.bearer_token.empty() && !token_file.empty()) {
      out.bearer_token_file = Resolve(base_dir, token_file);
    }
  }
  const std::string ns = StringField(*chosen, "namespace");
  if (!ns.empty()) out.default_namespace = ns;
  return out;
}

Result<RestConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  KPP_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const auto slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  auto config = ParseKubeconfig(text, context, base_dir.empty() ? "/" : base_dir);
  if (!config.ok()) return std::move(config).error().WithContext(path);
  return config;
}

Result<RestConfig> InClusterConfig(const std::string& service_account_dir,
                                   const std::function<const char*(const char*)>& getenv) {
  auto env = [&](const char* name) -> std::string {
    const char* value = getenv ? getenv(name) : std::getenv(name);
    return value == nullptr ? "" : value;
  };
  const std::string host = env("KUBERNETES_SERVICE_HOST");
  const std::string port = env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return InvalidError(
        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
        "KUBERNETES_SERVICE_PORT must be defined");
  }
  RestConfig out;
  out.server = host.find(':') != std::string::npos ? fmt::format("https://[{}]:{}", host, port)
                                                   : fmt::format("https://{}:{}", host, port);
  const std::string token_file = service_account_dir + "/token";
  KPP_ASSIGN_OR_RETURN(out.bearer_token, ReadFile(token_file));
  out.bearer_token_file = token_file;
  KPP_ASSIGN_OR_RETURN(out.tls.ca_pem, ReadFile(service_account_dir + "/ca.crt"));
  if (auto ns = ReadFile(service_account_dir + "/namespace"); ns.ok() && !ns->empty()) {
    out.default_namespace = *ns;
    while (!out.default_namespace.empty() && std::isspace(out.default_namespace.back())) {
      out.default_namespace.pop_back();
    }
  }
  return out;
}

}  // namespace kpp::client::rest
