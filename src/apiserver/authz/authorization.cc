#include "apiserver/authz/authorization.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <set>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "api/runtime/protobuf.h"
#include "apimachinery/status.h"
#include "apiserver/audit/auditor.h"
#include "apiserver/authz/bootstrap_policy.h"
#include "apiserver/authz/impersonation.h"
#include "apiserver/authz/node_authorizer.h"
#include "apiserver/responses.h"
#include "base/go_quote.h"
#include "base/log.h"

namespace kpp::apiserver::authz {
namespace {

// Upstream's privileged-group authorizer: members of system:masters may do anything.
class MastersAuthorizer : public Authorizer {
 public:
  Verdict Authorize(const Attributes& attributes) const override {
    for (const auto& group : attributes.user.groups) {
      if (group == kMastersGroup) return {Decision::kAllow, ""};
    }
    return {};
  }
};

bool IsMaster(const UserInfo& user) {
  return std::find(user.groups.begin(), user.groups.end(), kMastersGroup) != user.groups.end();
}

bool IsRbacResource(const ops::RequestInfo& info) {
  return info.is_resource_request && info.api_group == kRbacGroup && info.subresource.empty() &&
         (info.resource == "roles" || info.resource == "clusterroles" ||
          info.resource == "rolebindings" || info.resource == "clusterrolebindings");
}

std::string JsonString(const boost::json::object& object, std::string_view field) {
  const auto* value = object.if_contains(field);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::vector<std::string> JsonStrings(const boost::json::object& object, std::string_view field) {
  std::vector<std::string> items;
  const auto* value = object.if_contains(field);
  if (value == nullptr || !value->is_array()) return items;
  for (const auto& item : value->get_array()) {
    if (item.is_string()) items.emplace_back(item.get_string());
  }
  return items;
}

http::Response BadRequest(std::string message) {
  return StatusResponse(Error(ErrorCode::kBadRequest, std::move(message)));
}

http::Response Invalid(std::string_view kind, std::string_view field, std::string_view detail) {
  const std::string message =
      fmt::format("{}.authorization.k8s.io \"\" is invalid: {}: {}", kind, field, detail);
  return StatusResponse(Error(ErrorCode::kInvalid, message));
}

const api::KindInfo* FindKind(std::string_view group, std::string_view version,
                              std::string_view plural) {
  for (const api::KindInfo& kind : api::AllKinds()) {
    if (kind.group == group && kind.version == version && kind.plural == plural) return &kind;
  }
  return nullptr;
}

// The request body as JSON: protobuf bodies (kubectl 1.32+ sends them for built-in kinds) are
// decoded with the kind's codec; nullopt when the body cannot be read.
std::optional<std::string> JsonBody(const http::Request& request, const api::KindInfo* kind) {
  if (!request.body.starts_with(api::protobuf::kMagic)) return request.body;
  if (kind == nullptr || kind->codec == nullptr) return std::nullopt;
  auto envelope = api::protobuf::Unwrap(request.body);
  if (!envelope.ok()) return std::nullopt;
  auto object = kind->codec->DecodeProtobuf(envelope->message);
  if (!object.ok()) return std::nullopt;
  return (*object)->ToJson();
}

// A review's answer in the encoding the client prefers.
http::Response ReviewResponse(const http::Request& request, const api::KindInfo* kind,
                              const boost::json::object& review) {
  std::string json = boost::json::serialize(review);
  if (PrefersProtobuf(request) && kind != nullptr && kind->codec != nullptr) {
    auto decoded = kind->codec->Decode(json, {});
    if (decoded.ok()) {
      return ProtobufResponse(201, api::protobuf::Wrap("authorization.k8s.io/v1", kind->kind,
                                                       decoded->object->ToProtobufMessage()));
    }
  }
  return JsonResponse(201, std::move(json));
}

}  // namespace

Authorization::Authorization(LoopbackCall call, const Clock& clock)
    : call_(std::move(call)), clock_(clock), rbac_(std::make_shared<RbacAuthorizer>(call_)) {
  authorizer_.Add(std::make_shared<MastersAuthorizer>());
  std::vector<PolicyRule> node_rules;
  for (const Role& role : DefaultBootstrapPolicy().cluster_roles) {
    if (role.name == "system:node") node_rules = role.rules;
  }
  authorizer_.Add(std::make_shared<NodeAuthorizer>(call_, std::move(node_rules)));
  authorizer_.Add(rbac_);
}

Authorization::~Authorization() {
  Stop();
}

Status Authorization::Start() {
  KPP_RETURN_IF_ERROR(ReconcileBootstrapPolicy(call_));
  rbac_->Start();
  return Ok();
}

void Authorization::Stop() {
  rbac_->Stop();
}

std::optional<http::Response> Authorization::Check(const http::Request& request,
                                                   UserInfo& user) const {
  if (HasImpersonationHeaders(request)) {
    auto acting = Impersonate(request, user, authorizer_);
    if (auto* refused = std::get_if<http::Response>(&acting)) return std::move(*refused);
    user = std::get<UserInfo>(std::move(acting));
    if (request.FindHeader("Impersonate-User") != nullptr) audit::SetImpersonatedUser(user);
  }
  const ops::RequestInfo info = ops::ParseRequestInfo(request.method, request.path, request.query);
  const Attributes attributes = AttributesFor(user, info);
  const Verdict verdict = authorizer_.Authorize(attributes);
  if (verdict.decision != Decision::kAllow) {
    KLOG_V(3, "forbidden: {} {} {}", user.name, info.verb, request.path);
    return ForbiddenResponse(attributes, verdict.reason);
  }
  if (info.is_resource_request && info.api_group == "authorization.k8s.io" &&
      info.verb == "create") {
    if (auto review = ServeAccessReview(request, user, info)) return review;
  }
  if (IsRbacResource(info) &&
      (info.verb == "create" || info.verb == "update" || info.verb == "patch")) {
    return CheckEscalation(request, user, info);
  }
  return std::nullopt;
}

void Authorization::Observe(const http::Request& request, const http::Response& response) const {
  if (request.method == "GET" || request.method == "HEAD" || response.status >= 300) return;
  if (!request.path.starts_with("/apis/rbac.authorization.k8s.io/")) return;
  const ops::RequestInfo info = ops::ParseRequestInfo(request.method, request.path, request.query);
  if (!IsRbacResource(info)) return;
  // The watch brings the change; the client's next request waits no longer than it takes.
  if (info.verb == "delete" && !info.name.empty()) {
    rbac_->AwaitDelete(info.resource, fmt::format("{}/{}", info.namespace_, info.name));
    return;
  }
  const api::KindInfo* kind = FindKind(kRbacGroup, "v1", info.resource);
  http::Request answer;
  answer.body = response.body;
  const auto body = JsonBody(answer, kind);
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body.value_or(""), ec);
  int64_t revision = 0;
  if (!ec && parsed.is_object()) {
    const auto* metadata = parsed.as_object().if_contains("metadata");
    if (metadata != nullptr && metadata->is_object()) {
      const std::string version = JsonString(metadata->get_object(), "resourceVersion");
      std::from_chars(version.data(), version.data() + version.size(), revision);
    }
  }
  rbac_->AwaitWrite(info.resource, revision);
}

std::optional<http::Response> Authorization::ServeAccessReview(const http::Request& request,
                                                               const UserInfo& user,
                                                               const ops::RequestInfo& info) const {
  static const std::map<std::string, std::string, std::less<>> kKinds = {
      {"subjectaccessreviews", "SubjectAccessReview"},
      {"selfsubjectaccessreviews", "SelfSubjectAccessReview"},
      {"localsubjectaccessreviews", "LocalSubjectAccessReview"},
      {"selfsubjectrulesreviews", "SelfSubjectRulesReview"}};
  const auto kind_entry = kKinds.find(info.resource);
  if (kind_entry == kKinds.end() || !info.name.empty() || !info.subresource.empty() ||
      info.api_version != "v1") {
    return std::nullopt;
  }
  const std::string& kind = kind_entry->second;
  const bool local = kind == "LocalSubjectAccessReview";
  if (local == info.namespace_.empty()) {
    return StatusResponse(
        Error(ErrorCode::kNotFound, "the server could not find the requested resource"));
  }
  const api::KindInfo* kind_info = FindKind("authorization.k8s.io", "v1", info.resource);
  const auto body = JsonBody(request, kind_info);
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(body.value_or(""), ec);
  if (!body || ec || !parsed.is_object()) {
    return BadRequest(
        fmt::format("the body of the request was in an unknown format - accepted "
                    "media types include: application/json, application/yaml"));
  }
  boost::json::object& review = parsed.as_object();
  review["kind"] = kind;
  review["apiVersion"] = "authorization.k8s.io/v1";
  if (!review.contains("metadata") || !review["metadata"].is_object()) {
    review["metadata"] = boost::json::object();
  }
  auto& metadata = review["metadata"].as_object();
  if (!metadata.contains("creationTimestamp")) metadata["creationTimestamp"] = nullptr;
  if (!review.contains("spec") || !review["spec"].is_object()) {
    review["spec"] = boost::json::object();
  }
  auto& spec = review["spec"].as_object();
  boost::json::object status;

  if (kind == "SelfSubjectRulesReview") {
    const std::string namespace_ = JsonString(spec, "namespace");
    std::vector<std::string> errors;
    const auto policy = rbac_->policy();
    const auto rules = policy->RulesFor(user, namespace_, &errors);
    boost::json::array resource_rules;
    boost::json::array non_resource_rules;
    for (const auto& rule : rules) {
      auto to_array = [](const std::vector<std::string>& items) {
        boost::json::array array;
        for (const auto& item : items)
          array.emplace_back(item);
        return array;
      };
      if (!rule.resources.empty()) {
        boost::json::object out;
        out["verbs"] = to_array(rule.verbs);
        if (!rule.api_groups.empty()) out["apiGroups"] = to_array(rule.api_groups);
        out["resources"] = to_array(rule.resources);
        if (!rule.resource_names.empty()) out["resourceNames"] = to_array(rule.resource_names);
        resource_rules.push_back(std::move(out));
      }
      if (!rule.non_resource_urls.empty()) {
        boost::json::object out;
        out["verbs"] = to_array(rule.verbs);
        out["nonResourceURLs"] = to_array(rule.non_resource_urls);
        non_resource_rules.push_back(std::move(out));
      }
    }
    status["resourceRules"] = std::move(resource_rules);
    status["nonResourceRules"] = std::move(non_resource_rules);
    status["incomplete"] = !errors.empty();
    if (!errors.empty()) {
      status["evaluationError"] =
          errors.size() == 1 ? errors[0] : fmt::format("[{}]", fmt::join(errors, ", "));
    }
    review["status"] = std::move(status);
    return ReviewResponse(request, kind_info, review);
  }

  // The subject: the caller for the self review, the spec's user otherwise.
  UserInfo subject = user;
  if (kind != "SelfSubjectAccessReview") {
    subject = UserInfo{};
    subject.name = JsonString(spec, "user");
    subject.groups = JsonStrings(spec, "groups");
    subject.uid = JsonString(spec, "uid");
    if (subject.name.empty() && subject.groups.empty()) {
      return Invalid(kind, "spec.user",
                     "Invalid value: \"\": at least one of user or group must be specified");
    }
  }
  const auto* resource_attributes = spec.if_contains("resourceAttributes");
  const auto* non_resource_attributes = spec.if_contains("nonResourceAttributes");
  const bool has_resource = resource_attributes != nullptr && resource_attributes->is_object();
  const bool has_non_resource =
      non_resource_attributes != nullptr && non_resource_attributes->is_object();
  if (has_resource == has_non_resource) {
    return Invalid(kind, "spec.resourceAttributes",
                   has_resource ? "Invalid value: \"resourceAttributes\": cannot be specified in "
                                  "combination with nonResourceAttributes"
                                : "Invalid value: \"null\": exactly one of nonResourceAttributes "
                                  "or resourceAttributes must be specified");
  }
  Attributes attributes;
  attributes.user = subject;
  if (has_resource) {
    const auto& r = resource_attributes->get_object();
    attributes.resource_request = true;
    attributes.namespace_ = JsonString(r, "namespace");
    attributes.verb = JsonString(r, "verb");
    attributes.api_group = JsonString(r, "group");
    attributes.api_version = JsonString(r, "version");
    attributes.resource = JsonString(r, "resource");
    attributes.subresource = JsonString(r, "subresource");
    attributes.name = JsonString(r, "name");
    if (local && attributes.namespace_ != info.namespace_) {
      return Invalid(kind, "spec.resourceAttributes.namespace",
                     fmt::format("Invalid value: {}: must match metadata.namespace",
                                 GoQuote(attributes.namespace_)));
    }
  } else {
    const auto& n = non_resource_attributes->get_object();
    attributes.path = JsonString(n, "path");
    attributes.verb = JsonString(n, "verb");
  }
  const Verdict verdict = authorizer_.Authorize(attributes);
  status["allowed"] = verdict.decision == Decision::kAllow;
  if (verdict.decision == Decision::kDeny) status["denied"] = true;
  if (!verdict.reason.empty()) status["reason"] = verdict.reason;
  review["status"] = std::move(status);
  return ReviewResponse(request, kind_info, review);
}

std::optional<http::Response> Authorization::CheckEscalation(const http::Request& request,
                                                             const UserInfo& user,
                                                             const ops::RequestInfo& info) const {
  // Upstream lets system:masters (and the loopback, which never comes here) grant anything.
  if (IsMaster(user)) return std::nullopt;
  // The object as it would be stored: the body for create and update, a dry run for a patch.
  std::optional<std::string> body =
      JsonBody(request, FindKind(info.api_group, info.api_version, info.resource));
  if (info.verb == "patch") {
    http::Request dry_run = request;
    dry_run.query.emplace_back("dryRun", "All");
    dry_run.target.clear();
    std::erase_if(dry_run.headers, [](const http::Header& header) {
      return header.name == "Accept" || header.name == "accept";
    });
    dry_run.headers.push_back({"Accept", "application/json"});
    const http::Response response = call_(dry_run);
    if (response.status >= 300) return response;
    body = response.body;
  }
  if (!body) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(*body, ec);
  // A body the server cannot read is refused by the handler itself.
  if (ec || !parsed.is_object()) return std::nullopt;
  const auto& object = parsed.as_object();
  std::string namespace_ = info.namespace_;
  const bool is_role = info.resource == "roles" || info.resource == "clusterroles";
  std::string name = info.name;
  if (name.empty()) {
    if (const auto* m = object.if_contains("metadata"); m != nullptr && m->is_object()) {
      name = JsonString(m->as_object(), "name");
    }
  }
  const auto policy = rbac_->policy();
  std::vector<PolicyRule> requested;
  if (is_role) {
    Attributes escalate;
    escalate.user = user;
    escalate.verb = "escalate";
    escalate.resource_request = true;
    escalate.api_group = kRbacGroup;
    escalate.api_version = "*";
    escalate.resource = info.resource;
    escalate.name = name;
    escalate.namespace_ = namespace_;
    if (authorizer_.Authorize(escalate).decision == Decision::kAllow) return std::nullopt;
    const Role role = ParseRole(object);
    // Aggregating needs every right: the role will hold whatever its selectors pick up.
    if (role.aggregation_selectors && !role.aggregation_selectors->empty()) {
      const std::vector<PolicyRule> full_authority = {{{"*"}, {"*"}, {"*"}, {}, {}},
                                                      {{"*"}, {}, {}, {}, {"*"}}};
      if (!Covers(policy->RulesFor(user, namespace_), full_authority, nullptr)) {
        const apimachinery::StatusDetails details{name, kRbacGroup, info.resource};
        return StatusResponse(
            Error(ErrorCode::kForbidden,
                  fmt::format("{}.{} \"{}\" is forbidden: must have cluster-admin privileges to "
                              "use the aggregationRule",
                              info.resource, kRbacGroup, name)),
            &details);
      }
    }
    requested = role.rules;
  } else {
    const Binding binding = ParseBinding(object);
    Attributes bind;
    bind.user = user;
    bind.verb = "bind";
    bind.resource_request = true;
    bind.api_group = kRbacGroup;
    bind.api_version = "*";
    bind.resource = binding.role_ref.kind == "ClusterRole" ? "clusterroles" : "roles";
    bind.name = binding.role_ref.name;
    bind.namespace_ = namespace_;
    if (authorizer_.Authorize(bind).decision == Decision::kAllow) return std::nullopt;
    std::string error;
    const auto* rules = policy->RoleRules(binding.role_ref, namespace_, &error);
    if (rules == nullptr) {
      // Upstream resolves the role before granting it and fails with its lookup error.
      const apimachinery::StatusDetails details{name, kRbacGroup, info.resource};
      return StatusResponse(
          Error(ErrorCode::kForbidden, fmt::format("{}.{} \"{}\" is forbidden: {}", info.resource,
                                                   kRbacGroup, name, error)),
          &details);
    }
    requested = *rules;
  }
  std::vector<std::string> errors;
  const auto owner = policy->RulesFor(user, namespace_, &errors);
  std::vector<PolicyRule> missing;
  if (Covers(owner, requested, &missing)) return std::nullopt;
  std::set<std::string> descriptions;
  for (const auto& rule : CompactRules(missing))
    descriptions.insert(CompactString(rule));
  std::string message = fmt::format(
      "user {} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
      GoQuote(user.name), GoQuoteList(user.groups), fmt::join(descriptions, "\n"));
  if (!errors.empty()) {
    message += fmt::format("; resolution errors: [{}]", fmt::join(errors, " "));
  }
  const apimachinery::StatusDetails details{name, kRbacGroup, info.resource};
  return StatusResponse(
      Error(ErrorCode::kForbidden,
            fmt::format("{}.{} \"{}\" is forbidden: {}", info.resource, kRbacGroup, name, message)),
      &details);
}

}  // namespace kpp::apiserver::authz
