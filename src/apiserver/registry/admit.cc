// The registry's one entry into admission: objects go to the plugins as JSON in the version they
// are stored in, and come back as objects when a plugin changed them.
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/conversion/conversions.h"
#include "apiserver/audit/auditor.h"
#include "apiserver/registry/resource_handler.h"
#include "apiserver/responses.h"

namespace kpp::apiserver {
namespace {

Result<boost::json::object> AsJson(const api::Object& object) {
  boost::system::error_code ec;
  auto value = boost::json::parse(object.ToJson(), ec);
  if (ec || !value.is_object()) return InternalError("object is not a JSON object");
  return std::move(value.as_object());
}

}  // namespace

std::optional<http::Response> ResourceHandler::Admit(
    const ResourceRequest& target, admission::Operation operation, std::string_view name,
    api::Object* object, const api::Object* old_object, const http::Request& request,
    http::Response& warnings, std::string_view object_kind) const {
  const auto& chain = options_.admission;
  if (chain == nullptr) return std::nullopt;
  const api::KindInfo& kind = api::StorageKind(*target.kind);
  admission::Attributes attributes;
  attributes.group = std::string(kind.group);
  attributes.version = std::string(kind.version);
  attributes.kind = std::string(object_kind.empty() ? kind.kind : object_kind);
  attributes.resource = std::string(kind.plural);
  attributes.subresource = target.subresource;
  attributes.namespace_ = target.namespace_;
  attributes.name = std::string(name);
  attributes.operation = operation;
  attributes.user = target.user != nullptr ? *target.user : admission::LoopbackUser();
  for (const auto& [key, value] : request.query) {
    if (key == "dryRun" && value == "All") attributes.dry_run = true;
  }
  if (object != nullptr) attributes.generate_name = object->metadata().generate_name;
  std::optional<boost::json::object> new_json, old_json;
  // Most writes interest no plugin beyond their namespace: no JSON for them.
  const bool needs_object = chain->NeedsObject(attributes);
  attributes.objects_omitted = !needs_object && (object != nullptr || old_object != nullptr);
  if (object != nullptr && needs_object) {
    auto json = AsJson(*object);
    if (!json.ok()) return StatusResponse(json.error());
    new_json = std::move(*json);  // moved: Result has no rvalue operator*
    attributes.object = &*new_json;
  }
  if (old_object != nullptr && needs_object) {
    // The registry holds the old object in the request's version; plugins see both objects in
    // the storage version.
    api::ObjectPtr converted;
    if (&kind != target.kind) {
      auto stored = api::conversion::ToStorageVersion(*target.kind, old_object->Clone());
      if (!stored.ok()) return StatusResponse(stored.error());
      converted = std::move(stored).value();
      old_object = converted.get();
    }
    auto json = AsJson(*old_object);
    if (!json.ok()) return StatusResponse(json.error());
    old_json = std::move(*json);  // moved: Result has no rvalue operator*
    attributes.old_object = &*old_json;
  }
  admission::Outcome outcome = chain->Admit(attributes);
  for (const auto& [key, value] : outcome.audit_annotations) {
    audit::AddRequestAnnotation(key, value);
  }
  for (const auto& warning : outcome.warnings) {
    std::string quoted;
    for (char c : warning) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    warnings.headers.push_back({"Warning", fmt::format("299 - \"{}\"", quoted)});
  }
  if (outcome.rejection) {
    http::Response refused = StatusResponse(outcome.rejection->error, &outcome.rejection->details);
    for (const auto& header : warnings.headers) {
      if (header.name == "Warning") refused.headers.push_back(header);
    }
    return refused;
  }
  if (outcome.mutated && object != nullptr) {
    if (auto status = object->AssignJson(boost::json::serialize(*new_json)); !status.ok()) {
      return StatusResponse(InternalError(status.error().message()));
    }
  }
  return std::nullopt;
}

}  // namespace kpp::apiserver
