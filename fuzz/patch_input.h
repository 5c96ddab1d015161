// The input of the patch fuzz targets: "<document>\n---\n<patch>", or just "<patch>", which then
// applies to a realistic Pod. Both parts are raw bytes, so the parsers get fuzzed too.
#pragma once

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string_view>

#include "apimachinery/patch/json_util.h"
#include "check.h"

namespace kpp::fuzz {

inline constexpr std::string_view kDefaultDocument = R"({"apiVersion":"v1","kind":"Pod",
"metadata":{"name":"web-0","namespace":"default","labels":{"app":"web"},
"annotations":{"a":"b"},"finalizers":["x/y"]},
"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80,
"protocol":"TCP"}],"env":[{"name":"A","value":"1"}],"volumeMounts":[{"name":"data",
"mountPath":"/data"}],"resources":{"limits":{"cpu":"500m","memory":"128Mi"}}},
{"name":"sidecar","image":"busybox","args":["sleep","3600"]}],
"volumes":[{"name":"data","emptyDir":{}}],"tolerations":[{"key":"k","operator":"Exists"}]},
"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})";

struct PatchInput {
  std::string_view document;
  std::string_view patch;
};

inline PatchInput SplitPatchInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static constexpr std::string_view kSeparator = "\n---\n";
  const size_t at = input.find(kSeparator);
  if (at == std::string_view::npos) return {kDefaultDocument, input};
  return {input.substr(0, at), input.substr(at + kSeparator.size())};
}

// What every successful patch result must satisfy: bounded nesting, and JSON text that parses
// back (what the server does next with it).
inline void CheckPatchResult(const boost::json::value& result) {
  Check(patch::JsonDepth(result) <= patch::kMaxJsonDepth,
        "a patch result nests deeper than the bound");
  const std::string text = boost::json::serialize(result);
  auto again = patch::ParseJson(text);
  // Not compared for equality: Boost.JSON 1.81 does not parse every double it writes back to
  // the same bits (4.4344444444444445E116 comes back one ULP off).
  Check(again.ok(), "a patch result does not parse back", text);
}

}  // namespace kpp::fuzz
