#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema {

boost::json::object ToOpenApiV3(const Schema&) {
  return {};
}
boost::json::object ToOpenApiV2(const Schema&) {
  return {};
}

boost::json::object BuildKindDefinition(const Schema*, std::string_view, std::string_view,
                                        std::string_view, OpenApiVersion) {
  return {};
}

boost::json::object BuildListDefinition(std::string_view, std::string_view, std::string_view,
                                        std::string_view, OpenApiVersion) {
  return {};
}

std::string DefinitionName(std::string_view group, std::string_view version,
                           std::string_view kind) {
  std::string reversed;
  std::string_view rest = group;
  while (!rest.empty()) {
    size_t dot = rest.rfind('.');
    std::string_view part = dot == std::string_view::npos ? rest : rest.substr(dot + 1);
    if (!reversed.empty()) reversed += '.';
    reversed += part;
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(0, dot);
  }
  return reversed + "." + std::string(version) + "." + std::string(kind);
}

}  // namespace kpp::apiextensions::schema
