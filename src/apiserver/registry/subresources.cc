// The subresources of the generic registry, as upstream serves them: status (the object, written
// through PrepareForStatusUpdate), scale (an autoscaling/v1 Scale view of a workload's replicas;
// the old apps and extensions versions' own Scale in those versions),
// a pod's binding (assigns it to a node) and eviction (a delete that honours disruption budgets),
// and a namespace's finalize (its spec.finalizers). Every write but a binding goes through the
// same update or delete path as the main resource, so conversion, validation and conflicts stay
// in one place; a binding stores the pod as it changed it, as upstream's does.
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/autoscaling/v1/codec.h"
#include "api/autoscaling/v1/proto_codec.h"
#include "api/core/v1/codec.h"
#include "api/core/v1/proto_codec.h"
#include "api/policy/v1/codec.h"
#include "api/policy/v1/proto_codec.h"
#include "apiextensions/custom_resources.h"
#include "apiextensions/custom_tables.h"
#include "apimachinery/labels/selector.h"
#include "apimachinery/patch/json_patch.h"
#include "apimachinery/patch/json_util.h"
#include "apimachinery/patch/merge_patch.h"
#include "apimachinery/patch/strategic_merge_patch.h"
#include "apiserver/registry/legacy_scale.h"
#include "apiserver/registry/lifecycle.h"
#include "apiserver/registry/resource_handler.h"
#include "apiserver/responses.h"

namespace kpp::apiserver {
namespace {

using apimachinery::StatusDetails;

http::Response NotFoundResource() {
  return StatusResponse(NotFoundError("the server could not find the requested resource"));
}

http::Response MethodNotAllowed() {
  return StatusResponse(Error(ErrorCode::kMethodNotAllowed,
                              "the server does not allow this method on the requested resource"));
}

int64_t NowSeconds(Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count();
}

// A body of type T (JSON or protobuf), with upstream's message when it does not decode.
template <typename T>
Result<T> DecodeSubresourceBody(const http::Request& request, std::string_view kind_name) {
  const std::string* content_type = request.FindHeader("Content-Type");
  if (content_type != nullptr && content_type->starts_with(api::protobuf::kMediaType)) {
    KPP_ASSIGN_OR_RETURN(auto envelope, api::protobuf::Unwrap(request.body));
    api::protobuf::Reader reader(envelope.message);
    T value;
    DecodeProto(reader, value);
    if (reader.failed()) return BadRequestError(reader.error()->message());
    return value;
  }
  auto decoded = api::FromJson<T>(request.body);
  if (!decoded.ok()) {
    return BadRequestError(
        fmt::format("{} cannot be handled: {}", kind_name, decoded.error().message()));
  }
  return std::move(decoded->object);
}

// A Status Success, as upstream answers a created binding or eviction.
http::Response SuccessStatus(int code) {
  return JsonResponse(
      code, fmt::format(R"({{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Success",)"
                        R"("code":{}}})",
                        code));
}

// A JSON path's value in an object, or nullptr.
const boost::json::value* Find(const boost::json::value& root,
                               std::initializer_list<std::string_view> path) {
  const boost::json::value* at = &root;
  for (std::string_view key : path) {
    if (!at->is_object()) return nullptr;
    at = at->as_object().if_contains(key);
    if (at == nullptr) return nullptr;
  }
  return at;
}

int64_t IntAt(const boost::json::value& root, std::initializer_list<std::string_view> path) {
  const auto* value = Find(root, path);
  return value != nullptr && value->is_int64() ? value->as_int64() : 0;
}

// The label selector of a workload as a string: a LabelSelector (apps) or a map (RC).
std::string SelectorString(const boost::json::value& object) {
  const auto* selector = Find(object, {"spec", "selector"});
  if (selector == nullptr || !selector->is_object()) return "";
  labels::LabelSelector parsed;
  const auto& fields = selector->as_object();
  const bool is_label_selector =
      fields.contains("matchLabels") || fields.contains("matchExpressions");
  const boost::json::object* match_labels =
      is_label_selector ? (fields.contains("matchLabels") && fields.at("matchLabels").is_object()
                               ? &fields.at("matchLabels").as_object()
                               : nullptr)
                        : &fields;
  if (match_labels != nullptr) {
    for (const auto& [key, value] : *match_labels) {
      if (value.is_string()) parsed.match_labels[std::string(key)] = std::string(value.as_string());
    }
  }
  if (const auto* expressions = fields.if_contains("matchExpressions");
      expressions != nullptr && expressions->is_array()) {
    for (const auto& item : expressions->as_array()) {
      if (!item.is_object()) continue;
      labels::LabelSelectorRequirement requirement;
      if (const auto* key = item.as_object().if_contains("key"); key && key->is_string()) {
        requirement.key = std::string(key->as_string());
      }
      if (const auto* op = item.as_object().if_contains("operator"); op && op->is_string()) {
        requirement.op = std::string(op->as_string());
      }
      if (const auto* values = item.as_object().if_contains("values");
          values && values->is_array()) {
        for (const auto& v : values->as_array()) {
          if (v.is_string()) requirement.values.emplace_back(v.as_string());
        }
      }
      parsed.match_expressions.push_back(std::move(requirement));
    }
  }
  auto as_selector = labels::LabelSelectorAsSelector(&parsed);
  return as_selector.ok() ? as_selector->String() : "";
}

// The Scale view of a workload, as upstream's scale subresources build it.
api::autoscaling::v1::Scale ScaleOf(const boost::json::value& object, const api::KindInfo& kind) {
  api::autoscaling::v1::Scale scale;
  scale.kind = "Scale";
  scale.api_version = "autoscaling/v1";
  if (const auto* metadata = Find(object, {"metadata"}); metadata != nullptr) {
    auto decoded = api::FromJson<api::meta::v1::ObjectMeta>(boost::json::serialize(*metadata));
    if (decoded.ok()) {
      const auto& full = decoded->object;
      scale.metadata.name = full.name;
      scale.metadata.namespace_ = full.namespace_;
      scale.metadata.uid = full.uid;
      scale.metadata.resource_version = full.resource_version;
      scale.metadata.creation_timestamp = full.creation_timestamp;
    }
  }
  if (const auto* custom = apiextensions::CustomResourceOf(kind); custom && custom->scale) {
    // A custom resource's scale reads the paths its definition names.
    const auto& paths = *custom->scale;
    auto int_at = [&](const std::string& path) -> int32_t {
      const auto* found = apiextensions::JsonPathValue(object, path);
      return found != nullptr && found->is_int64() ? static_cast<int32_t>(found->as_int64()) : 0;
    };
    scale.spec.replicas = int_at(paths.spec_replicas);
    scale.status.replicas = int_at(paths.status_replicas);
    if (!paths.label_selector.empty()) {
      const auto* selector = apiextensions::JsonPathValue(object, paths.label_selector);
      if (selector != nullptr && selector->is_string()) {
        scale.status.selector = std::string(selector->as_string());
      }
    }
    return scale;
  }
  scale.spec.replicas = static_cast<int32_t>(IntAt(object, {"spec", "replicas"}));
  scale.status.replicas = static_cast<int32_t>(IntAt(object, {"status", "replicas"}));
  scale.status.selector = SelectorString(object);
  return scale;
}

// `scale` as the Scale `kind`'s version serves: autoscaling/v1's, or the old versions' own.
template <typename ScaleType>
http::Response TypedScaleResponse(int status, ScaleType scale, const http::Request& request) {
  const std::string api_version = scale.api_version;
  api::TypedObject<ScaleType> object(std::move(scale));
  if (PrefersProtobuf(request)) {
    return ProtobufResponse(status,
                            api::protobuf::Wrap(api_version, "Scale", object.ToProtobufMessage()));
  }
  return JsonResponse(status, object.ToJson());
}

http::Response ScaleResponse(int status, api::autoscaling::v1::Scale scale,
                             const api::KindInfo& kind, const http::Request& request) {
  const LegacyScale legacy = LegacyScaleOf(kind);
  if (legacy == LegacyScale::kNone) return TypedScaleResponse(status, std::move(scale), request);
  return VisitLegacyScale(legacy, [&]<typename LegacyScaleType>(LegacyScaleType) {
    return TypedScaleResponse(
        status, ToLegacyScale<LegacyScaleType>(scale, api::GroupVersionOf(kind)), request);
  });
}

// The JSON the client sees of `scale` (what a PATCH applies to).
std::string ServedScaleJson(const api::autoscaling::v1::Scale& scale, const api::KindInfo& kind) {
  const LegacyScale legacy = LegacyScaleOf(kind);
  if (legacy == LegacyScale::kNone) return api::ToJson(scale);
  return VisitLegacyScale(legacy, [&]<typename LegacyScaleType>(LegacyScaleType) {
    return api::ToJson(ToLegacyScale<LegacyScaleType>(scale, api::GroupVersionOf(kind)));
  });
}

// A Scale body (PUT) of the Scale kind `kind`'s version serves, as autoscaling/v1's.
Result<api::autoscaling::v1::Scale> DecodeScaleBody(const http::Request& request,
                                                    const api::KindInfo& kind) {
  const LegacyScale legacy = LegacyScaleOf(kind);
  if (legacy == LegacyScale::kNone) {
    return DecodeSubresourceBody<api::autoscaling::v1::Scale>(request, "Scale");
  }
  return VisitLegacyScale(
      legacy,
      [&]<typename LegacyScaleType>(LegacyScaleType) -> Result<api::autoscaling::v1::Scale> {
        KPP_ASSIGN_OR_RETURN(auto decoded,
                             DecodeSubresourceBody<LegacyScaleType>(request, "Scale"));
        return FromLegacyScale(decoded);
      });
}

// A patched Scale (JSON) of the Scale kind `kind`'s version serves, as autoscaling/v1's.
Result<api::autoscaling::v1::Scale> DecodePatchedScale(const std::string& json,
                                                       const api::KindInfo& kind) {
  const LegacyScale legacy = LegacyScaleOf(kind);
  if (legacy == LegacyScale::kNone) {
    KPP_ASSIGN_OR_RETURN(auto decoded, api::FromJson<api::autoscaling::v1::Scale>(json));
    return std::move(decoded.object);
  }
  return VisitLegacyScale(
      legacy,
      [&]<typename LegacyScaleType>(LegacyScaleType) -> Result<api::autoscaling::v1::Scale> {
        KPP_ASSIGN_OR_RETURN(auto decoded, api::FromJson<LegacyScaleType>(json));
        return FromLegacyScale(decoded.object);
      });
}

// A condition of `conditions` set as upstream's SetStatusCondition does: the transition time
// changes only when the status does.
void SetCondition(std::vector<api::meta::v1::Condition>& conditions,
                  api::meta::v1::Condition condition, int64_t now) {
  for (auto& existing : conditions) {
    if (existing.type != condition.type) continue;
    if (existing.status != condition.status) {
      existing.status = condition.status;
      existing.last_transition_time = api::Time::FromUnixSeconds(now);
    }
    existing.reason = condition.reason;
    existing.message = condition.message;
    existing.observed_generation = condition.observed_generation;
    return;
  }
  condition.last_transition_time = api::Time::FromUnixSeconds(now);
  conditions.push_back(std::move(condition));
}

labels::Set LabelsOf(const api::meta::v1::ObjectMeta& metadata) {
  labels::Set set;
  for (const auto& [key, value] : metadata.labels)
    set[key] = value;
  return set;
}

// Evictions the disruption controller has not yet confirmed, beyond which a budget refuses more
// (upstream's MaxDisruptedPodSize).
constexpr size_t kMaxDisruptedPods = 2000;

bool PodIsReady(const api::core::v1::Pod& pod) {
  for (const auto& condition : pod.status.conditions) {
    if (condition.type == "Ready") return condition.status == "True";
  }
  return false;
}

// A PodDisruptionBudget's selector; a budget without one selects nothing.
labels::Selector BudgetSelector(const api::policy::v1::PodDisruptionBudget& budget) {
  if (!budget.spec.selector) return labels::Selector::Nothing();
  labels::LabelSelector parsed;
  for (const auto& [key, value] : budget.spec.selector->match_labels)
    parsed.match_labels[key] = value;
  for (const auto& expression : budget.spec.selector->match_expressions) {
    parsed.match_expressions.push_back({expression.key, expression.operator_, expression.values});
  }
  auto selector = labels::LabelSelectorAsSelector(&parsed);
  return selector.ok() ? *std::move(selector) : labels::Selector::Nothing();
}

// Upstream's NewTooManyRequests with a suggested wait: details.retryAfterSeconds and the
// Retry-After header (client-go sleeps that long and sends the request again).
http::Response TooManyRequests(const Error& error, int32_t retry_after_seconds) {
  http::Response response = StatusResponse(error);
  auto status = boost::json::parse(response.body).as_object();
  auto& details = status["details"];
  if (!details.is_object()) details.emplace_object();
  details.as_object()["retryAfterSeconds"] = retry_after_seconds;
  response.body = boost::json::serialize(status);
  response.SetHeader("Retry-After", std::to_string(retry_after_seconds));
  return response;
}

}  // namespace

http::Response ResourceHandler::ServeSubresource(const ResourceRequest& target,
                                                 const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  const std::string& subresource = target.subresource;
  const std::string& method = request.method;
  if (!HasSubresource(kind, subresource)) return NotFoundResource();
  if (subresource == "status" || subresource == "approval") {
    if (method == "GET") return Get(target, request);
    if (method == "PUT") return Update(target, request);
    if (method == "PATCH") return Patch(target, request);
    return MethodNotAllowed();
  }
  if (subresource == "scale") return Scale(target, request);
  if (subresource == "binding") {
    return method == "POST" ? Bind(target, request) : MethodNotAllowed();
  }
  if (subresource == "eviction") {
    return method == "POST" ? Evict(target, request) : MethodNotAllowed();
  }
  if (subresource == "finalize") {
    return method == "PUT" ? Update(target, request) : MethodNotAllowed();
  }
  // log, exec, attach, portforward, proxy, ...: they need a kubelet.
  return NotFoundResource();
}

namespace {

// The write a subresource request makes on its object: the outer request's dry run and writer.
http::Request InnerWrite(std::string method, std::string body, const http::Request& outer) {
  http::Request inner;
  inner.method = std::move(method);
  inner.body = std::move(body);
  inner.headers.push_back({"Content-Type", "application/json"});
  for (const auto& [key, value] : outer.query) {
    if (key == "dryRun" || key == "fieldManager") inner.query.emplace_back(key, value);
  }
  // The writer's name for managedFields comes from here when it gave no fieldManager.
  if (const std::string* agent = outer.FindHeader("User-Agent")) {
    inner.headers.push_back({"User-Agent", *agent});
  }
  return inner;
}

}  // namespace

http::Response ResourceHandler::InnerRequest(const ResourceRequest& target, std::string method,
                                             std::string body, const http::Request& outer) const {
  const http::Request inner = InnerWrite(std::move(method), std::move(body), outer);
  if (inner.method == "PUT") return Update(target, inner);
  if (inner.method == "DELETE") return Delete(target, inner);
  return MethodNotAllowed();
}

http::Response ResourceHandler::Scale(const ResourceRequest& target,
                                      const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  const std::string& method = request.method;
  if (method != "GET" && method != "PUT" && method != "PATCH") return MethodNotAllowed();
  for (int attempt = 0;; ++attempt) {
    auto loaded = Load(target);
    if (auto* failure = std::get_if<http::Response>(&loaded)) return std::move(*failure);
    auto& stored = std::get<StoredObject>(loaded);
    stored.object->kind() = std::string(kind.kind);
    auto object = boost::json::parse(stored.object->ToJson());
    const auto current = ScaleOf(object, kind);
    if (method == "GET") return ScaleResponse(200, current, kind, request);

    // The Scale the client wants: its body (PUT), or the current Scale patched (PATCH).
    api::autoscaling::v1::Scale wanted;
    if (method == "PUT") {
      auto decoded = DecodeScaleBody(request, kind);
      if (!decoded.ok()) return StatusResponse(decoded.error());
      wanted = *std::move(decoded);
    } else {
      const std::string* header = request.FindHeader("Content-Type");
      const std::string type = header == nullptr ? "" : header->substr(0, header->find(';'));
      auto served = patch::ParseJson(ServedScaleJson(current, kind));
      if (!served.ok()) return StatusResponse(InternalError(served.error().message()));
      Result<boost::json::value> patched = InternalError("unreachable");
      if (type == "application/json-patch+json") {
        auto json_patch = patch::JsonPatch::Parse(request.body);
        if (!json_patch.ok()) return StatusResponse(json_patch.error());
        patched = json_patch->Apply(std::move(*served));
      } else if (type == "application/merge-patch+json" ||
                 type == "application/strategic-merge-patch+json") {
        // Scale has no lists, so a strategic merge patch is a merge patch.
        auto body = patch::ParseObjectPatch(request.body);
        if (!body.ok()) return StatusResponse(body.error());
        patched = patch::ApplyMergePatch(std::move(*served), *body);
      } else {
        return StatusResponse(
            Error(ErrorCode::kUnsupportedMediaType,
                  "the body of the request was in an unknown format - accepted media types "
                  "include: application/json-patch+json, application/merge-patch+json, "
                  "application/strategic-merge-patch+json"));
      }
      if (!patched.ok()) return StatusResponse(patched.error());
      auto decoded = DecodePatchedScale(boost::json::serialize(*patched), kind);
      if (!decoded.ok()) return StatusResponse(BadRequestError(decoded.error().message()));
      wanted = *std::move(decoded);
    }
    if (!wanted.metadata.name.empty() && wanted.metadata.name != target.name) {
      return StatusResponse(BadRequestError(
          fmt::format("the name of the object ({}) does not match the name on the URL ({})",
                      wanted.metadata.name, target.name)));
    }
    if (wanted.spec.replicas < 0) {
      const StatusDetails details{target.name, "autoscaling", "Scale"};
      return StatusResponse(
          validation::ToInvalidError(
              "Scale.autoscaling", target.name,
              {validation::InvalidInt(validation::FieldPath("spec").Child("replicas"),
                                      wanted.spec.replicas, "must be greater than or equal to 0")}),
          &details);
    }
    // The Scale's resourceVersion, when given, is the precondition of the write.
    const bool precondition = !wanted.metadata.resource_version.empty();
    auto& fields = object.as_object();
    if (const auto* custom = apiextensions::CustomResourceOf(kind); custom && custom->scale) {
      apiextensions::SetJsonPath(object, custom->scale->spec_replicas, wanted.spec.replicas);
    } else {
      fields["spec"].as_object()["replicas"] = wanted.spec.replicas;
    }
    fields["metadata"].as_object()["resourceVersion"] =
        precondition ? wanted.metadata.resource_version : current.metadata.resource_version;
    http::Response response = InnerRequest(target, "PUT", boost::json::serialize(object), request);
    if (response.status == 409 && !precondition && attempt < 4) continue;
    if (response.status != 200) return response;
    return ScaleResponse(200, ScaleOf(boost::json::parse(response.body), kind), kind, request);
  }
}

http::Response ResourceHandler::Bind(const ResourceRequest& target,
                                     const http::Request& request) const {
  auto binding = DecodeSubresourceBody<api::core::v1::Binding>(request, "Binding");
  if (!binding.ok()) return StatusResponse(binding.error());
  // pods/<name>/binding names the pod in the path; the bindings resource in the body.
  ResourceRequest pod_target = target;
  if (target.subresource.empty()) {
    pod_target.name = binding->metadata.name;
    pod_target.kind = nullptr;
    for (const auto& kind : kinds_) {
      if (kind.group.empty() && kind.version == "v1" && kind.plural == "pods")
        pod_target.kind = &kind;
    }
    if (pod_target.kind == nullptr) return NotFoundResource();
  } else if (binding->metadata.name != target.name) {
    return StatusResponse(BadRequestError("name in URL does not match name in Binding object"));
  }
  if (binding->target.kind != "" && binding->target.kind != "Node") {
    return StatusResponse(validation::ToInvalidError(
        "Binding", binding->metadata.name,
        {validation::NotSupported(validation::FieldPath("target").Child("kind"),
                                  binding->target.kind, {"Node", "<empty>"})}));
  }
  if (binding->target.name.empty()) {
    return StatusResponse(validation::ToInvalidError(
        "Binding", binding->metadata.name,
        {validation::Required(validation::FieldPath("target").Child("name"), "")}));
  }
  pod_target.subresource = "binding";
  // Admission sees the create of a Binding (upstream's create handler runs it on the Binding);
  // the pod's own update then goes to no plugin.
  api::TypedObject<api::core::v1::Binding> admitted(*std::move(binding));
  http::Response answer = SuccessStatus(201);
  if (auto refused =
          Admit(target.subresource.empty() ? target : pod_target, admission::Operation::kCreate,
                pod_target.name, &admitted, nullptr, request, answer, "Binding")) {
    return *std::move(refused);
  }
  const api::core::v1::Binding& bound = admitted.value();
  const std::string conflict_prefix =
      fmt::format("Operation cannot be fulfilled on pods/binding \"{}\": ", pod_target.name);
  const bool dry_run = IsDryRun(request);
  // The first attempt binds the watch cache's copy of the pod, as upstream's GuaranteedUpdate
  // starts from its cached object: only a success answers it, anything else is tried again
  // from the store.
  bool try_cache = !dry_run;
  for (int attempt = 0;; ++attempt) {
    std::optional<StoredObject> cached = try_cache ? LoadCached(pod_target) : std::nullopt;
    const bool from_cache = cached.has_value();
    try_cache = false;
    auto loaded = from_cache ? std::variant<StoredObject, http::Response>(*std::move(cached))
                             : Load(pod_target);
    if (auto* failure = std::get_if<http::Response>(&loaded)) return std::move(*failure);
    auto& stored = std::get<StoredObject>(loaded);
    auto retry_from_store = [&] {
      if (!from_cache) return false;
      --attempt;  // not an attempt: the store's copy decides
      return true;
    };
    auto& pod = static_cast<api::TypedObject<api::core::v1::Pod>&>(*stored.object).value();
    auto conflict = [&](const std::string& why) {
      const StatusDetails details{pod_target.name, "", "pods/binding"};
      return StatusResponse(Error(ErrorCode::kConflict, conflict_prefix + why), &details);
    };
    // The Binding's uid and resourceVersion are preconditions on the pod, as upstream's.
    const auto& expected = bound.metadata;
    std::string failed_precondition;
    if (!expected.uid.empty() && expected.uid != pod.metadata.uid) {
      failed_precondition = fmt::format("UID in precondition: {}, UID in object meta: {}",
                                        expected.uid, pod.metadata.uid);
    } else if (!expected.resource_version.empty() &&
               expected.resource_version != std::to_string(stored.kv.mod_revision)) {
      failed_precondition =
          fmt::format("ResourceVersion in precondition: {}, ResourceVersion in object meta: {}",
                      expected.resource_version, stored.kv.mod_revision);
    }
    if (!failed_precondition.empty()) {
      if (retry_from_store()) continue;
      const StatusDetails details{pod_target.name, "", "pods"};
      return StatusResponse(
          Error(ErrorCode::kConflict, fmt::format("Operation cannot be fulfilled on pods \"{}\": "
                                                  "Precondition failed: {}",
                                                  pod_target.name, failed_precondition)),
          &details);
    }
    if (pod.metadata.deletion_timestamp) {
      if (retry_from_store()) continue;
      return conflict(
          fmt::format("pod {} is being deleted, cannot be assigned to a host", pod.metadata.name));
    }
    if (!pod.spec.node_name.empty()) {
      if (retry_from_store()) continue;
      return conflict(fmt::format("pod {} is already assigned to node \"{}\"", pod.metadata.name,
                                  pod.spec.node_name));
    }
    if (!pod.spec.scheduling_gates.empty()) {
      if (retry_from_store()) continue;
      return conflict(fmt::format("pod {} has non-empty .spec.schedulingGates", pod.metadata.name));
    }
    pod.spec.node_name = bound.target.name;
    for (const auto& [key, value] : bound.metadata.annotations)
      pod.metadata.annotations[key] = value;
    bool found = false;
    for (auto& condition : pod.status.conditions) {
      if (condition.type != "PodScheduled") continue;
      found = true;
      if (condition.status != "True") {
        condition.status = "True";
        condition.last_transition_time = api::Time::FromUnixSeconds(NowSeconds(clock_));
      }
    }
    if (!found) {
      api::core::v1::PodCondition scheduled;
      scheduled.type = "PodScheduled";
      scheduled.status = "True";
      scheduled.last_transition_time = api::Time::FromUnixSeconds(NowSeconds(clock_));
      pod.status.conditions.push_back(std::move(scheduled));
    }
    if (dry_run) return answer;
    // Stored as changed here: no admission of the pod's update, no validation and no
    // managedFields entry, as upstream's binding writes the pod with GuaranteedUpdate.
    bool conflicted = false;
    auto written =
        StoreUpdate(pod_target, ToStoredJson(*stored.object), stored.kv.mod_revision, &conflicted);
    auto* failure = std::get_if<http::Response>(&written);
    if (failure == nullptr) return answer;
    if (retry_from_store()) continue;
    if (conflicted && attempt < 4) continue;
    return std::move(*failure);
  }
}

http::Response ResourceHandler::Evict(const ResourceRequest& target,
                                      const http::Request& request) const {
  auto eviction = DecodeSubresourceBody<api::policy::v1::Eviction>(request, "Eviction");
  if (!eviction.ok()) return StatusResponse(eviction.error());
  if (eviction->metadata.name != target.name) {
    return StatusResponse(BadRequestError("name in URL does not match name in Eviction object"));
  }
  // An eviction is a create on pods/eviction to admission, as upstream's.
  http::Response admission_warnings;
  if (auto refused = Admit(target, admission::Operation::kCreate, target.name, nullptr, nullptr,
                           request, admission_warnings)) {
    return *std::move(refused);
  }
  const api::KindInfo* budgets = nullptr;
  for (const auto& kind : kinds_) {
    if (kind.group == "policy" && kind.version == "v1" && kind.plural == "poddisruptionbudgets") {
      budgets = &kind;
    }
  }
  ResourceRequest pod_target = target;
  pod_target.subresource.clear();
  api::meta::v1::DeleteOptions options;
  if (eviction->delete_options) options = *eviction->delete_options;
  const bool dry_run =
      std::find(options.dry_run.begin(), options.dry_run.end(), "All") != options.dry_run.end() ||
      IsDryRun(request);
  if (dry_run &&
      std::find(options.dry_run.begin(), options.dry_run.end(), "All") == options.dry_run.end()) {
    options.dry_run.push_back("All");
  }
  for (int attempt = 0;; ++attempt) {
    auto loaded = Load(pod_target);
    if (auto* failure = std::get_if<http::Response>(&loaded)) return std::move(*failure);
    auto& stored = std::get<StoredObject>(loaded);
    const auto& pod = static_cast<api::TypedObject<api::core::v1::Pod>&>(*stored.object).value();
    // Pods that are not running (or already going) are deleted whatever the budgets say.
    const std::string& phase = pod.status.phase;
    api::meta::v1::DeleteOptions attempt_options = options;
    bool own_precondition = false;
    const bool ignore_budgets = phase == "Succeeded" || phase == "Failed" || phase == "Pending" ||
                                pod.metadata.deletion_timestamp.has_value();
    if (!ignore_budgets && budgets != nullptr) {
      auto range =
          store_.Range(storage::RangeRequest::Prefix(StorageKey(*budgets, target.namespace_, "")));
      if (!range.ok()) return StatusResponse(range.error());
      std::vector<std::pair<storage::KeyValue, api::policy::v1::PodDisruptionBudget>> matching;
      for (const auto& kv : range->kvs) {
        auto budget = api::FromJson<api::policy::v1::PodDisruptionBudget>(kv.value);
        if (!budget.ok()) continue;
        if (BudgetSelector(budget->object).Matches(LabelsOf(pod.metadata))) {
          matching.emplace_back(kv, std::move(budget->object));
        }
      }
      if (matching.size() > 1) {
        return StatusResponse(InternalError(
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does "
            "not support."));
      }
      // A pod that is running but not ready does not count towards currentHealthy: it may go
      // without using the budget when the policy is AlwaysAllow, or (IfHealthyBudget, the
      // default) when the budget has enough healthy pods; then only if it is still unchanged
      // (upstream's resourceVersion precondition).
      bool unhealthy_pod_may_go = false;
      if (matching.size() == 1) {
        const auto& budget = matching.front().second;
        if (!PodIsReady(pod)) {
          const bool always_allow =
              budget.spec.unhealthy_pod_eviction_policy.value_or("") == "AlwaysAllow";
          unhealthy_pod_may_go =
              always_allow || (budget.status.current_healthy >= budget.status.desired_healthy &&
                               budget.status.desired_healthy > 0);
        }
      }
      if (unhealthy_pod_may_go) {
        if (!attempt_options.preconditions) attempt_options.preconditions.emplace();
        if (!attempt_options.preconditions->resource_version) {
          attempt_options.preconditions->resource_version = pod.metadata.resource_version;
          own_precondition = true;
        }
      } else if (matching.size() == 1) {
        auto& [kv, budget] = matching.front();
        const std::string refused =
            "Cannot evict pod as it would violate the pod's disruption budget.";
        if (budget.status.observed_generation < budget.metadata.generation) {
          // Upstream suggests 10 s here (Retry-After, which client-go waits for and retries);
          // a budget with no disruption allowed gets no suggestion.
          return TooManyRequests(
              Error(
                  ErrorCode::kTooManyRequests, refused,
                  {{"DisruptionBudget",
                    fmt::format("The disruption budget {} is still being processed by the server.",
                                budget.metadata.name),
                    ""}}),
              10);
        }
        if (budget.status.disruptions_allowed < 0) {
          const StatusDetails details{budget.metadata.name, "policy", "poddisruptionbudget"};
          return StatusResponse(
              Error(ErrorCode::kForbidden,
                    fmt::format("poddisruptionbudget.policy \"{}\" is forbidden: pdb disruptions "
                                "allowed is negative",
                                budget.metadata.name)),
              &details);
        }
        if (budget.status.disrupted_pods.size() > kMaxDisruptedPods) {
          const StatusDetails details{budget.metadata.name, "policy", "poddisruptionbudget"};
          return StatusResponse(
              Error(ErrorCode::kForbidden,
                    fmt::format("poddisruptionbudget.policy \"{}\" is forbidden: DisruptedPods "
                                "map too big - too many evictions not confirmed by PDB controller",
                                budget.metadata.name)),
              &details);
        }
        if (budget.status.disruptions_allowed == 0) {
          return StatusResponse(Error(
              ErrorCode::kTooManyRequests, refused,
              {{"DisruptionBudget",
                fmt::format("The disruption budget {} needs {} healthy pods and has {} currently",
                            budget.metadata.name, budget.status.desired_healthy,
                            budget.status.current_healthy),
                ""}}));
        }
        --budget.status.disruptions_allowed;
        if (budget.status.disruptions_allowed == 0) {
          api::meta::v1::Condition condition;
          condition.type = "DisruptionAllowed";
          condition.status = "False";
          condition.reason = "InsufficientPods";
          condition.observed_generation = budget.status.observed_generation;
          SetCondition(budget.status.conditions, std::move(condition), NowSeconds(clock_));
        }
        if (!dry_run) {
          // Tells the disruption controller the pod is on its way out.
          budget.status.disrupted_pods[pod.metadata.name] =
              api::Time::FromUnixSeconds(NowSeconds(clock_));
          auto written = store_.Update(kv.key, api::ToJson(budget), kv.mod_revision);
          if (!written.ok()) {
            if (written.error().code() == ErrorCode::kConflict && attempt < 4) continue;
            return StatusResponse(written.error());
          }
        }
      }
    }
    http::Request inner;
    inner.method = "DELETE";
    inner.headers.push_back({"Content-Type", "application/json"});
    inner.body = api::ToJson(attempt_options);
    http::Response deleted = Delete(pod_target, inner);
    // The unhealthy pod changed meanwhile (it may be ready now): decide again.
    if (deleted.status == 409 && own_precondition && attempt < 4) continue;
    if (deleted.status >= 300) return deleted;
    return SuccessStatus(201);
  }
}

}  // namespace kpp::apiserver
