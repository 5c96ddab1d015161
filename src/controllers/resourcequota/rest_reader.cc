#include "controllers/resourcequota/rest_reader.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>

#include "api/runtime/kinds.h"

namespace kpp::controllers {

Result<std::optional<boost::json::object>> RestListReader::Get(std::string_view group,
                                                               std::string_view resource,
                                                               std::string_view namespace_,
                                                               std::string_view name) const {
  KPP_ASSIGN_OR_RETURN(
      auto items, ListWhere(group, resource, namespace_, fmt::format("metadata.name={}", name)));
  if (items.empty()) return std::optional<boost::json::object>();
  return std::optional<boost::json::object>(std::move(items.front()));
}

Result<std::vector<boost::json::object>> RestListReader::List(std::string_view group,
                                                              std::string_view resource,
                                                              std::string_view namespace_) const {
  return ListWhere(group, resource, namespace_, "");
}

Result<std::vector<boost::json::object>> RestListReader::ListWhere(
    std::string_view group, std::string_view resource, std::string_view namespace_,
    std::string_view field_selector) const {
  const api::KindInfo* kind = nullptr;
  for (const auto& candidate : api::AllKinds()) {
    if (candidate.group == group && candidate.plural == resource && candidate.storage == nullptr &&
        !candidate.list_kind.empty()) {
      kind = &candidate;
      break;
    }
  }
  if (kind == nullptr) return std::vector<boost::json::object>();
  client::rest::Request request;
  request.path = group.empty() ? fmt::format("/api/{}", kind->version)
                               : fmt::format("/apis/{}/{}", group, kind->version);
  if (!namespace_.empty()) request.path += fmt::format("/namespaces/{}", namespace_);
  request.path += fmt::format("/{}", resource);
  if (!field_selector.empty()) request.query.emplace_back("fieldSelector", field_selector);
  KPP_ASSIGN_OR_RETURN(auto answer, client_->Do(request));
  boost::system::error_code error;
  auto list = boost::json::parse(answer.body, error);
  if (error || !list.is_object()) return InternalError("the list is not a JSON object");
  std::vector<boost::json::object> items;
  if (auto* found = list.as_object().if_contains("items"); found && found->is_array()) {
    for (auto& item : found->as_array()) {
      if (item.is_object()) items.push_back(std::move(item.as_object()));
    }
  }
  return items;
}

}  // namespace kpp::controllers
