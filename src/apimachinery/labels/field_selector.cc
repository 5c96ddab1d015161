#include "apimachinery/labels/field_selector.h"

#include <fmt/format.h>

#include <algorithm>

namespace kpp::fields {
namespace {

// Splits at commas that are not escaped; the escaping backslashes stay in the terms.
std::vector<std::string_view> SplitTerms(std::string_view text) {
  std::vector<std::string_view> terms;
  if (text.empty()) return terms;
  size_t start = 0;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (text[i] == '\\') {
      escaped = true;
    } else if (text[i] == ',') {
      terms.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(text.substr(start));
  return terms;
}

struct SplitTerm {
  std::string_view field;
  Requirement::Operator op;
  std::string_view value;
};

// The first operator in the term splits it; field names cannot contain escaped operators.
std::optional<SplitTerm> SplitAtOperator(std::string_view term) {
  for (size_t i = 0; i < term.size(); ++i) {
    const std::string_view rest = term.substr(i);
    if (rest.starts_with("!="))
      return SplitTerm{term.substr(0, i), Requirement::Operator::kNotEquals, rest.substr(2)};
    if (rest.starts_with("=="))
      return SplitTerm{term.substr(0, i), Requirement::Operator::kEquals, rest.substr(2)};
    if (rest.starts_with("="))
      return SplitTerm{term.substr(0, i), Requirement::Operator::kEquals, rest.substr(1)};
  }
  return std::nullopt;
}

// Length of the UTF-8 sequence that starts with `lead` (1 for ASCII and stray bytes).
size_t Utf8Length(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  if (lead >= 0xE0) return lead <= 0xEF ? 3 : 1;
  if (lead >= 0xC2) return 2;
  return 1;
}

}  // namespace

std::string EscapeValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == ',' || c == '=') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

Result<std::string> UnescapeValue(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '\\') {
      if (i + 1 == escaped.size())
        return BadRequestError("invalid field selector: invalid escape sequence: \\");
      const char next = escaped[i + 1];
      if (next != '\\' && next != ',' && next != '=') {
        const size_t length =
            std::min(Utf8Length(static_cast<unsigned char>(next)), escaped.size() - i - 1);
        return BadRequestError(fmt::format("invalid field selector: invalid escape sequence: \\{}",
                                           escaped.substr(i + 1, length)));
      }
      out.push_back(next);
      ++i;
    } else if (c == ',' || c == '=') {
      // Upstream prints the character's code point here (Go's %v of a rune).
      return BadRequestError(
          fmt::format("invalid field selector: unescaped character in value: {}", int{c}));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Selector Selector::Nothing() {
  Selector selector;
  selector.nothing_ = true;
  return selector;
}

Result<Selector> Selector::Parse(std::string_view text) {
  std::vector<std::string_view> terms = SplitTerms(text);
  std::sort(terms.begin(), terms.end());
  Selector selector;
  for (std::string_view term : terms) {
    if (term.empty()) continue;
    const auto split = SplitAtOperator(term);
    if (!split) {
      return BadRequestError(
          fmt::format("invalid selector: '{}'; can't understand '{}'", text, term));
    }
    KPP_ASSIGN_OR_RETURN(std::string value, UnescapeValue(split->value));
    selector.requirements_.push_back({std::string(split->field), split->op, std::move(value)});
  }
  // Upstream runs parsed terms through an identity transform, which drops empty ones ("=").
  return selector.Transform([](std::string_view field, std::string_view value) {
    return Result<std::pair<std::string, std::string>>(
        std::pair<std::string, std::string>(field, value));
  });
}

Selector Selector::OneTermEqual(std::string field, std::string value) {
  Selector selector;
  selector.requirements_.push_back(
      {std::move(field), Requirement::Operator::kEquals, std::move(value)});
  return selector;
}

Selector Selector::OneTermNotEqual(std::string field, std::string value) {
  Selector selector;
  selector.requirements_.push_back(
      {std::move(field), Requirement::Operator::kNotEquals, std::move(value)});
  return selector;
}

Selector Selector::FromSet(const Set& fields) {
  Selector selector;
  for (const auto& [field, value] : fields)
    selector.requirements_.push_back({field, Requirement::Operator::kEquals, value});
  return selector;
}

bool Selector::Matches(const Set& fields) const {
  if (nothing_) return false;
  for (const auto& requirement : requirements_) {
    const auto it = fields.find(requirement.field);
    const std::string_view actual = it == fields.end() ? std::string_view() : it->second;
    const bool equal = actual == requirement.value;
    if (equal != (requirement.op == Requirement::Operator::kEquals)) return false;
  }
  return true;
}

std::vector<std::string> Selector::FieldNames() const {
  std::vector<std::string> names;
  for (const auto& requirement : requirements_) {
    if (std::find(names.begin(), names.end(), requirement.field) == names.end())
      names.push_back(requirement.field);
  }
  return names;
}

std::optional<std::string> Selector::RequiresExactMatch(std::string_view field) const {
  for (const auto& requirement : requirements_) {
    if (requirement.field == field && requirement.op == Requirement::Operator::kEquals)
      return requirement.value;
  }
  return std::nullopt;
}

Result<Selector> Selector::Transform(const TransformFunction& transform) const {
  if (nothing_) return *this;
  Selector selector;
  for (const auto& requirement : requirements_) {
    KPP_ASSIGN_OR_RETURN(auto pair, transform(requirement.field, requirement.value));
    if (pair.first.empty() && pair.second.empty()) continue;
    selector.requirements_.push_back(
        {std::move(pair.first), requirement.op, std::move(pair.second)});
  }
  return selector;
}

std::string Selector::String() const {
  std::string out;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) out += ",";
    const auto& requirement = requirements_[i];
    out += requirement.field;
    out += requirement.op == Requirement::Operator::kEquals ? "=" : "!=";
    out += EscapeValue(requirement.value);
  }
  return out;
}

}  // namespace kpp::fields
