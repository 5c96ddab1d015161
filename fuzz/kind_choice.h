// How the API fuzz targets pick the kind to decode an input as: the entry of the kind table whose
// apiVersion and kind the input names, as the server picks it from the URL; otherwise one chosen
// by a hash of those two strings, so that mutating them reaches every kind while the rest of the
// input keeps its meaning.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "api/runtime/kinds.h"

namespace kpp::fuzz {

inline std::string ApiVersionOf(const api::KindInfo& kind) {
  return kind.group.empty() ? std::string(kind.version)
                            : std::string(kind.group) + "/" + std::string(kind.version);
}

inline const api::KindInfo& ChooseKind(std::string_view api_version, std::string_view kind) {
  const auto kinds = api::AllKinds();
  for (const auto& info : kinds) {
    if (info.kind == kind && ApiVersionOf(info) == api_version) return info;
  }
  const size_t hash =
      std::hash<std::string_view>()(api_version) * 31 + std::hash<std::string_view>()(kind);
  return kinds[hash % kinds.size()];
}

}  // namespace kpp::fuzz
