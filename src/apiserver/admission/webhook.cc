#include "apiserver/admission/webhook.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "apimachinery/patch/json_patch.h"
#include "apiserver/admission/json_access.h"
#include "base/encoding.h"
#include "base/random.h"
#include "client/rest/transport.h"

namespace kpp::apiserver::admission {
namespace webhook {
namespace {

using boost::json::array;
using boost::json::object;

constexpr std::string_view kGroup = "admissionregistration.k8s.io";

bool ListHas(const array* list, std::string_view wanted) {
  if (list == nullptr) return false;
  for (const auto& item : *list) {
    if (item.is_string() && (item.as_string() == "*" || item.as_string() == wanted)) return true;
  }
  return false;
}

bool ResourceMatches(const array* resources, const Attributes& attributes) {
  if (resources == nullptr) return false;
  for (const auto& item : *resources) {
    if (!item.is_string()) continue;
    const std::string_view rule = item.as_string();
    if (rule == "*/*") return true;
    const auto slash = rule.find('/');
    const std::string_view resource = rule.substr(0, slash);
    const std::string_view subresource =
        slash == std::string_view::npos ? std::string_view() : rule.substr(slash + 1);
    if (resource != "*" && resource != attributes.resource) continue;
    if (attributes.subresource.empty()
            ? slash == std::string_view::npos
            : (subresource == "*" || subresource == attributes.subresource)) {
      return true;
    }
  }
  return false;
}

const object* Labels(const object* item) {
  return json::Object(json::Object(item, "metadata"), "labels");
}

// A Status's code as kpp's error code (a refusal is at least 400).
ErrorCode CodeOf(int64_t status) {
  switch (status) {
    case 401: return ErrorCode::kUnauthorized;
    case 403: return ErrorCode::kForbidden;
    case 404: return ErrorCode::kNotFound;
    case 409: return ErrorCode::kConflict;
    case 422: return ErrorCode::kInvalid;
    case 429: return ErrorCode::kTooManyRequests;
    case 500: return ErrorCode::kInternalError;
    case 503: return ErrorCode::kServiceUnavailable;
    default: return ErrorCode::kBadRequest;
  }
}

std::string ApiVersionOf(const Attributes& attributes) {
  return attributes.group.empty() ? attributes.version
                                  : fmt::format("{}/{}", attributes.group, attributes.version);
}

object WithTypeMeta(const object& item, const Attributes& attributes) {
  object typed;
  typed["apiVersion"] = ApiVersionOf(attributes);
  typed["kind"] = attributes.kind;
  for (const auto& [key, value] : item) {
    if (key != "apiVersion" && key != "kind") typed[key] = value;
  }
  return typed;
}

object UserInfoJson(const UserInfo& user) {
  object info{{"username", user.name}};
  if (!user.uid.empty()) info["uid"] = user.uid;
  if (!user.groups.empty()) {
    array groups;
    for (const auto& group : user.groups)
      groups.emplace_back(group);
    info["groups"] = std::move(groups);
  }
  if (!user.extra.empty()) {
    object extra;
    for (const auto& [key, values] : user.extra) {
      array list;
      for (const auto& value : values)
        list.emplace_back(value);
      extra[key] = std::move(list);
    }
    info["extra"] = std::move(extra);
  }
  return info;
}

// The AdmissionReview v1 request upstream sends.
object ReviewRequest(const Attributes& attributes, const std::string& uid) {
  object gvk{
      {"group", attributes.group}, {"version", attributes.version}, {"kind", attributes.kind}};
  object gvr{{"group", attributes.group},
             {"version", attributes.version},
             {"resource", attributes.resource}};
  object request{{"uid", uid},
                 {"kind", gvk},
                 {"resource", gvr},
                 {"requestKind", gvk},
                 {"requestResource", gvr},
                 {"operation", OperationName(attributes.operation)},
                 {"userInfo", UserInfoJson(attributes.user)},
                 {"dryRun", attributes.dry_run}};
  if (!attributes.subresource.empty()) {
    request["subResource"] = attributes.subresource;
    request["requestSubResource"] = attributes.subresource;
  }
  if (!attributes.name.empty()) request["name"] = attributes.name;
  if (!attributes.namespace_.empty()) request["namespace"] = attributes.namespace_;
  request["object"] = attributes.object != nullptr
                          ? boost::json::value(WithTypeMeta(*attributes.object, attributes))
                          : boost::json::value(nullptr);
  request["oldObject"] = attributes.old_object != nullptr
                             ? boost::json::value(WithTypeMeta(*attributes.old_object, attributes))
                             : boost::json::value(nullptr);
  std::string_view options_kind;
  switch (attributes.operation) {
    case Operation::kCreate: options_kind = "CreateOptions"; break;
    case Operation::kUpdate: options_kind = "UpdateOptions"; break;
    case Operation::kDelete: options_kind = "DeleteOptions"; break;
    case Operation::kConnect: break;
  }
  if (!options_kind.empty()) {
    object options{{"apiVersion", "meta.k8s.io/v1"}, {"kind", options_kind}};
    if (attributes.dry_run) options["dryRun"] = array{"All"};
    request["options"] = std::move(options);
  }
  return object{{"apiVersion", "admission.k8s.io/v1"},
                {"kind", "AdmissionReview"},
                {"request", std::move(request)}};
}

// What a matching webhook answered.
struct Response {
  bool allowed = false;
  object status;
  std::string patch;  // decoded JSONPatch, empty when none
  std::vector<std::string> warnings;
  std::vector<std::pair<std::string, std::string>> audit_annotations;
};

// Where to send the review: the URL, or the service's first ready endpoint.
std::variant<Call, std::string> Resolve(const object& hook, const Reader& reader) {
  const object* config = json::Object(&hook, "clientConfig");
  Call call;
  if (const auto bundle = json::String(config, "caBundle"); !bundle.empty()) {
    auto pem = Base64Decode(bundle);
    if (!pem.ok()) return std::string("caBundle is not base64");
    call.ca_pem = *pem;
  }
  if (auto timeout = json::Int(&hook, "timeoutSeconds")) {
    call.timeout = std::chrono::seconds(*timeout);
  }
  if (const auto url = json::String(config, "url"); !url.empty()) {
    call.url = std::string(url);
    return call;
  }
  const object* service = json::Object(config, "service");
  if (service == nullptr) return std::string("webhook has neither a url nor a service");
  const std::string name(json::String(service, "name"));
  const std::string namespace_(json::String(service, "namespace"));
  const int64_t port = json::Int(service, "port").value_or(443);
  std::string path(json::String(service, "path"));
  call.host = fmt::format("{}.{}.svc", name, namespace_);
  // kpp has no cluster IPs: the service's endpoints stand in for it.
  auto found = reader.Get("", "services", namespace_, name);
  if (!found.ok() || !found->has_value()) {
    return fmt::format("service \"{}/{}\" not found", namespace_, name);
  }
  std::string port_name;
  int64_t target_port = port;
  if (const auto* ports = json::Array(json::Object(&**found, "spec"), "ports")) {
    for (const auto& item : *ports) {
      if (!item.is_object() || json::Int(&item.as_object(), "port") != port) continue;
      port_name = std::string(json::String(&item.as_object(), "name"));
      target_port = json::Int(&item.as_object(), "targetPort").value_or(port);
    }
  }
  auto endpoints = reader.Get("", "endpoints", namespace_, name);
  if (endpoints.ok() && endpoints->has_value()) {
    if (const auto* subsets = json::Array(&**endpoints, "subsets")) {
      for (const auto& subset : *subsets) {
        if (!subset.is_object()) continue;
        const auto* addresses = json::Array(&subset.as_object(), "addresses");
        if (addresses == nullptr || addresses->empty() || !addresses->at(0).is_object()) continue;
        const auto ip = json::String(&addresses->at(0).as_object(), "ip");
        int64_t endpoint_port = target_port;
        if (const auto* ports = json::Array(&subset.as_object(), "ports")) {
          for (const auto& item : *ports) {
            if (item.is_object() && json::String(&item.as_object(), "name") == port_name) {
              endpoint_port = json::Int(&item.as_object(), "port").value_or(target_port);
            }
          }
        }
        call.url = fmt::format("https://{}:{}{}", ip, endpoint_port, path);
        return call;
      }
    }
  }
  return fmt::format("no endpoints available for service \"{}\"", name);
}

// One exchange: the webhook's response, or why calling it failed (upstream's ErrCallingWebhook
// reason, which failurePolicy weighs).
std::variant<Response, std::string> Invoke(const Caller& caller, const object& hook,
                                           const Attributes& attributes, const Reader& reader) {
  auto resolved = Resolve(hook, reader);
  if (auto* failure = std::get_if<std::string>(&resolved)) return *failure;
  Call call = std::get<Call>(std::move(resolved));
  call.url += fmt::format("{}timeout={}s", call.url.find('?') == std::string::npos ? "?" : "&",
                          call.timeout.count() / 1000);
  const std::string uid = NewUuid();
  auto answered = caller(call, boost::json::serialize(ReviewRequest(attributes, uid)));
  if (auto* failure = std::get_if<std::string>(&answered)) {
    return fmt::format("failed to call webhook: {}", *failure);
  }
  const Answer& answer = std::get<Answer>(answered);
  if (answer.status != 200) {
    return fmt::format("failed to call webhook: the server responded with the status code {}",
                       answer.status);
  }
  boost::system::error_code ec;
  auto parsed = boost::json::parse(answer.body, ec);
  if (ec || !parsed.is_object()) return std::string("received invalid webhook response");
  const object* review = &parsed.as_object();
  const object* response = json::Object(review, "response");
  if (response == nullptr) return std::string("webhook response was absent");
  if (json::String(response, "uid") != uid) {
    return fmt::format("expected response.uid=\"{}\", got \"{}\"", uid,
                       json::String(response, "uid"));
  }
  Response result;
  result.allowed = json::Bool(response, "allowed").value_or(false);
  if (const object* status = json::Object(response, "status")) result.status = *status;
  if (const auto patch = json::String(response, "patch"); !patch.empty()) {
    if (json::String(response, "patchType") != "JSONPatch") {
      return std::string("unsupported patch type");
    }
    auto decoded = Base64Decode(patch);
    if (!decoded.ok()) return std::string("the patch is not base64");
    result.patch = *decoded;
  }
  if (const auto* warnings = json::Array(response, "warnings")) {
    for (const auto& warning : *warnings) {
      if (warning.is_string()) result.warnings.emplace_back(warning.as_string());
    }
  }
  if (const object* annotations = json::Object(response, "auditAnnotations")) {
    for (const auto& [key, value] : *annotations) {
      if (!key.empty() && value.is_string()) {
        result.audit_annotations.emplace_back(std::string(key), std::string(value.as_string()));
      }
    }
  }
  return result;
}

// The webhook's warnings go to the client; its audit annotations to the request's audit event,
// each key prefixed with the webhook's name, as upstream.
void TakeWarningsAndAnnotations(const std::string& name, Response& response, Context& context) {
  for (auto& warning : response.warnings)
    context.warnings.push_back(std::move(warning));
  if (context.audit_annotations == nullptr) return;
  for (auto& [key, value] : response.audit_annotations)
    context.audit_annotations->emplace_back(name + "/" + key, std::move(value));
}

bool IsWebhookConfiguration(const Attributes& attributes) {
  return attributes.group == kGroup && (attributes.resource == "mutatingwebhookconfigurations" ||
                                        attributes.resource == "validatingwebhookconfigurations");
}

bool Matches(const object& hook, const Attributes& attributes, const Reader& reader) {
  const auto* rules = json::Array(&hook, "rules");
  if (rules == nullptr) return false;
  const bool exact = json::String(&hook, "matchPolicy") == "Exact";
  bool matched = false;
  for (const auto& rule : *rules) {
    if (!rule.is_object()) continue;
    if (RuleMatches(rule.as_object(), attributes)) {
      matched = true;
      break;
    }
    // Equivalent (the default): the same resource of its group in another version.
    if (!exact) {
      object any_version = rule.as_object();
      any_version["apiVersions"] = array{"*"};
      if (RuleMatches(any_version, attributes)) {
        matched = true;
        break;
      }
    }
  }
  if (!matched) return false;
  const object* object_selector = json::Object(&hook, "objectSelector");
  if (object_selector != nullptr && !SelectorMatches(object_selector, Labels(attributes.object)) &&
      !SelectorMatches(object_selector, Labels(attributes.old_object))) {
    return false;
  }
  const object* namespace_selector = json::Object(&hook, "namespaceSelector");
  if (namespace_selector == nullptr) return true;
  if (attributes.group.empty() && attributes.resource == "namespaces") {
    return SelectorMatches(
        namespace_selector,
        Labels(attributes.object != nullptr ? attributes.object : attributes.old_object));
  }
  if (attributes.namespace_.empty()) return true;
  auto found = reader.Get("", "namespaces", "", attributes.namespace_);
  if (!found.ok() || !found->has_value()) return SelectorMatches(namespace_selector, nullptr);
  return SelectorMatches(namespace_selector, Labels(&**found));
}

std::optional<Rejection> CallFailed(const object& hook, std::string_view name,
                                    const std::string& reason) {
  if (json::String(&hook, "failurePolicy") == "Ignore") return std::nullopt;
  return Rejection{InternalError(fmt::format(
                       "Internal error occurred: failed calling webhook \"{}\": {}", name, reason)),
                   {}};
}

Rejection Denied(std::string_view name, const object& status) {
  const std::string denied = fmt::format("admission webhook \"{}\" denied the request", name);
  std::string message;
  if (const auto text = json::String(&status, "message"); !text.empty()) {
    message = fmt::format("{}: {}", denied, text);
  } else if (const auto reason = json::String(&status, "reason"); !reason.empty()) {
    message = fmt::format("{}: {}", denied, reason);
  } else {
    message = denied + " without explanation";
  }
  return Rejection{Error(CodeOf(json::Int(&status, "code").value_or(400)), message), {}};
}

std::optional<Rejection> DryRunUnsupported(const object& hook, const Attributes& attributes,
                                           std::string_view name) {
  if (!attributes.dry_run) return std::nullopt;
  const auto effects = json::String(&hook, "sideEffects");
  if (effects == "None" || effects == "NoneOnDryRun") return std::nullopt;
  return Rejection{
      BadRequestError(fmt::format("admission webhook \"{}\" does not support dry run", name)), {}};
}

// The webhooks of every configuration of `resource`, in configuration-name order.
std::vector<object> Webhooks(const Reader& reader, std::string_view resource,
                             const LazyPrefixCache& cache) {
  std::vector<object> hooks;
  std::vector<std::shared_ptr<const object>> configurations;
  if (const PrefixCache* cached = cache.Get(reader)) {
    for (auto& entry : cached->Snapshot())
      configurations.push_back(std::move(entry.object));
  } else {
    auto listed = reader.List(kGroup, resource, "");
    if (!listed.ok()) return hooks;
    for (auto& configuration : *listed) {
      configurations.push_back(std::make_shared<const object>(std::move(configuration)));
    }
  }
  for (const auto& configuration : configurations) {
    if (const auto* list = json::Array(configuration.get(), "webhooks")) {
      for (const auto& hook : *list) {
        if (hook.is_object()) hooks.push_back(hook.as_object());
      }
    }
  }
  return hooks;
}

}  // namespace

bool SelectorMatches(const object* selector, const object* labels) {
  if (selector == nullptr) return true;
  auto label = [&](std::string_view key) -> std::optional<std::string_view> {
    if (labels == nullptr) return std::nullopt;
    const auto* value = labels->if_contains(key);
    if (value == nullptr || !value->is_string()) return std::nullopt;
    return std::string_view(value->as_string());
  };
  if (const object* match_labels = json::Object(selector, "matchLabels")) {
    for (const auto& [key, value] : *match_labels) {
      if (!value.is_string() || label(key) != std::string_view(value.as_string())) return false;
    }
  }
  if (const auto* expressions = json::Array(selector, "matchExpressions")) {
    for (const auto& item : *expressions) {
      if (!item.is_object()) return false;
      const object& expression = item.as_object();
      const auto value = label(json::String(&expression, "key"));
      const auto op = json::String(&expression, "operator");
      bool listed = false;
      if (value) {
        if (const auto* values = json::Array(&expression, "values")) {
          for (const auto& candidate : *values) {
            if (candidate.is_string() && candidate.as_string() == *value) listed = true;
          }
        }
      }
      if (op == "In" && !listed) return false;
      if (op == "NotIn" && listed) return false;
      if (op == "Exists" && !value) return false;
      if (op == "DoesNotExist" && value) return false;
    }
  }
  return true;
}

bool RuleMatches(const object& rule, const Attributes& attributes) {
  if (!ListHas(json::Array(&rule, "operations"), OperationName(attributes.operation))) {
    return false;
  }
  if (!ListHas(json::Array(&rule, "apiGroups"), attributes.group)) return false;
  if (!ListHas(json::Array(&rule, "apiVersions"), attributes.version)) return false;
  if (!ResourceMatches(json::Array(&rule, "resources"), attributes)) return false;
  const auto scope = json::String(&rule, "scope");
  if (scope == "Cluster") return attributes.namespace_.empty();
  if (scope == "Namespaced") return !attributes.namespace_.empty();
  return true;
}

Caller HttpsCaller() {
  return [](const Call& call, const std::string& body) -> std::variant<Answer, std::string> {
    const std::string failed = fmt::format("Post \"{}\"", call.url);
    const auto scheme_end = call.url.find("://");
    if (call.url.rfind("https://", 0) != 0 || scheme_end == std::string::npos) {
      return failed + ": the webhook URL must use https";
    }
    const auto path_start = call.url.find('/', scheme_end + 3);
    const std::string server = call.url.substr(0, path_start);
    std::string target = path_start == std::string::npos ? "/" : call.url.substr(path_start);
    if (target.front() == '?') target = "/" + target;
    client::rest::TlsConfig tls;
    tls.ca_pem = call.ca_pem;
    tls.server_name = call.host;
    auto transport = client::rest::NewHttpsTransport(server, tls);
    if (!transport.ok()) return fmt::format("{}: {}", failed, transport.error().message());
    client::rest::HttpRequest request{
        "POST",
        target,
        {{"Content-Type", "application/json"}, {"Accept", "application/json, */*"}},
        body};
    auto result = (*transport)->RoundTrip(request, call.timeout);
    if (auto* failure = std::get_if<client::rest::TransportFailure>(&result)) {
      return fmt::format("{}: {}", failed, failure->message);
    }
    auto& response = std::get<client::rest::HttpResponse>(result);
    return Answer{response.status, std::move(response.body)};
  };
}

}  // namespace webhook

bool MutatingWebhook::NeedsObjectGiven(const Attributes& attributes, const Reader& reader) const {
  return !webhook::IsWebhookConfiguration(attributes) &&
         !webhook::Webhooks(reader, "mutatingwebhookconfigurations", configurations_).empty();
}

bool ValidatingWebhook::NeedsObjectGiven(const Attributes& attributes, const Reader& reader) const {
  return !webhook::IsWebhookConfiguration(attributes) &&
         !webhook::Webhooks(reader, "validatingwebhookconfigurations", configurations_).empty();
}

std::optional<Rejection> MutatingWebhook::Admit(Attributes& attributes, Context& context) const {
  if (webhook::IsWebhookConfiguration(attributes)) return std::nullopt;
  const auto hooks =
      webhook::Webhooks(context.reader, "mutatingwebhookconfigurations", configurations_);
  if (hooks.empty() || attributes.objects_omitted) return std::nullopt;
  std::vector<size_t> ran;  // the webhooks that ran, in order
  size_t last_change = 0;   // 1 + the position in `ran` of the last webhook that changed it
  auto run = [&](size_t index) -> std::optional<Rejection> {
    const auto& hook = hooks[index];
    const std::string name(json::String(&hook, "name"));
    if (auto refused = webhook::DryRunUnsupported(hook, attributes, name)) return refused;
    auto invoked = webhook::Invoke(caller_, hook, attributes, context.reader);
    ran.push_back(index);
    if (auto* reason = std::get_if<std::string>(&invoked)) {
      return webhook::CallFailed(hook, name, *reason);
    }
    auto& response = std::get<webhook::Response>(invoked);
    webhook::TakeWarningsAndAnnotations(name, response, context);
    if (!response.allowed) return webhook::Denied(name, response.status);
    // A delete has no object to patch; its webhooks may only refuse.
    if (response.patch.empty() || attributes.object == nullptr) return std::nullopt;
    auto patch = patch::JsonPatch::Parse(response.patch);
    if (!patch.ok()) {
      return webhook::CallFailed(hook, name, "the patch is not a JSON patch");
    }
    auto patched = patch->Apply(webhook::WithTypeMeta(*attributes.object, attributes));
    if (!patched.ok() || !patched->is_object()) {
      return webhook::CallFailed(
          hook, name,
          fmt::format("JSON patch failed: {}",
                      patched.ok() ? "not an object" : patched.error().message()));
    }
    auto& result = patched->as_object();
    result.erase("apiVersion");
    result.erase("kind");
    if (result != *attributes.object) {
      *attributes.object = std::move(result);
      context.mutated = true;
      last_change = ran.size();
    }
    return std::nullopt;
  };
  for (size_t i = 0; i < hooks.size(); ++i) {
    if (!webhook::Matches(hooks[i], attributes, context.reader)) continue;
    if (auto refused = run(i)) return refused;
  }
  // reinvocationPolicy IfNeeded: once more for those that ran before a later change.
  const std::vector<size_t> first_pass = ran;
  for (size_t position = 0; position < first_pass.size(); ++position) {
    const auto& hook = hooks[first_pass[position]];
    if (json::String(&hook, "reinvocationPolicy") != "IfNeeded") continue;
    if (last_change <= position + 1) continue;
    if (auto refused = run(first_pass[position])) return refused;
  }
  return std::nullopt;
}

std::optional<Rejection> ValidatingWebhook::Validate(const Attributes& attributes,
                                                     Context& context) const {
  if (webhook::IsWebhookConfiguration(attributes)) return std::nullopt;
  const auto hooks =
      webhook::Webhooks(context.reader, "validatingwebhookconfigurations", configurations_);
  if (attributes.objects_omitted) return std::nullopt;
  for (const auto& hook : hooks) {
    if (!webhook::Matches(hook, attributes, context.reader)) continue;
    const std::string name(json::String(&hook, "name"));
    if (auto refused = webhook::DryRunUnsupported(hook, attributes, name)) return refused;
    auto invoked = webhook::Invoke(caller_, hook, attributes, context.reader);
    if (auto* reason = std::get_if<std::string>(&invoked)) {
      if (auto refused = webhook::CallFailed(hook, name, *reason)) return refused;
      continue;
    }
    auto& response = std::get<webhook::Response>(invoked);
    webhook::TakeWarningsAndAnnotations(name, response, context);
    if (!response.allowed) return webhook::Denied(name, response.status);
  }
  return std::nullopt;
}

}  // namespace kpp::apiserver::admission
