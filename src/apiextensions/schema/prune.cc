#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema {

std::vector<std::string> Prune(boost::json::value&, const Schema&, const PruneOptions&) {
  return {};
}

}  // namespace kpp::apiextensions::schema
