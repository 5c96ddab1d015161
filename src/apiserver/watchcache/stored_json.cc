#include "apiserver/watchcache/stored_json.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "api/runtime/openapi_data.h"

namespace kpp::apiserver::watchcache {
namespace {

constexpr size_t kNone = std::string_view::npos;

// The position after the string that starts at `pos` (a quote); kNone when unterminated.
size_t SkipString(std::string_view text, size_t pos) {
  for (size_t i = pos + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return kNone;
}

// The position after the compact JSON value that starts at `pos`; kNone when malformed.
size_t SkipValue(std::string_view text, size_t pos) {
  if (pos >= text.size()) return kNone;
  if (text[pos] == '"') return SkipString(text, pos);
  if (text[pos] != '{' && text[pos] != '[') {
    while (pos < text.size() && text[pos] != ',' && text[pos] != '}' && text[pos] != ']')
      ++pos;
    return pos < text.size() ? pos : kNone;
  }
  int depth = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') {
      pos = SkipString(text, pos);
      if (pos == kNone) return kNone;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return pos + 1;
    ++pos;
  }
  return kNone;
}

// ObjectMeta's fields the typed encoder writes after resourceVersion: those after it in the
// schema. Read once from ObjectMeta's OpenAPI definition, which the same schema generates with
// its properties in the schema's order, the order the encoder writes them in.
bool ComesAfterResourceVersion(std::string_view key) {
  static const std::vector<std::string> kLater = [] {
    constexpr std::string_view kDefinition =
        R"("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta":)";
    const std::string_view definitions = api::OpenApiV2Definitions();
    const size_t at = definitions.find(kDefinition);
    const size_t start = at == kNone ? kNone : at + kDefinition.size();
    const size_t end = start == kNone ? kNone : SkipValue(definitions, start);
    if (end == kNone) std::abort();  // The generated definitions always have ObjectMeta.
    const auto definition = boost::json::parse(definitions.substr(start, end - start));
    std::vector<std::string> later;
    bool after = false;
    for (const auto& [name, property] : definition.at("properties").as_object()) {
      if (after) later.emplace_back(name);
      after = after || name == "resourceVersion";
    }
    return later;
  }();
  for (const std::string& later : kLater)
    if (key == later) return true;
  return false;
}

}  // namespace

std::optional<std::string> SpliceResourceVersion(std::string_view stored, int64_t revision) {
  constexpr std::string_view kStart = R"({"metadata":{)";
  if (!stored.starts_with(kStart)) return std::nullopt;
  size_t pos = kStart.size();
  size_t insert_at = kNone;
  bool first = true;
  while (insert_at == kNone) {
    if (pos >= stored.size()) return std::nullopt;
    if (stored[pos] == '}') {
      insert_at = pos;
      break;
    }
    if (stored[pos] != '"') return std::nullopt;
    const size_t key_end = SkipString(stored, pos);
    if (key_end == kNone || key_end >= stored.size() || stored[key_end] != ':') return std::nullopt;
    const std::string_view key = stored.substr(pos + 1, key_end - pos - 2);
    if (key.find('\\') != std::string_view::npos || key == "resourceVersion") return std::nullopt;
    if (ComesAfterResourceVersion(key)) {
      insert_at = pos;
      break;
    }
    const size_t value_end = SkipValue(stored, key_end + 1);
    if (value_end == kNone) return std::nullopt;
    first = false;
    pos = value_end;
    if (stored[pos] == ',') {
      ++pos;
    } else if (stored[pos] != '}') {
      return std::nullopt;
    }
  }
  const bool at_end = stored[insert_at] == '}';
  std::string field = fmt::format(R"("resourceVersion":"{}")", revision);
  std::string out;
  out.reserve(stored.size() + field.size() + 2);
  out.append(stored.substr(0, insert_at));
  if (at_end && !first) out += ',';
  out += field;
  if (!at_end) out += ',';
  out.append(stored.substr(insert_at));
  return out;
}

}  // namespace kpp::apiserver::watchcache
