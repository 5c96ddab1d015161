// Schemas of custom resources: what upstream's apiextensions-apiserver does with a CRD version's
// spec.versions[i].schema.openAPIV3Schema (a JSONSchemaProps in its JSON form).
//
//   1. Compile the JSON into a Schema tree (once per CRD version; immutable afterwards).
//   2. ValidateCrdSchema: the checks upstream's CRD validation makes on that schema (structural
//      rules, unsupported keywords, list types, defaults that must validate and be pruned), with
//      upstream's field paths and messages (spec.versions[0].schema.openAPIV3Schema...).
//   3. On every write of a custom resource, in upstream's order:
//        Prune (drop unknown fields, report their paths) → ApplyDefaults → Validate.
//   4. ToOpenApiV3 / ToOpenApiV2 / BuildKindDefinition: what /openapi/v2 and /openapi/v3 publish
//      for the kind, for `kubectl explain` and kubectl's field validation.
//
// Thread safety: a compiled Schema is immutable; every function here is pure apart from its
// output arguments, so one shared_ptr<const Schema> may serve any number of threads at once.
//
// x-kubernetes-validations (CEL) rules are parsed, checked for their static shape (rule present,
// message without line breaks, reason supported) and published in the OpenAPI documents, but not
// evaluated.
//
// Bounded recursion: schemas nested deeper than kMaxSchemaDepth do not compile, and values nested
// deeper than kMaxValueDepth are reported as an error instead of walked, so no input can exhaust
// the stack.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apimachinery/validation/field_errors.h"
#include "base/result.h"

namespace kpp::apiextensions::schema {

inline constexpr int kMaxSchemaDepth = 128;
inline constexpr int kMaxValueDepth = 256;

// One x-kubernetes-validations entry (kept for the OpenAPI documents and CRD checks).
struct ValidationRule {
  std::string rule;
  std::string message;
  std::string message_expression;
  std::optional<std::string> reason;
  std::string field_path;
  std::optional<bool> optional_old_self;
};

struct Schema;

namespace internal {
class Pattern;  // a compiled `pattern` (RE2: Go's regular expression syntax)
}  // namespace internal

// additionalProperties: either a bool (false forbids, true allows anything) or a schema.
struct AdditionalProperties {
  bool allows = true;
  std::shared_ptr<const Schema> schema;  // set when given as a schema (then allows is true)
};

// A compiled JSONSchemaProps. Every keyword of the JSON form is kept (even those a CRD may not
// use, so ValidateCrdSchema can name them); field names follow the JSON keywords.
struct Schema {
  // Generic.
  std::string type;  // "" when absent
  std::string format;
  std::string description;
  std::string title;
  std::optional<boost::json::value> default_value;
  std::optional<boost::json::value> example;
  bool nullable = false;
  std::optional<boost::json::object> external_docs;  // {"description", "url"}

  // Value validations.
  std::optional<double> maximum;
  bool exclusive_maximum = false;
  std::optional<double> minimum;
  bool exclusive_minimum = false;
  std::optional<int64_t> max_length;
  std::optional<int64_t> min_length;
  std::string pattern;
  std::shared_ptr<const internal::Pattern> compiled_pattern;  // set by Compile when pattern is set
  std::optional<int64_t> max_items;
  std::optional<int64_t> min_items;
  bool unique_items = false;
  std::optional<double> multiple_of;
  std::optional<std::vector<boost::json::value>> enum_values;
  std::optional<int64_t> max_properties;
  std::optional<int64_t> min_properties;
  std::vector<std::string> required;
  std::vector<Schema> all_of;
  std::vector<Schema> one_of;
  std::vector<Schema> any_of;
  std::shared_ptr<const Schema> not_schema;

  // Structure. Properties are kept sorted by name (how upstream's documents list them).
  std::map<std::string, Schema> properties;
  std::shared_ptr<const Schema> items;
  std::optional<AdditionalProperties> additional_properties;

  // Kubernetes extensions.
  std::optional<bool> preserve_unknown_fields;  // x-kubernetes-preserve-unknown-fields
  bool embedded_resource = false;               // x-kubernetes-embedded-resource
  bool int_or_string = false;                   // x-kubernetes-int-or-string
  std::optional<std::string> list_type;         // x-kubernetes-list-type
  std::vector<std::string> list_map_keys;       // x-kubernetes-list-map-keys
  std::optional<std::string> map_type;          // x-kubernetes-map-type
  std::vector<ValidationRule> validations;      // x-kubernetes-validations

  // Keywords a CRD schema may not use; kept only so ValidateCrdSchema can refuse them.
  bool has_id = false;
  bool has_schema_uri = false;  // $schema
  bool has_ref = false;         // $ref
  bool has_additional_items = false;
  bool has_pattern_properties = false;
  bool has_definitions = false;
  bool has_dependencies = false;
  bool items_is_array = false;  // items given as a list of schemas

  bool PreservesUnknownFields() const { return preserve_unknown_fields.value_or(false); }
};

using SchemaPtr = std::shared_ptr<const Schema>;

// Reads the JSON form of a JSONSchemaProps. Fails (BadRequest, with the JSON path in the message)
// only when the JSON does not have JSONSchemaProps' shape (e.g. "type": 5) or nests deeper than
// kMaxSchemaDepth; everything else, however wrong for a CRD, compiles and is reported by
// ValidateCrdSchema.
Result<SchemaPtr> Compile(const boost::json::value& json_schema_props);

// What upstream's CRD validation relaxes for schemas that were already stored (ratcheting on
// update). A new CRD uses the defaults.
struct CrdSchemaOptions {
  // The version enables the status subresource: only description, type (object), properties,
  // required, x-kubernetes-* and the like are allowed at the root.
  bool status_enabled = false;
  bool allow_defaults = true;
  bool require_pruned_defaults = true;
  bool require_atomic_set_type = true;
  bool require_map_list_keys_map_set_validation = true;
  bool require_valid_property_type = true;
};

// The checks of upstream's validateCustomResourceDefinitionValidation for one version's schema:
// `schema_path` is the path of the CustomResourceValidation (spec.versions[i].schema); errors are
// reported under schema_path.openAPIV3Schema. `json_schema_props` is the openAPIV3Schema JSON
// (it is compiled here; a JSON shape error becomes one Invalid error at openAPIV3Schema).
// Errors come in upstream's order where upstream has one (the structural-schema errors sorted by
// their text, as upstream sorts them; map keys visited in sorted order).
validation::FieldErrors ValidateCrdSchema(const boost::json::value& json_schema_props,
                                          const validation::FieldPath& schema_path,
                                          const CrdSchemaOptions& options = {});

// The schema checks of a whole CustomResourceDefinition spec (JSON, apiextensions.k8s.io/v1),
// for a new CRD: every version needs spec.versions[i].schema.openAPIV3Schema ("Required value"),
// and each is checked by ValidateCrdSchema with status_enabled from the version's
// subresources.status. `spec_path` is the spec's path ("spec"). The rest of the CRD (names,
// group, versions, subresources, printer columns, conversion) is not looked at.
validation::FieldErrors ValidateCrdSpecSchemas(const boost::json::value& spec,
                                               const validation::FieldPath& spec_path);

// Whether a compiled schema is structural (ValidateCrdSchema's structural rules find nothing).
// Prune/ApplyDefaults/Validate may be used with any compiled schema but only mean what upstream
// means for structural ones.
bool IsStructural(const Schema& schema);

// --- Custom resources -------------------------------------------------------------------------

struct PruneOptions {
  // The value is a whole object of the kind: apiVersion, kind and metadata at its root are kept
  // without looking at the schema (metadata is the API server's to check).
  bool is_resource_root = true;
  // Called with the metadata of every embedded resource (x-kubernetes-embedded-resource; not
  // the root's) and its path ("spec.template.metadata"), as upstream decodes it as an
  // ObjectMeta: drop what ObjectMeta does not know and return the dropped fields' paths
  // ("spec.template.metadata.foo"). Unset: embedded metadata is kept as it is.
  std::function<std::vector<std::string>(boost::json::value& metadata, const std::string& path)>
      coerce_embedded_metadata;
};

// Removes every field the schema does not specify, recursively: under
// x-kubernetes-preserve-unknown-fields everything unspecified is kept (nested properties switch
// pruning back on); embedded resources keep apiVersion, kind and metadata. Returns the removed
// fields' paths as upstream reports them ("spec.foo", "spec.items[0].bar"; map values by key
// like properties: "spec.labels.x.y"), sorted; the API server turns them into `unknown field
// "spec.foo"` warnings (fieldValidation=Warn) or a 400 (Strict). Values nested deeper than
// kMaxValueDepth are left as they are.
std::vector<std::string> Prune(boost::json::value& object, const Schema& schema,
                               const PruneOptions& options = {});

// Sets absent fields that have a `default` in the schema, recursively (properties, map values of
// additionalProperties, array items), as upstream's structural defaulting: defaults are applied
// top-down so a defaulted object gets its own nested defaults; a field that is null is defaulted
// unless its schema is nullable; nulls of non-nullable fields without a default are dropped first
// (upstream's PruneNonNullableNullsWithoutDefaults). Defaults are pruned against the schema when
// the CRD is checked, so nothing here prunes.
void ApplyDefaults(boost::json::value& object, const Schema& schema);

struct ValidateOptions {
  // Check the metadata of embedded resources (x-kubernetes-embedded-resource): name and
  // generateName rules, as upstream's objectmeta validation. The root's metadata is the API
  // server's (ObjectMeta validation of every kind), so it is not looked at here.
  bool check_embedded_metadata = true;
};

// Validates a custom resource (after Prune and ApplyDefaults) against its schema with upstream's
// paths and messages: type ("spec.replicas: Invalid value: \"string\": spec.replicas in body must
// be of type integer: \"string\""), format, enum, bounds, lengths, pattern, items, properties,
// required, nullable, allOf/anyOf/oneOf/not, int-or-string, list-type set/map uniqueness and
// embedded resources' apiVersion/kind/metadata. Field paths start at the object's root (no
// prefix), as upstream's ValidateCustomResource.
validation::FieldErrors Validate(const boost::json::value& object, const Schema& schema,
                                 const ValidateOptions& options = {});

// --- OpenAPI ----------------------------------------------------------------------------------

// The schema as an OpenAPI v3 schema object (components/schemas entry body): every keyword as in
// the CRD, x-kubernetes-int-or-string as anyOf [integer, string] without a type, nullable kept.
boost::json::object ToOpenApiV3(const Schema& schema);

// The schema as a swagger 2.0 definition, dropping what v2 cannot say as upstream's builder does:
// nullable, anyOf/oneOf/not, x-kubernetes-int-or-string as a value without type (plus format
// int-or-string), items and properties under nullable or preserve-unknown-fields dropped,
// nullable properties not required, defaults dropped (upstream prunes them from the v2 document);
// the other value validations are kept.
boost::json::object ToOpenApiV2(const Schema& schema);

enum class OpenApiVersion { kV2, kV3 };

// The full definition of kind `kind` in group/version: the converted schema (or a bare object
// when `schema` is null), apiVersion and kind properties, metadata as a reference to ObjectMeta
// (#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta in v2,
// #/components/schemas/... in v3), the same for every embedded resource, and
// x-kubernetes-group-version-kind. In v2 a root with preserve-unknown-fields is a bare object,
// as upstream publishes it.
boost::json::object BuildKindDefinition(const Schema* schema, std::string_view group,
                                        std::string_view version, std::string_view kind,
                                        OpenApiVersion openapi_version);

// The definition of the list kind (items: array of references to the kind's definition named
// `item_definition_name`, metadata: ListMeta).
boost::json::object BuildListDefinition(std::string_view group, std::string_view version,
                                        std::string_view list_kind,
                                        std::string_view item_definition_name,
                                        OpenApiVersion openapi_version);

// The definition name upstream gives a custom kind: the group reversed, then version and kind
// ("stable.example.com", "v1", "CronTab" → "com.example.stable.v1.CronTab").
std::string DefinitionName(std::string_view group, std::string_view version, std::string_view kind);

}  // namespace kpp::apiextensions::schema
