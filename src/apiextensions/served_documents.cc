#include "apiextensions/served_documents.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <deque>
#include <vector>

#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::string_view kMetaPrefix = "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.";

// An OpenAPI v3 schema as OpenAPI v2 can hold it, as upstream publishes custom resources in v2:
// without nullable and the combinators v2 lacks; int-or-string keeps no type.
value ToV2Schema(const value& schema) {
  if (schema.is_array()) {
    array out;
    for (const auto& item : schema.get_array())
      out.push_back(ToV2Schema(item));
    return out;
  }
  if (!schema.is_object()) return schema;
  object out;
  for (const auto& [key, member] : schema.get_object()) {
    if (key == "nullable" || key == "anyOf" || key == "oneOf" || key == "allOf" || key == "not" ||
        key == "x-kubernetes-validations") {
      continue;
    }
    if (key == "properties" && member.is_object()) {
      object properties;
      for (const auto& [name, property] : member.get_object())
        properties[name] = ToV2Schema(property);
      out[key] = std::move(properties);
    } else if (key == "items" || key == "additionalProperties") {
      out[key] = member.is_object() ? ToV2Schema(member) : member;
    } else {
      out[key] = member;
    }
  }
  if (const value* flag = out.if_contains("x-kubernetes-int-or-string");
      flag != nullptr && flag->is_bool() && flag->get_bool()) {
    out.erase("type");
  }
  return out;
}

object Ref(std::string_view name, std::string_view description) {
  object ref{{"$ref", std::string(kMetaPrefix) + std::string(name)}};
  if (!description.empty()) ref["description"] = description;
  return ref;
}

}  // namespace

void AddCustomResourceDefinitions(const api::KindInfo& kind, object& definitions) {
  const ServedCustomResource* custom = CustomResourceOf(kind);
  if (custom == nullptr) return;
  if (custom->schema.is_object()) {
    // As upstream's builder publishes a structural schema (apiextensions/schema).
    if (auto compiled = schema::Compile(custom->schema); compiled.ok()) {
      const std::string name(kind.openapi_name);
      definitions[name] = schema::BuildKindDefinition(compiled->get(), kind.group, kind.version,
                                                      kind.kind, schema::OpenApiVersion::kV2);
      definitions[name + "List"] = schema::BuildListDefinition(
          kind.group, kind.version, kind.list_kind, name, schema::OpenApiVersion::kV2);
      return;
    }
  }
  const array gvk{object{{"group", kind.group}, {"kind", kind.kind}, {"version", kind.version}}};
  object schema;
  if (custom->schema.is_object()) {
    schema = ToV2Schema(custom->schema).as_object();
  } else {
    schema = object{{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  }
  const value api_version = object{
      {"description",
       "APIVersion defines the versioned schema of this representation of an object. Servers "
       "should convert recognized schemas to the latest internal value, and may reject "
       "unrecognized values."},
      {"type", "string"}};
  const value kind_property = object{
      {"description",
       "Kind is a string value representing the REST resource this object represents. Servers "
       "may infer this from the endpoint the client submits requests to. In CamelCase."},
      {"type", "string"}};
  object props;
  if (const value* given = schema.if_contains("properties"); given && given->is_object()) {
    props = given->get_object();
  }
  props["apiVersion"] = api_version;
  props["kind"] = kind_property;
  props["metadata"] = Ref("ObjectMeta", "Standard object's metadata.");
  schema["properties"] = std::move(props);
  schema["type"] = "object";
  schema["x-kubernetes-group-version-kind"] = gvk;
  definitions[std::string(kind.openapi_name)] = std::move(schema);

  object list{
      {"description", std::string(kind.list_kind) + " is a list of " + std::string(kind.kind)},
      {"type", "object"},
      {"required", array{"items"}},
      {"x-kubernetes-group-version-kind",
       array{object{{"group", kind.group}, {"kind", kind.list_kind}, {"version", kind.version}}}}};
  list["properties"] = object{
      {"apiVersion", api_version},
      {"kind", kind_property},
      {"items",
       object{{"description", "List of " + std::string(kind.plural) + "."},
              {"type", "array"},
              {"items", object{{"$ref", "#/definitions/" + std::string(kind.openapi_name)}}}}},
      {"metadata", Ref("ListMeta", "Standard list metadata.")}};
  definitions[std::string(kind.openapi_name) + "List"] = std::move(list);
}

ServedDocuments::ServedDocuments(const CustomResourceKinds& custom,
                                 std::span<const api::KindInfo> builtins,
                                 std::string_view definitions_v2, std::string version)
    : custom_(custom),
      builtins_(builtins),
      definitions_v2_(definitions_v2),
      version_(std::move(version)) {}

void ServedDocuments::Refresh() const {
  const uint64_t generation = custom_.generation();
  if (generation == generation_ && discovery_ != nullptr) return;
  std::vector<api::KindInfo> kinds(builtins_.begin(), builtins_.end());
  const auto served = custom_.Served();
  // Each version's storageVersionHash names the storage version, as upstream's.
  std::deque<api::KindInfo> storage_versions;
  for (const api::KindInfo* kind : served) {
    kinds.push_back(*kind);
    const ServedCustomResource* custom = CustomResourceOf(*kind);
    if (custom != nullptr && custom->storage_version != custom->version) {
      storage_versions.push_back(*kind);
      storage_versions.back().version = custom->storage_version;
      kinds.back().storage = &storage_versions.back();
    }
  }
  discovery_ = std::make_shared<const apiserver::Discovery>(kinds);
  generation_ = generation;
}

std::shared_ptr<const apiserver::Discovery> ServedDocuments::discovery() const {
  std::lock_guard lock(mutex_);
  Refresh();
  return discovery_;
}

std::shared_ptr<const apiserver::OpenApiDocuments> ServedDocuments::openapi() const {
  std::lock_guard lock(mutex_);
  const uint64_t generation = custom_.generation();
  if (generation == openapi_generation_ && openapi_ != nullptr) return openapi_;
  std::vector<api::KindInfo> kinds(builtins_.begin(), builtins_.end());
  const auto served = custom_.Served();
  if (served.empty()) {
    openapi_ =
        std::make_shared<const apiserver::OpenApiDocuments>(definitions_v2_, kinds, version_);
  } else {
    object definitions = boost::json::parse(definitions_v2_).as_object();
    for (const api::KindInfo* kind : served) {
      kinds.push_back(*kind);
      AddCustomResourceDefinitions(*kind, definitions);
    }
    openapi_ = std::make_shared<const apiserver::OpenApiDocuments>(
        boost::json::serialize(definitions), kinds, version_);
  }
  openapi_generation_ = generation;
  return openapi_;
}

}  // namespace kpp::apiextensions
