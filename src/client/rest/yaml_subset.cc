#include "client/rest/yaml_subset.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

namespace kpp::client::rest {
namespace {

namespace json = boost::json;

struct Line {
  int indent;
  std::string text;  // without indentation, comment and trailing spaces
  int number;
};

std::string StripComment(std::string_view text) {
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      if (i == 0 || text[i - 1] == ' ' || text[i - 1] == ':' || text[i - 1] == '-') quote = c;
    } else if (c == '#' && (i == 0 || text[i - 1] == ' ')) {
      text = text.substr(0, i);
      break;
    }
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

class Parser {
 public:
  explicit Parser(std::vector<Line> lines) : lines_(std::move(lines)) {}

  Result<json::value> Document() {
    if (lines_.empty()) return json::value(json::object());
    auto value = Block(lines_[0].indent);
    if (!value.ok()) return value;
    if (at_ < lines_.size()) return Fail("unexpected content");
    return value;
  }

 private:
  Error Fail(std::string_view what) const {
    const int number = at_ < lines_.size() ? lines_[at_].number : -1;
    return BadRequestError(fmt::format("yaml: line {}: {}", number, what));
  }

  static bool IsSequenceItem(std::string_view text) {
    return text == "-" || text.starts_with("- ");
  }

  Result<json::value> Block(int indent) {
    if (IsSequenceItem(lines_[at_].text)) return Sequence(indent);
    return Mapping(indent);
  }

  Result<json::value> Sequence(int indent) {
    json::array items;
    while (at_ < lines_.size() && lines_[at_].indent == indent &&
           IsSequenceItem(lines_[at_].text)) {
      std::string rest = lines_[at_].text.substr(1);
      size_t spaces = 0;
      while (spaces < rest.size() && rest[spaces] == ' ')
        ++spaces;
      rest = rest.substr(spaces);
      if (rest.empty()) {
        ++at_;
        if (at_ < lines_.size() && lines_[at_].indent > indent) {
          auto item = Block(lines_[at_].indent);
          if (!item.ok()) return item;
          items.push_back(std::move(*item));
        } else {
          items.emplace_back(nullptr);
        }
      } else if (IsSequenceItem(rest) || FindMappingColon(rest) != std::string::npos) {
        // "- key: value" opens a mapping (or "- - x" a sequence) indented where its text starts.
        lines_[at_].indent = indent + 1 + static_cast<int>(spaces);
        lines_[at_].text = rest;
        auto item = Block(lines_[at_].indent);
        if (!item.ok()) return item;
        items.push_back(std::move(*item));
      } else {
        auto scalar = Scalar(rest);
        if (!scalar.ok()) return scalar;
        items.push_back(std::move(*scalar));
        ++at_;
      }
    }
    if (at_ < lines_.size() && lines_[at_].indent > indent) return Fail("bad indentation");
    return json::value(std::move(items));
  }

  // Position of the ':' that ends a mapping key, or npos.
  static size_t FindMappingColon(std::string_view text) {
    size_t start = 0;
    if (!text.empty() && (text[0] == '"' || text[0] == '\'')) {
      const char quote = text[0];
      size_t i = 1;
      for (; i < text.size(); ++i) {
        if (text[i] == '\\' && quote == '"') {
          ++i;
        } else if (text[i] == quote) {
          break;
        }
      }
      start = i + 1;
    }
    for (size_t i = start; i < text.size(); ++i) {
      if (text[i] == ':' && (i + 1 == text.size() || text[i + 1] == ' ')) return i;
    }
    return std::string::npos;
  }

  Result<json::value> Mapping(int indent) {
    json::object object;
    while (at_ < lines_.size() && lines_[at_].indent == indent) {
      const std::string text = lines_[at_].text;
      if (IsSequenceItem(text)) break;
      const size_t colon = FindMappingColon(text);
      if (colon == std::string::npos) return Fail("expected \"key: value\"");
      auto key = Scalar(text.substr(0, colon));
      if (!key.ok()) return key;
      std::string value_text = text.substr(colon + 1);
      while (!value_text.empty() && value_text.front() == ' ')
        value_text.erase(0, 1);
      const std::string key_string = key->is_string() ? std::string(key->as_string()) : "";
      ++at_;
      if (!value_text.empty()) {
        auto value = Scalar(value_text);
        if (!value.ok()) return value;
        object[key_string] = std::move(*value);
      } else if (at_ < lines_.size() &&
                 (lines_[at_].indent > indent ||
                  (lines_[at_].indent == indent && IsSequenceItem(lines_[at_].text)))) {
        auto value = Block(lines_[at_].indent);
        if (!value.ok()) return value;
        object[key_string] = std::move(*value);
      } else {
        object[key_string] = nullptr;
      }
    }
    if (at_ < lines_.size() && lines_[at_].indent > indent) return Fail("bad indentation");
    return json::value(std::move(object));
  }

  Result<json::value> Scalar(std::string_view text) {
    if (text == "{}") return json::value(json::object());
    if (text == "[]") return json::value(json::array());
    if (text == "~" || text == "null") return json::value(nullptr);
    if (text.starts_with('"')) {
      // YAML's double-quoted escapes are JSON's for what kubeconfigs hold.
      json::error_code ec;
      auto value = json::parse(text, ec);
      if (ec || !value.is_string()) return Fail("bad double-quoted scalar");
      return value;
    }
    if (text.starts_with('\'')) {
      if (text.size() < 2 || !text.ends_with('\'')) return Fail("bad single-quoted scalar");
      std::string out;
      for (size_t i = 1; i + 1 < text.size(); ++i) {
        out += text[i];
        if (text[i] == '\'' && i + 2 < text.size() && text[i + 1] == '\'') ++i;
      }
      return json::value(json::string(out));
    }
    if (text.starts_with('{') || text.starts_with('[') || text.starts_with('|') ||
        text.starts_with('>') || text.starts_with('&') || text.starts_with('*')) {
      return Fail("unsupported YAML construct");
    }
    return json::value(json::string(text));
  }

  std::vector<Line> lines_;
  size_t at_ = 0;
};

}  // namespace

Result<boost::json::value> ParseYamlSubset(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    json::error_code ec;
    auto value = json::parse(text, ec);
    if (ec) return BadRequestError("invalid JSON: " + ec.message());
    return value;
  }
  std::vector<Line> lines;
  int number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view raw = text.substr(0, end);
    text = end == std::string_view::npos ? "" : text.substr(end + 1);
    ++number;
    const size_t indent_end = raw.find_first_not_of(" \t");
    if (indent_end != std::string_view::npos &&
        raw.substr(0, indent_end).find('\t') != std::string_view::npos) {
      return BadRequestError(
          fmt::format("yaml: line {}: found a tab character for indentation", number));
    }
    const size_t content = raw.find_first_not_of(' ');
    if (content == std::string_view::npos) continue;
    std::string stripped = StripComment(raw.substr(content));
    if (stripped.empty() || stripped == "---" || stripped == "...") continue;
    lines.push_back({static_cast<int>(content), std::move(stripped), number});
  }
  return Parser(std::move(lines)).Document();
}

}  // namespace kpp::client::rest
