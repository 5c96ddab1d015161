#include "apiserver/registry/field_managers.h"

#include <fmt/format.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>

#include "api/conversion/conversions.h"
#include "api/runtime/openapi_data.h"
#include "apiextensions/custom_resources.h"
#include "apiserver/registry/lifecycle.h"
#include "base/log.h"

namespace kpp::apiserver {

namespace {

namespace mf = managedfields;
using boost::json::value;

std::string ManagerOf(const http::Request& request) {
  if (auto manager = request.FindQuery("fieldManager"); manager && !manager->empty()) {
    return std::string(*manager);
  }
  const std::string* agent = request.FindHeader("User-Agent");
  return agent == nullptr ? "" : mf::ManagerFromUserAgent(*agent);
}

// Text a JSON encoder wrote, so it parses.
value ParseEncoded(std::string_view text, const boost::json::storage_ptr& storage) {
  boost::json::parse_options options;
  options.max_depth = std::numeric_limits<unsigned>::max();
  return boost::json::parse(text, storage, options);
}

value EntriesJson(const std::vector<api::meta::v1::ManagedFieldsEntry>& entries,
                  const boost::json::storage_ptr& storage) {
  boost::json::array out(storage);
  for (const auto& entry : entries) {
    boost::json::object json(storage);
    json.emplace("manager", entry.manager);
    json.emplace("operation", entry.operation);
    json.emplace("apiVersion", entry.api_version);
    if (entry.time) json.emplace("time", entry.time->ToString());
    json.emplace("fieldsType", entry.fields_type);
    // Parsed into the arena from the text: the entry's own tree is not needed.
    if (entry.fields_v1) json.emplace("fieldsV1", ParseEncoded(entry.fields_v1->Text(), storage));
    json.emplace("subresource", entry.subresource);
    out.push_back(std::move(json));
  }
  return out;
}

// What a write changed never includes metadata.managedFields (the field manager strips them
// from its result), so the trees it compares leave them out: a third of a running pod's JSON
// that would be encoded, parsed and compared for nothing.
value WithoutManagedFields(value object) {
  if (auto* metadata = object.is_object() ? object.as_object().if_contains("metadata") : nullptr;
      metadata != nullptr && metadata->is_object()) {
    metadata->as_object().erase("managedFields");
  }
  return object;
}

// `object` as JSON without its managedFields, which are set aside while it is encoded.
value ParsedWithoutManagedFields(api::Object& object, const boost::json::storage_ptr& storage) {
  auto& entries = object.metadata().managed_fields;
  auto set_aside = std::move(entries);
  entries.clear();
  const std::string json = object.ToJson();
  entries = std::move(set_aside);
  return boost::json::parse(json, storage);
}

// The fieldsV1 of `entry` as the typed entry holds it. When `before` had the same manager with the
// same fields and that entry's text is known to be the encoder's (`canonical`, by index into
// `before`), the text is shared rather than the set encoded again: most writes change no one's
// fields (status reports, lease renewals).
api::RawJson FieldsV1Of(const mf::ManagerEntry& entry, const mf::ManagedFields& before,
                        const std::vector<const api::RawJson*>& canonical) {
  for (size_t i = 0; i < before.size() && i < canonical.size(); ++i) {
    const mf::ManagerEntry& old = before[i];
    if (canonical[i] != nullptr && old.manager == entry.manager &&
        old.operation == entry.operation && old.api_version == entry.api_version &&
        old.subresource == entry.subresource && old.fields == entry.fields) {
      return *canonical[i];
    }
  }
  return api::RawJson(entry.fields.ToFieldsV1());
}

std::vector<api::meta::v1::ManagedFieldsEntry> TypedEntries(
    const mf::ManagedFields& managed, const mf::ManagedFields& before,
    const std::vector<const api::RawJson*>& canonical) {
  std::vector<api::meta::v1::ManagedFieldsEntry> out;
  for (const mf::ManagerEntry* entry : mf::EntriesToEncode(managed)) {
    api::meta::v1::ManagedFieldsEntry typed;
    typed.manager = entry->manager;
    typed.operation = entry->operation;
    typed.api_version = entry->api_version;
    if (auto time = api::Time::Parse(entry->time); time.ok() && !entry->time.empty()) {
      typed.time = *time;
    }
    typed.fields_type = "FieldsV1";
    typed.fields_v1 = FieldsV1Of(*entry, before, canonical);
    typed.subresource = entry->subresource;
    out.push_back(std::move(typed));
  }
  return out;
}

// Which of `chosen`'s fieldsV1 texts are the encoder's own: all when `chosen` is the live
// object's entries (written by this server), else those that are the live entry's text
// unchanged. By index into `chosen`; null where unknown (a client may send a set in another
// order).
std::vector<const api::RawJson*> CanonicalTexts(
    const std::vector<api::meta::v1::ManagedFieldsEntry>& chosen,
    const std::vector<api::meta::v1::ManagedFieldsEntry>* live) {
  std::vector<const api::RawJson*> canonical(chosen.size(), nullptr);
  for (size_t i = 0; i < chosen.size(); ++i) {
    if (!chosen[i].fields_v1) continue;
    if (&chosen == live) {
      canonical[i] = &*chosen[i].fields_v1;
    } else if (live != nullptr && i < live->size() && (*live)[i].fields_v1 &&
               (*live)[i].fields_v1->Text() == chosen[i].fields_v1->Text()) {
      canonical[i] = &*(*live)[i].fields_v1;
    }
  }
  return canonical;
}

}  // namespace

// `kind`'s objects as the other versions of the same resource see them: decoded, converted
// through the registered conversions (directly, or through the version they are stored in), and
// encoded again with that version's type.
class FieldManagers::KindVersions final : public mf::VersionConverter {
 public:
  KindVersions(const FieldManagers& managers, const api::KindInfo& kind)
      : managers_(managers), kind_(kind) {}

  Result<Converted> Convert(const value& object, std::string_view api_version) const override {
    const api::KindInfo* target = managers_.ServedIn(kind_, api_version);
    const KindTypes* types = target == nullptr ? nullptr : managers_.TypesOf(*target);
    if (types == nullptr) {
      return NotFoundError(fmt::format("{} is not served in {}", kind_.kind, api_version));
    }
    KPP_ASSIGN_OR_RETURN(auto decoded, kind_.codec->Decode(boost::json::serialize(object), {}));
    api::ObjectPtr converted;
    if (api::conversion::CanConvert(kind_, *target)) {
      KPP_ASSIGN_OR_RETURN(converted, api::conversion::Convert(*decoded.object, kind_, *target));
    } else {
      const api::KindInfo& storage = api::StorageKind(kind_);
      KPP_ASSIGN_OR_RETURN(auto stored, api::conversion::Convert(*decoded.object, kind_, storage));
      KPP_ASSIGN_OR_RETURN(converted, api::conversion::Convert(*stored, storage, *target));
    }
    return Converted{boost::json::parse(converted->ToJson()), types->type};
  }

 private:
  const FieldManagers& managers_;
  const api::KindInfo& kind_;
};

namespace {

Error PatchOptionsInvalid(std::vector<ErrorCause> causes) {
  std::string message = R"(PatchOptions.meta.k8s.io "" is invalid: )";
  for (size_t i = 0; i < causes.size(); ++i) {
    if (i > 0) message += ", ";
    message += fmt::format("{}: {}", causes[i].field, causes[i].message);
  }
  return Error(ErrorCode::kInvalid, std::move(message), std::move(causes));
}

}  // namespace

FieldManagers::FieldManagers(std::span<const api::KindInfo> kinds)
    : definitions_(boost::json::parse(api::OpenApiV2Definitions()).as_object()),
      model_(std::make_unique<mf::TypeModel>(definitions_)) {
  status_fields_.Insert({mf::PathElement::Field("status")});
  for (const auto& kind : kinds) {
    const auto* type = model_->Find(kind.openapi_name);
    if (type == nullptr || kind.codec == nullptr) continue;
    auto empty = kind.codec->Decode("{}", {});
    if (!empty.ok()) continue;
    types_.emplace(&kind, KindTypes{type, empty->object->ToJson()});
  }
}

FieldManagers::~FieldManagers() = default;

const api::KindInfo* FieldManagers::ServedIn(const api::KindInfo& kind,
                                             std::string_view api_version) const {
  const api::KindInfo& storage = api::StorageKind(kind);
  for (const auto& [other, types] : types_) {
    if (other->kind == kind.kind && &api::StorageKind(*other) == &storage &&
        api::GroupVersionOf(*other) == api_version) {
      return other;
    }
  }
  return nullptr;
}

const FieldManagers::KindTypes* FieldManagers::TypesOf(const api::KindInfo& kind) const {
  auto it = types_.find(&kind);
  if (it != types_.end()) return &it->second;
  // Custom resources: every object a granular map, as upstream's deduced type for schemaless
  // ones.
  static const KindTypes deduced{managedfields::DeducedType(), R"({"metadata":{}})"};
  return apiextensions::CustomResourceOf(kind) != nullptr ? &deduced : nullptr;
}

void FieldManagers::RecordUpdate(const api::KindInfo& kind, const api::Object* live,
                                 api::Object& updated, const http::Request& request,
                                 std::string_view subresource, const std::string& now) const {
  const KindTypes* types = TypesOf(kind);
  if (types == nullptr) return;
  auto& metadata = updated.metadata();
  // The JSON trees below live only for this call: one arena for all of them, freed at once,
  // instead of a malloc and free per node (every write comes here).
  boost::json::monotonic_resource arena(16 * 1024);
  const boost::json::storage_ptr storage(&arena);
  const value request_entries = EntriesJson(metadata.managed_fields, storage);
  const value live_entries =
      live == nullptr ? value() : EntriesJson(live->metadata().managed_fields, storage);
  // A client that sent none keeps the recorded ones (it may not know about them).
  bool from_request = false;
  const mf::ManagedFields managed = mf::ManagedFieldsForWrite(
      metadata.managed_fields.empty() ? nullptr : &request_entries, &live_entries, &from_request);
  const auto* live_typed = live == nullptr ? nullptr : &live->metadata().managed_fields;
  static const std::vector<api::meta::v1::ManagedFieldsEntry> kNone;
  const auto canonical = CanonicalTexts(from_request            ? metadata.managed_fields
                                        : live_typed != nullptr ? *live_typed
                                                                : kNone,
                                        live_typed);
  const mf::FieldSet& reset =
      subresource.empty() && HasSubresource(kind, "status") ? status_fields_ : no_fields_;
  const KindVersions versions(*this, kind);
  mf::FieldManager manager(types->type, reset, &versions);
  auto after = manager.Update(
      WithoutManagedFields(
          boost::json::parse(live == nullptr ? types->empty_json : live->ToJson(), storage)),
      ParsedWithoutManagedFields(updated, storage), managed,
      {ManagerOf(request), api::GroupVersionOf(kind), std::string(subresource), now});
  if (!after.ok()) {
    KLOG_V(2, "managedFields of {} {}/{} kept: {}", kind.kind, metadata.namespace_, metadata.name,
           after.error().message());
    metadata.managed_fields = live == nullptr ? std::vector<api::meta::v1::ManagedFieldsEntry>{}
                                              : live->metadata().managed_fields;
    return;
  }
  metadata.managed_fields = TypedEntries(*after, managed, canonical);
}

Status FieldManagers::ValidatePatchOptions(const http::Request& request, bool is_apply) {
  std::vector<ErrorCause> causes;
  if (!is_apply && request.HasQuery("force")) {
    causes.push_back(
        {"FieldValueForbidden", "Forbidden: may not be specified for non-apply patch", "force"});
  }
  if (is_apply && request.FindQuery("fieldManager").value_or("").empty()) {
    causes.push_back(
        {"FieldValueRequired", "Required value: is required for apply patch", "fieldManager"});
  }
  if (auto manager = request.FindQuery("fieldManager"); manager && manager->size() > 128) {
    causes.push_back({"FieldValueTooLong", "Too long: may not be longer than 128", "fieldManager"});
  }
  if (causes.empty()) return Ok();
  return PatchOptionsInvalid(std::move(causes));
}

Result<std::string> FieldManagers::Apply(const api::KindInfo& kind, std::string_view name,
                                         const std::string* live_json, const http::Request& request,
                                         const std::string& now) const {
  const KindTypes* types = TypesOf(kind);
  if (types == nullptr) {
    return Error(ErrorCode::kUnsupportedMediaType,
                 fmt::format("apply is not supported for {}", kind.kind));
  }
  boost::system::error_code parse_error;
  value config = boost::json::parse(request.body, parse_error);
  if (parse_error || !config.is_object()) {
    // The body was converted from YAML (resource_handler.cc): only a document that is not a
    // mapping gets here.
    return BadRequestError("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal " +
                           std::string(parse_error         ? "value"
                                       : config.is_array() ? "array"
                                                           : "value") +
                           " into Go value of type map[string]interface {}");
  }
  auto& object = config.as_object();
  const std::string group_version = api::GroupVersionOf(kind);
  const auto* api_version = object.if_contains("apiVersion");
  const auto* kind_name = object.if_contains("kind");
  if (api_version == nullptr || !api_version->is_string() || kind_name == nullptr ||
      !kind_name->is_string() || api_version->as_string().empty() ||
      kind_name->as_string().empty()) {
    return BadRequestError("apiVersion and kind must be set in the apply configuration");
  }
  if (api_version->as_string() != group_version || kind_name->as_string() != kind.kind) {
    return BadRequestError(
        fmt::format("the apply configuration is a {}, {}; this endpoint serves {}, {}",
                    std::string_view(api_version->as_string()),
                    std::string_view(kind_name->as_string()), group_version, kind.kind));
  }
  const auto* metadata = object.if_contains("metadata");
  const auto* config_name = metadata != nullptr && metadata->is_object()
                                ? metadata->as_object().if_contains("name")
                                : nullptr;
  if (config_name == nullptr || !config_name->is_string() || config_name->as_string() != name) {
    return BadRequestError(
        fmt::format("the name of the object ({}) does not match the name on the URL ({})",
                    config_name != nullptr && config_name->is_string()
                        ? std::string_view(config_name->as_string())
                        : std::string_view(),
                    name));
  }
  // Ownership is never taken from the configuration itself.
  if (auto* meta = object.if_contains("metadata"); meta != nullptr && meta->is_object()) {
    meta->as_object().erase("managedFields");
  }
  value live = boost::json::parse(live_json == nullptr ? types->empty_json : *live_json);
  const value* live_entries = nullptr;
  if (live.is_object()) {
    if (const auto* meta = live.as_object().if_contains("metadata"); meta && meta->is_object()) {
      live_entries = meta->as_object().if_contains("managedFields");
    }
  }
  mf::ManagedFields managed = mf::ManagedFieldsForWrite(nullptr, live_entries);
  const mf::FieldSet& reset = HasSubresource(kind, "status") ? status_fields_ : no_fields_;
  const KindVersions versions(*this, kind);
  mf::FieldManager manager(types->type, reset, &versions);
  auto applied =
      manager.Apply(live, config, std::move(managed), {ManagerOf(request), group_version, "", now},
                    request.QueryFlag("force"));
  if (!applied.ok()) return applied.error();
  auto& merged = applied->object.as_object();
  auto& merged_meta = merged["metadata"];
  if (!merged_meta.is_object()) merged_meta = boost::json::object();
  merged_meta.as_object()["managedFields"] = mf::EncodeManagedFields(applied->managed);
  return boost::json::serialize(applied->object);
}

}  // namespace kpp::apiserver
