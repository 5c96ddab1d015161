#include "apiserver/ops/request_info.h"

#include <span>

namespace kpp::apiserver::ops {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

const std::string* FindQuery(const std::vector<std::pair<std::string, std::string>>& query,
                             std::string_view name) {
  for (const auto& [key, value] : query) {
    if (key == name) return &value;
  }
  return nullptr;
}

// The name a field selector pins with metadata.name=<name> (or ==), as upstream reports it.
std::string NameFromFieldSelector(std::string_view selector) {
  std::string name;
  while (!selector.empty()) {
    const auto comma = selector.find(',');
    std::string_view term = selector.substr(0, comma);
    selector = comma == std::string_view::npos ? std::string_view() : selector.substr(comma + 1);
    for (std::string_view prefix : {"metadata.name==", "metadata.name="}) {
      if (term.starts_with(prefix)) {
        term.remove_prefix(prefix.size());
        if (term.empty() || term == "." || term == ".." ||
            term.find_first_of("/%") != std::string_view::npos) {
          return {};
        }
        name = std::string(term);
        break;
      }
    }
  }
  return name;
}

}  // namespace

RequestInfo ParseRequestInfo(std::string_view method, std::string_view path,
                             const std::vector<std::pair<std::string, std::string>>& query) {
  RequestInfo info;
  info.path = std::string(path);
  info.verb = Lower(method);
  const auto segments = Segments(path);
  if (segments.empty() || (segments[0] != "api" && segments[0] != "apis")) return info;
  std::span<const std::string_view> parts(segments);
  parts = parts.subspan(1);
  if (segments[0] == "apis") {
    if (parts.size() < 3) return info;  // /apis/<group>/<version> is discovery
    info.api_group = std::string(parts[0]);
    parts = parts.subspan(1);
  }
  if (parts.size() < 2) return info;  // /api/v1 is discovery too
  info.is_resource_request = true;
  info.api_version = std::string(parts[0]);
  parts = parts.subspan(1);
  if (parts[0] == "watch" || parts[0] == "proxy") {
    if (parts.size() < 2) {
      // Upstream fails such a request; report it as what it is not.
      info.is_resource_request = false;
      info.api_version.clear();
      info.api_group.clear();
      info.verb = Lower(method);
      return info;
    }
    info.verb = std::string(parts[0]);
    parts = parts.subspan(1);
  } else if (method == "POST") {
    info.verb = "create";
  } else if (method == "GET" || method == "HEAD") {
    info.verb = "get";
  } else if (method == "PUT") {
    info.verb = "update";
  } else if (method == "PATCH") {
    info.verb = "patch";
  } else if (method == "DELETE") {
    info.verb = "delete";
  } else {
    info.verb.clear();
  }
  if (parts[0] == "namespaces" && parts.size() > 1) {
    info.namespace_ = std::string(parts[1]);
    // /namespaces/<name>/status and /finalize are the namespace's own subresources.
    if (parts.size() > 2 && parts[2] != "status" && parts[2] != "finalize") {
      parts = parts.subspan(2);
    }
  }
  if (parts.size() >= 3 && info.verb != "proxy") info.subresource = std::string(parts[2]);
  if (parts.size() >= 2) info.name = std::string(parts[1]);
  if (!parts.empty()) info.resource = std::string(parts[0]);
  if (info.name.empty() && info.verb == "get") {
    const std::string* watch = FindQuery(query, "watch");
    const bool watching = watch != nullptr && Lower(*watch) != "false" && *watch != "0";
    info.verb = watching ? "watch" : "list";
    if (const std::string* selector = FindQuery(query, "fieldSelector")) {
      info.name = NameFromFieldSelector(*selector);
    }
  }
  if (info.name.empty() && info.verb == "delete") info.verb = "deletecollection";
  return info;
}

std::string_view RequestScope(const RequestInfo& info) {
  if (!info.name.empty() || info.verb == "create") return "resource";
  if (!info.namespace_.empty()) return "namespace";
  if (info.is_resource_request) return "cluster";
  return "";
}

}  // namespace kpp::apiserver::ops
