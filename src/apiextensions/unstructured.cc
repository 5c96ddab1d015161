#include "apiextensions/unstructured.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/runtime/json_document.h"

namespace kpp::apiextensions {
namespace {

void WriteSorted(const boost::json::value& value, std::string& out) {
  if (value.is_object()) {
    const auto& object = value.get_object();
    std::vector<const boost::json::key_value_pair*> members;
    members.reserve(object.size());
    for (const auto& member : object)
      members.push_back(&member);
    std::sort(members.begin(), members.end(),
              [](const auto* a, const auto* b) { return a->key() < b->key(); });
    out += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out += ',';
      out += boost::json::serialize(boost::json::value(members[i]->key()));
      out += ':';
      WriteSorted(members[i]->value(), out);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& item : value.get_array()) {
      if (!first) out += ',';
      first = false;
      WriteSorted(item, out);
    }
    out += ']';
  } else {
    out += boost::json::serialize(value);
  }
}

}  // namespace

std::string SortedJson(const boost::json::value& value) {
  std::string out;
  WriteSorted(value, out);
  return out;
}

std::string UnstructuredObject::ToJson() const {
  boost::json::object whole = content_;
  if (!api_version_.empty()) whole["apiVersion"] = api_version_;
  if (!kind_.empty()) whole["kind"] = kind_;
  whole["metadata"] = boost::json::parse(api::ToJson(metadata_));
  return SortedJson(whole);
}

void UnstructuredObject::SetDefaults() {
  if (schema_ != nullptr) schema_->Default(content_);
}

validation::FieldErrors UnstructuredObject::ValidateFields() const {
  if (schema_ == nullptr) return {};
  return schema_->Validate(boost::json::parse(ToJson()).as_object());
}

Status UnstructuredObject::AssignJson(std::string_view json) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(json, ec);
  if (ec || !parsed.is_object()) return BadRequestError("the object is not a JSON object");
  return Assign(std::move(parsed.as_object()), nullptr, api::UnknownFields::kIgnore);
}

Status UnstructuredObject::Assign(boost::json::object json, std::vector<std::string>* unknown,
                                  api::UnknownFields metadata_policy) {
  auto text = [&](std::string_view key, std::string& out) -> Status {
    out.clear();
    if (const auto* value = json.if_contains(key)) {
      if (!value->is_string() && !value->is_null()) {
        return BadRequestError(fmt::format("unable to decode {}: {} must be a string", key,
                                           boost::json::serialize(*value)));
      }
      if (value->is_string()) out = std::string(value->get_string());
      json.erase(key);
    }
    return Ok();
  };
  KPP_RETURN_IF_ERROR(text("apiVersion", api_version_));
  KPP_RETURN_IF_ERROR(text("kind", kind_));
  metadata_ = {};
  if (const auto* metadata = json.if_contains("metadata"); metadata != nullptr) {
    if (!metadata->is_null()) {
      if (!metadata->is_object()) return BadRequestError("metadata must be an object");
      auto decoded = api::FromJson<api::meta::v1::ObjectMeta>(boost::json::serialize(*metadata),
                                                              {.unknown_fields = metadata_policy});
      if (!decoded.ok()) return decoded.error();
      metadata_ = std::move(decoded->object);
      if (unknown != nullptr) {
        for (const auto& field : decoded->unknown_fields)
          unknown->push_back("metadata." + field);
      }
    }
    json.erase("metadata");
  }
  content_ = std::move(json);
  if (schema_ != nullptr) {
    std::vector<std::string> pruned;
    schema_->Prune(content_, pruned);
    if (unknown != nullptr) unknown->insert(unknown->end(), pruned.begin(), pruned.end());
  }
  return Ok();
}

Result<api::Decoded<api::ObjectPtr>> UnstructuredCodec::Decode(
    std::string_view json, const api::DecodeOptions& options) const {
  auto document = api::runtime::ParseJsonDocument(json, options.max_depth);
  if (!document.ok()) return document.error();
  if (!document->value.is_object()) {
    return BadRequestError("Object 'Kind' is missing in '" + std::string(json.substr(0, 200)) +
                           "'");
  }
  auto object = std::make_unique<UnstructuredObject>(schema_);
  api::Decoded<api::ObjectPtr> result;
  std::vector<std::string> unknown;
  const auto metadata_policy = options.unknown_fields == api::UnknownFields::kIgnore
                                   ? api::UnknownFields::kIgnore
                                   : api::UnknownFields::kCollect;
  KPP_RETURN_IF_ERROR(
      object->Assign(std::move(document->value.as_object()), &unknown, metadata_policy));
  if (options.unknown_fields == api::UnknownFields::kReject && !unknown.empty()) {
    std::string message = "strict decoding error: ";
    for (size_t i = 0; i < unknown.size(); ++i) {
      if (i > 0) message += ", ";
      message += fmt::format("unknown field \"{}\"", unknown[i]);
    }
    return BadRequestError(std::move(message));
  }
  if (options.unknown_fields == api::UnknownFields::kCollect) {
    result.unknown_fields = std::move(unknown);
  }
  result.object = std::move(object);
  return result;
}

Result<api::ObjectPtr> UnstructuredCodec::DecodeParsed(boost::json::value json) const {
  if (!json.is_object()) {
    return BadRequestError("Object 'Kind' is missing in '" +
                           boost::json::serialize(json).substr(0, 200) + "'");
  }
  auto object = std::make_unique<UnstructuredObject>(schema_);
  KPP_RETURN_IF_ERROR(
      object->Assign(std::move(json.as_object()), nullptr, api::UnknownFields::kIgnore));
  return api::ObjectPtr(std::move(object));
}

Result<api::ObjectPtr> UnstructuredCodec::DecodeProtobuf(std::string_view) const {
  return Error(ErrorCode::kUnsupportedMediaType,
               "the body of the request was in an unknown format - accepted media types include: "
               "application/json, application/yaml");
}

}  // namespace kpp::apiextensions
