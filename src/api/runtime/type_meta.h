// An object's JSON with its kind and apiVersion spliced in, for an object that leaves both empty:
// the typed encoder writes them first, so the text of such an object gains them at its front.
// Cheaper than copying the object to set them and encoding it again (the event recorder's
// writes, the API server's answers from stored text).
#pragma once

#include <string>
#include <string_view>

#include "api/runtime/kinds.h"

namespace kpp::api {

// `json`: the encoding of an object of `kind` without kind and apiVersion.
inline std::string WithTypeMeta(const KindInfo& kind, std::string_view json) {
  std::string out = R"({"kind":")";
  out += kind.kind;
  out += R"(","apiVersion":")";
  out += GroupVersionOf(kind);
  out += '"';
  if (json.size() > 2) out += ',';
  out.append(json.substr(1));
  return out;
}

}  // namespace kpp::api
