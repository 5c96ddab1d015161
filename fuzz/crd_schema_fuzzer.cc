// Custom resource schemas: "<schema>\n---\n<object>", or just "<object>", which is then checked
// against a CronTab-like schema. Compiling and checking any schema, and pruning, defaulting and
// validating any object, must end without crashing; pruning twice removes nothing the second
// time, and the OpenAPI documents of a compiled schema serialize.
#include <boost/json.hpp>
#include <cstdint>
#include <string_view>

#include "apiextensions/schema/schema.h"
#include "check.h"

using kpp::fuzz::Check;
namespace schema = kpp::apiextensions::schema;

namespace {

constexpr std::string_view kDefaultSchema = R"({"type":"object","properties":{
"spec":{"type":"object","required":["cronSpec"],"properties":{
"cronSpec":{"type":"string","pattern":"^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
"replicas":{"type":"integer","format":"int32","minimum":1,"maximum":10,"default":1},
"policy":{"type":"string","enum":["Allow","Forbid"],"default":"Allow"},
"port":{"x-kubernetes-int-or-string":true},
"labels":{"type":"object","additionalProperties":{"type":"string","default":"x"}},
"tags":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"set"},
"ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
"items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},
"port":{"type":"integer","default":80}}}},
"config":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
"template":{"type":"object","x-kubernetes-embedded-resource":true,
"x-kubernetes-preserve-unknown-fields":true},
"when":{"type":"string","format":"date-time","nullable":true},
"choice":{"type":"object","oneOf":[{"required":["a"]},{"required":["b"]}],
"properties":{"a":{"type":"string"},"b":{"type":"number","multipleOf":0.5}}}}},
"status":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}})";

std::optional<boost::json::value> Parse(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = 200;
  boost::system::error_code error;
  auto value = boost::json::parse(text, error, {}, options);
  if (error) return std::nullopt;
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static constexpr std::string_view kSeparator = "\n---\n";
  const size_t at = input.find(kSeparator);
  std::string_view schema_text = kDefaultSchema;
  std::string_view object_text = input;
  if (at != std::string_view::npos) {
    schema_text = input.substr(0, at);
    object_text = input.substr(at + kSeparator.size());
  }
  auto schema_json = Parse(schema_text);
  if (!schema_json) return 0;
  (void)schema::ValidateCrdSchema(*schema_json, kpp::validation::FieldPath("spec"));
  auto compiled = schema::Compile(*schema_json);
  if (!compiled.ok()) return 0;
  (void)boost::json::serialize(schema::ToOpenApiV3(**compiled));
  (void)boost::json::serialize(
      schema::BuildKindDefinition(compiled->get(), "a.io", "v1", "K", schema::OpenApiVersion::kV2));
  auto object = Parse(object_text);
  if (!object) return 0;
  (void)schema::Prune(*object, **compiled);
  auto again = schema::Prune(*object, **compiled);
  Check(again.empty(), "a second prune removed fields", boost::json::serialize(*object));
  schema::ApplyDefaults(*object, **compiled);
  for (const auto& error : schema::Validate(*object, **compiled))
    (void)error.ToString();
  return 0;
}
