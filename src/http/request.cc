// Requests and responses as handlers see them: header and query lookups and the parsing of a
// request target. Apart from the Beast server so that what reads untrusted targets can be
// built and fuzzed without the I/O code.
#include <strings.h>

#include <boost/url/parse.hpp>

#include "http/server.h"

namespace kpp::http {

const std::string* Request::FindHeader(std::string_view name) const {
  for (const auto& header : headers) {
    if (header.name.size() == name.size() &&
        strncasecmp(header.name.data(), name.data(), name.size()) == 0) {
      return &header.value;
    }
  }
  return nullptr;
}

std::optional<std::string_view> Request::FindQuery(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

bool Request::QueryFlag(std::string_view name) const {
  const auto value = FindQuery(name);
  if (!value) return false;
  return *value != "0" && strcasecmp(std::string(*value).c_str(), "false") != 0;
}

bool ParseRequestTarget(std::string_view target, Request& request) {
  request.target = std::string(target);
  auto url = boost::urls::parse_origin_form(request.target);
  if (!url) return false;
  request.path = url->path();
  request.query.clear();
  for (const auto& param : url->params()) {
    request.query.emplace_back(param.key, param.value);
  }
  return true;
}

void Response::SetHeader(std::string name, std::string value) {
  for (auto& header : headers) {
    if (strcasecmp(header.name.c_str(), name.c_str()) == 0) {
      header.value = std::move(value);
      return;
    }
  }
  headers.push_back({std::move(name), std::move(value)});
}

}  // namespace kpp::http
