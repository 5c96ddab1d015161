#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema {

void ApplyDefaults(boost::json::value&, const Schema&) {}

}  // namespace kpp::apiextensions::schema
