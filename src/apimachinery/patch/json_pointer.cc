#include "apimachinery/patch/json_pointer.h"

#include <fmt/format.h>

#include <limits>

namespace kpp::patch {
namespace json = boost::json;

Result<JsonPointer> JsonPointer::Parse(std::string_view text) {
  if (text.empty()) return JsonPointer();
  if (text.front() != '/') {
    return BadRequestError(fmt::format("JSON pointer \"{}\" does not start with \"/\"", text));
  }
  std::vector<std::string> tokens;
  std::string current;
  for (std::size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      tokens.push_back(std::move(current));
      current.clear();
      continue;
    }
    if (text[i] != '~') {
      current.push_back(text[i]);
      continue;
    }
    if (i + 1 < text.size() && (text[i + 1] == '0' || text[i + 1] == '1')) {
      current.push_back(text[i + 1] == '0' ? '~' : '/');
      ++i;
      continue;
    }
    return BadRequestError(
        fmt::format("JSON pointer \"{}\" has \"~\" not followed by \"0\" or \"1\"", text));
  }
  return JsonPointer(std::move(tokens));
}

bool JsonPointer::IsProperPrefixOf(const JsonPointer& other) const {
  if (tokens_.size() >= other.tokens_.size()) return false;
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i] != other.tokens_[i]) return false;
  }
  return true;
}

std::string JsonPointer::ToString() const {
  std::string text;
  for (const auto& token : tokens_) {
    text.push_back('/');
    text += EscapePointerToken(token);
  }
  return text;
}

std::string EscapePointerToken(std::string_view token) {
  std::string escaped;
  escaped.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      escaped += "~0";
    } else if (c == '/') {
      escaped += "~1";
    } else {
      escaped.push_back(c);
    }
  }
  return escaped;
}

std::optional<std::size_t> ParseArrayIndex(std::string_view token) {
  if (token.empty() || (token.size() > 1 && token.front() == '0')) return std::nullopt;
  std::size_t index = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::size_t digit = static_cast<std::size_t>(c - '0');
    if (index > (std::numeric_limits<std::size_t>::max() - digit) / 10) return std::nullopt;
    index = index * 10 + digit;
  }
  return index;
}

namespace {

// Shared by the const and mutable lookups; `Value` is json::value or const json::value.
template <typename Value>
Result<Value*> Find(Value& document, const JsonPointer& pointer) {
  Value* current = &document;
  const auto& tokens = pointer.tokens();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    // Text of the pointer made of the first `count` tokens, for messages.
    auto prefix = [&](std::size_t count) {
      if (count == 0) return std::string("the document root");
      return JsonPointer(std::vector<std::string>(tokens.begin(), tokens.begin() + count))
          .ToString();
    };
    auto where = [&] { return prefix(i + 1); };
    if (current->is_object()) {
      auto& object = current->get_object();
      auto it = object.find(token);
      if (it == object.end()) return NotFoundError(fmt::format("{} does not exist", where()));
      current = &it->value();
    } else if (current->is_array()) {
      auto& array = current->get_array();
      std::optional<std::size_t> index = ParseArrayIndex(token);
      if (!index) {
        return NotFoundError(fmt::format("{}: \"{}\" is not a valid array index", where(), token));
      }
      if (*index >= array.size()) {
        return NotFoundError(fmt::format("{}: index {} is out of range (array has {} elements)",
                                         where(), *index, array.size()));
      }
      current = &array[*index];
    } else {
      return NotFoundError(fmt::format(
          "{} does not exist: the value at {} is not an object or array", where(), prefix(i)));
    }
  }
  return current;
}

}  // namespace

Result<const json::value*> FindValue(const json::value& document, const JsonPointer& pointer) {
  return Find<const json::value>(document, pointer);
}

Result<json::value*> FindValue(json::value& document, const JsonPointer& pointer) {
  return Find<json::value>(document, pointer);
}

}  // namespace kpp::patch
