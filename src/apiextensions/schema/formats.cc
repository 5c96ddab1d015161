#include "apiextensions/schema/formats.h"

#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace kpp::apiextensions::schema::internal {

namespace {

constexpr std::array<std::string_view, 24> kStringFormats = {
    "bsonobjectid", "uri",    "email",    "hostname",   "ipv4",     "ipv6",
    "cidr",         "mac",    "uuid",     "uuid3",      "uuid4",    "uuid5",
    "isbn",         "isbn10", "isbn13",   "creditcard", "ssn",      "hexcolor",
    "rgbcolor",     "byte",   "password", "date",       "duration", "datetime"};

std::string Normalize(std::string_view format) {
  std::string out;
  for (char c : format) {
    if (c != '-') out += c;
  }
  return out;
}

bool Full(const RE2& re, std::string_view value) {
  return RE2::FullMatch(value, re);
}

const RE2& Regex(const char* pattern) {
  // Callers pass literals; each literal gets its own static through the lambda below.
  return *new RE2(pattern);
}

bool IsIPv4(std::string_view value) {
  std::string text(value);
  unsigned char buffer[16];
  if (inet_pton(AF_INET, text.c_str(), buffer) == 1) return true;
  // Go's ParseIP also takes IPv4-mapped IPv6 forms; strfmt only asks for a dot.
  return inet_pton(AF_INET6, text.c_str(), buffer) == 1 && text.find('.') != std::string::npos;
}

bool IsIPv6(std::string_view value) {
  std::string text(value);
  unsigned char buffer[16];
  return inet_pton(AF_INET6, text.c_str(), buffer) == 1 && text.find(':') != std::string::npos;
}

bool IsCidr(std::string_view value) {
  size_t slash = value.find('/');
  if (slash == std::string_view::npos) return false;
  std::string ip(value.substr(0, slash));
  std::string_view bits = value.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 ||
      !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  if (bits.size() > 1 && bits[0] == '0') return false;
  int n = std::stoi(std::string(bits));
  unsigned char buffer[16];
  if (inet_pton(AF_INET, ip.c_str(), buffer) == 1) return n <= 32;
  if (inet_pton(AF_INET6, ip.c_str(), buffer) == 1) return n <= 128;
  return false;
}

bool IsMac(std::string_view value) {
  static const RE2& colon = Regex(
      "(?:[0-9A-Fa-f]{2}[:]){5}[0-9A-Fa-f]{2}|(?:[0-9A-Fa-f]{2}[:]){7}[0-9A-Fa-f]{2}|"
      "(?:[0-9A-Fa-f]{2}[:]){19}[0-9A-Fa-f]{2}");
  static const RE2& dash = Regex(
      "(?:[0-9A-Fa-f]{2}[-]){5}[0-9A-Fa-f]{2}|(?:[0-9A-Fa-f]{2}[-]){7}[0-9A-Fa-f]{2}|"
      "(?:[0-9A-Fa-f]{2}[-]){19}[0-9A-Fa-f]{2}");
  static const RE2& dot = Regex(
      "(?:[0-9A-Fa-f]{4}[.]){2}[0-9A-Fa-f]{4}|(?:[0-9A-Fa-f]{4}[.]){3}[0-9A-Fa-f]{4}|"
      "(?:[0-9A-Fa-f]{4}[.]){9}[0-9A-Fa-f]{4}");
  return Full(colon, value) || Full(dash, value) || Full(dot, value);
}

bool IsUri(std::string_view value) {
  // net/url.ParseRequestURI: an absolute path, or a scheme followed by anything; no control
  // characters or spaces.
  if (value.empty()) return false;
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f || c == ' ') return false;
  }
  if (value[0] == '/') return true;
  static const RE2& scheme = Regex("[A-Za-z][A-Za-z0-9+.-]*:.*");
  return Full(scheme, value);
}

bool IsEmail(std::string_view value) {
  // net/mail.ParseAddress, simplified: an optional display name with <addr>, or a bare addr.
  static const RE2& bare = Regex("[^\\s@<>()\\[\\],;:\"]+@[^\\s@<>()\\[\\],;:\"]+");
  static const RE2& named = Regex("[^<>]*<[^\\s@<>()\\[\\],;:\"]+@[^\\s@<>()\\[\\],;:\"]+>");
  return Full(bare, value) || Full(named, value);
}

bool IsHostname(std::string_view value) {
  static const RE2& re = Regex(
      "([a-zA-Z0-9\\p{S}\\p{L}]((-?[a-zA-Z0-9\\p{S}\\p{L}]{0,62})?)|"
      "([a-zA-Z0-9\\p{S}\\p{L}](([a-zA-Z0-9-\\p{S}\\p{L}]{0,61}[a-zA-Z0-9\\p{S}\\p{L}])?)(\\.)){1,}"
      "([a-zA-Z\\p{L}]){2,63})");
  return value.size() <= 255 && Full(re, value);
}

std::string DigitsOnly(std::string_view value, bool keep_x) {
  std::string out;
  for (char c : value) {
    if ((c >= '0' && c <= '9') || (keep_x && c == 'X')) out += c;
  }
  return out;
}

bool IsIsbn10(std::string_view value) {
  std::string s;
  for (char c : value) {
    if (c != ' ' && c != '-') s += c;
  }
  static const RE2& re = Regex("(?:[0-9]{9}X|[0-9]{10})");
  if (!Full(re, s)) return false;
  int sum = 0;
  for (int i = 0; i < 9; ++i)
    sum += (i + 1) * (s[i] - '0');
  sum += s[9] == 'X' ? 100 : 10 * (s[9] - '0');
  return sum % 11 == 0;
}

bool IsIsbn13(std::string_view value) {
  std::string s;
  for (char c : value) {
    if (c != ' ' && c != '-') s += c;
  }
  static const RE2& re = Regex("(?:[0-9]{13})");
  if (!Full(re, s)) return false;
  int sum = 0;
  for (int i = 0; i < 12; ++i)
    sum += (s[i] - '0') * (i % 2 == 0 ? 1 : 3);
  return (10 - sum % 10) % 10 == s[12] - '0';
}

bool IsCreditCard(std::string_view value) {
  std::string digits = DigitsOnly(value, false);
  static const RE2& re = Regex(
      "(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]"
      "|"
      "2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|"
      "(?:2131|1800|35\\d{3})\\d{11}|6[27][0-9]{14})");
  if (!Full(re, digits)) return false;
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool IsBase64(std::string_view value) {
  // encoding/base64.StdEncoding: padded; \r and \n are ignored.
  std::string s;
  for (char c : value) {
    if (c != '\r' && c != '\n') s += c;
  }
  if (s.size() % 4 != 0) return false;
  size_t padding = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alphabet = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
    if (c == '=') {
      if (i + 2 < s.size()) return false;
      ++padding;
    } else if (!alphabet || padding > 0) {
      return false;
    }
  }
  return padding <= 2;
}

bool LeapYear(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool ValidDate(int y, int m, int d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  int days = kDays[m - 1] + (m == 2 && LeapYear(y) ? 1 : 0);
  return d <= days;
}

bool IsDate(std::string_view value) {
  static const RE2& re = Regex("(\\d{4})-(\\d{2})-(\\d{2})");
  int y = 0, m = 0, d = 0;
  return RE2::FullMatch(value, re, &y, &m, &d) && ValidDate(y, m, d);
}

bool IsDateTime(std::string_view value) {
  // RFC 3339 as strfmt parses it (also without a zone, and with a zone without colon).
  static const RE2& re = Regex(
      "(\\d{4})-(\\d{2})-(\\d{2})[Tt ](\\d{2}):(\\d{2}):(\\d{2})(?:\\.\\d+)?"
      "(?:[Zz]|[+-]\\d{2}:?\\d{2})?");
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  return RE2::FullMatch(value, re, &y, &mo, &d, &h, &mi, &s) && ValidDate(y, mo, d) && h < 24 &&
         mi < 60 && s < 60;
}

bool IsDuration(std::string_view value) {
  // Go's time.ParseDuration ("1h30m", "-1.5s") or strfmt's "<n> <unit>" forms.
  static const RE2& go = Regex("[-+]?((\\d+(\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h))+|[-+]?0");
  static const RE2& words = Regex(
      "(\\d+\\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|sec|"
      "minutes?|min|hours?|hr|days?|day|weeks?|wk)\\s*)+");
  return Full(go, value) || Full(words, value);
}

}  // namespace

std::string EffectiveFormat(std::string_view type, std::string_view format) {
  if (format.empty()) return {};
  if (type.empty() || type == "string") {
    return IsStringFormat(format) ? std::string(format) : std::string();
  }
  if (type == "integer") return format == "int32" || format == "int64" ? std::string(format) : "";
  if (type == "number") return format == "float" || format == "double" ? std::string(format) : "";
  return {};
}

bool IsStringFormat(std::string_view format) {
  std::string normalized = Normalize(format);
  return std::find(kStringFormats.begin(), kStringFormats.end(), normalized) !=
         kStringFormats.end();
}

bool StringMatchesFormat(std::string_view format, std::string_view value) {
  std::string f = Normalize(format);
  if (f == "password") return true;
  if (f == "byte") return IsBase64(value);
  if (f == "date") return IsDate(value);
  if (f == "datetime") return IsDateTime(value);
  if (f == "duration") return IsDuration(value);
  if (f == "uri") return IsUri(value);
  if (f == "email") return IsEmail(value);
  if (f == "hostname") return IsHostname(value);
  if (f == "ipv4") return IsIPv4(value);
  if (f == "ipv6") return IsIPv6(value);
  if (f == "cidr") return IsCidr(value);
  if (f == "mac") return IsMac(value);
  if (f == "bsonobjectid") {
    static const RE2& re = Regex("[0-9a-fA-F]{24}");
    return Full(re, value);
  }
  if (f == "uuid") {
    static const RE2& re =
        Regex("(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}");
    return Full(re, value);
  }
  if (f == "uuid3") {
    static const RE2& re =
        Regex("(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}");
    return Full(re, value);
  }
  if (f == "uuid4") {
    static const RE2& re =
        Regex("(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}");
    return Full(re, value);
  }
  if (f == "uuid5") {
    static const RE2& re =
        Regex("(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}");
    return Full(re, value);
  }
  if (f == "isbn") return IsIsbn10(value) || IsIsbn13(value);
  if (f == "isbn10") return IsIsbn10(value);
  if (f == "isbn13") return IsIsbn13(value);
  if (f == "creditcard") return IsCreditCard(value);
  if (f == "ssn") {
    static const RE2& re = Regex("\\d{3}[- ]?\\d{2}[- ]?\\d{4}");
    return Full(re, value);
  }
  if (f == "hexcolor") {
    static const RE2& re = Regex("#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})");
    return Full(re, value);
  }
  if (f == "rgbcolor") {
    static const RE2& re = Regex(
        "rgb\\(\\s*(0|[1-9]\\d?|1\\d\\d?|2[0-4]\\d|25[0-5])\\s*,\\s*(0|[1-9]\\d?|1\\d\\d?|2[0-4]"
        "\\d|"
        "25[0-5])\\s*,\\s*(0|[1-9]\\d?|1\\d\\d?|2[0-4]\\d|25[0-5])\\s*\\)");
    return Full(re, value);
  }
  return true;
}

}  // namespace kpp::apiextensions::schema::internal
