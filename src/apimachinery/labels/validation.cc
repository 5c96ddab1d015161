#include "apimachinery/labels/validation.h"

#include <fmt/format.h>

namespace kpp::validation {
namespace {

constexpr std::string_view kQualifiedNameErrorMessage =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr std::string_view kLabelValueErrorMessage =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character";
constexpr std::string_view kDns1123LabelErrorMessage =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must "
    "start and end with an alphanumeric character";
constexpr std::string_view kDns1123SubdomainErrorMessage =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', "
    "and must start and end with an alphanumeric character";
constexpr std::string_view kDns1035LabelErrorMessage =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character";
constexpr std::string_view kWildcardDns1123SubdomainFormat =
    "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kWildcardDns1123SubdomainErrorMessage =
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which "
    "must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric "
    "character";

bool IsAsciiDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsAsciiLower(char c) {
  return c >= 'a' && c <= 'z';
}
bool IsAsciiAlpha(char c) {
  return IsAsciiLower(c) || (c >= 'A' && c <= 'Z');
}
bool IsAsciiAlnum(char c) {
  return IsAsciiAlpha(c) || IsAsciiDigit(c);
}
bool IsLowerAlnum(char c) {
  return IsAsciiLower(c) || IsAsciiDigit(c);
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualifiedName(std::string_view value) {
  if (value.empty() || !IsAsciiAlnum(value.front()) || !IsAsciiAlnum(value.back())) return false;
  for (char c : value) {
    if (!IsAsciiAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchesDns1123Label(std::string_view value) {
  if (value.empty() || !IsLowerAlnum(value.front()) || !IsLowerAlnum(value.back())) return false;
  for (char c : value) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// Labels of MatchesDns1123Label joined by single dots.
bool MatchesDns1123Subdomain(std::string_view value) {
  while (true) {
    const size_t dot = value.find('.');
    if (!MatchesDns1123Label(value.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    value.remove_prefix(dot + 1);
  }
}

// [a-z]([-a-z0-9]*[a-z0-9])?
bool MatchesDns1035Label(std::string_view value) {
  return MatchesDns1123Label(value) && IsAsciiLower(value.front());
}

std::vector<std::string> WithPrefix(std::vector<std::string> messages, std::string_view prefix) {
  for (auto& message : messages)
    message.insert(0, prefix);
  return messages;
}

std::vector<std::string> CheckDotPrefix(std::string_view value) {
  if (value == ".") return {"must not be '.'"};
  if (value == "..") return {"must not be '..'"};
  if (value.starts_with("..")) return {"must not start with '..'"};
  return {};
}

}  // namespace

std::string MaxLenError(size_t length) {
  return fmt::format("must be no more than {} characters", length);
}

std::string EmptyError() {
  return "must be non-empty";
}

std::string InclusiveRangeError(int64_t low, int64_t high) {
  return fmt::format("must be between {} and {}, inclusive", low, high);
}

std::string RegexError(std::string_view message, std::string_view format,
                       const std::vector<std::string_view>& examples) {
  std::string out(message);
  if (examples.empty()) return out + fmt::format(" (regex used for validation is '{}')", format);
  out += " (e.g. ";
  for (size_t i = 0; i < examples.size(); ++i) {
    if (i > 0) out += " or ";
    out += fmt::format("'{}', ", examples[i]);
  }
  return out + fmt::format("regex used for validation is '{}')", format);
}

std::vector<std::string> IsQualifiedName(std::string_view value) {
  std::vector<std::string> errors;
  std::string_view name = value;
  const size_t slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      return {"a qualified name " +
              RegexError(kQualifiedNameErrorMessage, kQualifiedNameFormat,
                         {"MyName", "my.name", "123-abc"}) +
              " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
    }
    const std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errors.push_back("prefix part " + EmptyError());
    } else {
      for (auto& message : WithPrefix(IsDNS1123Subdomain(prefix), "prefix part "))
        errors.push_back(std::move(message));
    }
  }
  if (name.empty()) {
    errors.push_back("name part " + EmptyError());
  } else if (name.size() > kQualifiedNameMaxLength) {
    errors.push_back("name part " + MaxLenError(kQualifiedNameMaxLength));
  }
  if (!MatchesQualifiedName(name)) {
    errors.push_back("name part " + RegexError(kQualifiedNameErrorMessage, kQualifiedNameFormat,
                                               {"MyName", "my.name", "123-abc"}));
  }
  return errors;
}

std::vector<std::string> IsValidLabelValue(std::string_view value) {
  std::vector<std::string> errors;
  if (value.size() > kLabelValueMaxLength) errors.push_back(MaxLenError(kLabelValueMaxLength));
  if (!value.empty() && !MatchesQualifiedName(value)) {
    errors.push_back(
        RegexError(kLabelValueErrorMessage, kLabelValueFormat, {"MyValue", "my_value", "12345"}));
  }
  return errors;
}

std::vector<std::string> IsDNS1123Label(std::string_view value) {
  std::vector<std::string> errors;
  if (value.size() > kDns1123LabelMaxLength) errors.push_back(MaxLenError(kDns1123LabelMaxLength));
  if (!MatchesDns1123Label(value)) {
    if (MatchesDns1123Subdomain(value)) {
      errors.push_back("must not contain dots");
    } else {
      errors.push_back(
          RegexError(kDns1123LabelErrorMessage, kDns1123LabelFormat, {"my-name", "123-abc"}));
    }
  }
  return errors;
}

std::vector<std::string> IsDNS1123Subdomain(std::string_view value) {
  std::vector<std::string> errors;
  if (value.size() > kDns1123SubdomainMaxLength)
    errors.push_back(MaxLenError(kDns1123SubdomainMaxLength));
  if (!MatchesDns1123Subdomain(value)) {
    errors.push_back(
        RegexError(kDns1123SubdomainErrorMessage, kDns1123SubdomainFormat, {"example.com"}));
  }
  return errors;
}

std::vector<std::string> IsDNS1035Label(std::string_view value) {
  std::vector<std::string> errors;
  if (value.size() > kDns1035LabelMaxLength) errors.push_back(MaxLenError(kDns1035LabelMaxLength));
  if (!MatchesDns1035Label(value)) {
    errors.push_back(
        RegexError(kDns1035LabelErrorMessage, kDns1035LabelFormat, {"my-name", "abc-123"}));
  }
  return errors;
}

std::vector<std::string> IsWildcardDNS1123Subdomain(std::string_view value) {
  std::vector<std::string> errors;
  if (value.size() > kDns1123SubdomainMaxLength)
    errors.push_back(MaxLenError(kDns1123SubdomainMaxLength));
  if (!value.starts_with("*.") || !MatchesDns1123Subdomain(value.substr(2))) {
    errors.push_back(RegexError(kWildcardDns1123SubdomainErrorMessage,
                                kWildcardDns1123SubdomainFormat, {"*.example.com"}));
  }
  return errors;
}

std::vector<std::string> IsPathSegmentName(std::string_view name) {
  if (name == ".") return {"may not be '.'"};
  if (name == "..") return {"may not be '..'"};
  return IsPathSegmentPrefix(name);
}

std::vector<std::string> IsPathSegmentPrefix(std::string_view name) {
  std::vector<std::string> errors;
  if (name.find('/') != std::string_view::npos) errors.push_back("may not contain '/'");
  if (name.find('%') != std::string_view::npos) errors.push_back("may not contain '%'");
  return errors;
}

std::vector<std::string> IsValidPortNum(int64_t port) {
  if (port >= 1 && port <= 65535) return {};
  return {InclusiveRangeError(1, 65535)};
}

std::vector<std::string> IsInRange(int64_t value, int64_t min, int64_t max) {
  if (value >= min && value <= max) return {};
  return {InclusiveRangeError(min, max)};
}

std::vector<std::string> IsValidPortName(std::string_view port) {
  std::vector<std::string> errors;
  if (port.size() > 15) errors.push_back(MaxLenError(15));
  bool charset_ok = !port.empty();
  bool has_letter = false;
  for (char c : port) {
    if (!IsLowerAlnum(c) && c != '-') charset_ok = false;
    if (IsAsciiLower(c)) has_letter = true;
  }
  if (!charset_ok) {
    errors.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  }
  if (!has_letter) errors.push_back("must contain at least one letter (a-z)");
  if (port.find("--") != std::string_view::npos)
    errors.push_back("must not contain consecutive hyphens");
  if (!port.empty() && (port.front() == '-' || port.back() == '-'))
    errors.push_back("must not begin or end with a hyphen");
  return errors;
}

std::vector<std::string> IsValidPercent(std::string_view percent) {
  bool ok = percent.size() >= 2 && percent.back() == '%';
  for (size_t i = 0; ok && i + 1 < percent.size(); ++i)
    ok = IsAsciiDigit(percent[i]);
  if (ok) return {};
  return {RegexError("a valid percent string must be a numeric string followed by an ending '%'",
                     "[0-9]+%", {"1%", "93%"})};
}

std::vector<std::string> IsHTTPHeaderName(std::string_view value) {
  bool ok = !value.empty();
  for (char c : value)
    ok = ok && (IsAsciiAlnum(c) || c == '-');
  if (ok) return {};
  return {RegexError("a valid HTTP header must consist of alphanumeric characters or '-'",
                     "[-A-Za-z0-9]+", {"X-Header-Name"})};
}

std::vector<std::string> IsEnvVarName(std::string_view value) {
  std::vector<std::string> errors;
  const auto allowed = [](char c) { return IsAsciiAlnum(c) || c == '-' || c == '.' || c == '_'; };
  bool ok = !value.empty() && !IsAsciiDigit(value.front());
  for (char c : value)
    ok = ok && allowed(c);
  if (!ok) {
    errors.push_back(RegexError(
        "a valid environment variable name must consist of alphabetic characters, digits, '_', "
        "'-', or '.', and must not start with a digit",
        "[-._a-zA-Z][-._a-zA-Z0-9]*", {"my.env-name", "MY_ENV.NAME", "MyEnvName1"}));
  }
  for (auto& message : CheckDotPrefix(value))
    errors.push_back(std::move(message));
  return errors;
}

std::vector<std::string> IsConfigMapKey(std::string_view value) {
  std::vector<std::string> errors;
  if (value.size() > kDns1123SubdomainMaxLength)
    errors.push_back(MaxLenError(kDns1123SubdomainMaxLength));
  bool ok = !value.empty();
  for (char c : value)
    ok = ok && (IsAsciiAlnum(c) || c == '-' || c == '.' || c == '_');
  if (!ok) {
    errors.push_back(
        RegexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                   "[-._a-zA-Z0-9]+", {"key.name", "KEY_NAME", "key-name"}));
  }
  for (auto& message : CheckDotPrefix(value))
    errors.push_back(std::move(message));
  return errors;
}

}  // namespace kpp::validation
