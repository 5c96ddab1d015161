#include "apimachinery/labels/selector.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "apimachinery/labels/validation.h"
#include "apimachinery/validation/field_errors.h"
#include "base/go_quote.h"

namespace kpp::labels {
namespace {

// Go's strconv.ParseInt(text, 10, 64): optional sign, decimal digits, no blanks.
std::optional<int64_t> ParseInt64(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return std::nullopt;
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Go's %#v of a []string, which upstream prints for whole value lists.
std::string GoStringSlice(const std::vector<std::string>& values) {
  if (values.empty()) return "[]string(nil)";
  std::string out = "[]string{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += GoQuote(values[i]);
  }
  return out + "}";
}

// A field.Error of type Invalid, as Error() prints it; the value is already printed as Go would.
std::string InvalidField(std::string_view path, std::string printed_value, std::string detail) {
  return validation::FieldError{validation::FieldErrorType::kInvalid, std::string(path),
                                std::move(printed_value), std::move(detail)}
      .ToString();
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

// An aggregate of error messages as upstream's utilerrors.Aggregate prints it: duplicates
// dropped, a single message bare, several as "[a, b]".
std::string AggregateMessage(const std::vector<std::string>& messages) {
  std::vector<std::string> unique;
  for (const auto& message : messages) {
    if (std::find(unique.begin(), unique.end(), message) == unique.end()) unique.push_back(message);
  }
  if (unique.size() == 1) return unique.front();
  return "[" + Join(unique, ", ") + "]";
}

// validateLabelKey: the key problems as one field error, or nothing.
std::optional<std::string> ValidateKey(std::string_view key, std::string_view path) {
  const auto problems = validation::IsQualifiedName(key);
  if (problems.empty()) return std::nullopt;
  return InvalidField(path, GoQuote(key), Join(problems, "; "));
}

void SortByKey(std::vector<Requirement>& requirements) {
  std::stable_sort(requirements.begin(), requirements.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key() < b.key(); });
}

// ---- The string parser. Its token rules follow upstream's lexer, including which text counts
// as an identifier, so that selectors are accepted and rejected exactly as upstream does.

enum class Token {
  kError,
  kEndOfString,
  kClosedPar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct ScannedItem {
  Token token;
  std::string literal;
};

std::optional<Token> KeywordOrSymbol(std::string_view text) {
  static const std::map<std::string_view, Token> kTokens = {
      {")", Token::kClosedPar},     {",", Token::kComma},    {"!", Token::kDoesNotExist},
      {"==", Token::kDoubleEquals}, {"=", Token::kEquals},   {">", Token::kGreaterThan},
      {"in", Token::kIn},           {"<", Token::kLessThan}, {"!=", Token::kNotEquals},
      {"notin", Token::kNotIn},     {"(", Token::kOpenPar},
  };
  const auto it = kTokens.find(text);
  if (it == kTokens.end()) return std::nullopt;
  return it->second;
}

bool IsWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool IsSpecialSymbol(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  ScannedItem Next() {
    char c = Read();
    while (IsWhitespace(c))
      c = Read();
    if (c == '\0') return {Token::kEndOfString, ""};
    Unread();
    return IsSpecialSymbol(c) ? ScanSymbol() : ScanIdentifierOrKeyword();
  }

 private:
  // A NUL byte reads like the end of the input, as in upstream's lexer.
  char Read() { return pos_ < text_.size() ? text_[pos_++] : '\0'; }
  void Unread() { --pos_; }

  ScannedItem ScanIdentifierOrKeyword() {
    std::string literal;
    while (true) {
      const char c = Read();
      if (c == '\0') break;
      if (IsSpecialSymbol(c) || IsWhitespace(c)) {
        Unread();
        break;
      }
      literal.push_back(c);
    }
    if (auto token = KeywordOrSymbol(literal)) return {*token, literal};
    return {Token::kIdentifier, literal};
  }

  // The longest operator made of the symbols ahead ("!=" and "==" win over "!" and "=").
  ScannedItem ScanSymbol() {
    std::string buffer;
    std::optional<ScannedItem> longest;
    while (true) {
      const char c = Read();
      if (c == '\0') break;
      if (!IsSpecialSymbol(c)) {
        Unread();
        break;
      }
      buffer.push_back(c);
      if (auto token = KeywordOrSymbol(buffer)) {
        longest = ScannedItem{*token, buffer};
      } else if (longest) {
        Unread();
        break;
      }
    }
    if (!longest) return {Token::kError, fmt::format("error expected: keyword found '{}'", buffer)};
    return *longest;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// Whether the parser is reading a key and operator, or values (where "in" and "notin" are just
// words, so that `x in (in)` works).
enum class Context { kKeyAndOperator, kValues };

class Parser {
 public:
  explicit Parser(std::string_view text) {
    Lexer lexer(text);
    while (true) {
      items_.push_back(lexer.Next());
      if (items_.back().token == Token::kEndOfString) break;
    }
  }

  Result<std::vector<Requirement>> Parse() {
    std::vector<Requirement> requirements;
    while (true) {
      const auto [token, literal] = Lookahead(Context::kValues);
      switch (token) {
        case Token::kIdentifier:
        case Token::kDoesNotExist: {
          auto requirement = ParseRequirement();
          if (!requirement.ok()) {
            return BadRequestError("unable to parse requirement: " + requirement.error().message());
          }
          requirements.push_back(std::move(requirement).value());
          const auto [next, next_literal] = Consume(Context::kValues);
          if (next == Token::kEndOfString) return requirements;
          if (next != Token::kComma) {
            return BadRequestError(
                fmt::format("found '{}', expected: ',' or 'end of string'", next_literal));
          }
          const auto [after, after_literal] = Lookahead(Context::kValues);
          if (after != Token::kIdentifier && after != Token::kDoesNotExist) {
            return BadRequestError(
                fmt::format("found '{}', expected: identifier after ','", after_literal));
          }
          break;
        }
        case Token::kEndOfString: return requirements;
        default:
          return BadRequestError(
              fmt::format("found '{}', expected: !, identifier, or 'end of string'", literal));
      }
    }
  }

 private:
  static Token InContext(Token token, Context context) {
    if (context == Context::kValues && (token == Token::kIn || token == Token::kNotIn))
      return Token::kIdentifier;
    return token;
  }

  std::pair<Token, std::string> Lookahead(Context context) const {
    const auto& item = items_[position_];
    return {InContext(item.token, context), item.literal};
  }

  std::pair<Token, std::string> Consume(Context context) {
    const auto& item = items_[position_];
    // The end-of-string item is never consumed past: the parser stops there.
    if (item.token != Token::kEndOfString) ++position_;
    return {InContext(item.token, context), item.literal};
  }

  Result<Requirement> ParseRequirement() {
    auto [token, literal] = Consume(Context::kValues);
    bool does_not_exist = false;
    if (token == Token::kDoesNotExist) {
      does_not_exist = true;
      std::tie(token, literal) = Consume(Context::kValues);
    }
    if (token != Token::kIdentifier)
      return Error(ErrorCode::kBadRequest,
                   fmt::format("found '{}', expected: identifier", literal));
    if (auto problem = ValidateKey(literal, "<nil>"))
      return Error(ErrorCode::kBadRequest, *problem);
    const Token next = Lookahead(Context::kValues).first;
    if (does_not_exist) return Requirement::Create(literal, Operator::kDoesNotExist, {});
    if (next == Token::kEndOfString || next == Token::kComma)
      return Requirement::Create(literal, Operator::kExists, {});

    KPP_ASSIGN_OR_RETURN(const Operator op, ParseOperator());
    std::set<std::string> values;
    if (op == Operator::kIn || op == Operator::kNotIn) {
      KPP_ASSIGN_OR_RETURN(values, ParseValues());
    } else {
      KPP_ASSIGN_OR_RETURN(values, ParseExactValue());
    }
    return Requirement::Create(literal, op, std::vector<std::string>(values.begin(), values.end()));
  }

  Result<Operator> ParseOperator() {
    const auto [token, literal] = Consume(Context::kKeyAndOperator);
    switch (token) {
      case Token::kIn: return Operator::kIn;
      case Token::kEquals: return Operator::kEquals;
      case Token::kDoubleEquals: return Operator::kDoubleEquals;
      case Token::kGreaterThan: return Operator::kGreaterThan;
      case Token::kLessThan: return Operator::kLessThan;
      case Token::kNotIn: return Operator::kNotIn;
      case Token::kNotEquals: return Operator::kNotEquals;
      default:
        return BadRequestError(
            fmt::format("found '{}', expected: in, notin, =, ==, !=, gt, lt", literal));
    }
  }

  // "(" values ")" where values may be empty or contain empty entries: "()", "(a,,b)", "(,a)".
  Result<std::set<std::string>> ParseValues() {
    const auto [token, literal] = Consume(Context::kValues);
    if (token != Token::kOpenPar)
      return BadRequestError(fmt::format("found '{}' expected: '('", literal));
    const auto [next, next_literal] = Lookahead(Context::kValues);
    switch (next) {
      case Token::kIdentifier:
      case Token::kComma: {
        KPP_ASSIGN_OR_RETURN(auto values, ParseIdentifierList());
        if (Consume(Context::kValues).first != Token::kClosedPar)
          return BadRequestError(fmt::format("found '{}', expected: ')'", next_literal));
        return values;
      }
      case Token::kClosedPar: Consume(Context::kValues); return std::set<std::string>{""};
      default:
        return BadRequestError(
            fmt::format("found '{}', expected: ',', ')' or identifier", next_literal));
    }
  }

  Result<std::set<std::string>> ParseIdentifierList() {
    std::set<std::string> values;
    while (true) {
      const auto [token, literal] = Consume(Context::kValues);
      if (token == Token::kIdentifier) {
        values.insert(literal);
        const auto [next, next_literal] = Lookahead(Context::kValues);
        if (next == Token::kComma) continue;
        if (next == Token::kClosedPar) return values;
        return BadRequestError(fmt::format("found '{}', expected: ',' or ')'", next_literal));
      }
      if (token != Token::kComma)
        return BadRequestError(fmt::format("found '{}', expected: ',', or identifier", literal));
      // A comma with nothing before it, after it, or between two commas is an empty value.
      if (values.empty()) values.insert("");
      const Token next = Lookahead(Context::kValues).first;
      if (next == Token::kClosedPar) {
        values.insert("");
        return values;
      }
      if (next == Token::kComma) values.insert("");
    }
  }

  Result<std::set<std::string>> ParseExactValue() {
    const Token next = Lookahead(Context::kValues).first;
    if (next == Token::kEndOfString || next == Token::kComma) return std::set<std::string>{""};
    const auto [token, literal] = Consume(Context::kValues);
    if (token == Token::kIdentifier) return std::set<std::string>{literal};
    return BadRequestError(fmt::format("found '{}', expected: identifier", literal));
  }

  std::vector<ScannedItem> items_;
  size_t position_ = 0;
};

Result<Operator> ApiOperator(std::string_view op) {
  if (op == "In") return Operator::kIn;
  if (op == "NotIn") return Operator::kNotIn;
  if (op == "Exists") return Operator::kExists;
  if (op == "DoesNotExist") return Operator::kDoesNotExist;
  return InvalidError(fmt::format("{} is not a valid pod selector operator", GoQuote(op)));
}

}  // namespace

std::string_view OperatorName(Operator op) {
  switch (op) {
    case Operator::kEquals: return "=";
    case Operator::kDoubleEquals: return "==";
    case Operator::kNotEquals: return "!=";
    case Operator::kIn: return "in";
    case Operator::kNotIn: return "notin";
    case Operator::kExists: return "exists";
    case Operator::kDoesNotExist: return "!";
    case Operator::kGreaterThan: return "gt";
    case Operator::kLessThan: return "lt";
  }
  return "";
}

Result<Requirement> Requirement::Create(std::string key, Operator op,
                                        std::vector<std::string> values) {
  std::vector<std::string> problems;
  if (auto problem = ValidateKey(key, "key")) problems.push_back(std::move(*problem));
  switch (op) {
    case Operator::kIn:
    case Operator::kNotIn:
      if (values.empty()) {
        problems.push_back(InvalidField("values", GoStringSlice(values),
                                        "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case Operator::kEquals:
    case Operator::kDoubleEquals:
    case Operator::kNotEquals:
      if (values.size() != 1) {
        problems.push_back(InvalidField("values", GoStringSlice(values),
                                        "exact-match compatibility requires one single value"));
      }
      break;
    case Operator::kExists:
    case Operator::kDoesNotExist:
      if (!values.empty()) {
        problems.push_back(InvalidField("values", GoStringSlice(values),
                                        "values set must be empty for exists and does not exist"));
      }
      break;
    case Operator::kGreaterThan:
    case Operator::kLessThan:
      if (values.size() != 1) {
        problems.push_back(InvalidField("values", GoStringSlice(values),
                                        "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      for (size_t i = 0; i < values.size(); ++i) {
        if (!ParseInt64(values[i])) {
          problems.push_back(
              InvalidField(fmt::format("values[{}]", i), GoQuote(values[i]),
                           "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      }
      break;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const auto value_problems = validation::IsValidLabelValue(values[i]);
    if (!value_problems.empty()) {
      problems.push_back(InvalidField(fmt::format("values[{}][{}]", i, key), GoQuote(values[i]),
                                      Join(value_problems, "; ")));
    }
  }
  if (!problems.empty()) return InvalidError(AggregateMessage(problems));
  return Requirement(std::move(key), op, std::move(values));
}

bool Requirement::Matches(const Set& labels) const {
  const auto it = labels.find(key_);
  const bool present = it != labels.end();
  const auto has_value = [&](const std::string& value) {
    return std::find(values_.begin(), values_.end(), value) != values_.end();
  };
  switch (op_) {
    case Operator::kIn:
    case Operator::kEquals:
    case Operator::kDoubleEquals: return present && has_value(it->second);
    case Operator::kNotIn:
    case Operator::kNotEquals: return !present || !has_value(it->second);
    case Operator::kExists: return present;
    case Operator::kDoesNotExist: return !present;
    case Operator::kGreaterThan:
    case Operator::kLessThan: {
      if (!present || values_.size() != 1) return false;
      const auto actual = ParseInt64(it->second);
      const auto bound = ParseInt64(values_.front());
      if (!actual || !bound) return false;
      return op_ == Operator::kGreaterThan ? *actual > *bound : *actual < *bound;
    }
  }
  return false;
}

std::string Requirement::String() const {
  std::string out;
  if (op_ == Operator::kDoesNotExist) out += "!";
  out += key_;
  switch (op_) {
    case Operator::kEquals: out += "="; break;
    case Operator::kDoubleEquals: out += "=="; break;
    case Operator::kNotEquals: out += "!="; break;
    case Operator::kIn: out += " in "; break;
    case Operator::kNotIn: out += " notin "; break;
    case Operator::kGreaterThan: out += ">"; break;
    case Operator::kLessThan: out += "<"; break;
    case Operator::kExists:
    case Operator::kDoesNotExist: return out;
  }
  const bool is_set = op_ == Operator::kIn || op_ == Operator::kNotIn;
  if (is_set) out += "(";
  std::vector<std::string> sorted = values_;
  std::sort(sorted.begin(), sorted.end());
  out += Join(sorted, ",");
  if (is_set) out += ")";
  return out;
}

Selector Selector::Nothing() {
  Selector selector;
  selector.nothing_ = true;
  return selector;
}

Result<Selector> Selector::Parse(std::string_view text) {
  KPP_ASSIGN_OR_RETURN(auto requirements, ParseToRequirements(text));
  Selector selector;
  selector.requirements_ = std::move(requirements);
  return selector;
}

Selector Selector::FromSet(const Set& labels) {
  Selector selector;
  for (const auto& [key, value] : labels)
    selector.requirements_.push_back(Requirement(key, Operator::kEquals, {value}));
  return selector;
}

Result<Selector> Selector::FromValidatedSet(const Set& labels) {
  Selector selector;
  for (const auto& [key, value] : labels) {
    KPP_ASSIGN_OR_RETURN(auto requirement, Requirement::Create(key, Operator::kEquals, {value}));
    selector.requirements_.push_back(std::move(requirement));
  }
  return selector;
}

Selector Selector::Add(std::vector<Requirement> more) const {
  if (nothing_) return *this;
  Selector selector = *this;
  for (auto& requirement : more)
    selector.requirements_.push_back(std::move(requirement));
  SortByKey(selector.requirements_);
  return selector;
}

bool Selector::Matches(const Set& labels) const {
  if (nothing_) return false;
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const Requirement& requirement) { return requirement.Matches(labels); });
}

std::optional<std::string> Selector::RequiresExactMatch(std::string_view label) const {
  for (const auto& requirement : requirements_) {
    if (requirement.key() != label) continue;
    const Operator op = requirement.op();
    if ((op == Operator::kEquals || op == Operator::kDoubleEquals || op == Operator::kIn) &&
        requirement.values().size() == 1) {
      return requirement.values().front();
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::string Selector::String() const {
  std::string out;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) out += ",";
    out += requirements_[i].String();
  }
  return out;
}

Result<std::vector<Requirement>> ParseToRequirements(std::string_view text) {
  Parser parser(text);
  KPP_ASSIGN_OR_RETURN(auto requirements, parser.Parse());
  SortByKey(requirements);
  return requirements;
}

Result<Selector> LabelSelectorAsSelector(const LabelSelector* selector) {
  if (selector == nullptr) return Selector::Nothing();
  if (selector->match_labels.empty() && selector->match_expressions.empty())
    return Selector::Everything();
  std::vector<Requirement> requirements;
  for (const auto& [key, value] : selector->match_labels) {
    KPP_ASSIGN_OR_RETURN(auto requirement, Requirement::Create(key, Operator::kEquals, {value}));
    requirements.push_back(std::move(requirement));
  }
  for (const auto& expression : selector->match_expressions) {
    KPP_ASSIGN_OR_RETURN(const Operator op, ApiOperator(expression.op));
    KPP_ASSIGN_OR_RETURN(auto requirement,
                         Requirement::Create(expression.key, op, expression.values));
    requirements.push_back(std::move(requirement));
  }
  return Selector().Add(std::move(requirements));
}

Result<Set> LabelSelectorAsMap(const LabelSelector* selector) {
  Set labels;
  if (selector == nullptr) return labels;
  labels = selector->match_labels;
  for (const auto& expression : selector->match_expressions) {
    if (expression.op == "In") {
      if (expression.values.size() != 1) {
        return InvalidError(fmt::format(
            "operator {} without a single value cannot be converted into the old label selector "
            "format",
            GoQuote(expression.op)));
      }
      labels[expression.key] = expression.values.front();
    } else if (expression.op == "NotIn" || expression.op == "Exists" ||
               expression.op == "DoesNotExist") {
      return InvalidError(
          fmt::format("operator {} cannot be converted into the old label selector format",
                      GoQuote(expression.op)));
    } else {
      return InvalidError(
          fmt::format("{} is not a valid selector operator", GoQuote(expression.op)));
    }
  }
  return labels;
}

Result<LabelSelector> ParseToLabelSelector(std::string_view text) {
  auto requirements = ParseToRequirements(text);
  if (!requirements.ok()) {
    return BadRequestError(fmt::format("couldn't parse the selector string \"{}\": {}", text,
                                       requirements.error().message()));
  }
  LabelSelector selector;
  for (const auto& requirement : *requirements) {
    std::string api_op;
    switch (requirement.op()) {
      case Operator::kEquals:
      case Operator::kDoubleEquals:
        selector.match_labels[requirement.key()] = requirement.values().front();
        continue;
      case Operator::kIn: api_op = "In"; break;
      case Operator::kNotIn: api_op = "NotIn"; break;
      case Operator::kExists: api_op = "Exists"; break;
      case Operator::kDoesNotExist: api_op = "DoesNotExist"; break;
      case Operator::kGreaterThan:
      case Operator::kLessThan:
        return BadRequestError(fmt::format("{} isn't supported in label selectors",
                                           GoQuote(OperatorName(requirement.op()))));
      case Operator::kNotEquals:
        return BadRequestError(fmt::format("{} is not a valid label selector operator",
                                           GoQuote(OperatorName(requirement.op()))));
    }
    std::vector<std::string> values = requirement.values();
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    selector.match_expressions.push_back({requirement.key(), api_op, std::move(values)});
  }
  return selector;
}

std::string FormatLabelSelector(const LabelSelector* selector) {
  auto converted = LabelSelectorAsSelector(selector);
  if (!converted.ok()) return "<error>";
  std::string text = converted->String();
  return text.empty() ? "<none>" : text;
}

}  // namespace kpp::labels
