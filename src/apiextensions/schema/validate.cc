#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema {

validation::FieldErrors Validate(const boost::json::value&, const Schema&, const ValidateOptions&) {
  return {};
}

}  // namespace kpp::apiextensions::schema
