#include "apimachinery/yaml/yaml_to_json.h"

#include <yaml.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <regex>
#include <utility>
#include <vector>

#include "base/error.h"

namespace kpp::yaml {
namespace {

struct Entry;

// A YAML value after type resolution. Mappings keep their entries in order, duplicates included.
struct Node {
  enum class Type { kNull, kBool, kInt, kUint, kFloat, kString, kSequence, kMapping };
  Type type = Type::kNull;
  bool boolean = false;
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  double real = 0;
  std::string text;
  bool merge_key = false;  // a plain "<<"
  std::vector<Node> items;
  std::vector<Entry> entries;
};

struct Entry {
  Node key;
  Node value;
};

Error ConversionError(std::string_view detail) {
  return Error(ErrorCode::kBadRequest, "error converting YAML to JSON: " + std::string(detail));
}

// go-yaml's float syntax for plain scalars that did not parse as integers.
bool LooksLikeFloat(std::string_view text) {
  static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  return std::regex_match(text.begin(), text.end(), kFloat);
}

bool ParseDouble(std::string_view text, double& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() && std::isfinite(out);
}

// Go's strconv.ParseUint(text, 0, 64): base from the prefix (0x, 0o, 0b, or 0 for octal).
bool ParseUnsigned(std::string_view text, uint64_t& out) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  } else if (text.size() > 2 && text[0] == '0' && (text[1] == 'o' || text[1] == 'O')) {
    base = 8;
    text.remove_prefix(2);
  } else if (text.size() > 2 && text[0] == '0' && (text[1] == 'b' || text[1] == 'B')) {
    base = 2;
    text.remove_prefix(2);
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;
    text.remove_prefix(1);
  }
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return error == std::errc() && end == text.data() + text.size();
}

// Go's strconv.ParseInt(text, 0, 64).
bool ParseSigned(std::string_view text, int64_t& out) {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  uint64_t magnitude = 0;
  if (!ParseUnsigned(text, magnitude)) return false;
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  if (negative ? magnitude > kLimit : magnitude >= kLimit) return false;
  out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

struct Keyword {
  std::string_view text;
  Node::Type type;
  bool boolean;
};

// go-yaml v2's table of plain scalars with a fixed meaning (YAML 1.1 booleans and nulls).
constexpr std::array kKeywords = {
    Keyword{"y", Node::Type::kBool, true},      Keyword{"Y", Node::Type::kBool, true},
    Keyword{"yes", Node::Type::kBool, true},    Keyword{"Yes", Node::Type::kBool, true},
    Keyword{"YES", Node::Type::kBool, true},    Keyword{"true", Node::Type::kBool, true},
    Keyword{"True", Node::Type::kBool, true},   Keyword{"TRUE", Node::Type::kBool, true},
    Keyword{"on", Node::Type::kBool, true},     Keyword{"On", Node::Type::kBool, true},
    Keyword{"ON", Node::Type::kBool, true},     Keyword{"n", Node::Type::kBool, false},
    Keyword{"N", Node::Type::kBool, false},     Keyword{"no", Node::Type::kBool, false},
    Keyword{"No", Node::Type::kBool, false},    Keyword{"NO", Node::Type::kBool, false},
    Keyword{"false", Node::Type::kBool, false}, Keyword{"False", Node::Type::kBool, false},
    Keyword{"FALSE", Node::Type::kBool, false}, Keyword{"off", Node::Type::kBool, false},
    Keyword{"Off", Node::Type::kBool, false},   Keyword{"OFF", Node::Type::kBool, false},
    Keyword{"~", Node::Type::kNull, false},     Keyword{"null", Node::Type::kNull, false},
    Keyword{"Null", Node::Type::kNull, false},  Keyword{"NULL", Node::Type::kNull, false},
};

// The value of a plain (unquoted, untagged) scalar, as go-yaml v2 resolves it.
Result<Node> ResolvePlain(std::string text) {
  Node node;
  if (text.empty()) return node;  // null
  for (const auto& keyword : kKeywords) {
    if (keyword.text == text) {
      node.type = keyword.type;
      node.boolean = keyword.boolean;
      return node;
    }
  }
  if (text == "<<") {
    node.type = Node::Type::kString;
    node.text = std::move(text);
    node.merge_key = true;
    return node;
  }
  static constexpr std::string_view kSpecialFloats[] = {".nan",  ".NaN",  ".NAN",  ".inf",
                                                        ".Inf",  ".INF",  "+.inf", "+.Inf",
                                                        "+.INF", "-.inf", "-.Inf", "-.INF"};
  if (std::find(std::begin(kSpecialFloats), std::end(kSpecialFloats), text) !=
      std::end(kSpecialFloats)) {
    // JSON has no NaN or infinities; upstream's conversion fails the same way.
    return ConversionError("json: unsupported value: " + text);
  }
  const char first = text.front();
  const bool number_like = first == '+' || first == '-' || (first >= '0' && first <= '9');
  if (first == '.') {
    if (LooksLikeFloat(text) && ParseDouble(text, node.real)) {
      node.type = Node::Type::kFloat;
      return node;
    }
  } else if (number_like) {
    std::string plain;
    std::copy_if(text.begin(), text.end(), std::back_inserter(plain),
                 [](char c) { return c != '_'; });
    if (ParseSigned(plain, node.integer)) {
      node.type = Node::Type::kInt;
      return node;
    }
    if (first != '+' && first != '-' && ParseUnsigned(plain, node.unsigned_integer)) {
      node.type = Node::Type::kUint;
      return node;
    }
    if (LooksLikeFloat(plain) && ParseDouble(plain, node.real)) {
      node.type = Node::Type::kFloat;
      return node;
    }
  }
  node.type = Node::Type::kString;
  node.text = std::move(text);
  return node;
}

std::string_view TagOf(const yaml_char_t* tag) {
  return tag == nullptr ? std::string_view() : reinterpret_cast<const char*>(tag);
}

// Go's encoding/json form of a float64: plain digits between 1e-6 and 1e21, else exponent form
// with at least one exponent digit ("1e+21", "1e-7").
std::string FormatFloat(double value) {
  std::array<char, 64> buffer{};
  const double magnitude = std::fabs(value);
  const bool exponent = magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21);
  const auto [end, error] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                    exponent ? std::chars_format::scientific : std::chars_format::fixed);
  std::string text(buffer.data(), error == std::errc() ? end : buffer.data());
  // Go trims a negative exponent's leading zero ("1e-07" -> "1e-7"), not a positive one's.
  const size_t n = text.size();
  if (exponent && n >= 4 && text[n - 4] == 'e' && text[n - 3] == '-' && text[n - 2] == '0') {
    text.erase(n - 2, 1);
  }
  return text;
}

class Converter {
 public:
  explicit Converter(const ToJsonOptions& options) : options_(options) {}

  Result<std::string> Convert(std::string_view yaml) {
    if (!yaml_parser_initialize(&parser_)) return ConversionError("yaml: out of memory");
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(yaml.data()),
                                 yaml.size());
    auto document = ReadDocument();
    yaml_parser_delete(&parser_);
    if (!document.ok()) return std::move(document).error();
    std::string json;
    KPP_RETURN_IF_ERROR(Write(*document, json));
    return json;
  }

 private:
  // The next parser event; the caller deletes it.
  Status Next(yaml_event_t& event) {
    if (yaml_parser_parse(&parser_, &event)) return Ok();
    const std::string problem =
        parser_.problem != nullptr ? parser_.problem : "unknown problem parsing YAML content";
    // go-yaml's line numbers: the problem's line as libyaml counts it (from 0), plus one for
    // scanner errors only; else the context's line; no line at all when both are 0.
    size_t line = 0;
    if (parser_.problem_mark.line != 0) {
      line = parser_.problem_mark.line + (parser_.error == YAML_SCANNER_ERROR ? 1 : 0);
    } else if (parser_.context_mark.line != 0) {
      line = parser_.context_mark.line;
    }
    const std::string where = line != 0 ? "line " + std::to_string(line) + ": " : "";
    return ConversionError("yaml: " + where + problem);
  }

  // The first document of the stream; an empty stream is null, as upstream reads it.
  Result<Node> ReadDocument() {
    for (;;) {
      yaml_event_t event;
      KPP_RETURN_IF_ERROR(Next(event));
      const yaml_event_type_t type = event.type;
      yaml_event_delete(&event);
      if (type == YAML_STREAM_END_EVENT) return Node();
      if (type == YAML_DOCUMENT_START_EVENT) break;
    }
    yaml_event_t event;
    KPP_RETURN_IF_ERROR(Next(event));
    auto node = ReadNode(event, 0);
    yaml_event_delete(&event);
    return node;
  }

  Status Count(size_t values) {
    values_ += values;
    if (values_ > options_.max_values) {
      return ConversionError("yaml: document contains excessive aliasing");
    }
    return Ok();
  }

  static size_t Size(const Node& node) {
    size_t size = 1;
    for (const auto& item : node.items)
      size += Size(item);
    for (const auto& [key, value] : node.entries)
      size += Size(key) + Size(value);
    return size;
  }

  // The node that starts with `event` (consumed up to its end).
  Result<Node> ReadNode(yaml_event_t& event, unsigned depth) {
    switch (event.type) {
      case YAML_ALIAS_EVENT: {
        const std::string anchor = reinterpret_cast<const char*>(event.data.alias.anchor);
        auto found = anchors_.find(anchor);
        if (found == anchors_.end()) {
          return ConversionError("yaml: unknown anchor '" + anchor + "' referenced");
        }
        KPP_RETURN_IF_ERROR(Count(Size(*found->second)));
        return *found->second;
      }
      case YAML_SCALAR_EVENT: {
        KPP_RETURN_IF_ERROR(Count(1));
        std::string text(reinterpret_cast<const char*>(event.data.scalar.value),
                         event.data.scalar.length);
        const std::string_view tag = TagOf(event.data.scalar.tag);
        Result<Node> node = Node();
        if (event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && (tag.empty() || tag == "!")) {
          node = ResolvePlain(std::move(text));
        } else if (tag.empty() || tag == "!" || tag == YAML_STR_TAG) {
          node->type = Node::Type::kString;
          node->text = std::move(text);
        } else {
          // An explicit core tag (!!int, !!bool, ...): the value must be of that type.
          const std::string shown = text;
          node = ResolvePlain(std::move(text));
          if (node.ok()) {
            const bool matches =
                (tag == YAML_INT_TAG &&
                 (node->type == Node::Type::kInt || node->type == Node::Type::kUint)) ||
                (tag == YAML_FLOAT_TAG &&
                 (node->type == Node::Type::kFloat || node->type == Node::Type::kInt)) ||
                (tag == YAML_BOOL_TAG && node->type == Node::Type::kBool) ||
                (tag == YAML_NULL_TAG && node->type == Node::Type::kNull);
            if (!matches) {
              node->type = Node::Type::kString;
              node->text = shown;
              node->merge_key = false;
            }
          }
        }
        if (!node.ok()) return node;
        Remember(event.data.scalar.anchor, *node);
        return node;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        if (depth >= options_.max_depth) {
          return ConversionError("yaml: exceeded max depth of " +
                                 std::to_string(options_.max_depth));
        }
        KPP_RETURN_IF_ERROR(Count(1));
        const bool mapping = event.type == YAML_MAPPING_START_EVENT;
        const yaml_char_t* anchor_name =
            mapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor;
        const std::string anchor =
            anchor_name != nullptr ? reinterpret_cast<const char*>(anchor_name) : "";
        Node node;
        node.type = mapping ? Node::Type::kMapping : Node::Type::kSequence;
        std::vector<Entry> merged;
        for (;;) {
          yaml_event_t child;
          KPP_RETURN_IF_ERROR(Next(child));
          if (child.type == YAML_SEQUENCE_END_EVENT || child.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&child);
            break;
          }
          auto item = ReadNode(child, depth + 1);
          yaml_event_delete(&child);
          if (!item.ok()) return item;
          if (!mapping) {
            node.items.push_back(*std::move(item));
            continue;
          }
          yaml_event_t value_event;
          KPP_RETURN_IF_ERROR(Next(value_event));
          auto value = ReadNode(value_event, depth + 1);
          yaml_event_delete(&value_event);
          if (!value.ok()) return value;
          if (item->merge_key) {
            KPP_RETURN_IF_ERROR(Merge(*value, merged));
            continue;
          }
          node.entries.push_back(Entry{*std::move(item), *std::move(value)});
        }
        // Keys a merge brings in count only where the mapping does not set them itself.
        for (auto& entry : merged) {
          const auto same_key = [&](const Entry& own) {
            return KeyText(own.key) == KeyText(entry.key);
          };
          if (std::none_of(node.entries.begin(), node.entries.end(), same_key)) {
            node.entries.push_back(std::move(entry));
          }
        }
        if (!anchor.empty()) anchors_[anchor] = std::make_shared<Node>(node);
        return node;
      }
      default: return ConversionError("yaml: unexpected event in document");
    }
  }

  // The entries the value of a merge key (a mapping, or a sequence of them) contributes.
  static Status Merge(const Node& value, std::vector<Entry>& merged) {
    const auto add = [&](const Node& mapping) -> Status {
      if (mapping.type != Node::Type::kMapping) {
        return ConversionError("yaml: map merge requires map or sequence of maps as the value");
      }
      for (const auto& entry : mapping.entries) {
        const auto same_key = [&](const Entry& seen) {
          return KeyText(seen.key) == KeyText(entry.key);
        };
        if (std::none_of(merged.begin(), merged.end(), same_key)) merged.push_back(entry);
      }
      return Ok();
    };
    if (value.type == Node::Type::kSequence) {
      for (const auto& item : value.items)
        KPP_RETURN_IF_ERROR(add(item));
      return Ok();
    }
    return add(value);
  }

  void Remember(const yaml_char_t* anchor, const Node& node) {
    if (anchor != nullptr) {
      anchors_[reinterpret_cast<const char*>(anchor)] = std::make_shared<Node>(node);
    }
  }

  // A mapping key as the JSON object key upstream makes of it.
  static std::string KeyText(const Node& key) {
    switch (key.type) {
      case Node::Type::kString: return key.text;
      case Node::Type::kBool: return key.boolean ? "true" : "false";
      case Node::Type::kInt: return std::to_string(key.integer);
      case Node::Type::kUint: return std::to_string(key.unsigned_integer);
      case Node::Type::kFloat: {
        std::array<char, 64> buffer{};
        const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(),
                                                static_cast<float>(key.real));
        return std::string(buffer.data(), error == std::errc() ? end : buffer.data());
      }
      case Node::Type::kNull: return "null";
      default: return "";
    }
  }

  Status Write(const Node& node, std::string& out) const {
    switch (node.type) {
      case Node::Type::kNull: out += "null"; return Ok();
      case Node::Type::kBool: out += node.boolean ? "true" : "false"; return Ok();
      case Node::Type::kInt: out += std::to_string(node.integer); return Ok();
      case Node::Type::kUint: out += std::to_string(node.unsigned_integer); return Ok();
      case Node::Type::kFloat: out += FormatFloat(node.real); return Ok();
      case Node::Type::kString:
        out += boost::json::serialize(boost::json::string_view(node.text));
        return Ok();
      case Node::Type::kSequence: {
        out += '[';
        for (size_t i = 0; i < node.items.size(); ++i) {
          if (i > 0) out += ',';
          KPP_RETURN_IF_ERROR(Write(node.items[i], out));
        }
        out += ']';
        return Ok();
      }
      case Node::Type::kMapping: {
        out += '{';
        bool first = true;
        for (const auto& [key, value] : node.entries) {
          if (key.type == Node::Type::kSequence || key.type == Node::Type::kMapping) {
            return ConversionError("unsupported map key of type: collection");
          }
          if (!first) out += ',';
          first = false;
          out += boost::json::serialize(boost::json::string_view(KeyText(key)));
          out += ':';
          KPP_RETURN_IF_ERROR(Write(value, out));
        }
        out += '}';
        return Ok();
      }
    }
    return Ok();
  }

  const ToJsonOptions& options_;
  yaml_parser_t parser_{};
  std::map<std::string, std::shared_ptr<const Node>, std::less<>> anchors_;
  size_t values_ = 0;
};

}  // namespace

Result<std::string> ToJson(std::string_view yaml, const ToJsonOptions& options) {
  Converter converter(options);
  return converter.Convert(yaml);
}

}  // namespace kpp::yaml
