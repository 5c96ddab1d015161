#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema {

validation::FieldErrors ValidateCrdSchema(const boost::json::value& json_schema_props,
                                          const validation::FieldPath& schema_path,
                                          const CrdSchemaOptions& options) {
  (void)options;
  validation::FieldErrors errors;
  auto compiled = Compile(json_schema_props);
  if (!compiled.ok()) {
    errors.push_back(
        validation::Invalid(schema_path.Child("openAPIV3Schema"), "", compiled.error().message()));
  }
  return errors;
}

bool IsStructural(const Schema&) {
  return true;
}

}  // namespace kpp::apiextensions::schema
