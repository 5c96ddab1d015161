#include "api/runtime/json_writer.h"

#include <array>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>

namespace kpp::api::runtime {
namespace {

// The length of the valid UTF-8 sequence `text` starts with (its first byte is 0x80 or above), or
// 0 when it does not start with one: as Go's utf8.DecodeRuneInString, overlong forms, surrogates
// and code points above U+10FFFF are invalid.
size_t Utf8SequenceLength(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto in = [](unsigned char b, unsigned char low, unsigned char high) {
    return b >= low && b <= high;
  };
  const unsigned char first = byte(0);
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (in(first, 0xC2, 0xDF)) {
    length = 2;
  } else if (in(first, 0xE0, 0xEF)) {
    length = 3;
    if (first == 0xE0) low = 0xA0;
    if (first == 0xED) high = 0x9F;
  } else if (in(first, 0xF0, 0xF4)) {
    length = 4;
    if (first == 0xF0) low = 0x90;
    if (first == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (text.size() < length || !in(byte(1), low, high)) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (!in(byte(i), 0x80, 0xBF)) return 0;
  }
  return length;
}

// Bytes written as they are: printable ASCII except the quote, the backslash and <, > and &.
constexpr auto kPlainAscii = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c)
    plain[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
  return plain;
}();

}  // namespace

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (need_comma_) out_ += ',';
}

void JsonWriter::BeginObject() {
  // Objects of the API are rarely smaller than this; one allocation instead of a few doublings.
  if (out_.empty()) out_.reserve(1024);
  BeforeValue();
  out_ += '{';
  need_comma_ = false;
}

void JsonWriter::EndObject() {
  out_ += '}';
  need_comma_ = true;
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_ += '[';
  need_comma_ = false;
}

void JsonWriter::EndArray() {
  out_ += ']';
  need_comma_ = true;
}

void JsonWriter::Key(std::string_view key) {
  if (need_comma_) out_ += ',';
  WriteEscaped(key);
  out_ += ':';
  need_comma_ = false;
  after_key_ = true;
}

void JsonWriter::String(std::string_view value) {
  BeforeValue();
  WriteEscaped(value);
  need_comma_ = true;
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
  need_comma_ = true;
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out_.append(buffer, end);
  need_comma_ = true;
}

void JsonWriter::Double(double value) {
  BeforeValue();
  if (!std::isfinite(value)) {
    // JSON has no NaN or infinity; Go refuses to encode them. Null keeps the output valid.
    out_ += "null";
  } else {
    char buffer[32];
    // Go uses %f for moderate exponents and %e outside [1e-6, 1e21); to_chars' shortest form
    // matches it for the values API objects hold.
    const double magnitude = std::fabs(value);
    const auto format = (magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21))
                            ? std::chars_format::scientific
                            : std::chars_format::fixed;
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, format);
    out_.append(buffer, end);
  }
  need_comma_ = true;
}

void JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
  need_comma_ = true;
}

void JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_ += json;
  need_comma_ = true;
}

void JsonWriter::WriteEscaped(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_ += '"';
  size_t i = 0;
  while (i < text.size()) {
    // Runs of printable ASCII that need no escape are copied at once.
    const size_t run_start = i;
    while (i < text.size() && kPlainAscii[static_cast<unsigned char>(text[i])])
      ++i;
    out_.append(text.data() + run_start, i - run_start);
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        out_ += "\\\"";
        ++i;
        continue;
      case '\\':
        out_ += "\\\\";
        ++i;
        continue;
      case '\n':
        out_ += "\\n";
        ++i;
        continue;
      case '\r':
        out_ += "\\r";
        ++i;
        continue;
      case '\t':
        out_ += "\\t";
        ++i;
        continue;
      default: break;
    }
    // Go escapes control characters and, for safe embedding in HTML, <, > and &.
    if (c < 0x80) {
      out_ += "\\u00";
      out_ += kHex[c >> 4];
      out_ += kHex[c & 0xf];
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(text.substr(i));
    if (length == 0) {
      // Go writes each byte that is not part of valid UTF-8 as U+FFFD, escaped.
      out_ += "\\ufffd";
      ++i;
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8/A9) are escaped by Go for JavaScript safety.
    if (length == 3 && c == 0xE2 && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) & 0xFE) == 0xA8) {
      out_ += static_cast<unsigned char>(text[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
    } else {
      out_.append(text.data() + i, length);
    }
    i += length;
  }
  out_ += '"';
}

void WriteJsonValue(const boost::json::value& value, JsonWriter& out) {
  switch (value.kind()) {
    case boost::json::kind::object:
      out.BeginObject();
      for (const auto& [key, member] : value.get_object()) {
        out.Key(std::string_view(key.data(), key.size()));
        WriteJsonValue(member, out);
      }
      return out.EndObject();
    case boost::json::kind::array:
      out.BeginArray();
      for (const auto& item : value.get_array())
        WriteJsonValue(item, out);
      return out.EndArray();
    case boost::json::kind::string:
      return out.String(std::string_view(value.get_string().data(), value.get_string().size()));
    case boost::json::kind::bool_: return out.Bool(value.get_bool());
    case boost::json::kind::int64: return out.Int(value.get_int64());
    case boost::json::kind::uint64: return out.Raw(std::to_string(value.get_uint64()));
    case boost::json::kind::double_: return out.Double(value.get_double());
    case boost::json::kind::null: return out.Null();
  }
}

}  // namespace kpp::api::runtime
