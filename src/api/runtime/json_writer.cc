#include "api/runtime/json_writer.h"

#include <charconv>
#include <cmath>

namespace kpp::api::runtime {

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (need_comma_) out_ += ',';
}

void JsonWriter::BeginObject() {
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
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"': out_ += "\\\""; continue;
      case '\\': out_ += "\\\\"; continue;
      case '\n': out_ += "\\n"; continue;
      case '\r': out_ += "\\r"; continue;
      case '\t': out_ += "\\t"; continue;
      default: break;
    }
    // Go escapes control characters and, for safe embedding in HTML, <, > and &.
    if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      out_ += "\\u00";
      out_ += kHex[c >> 4];
      out_ += kHex[c & 0xf];
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8/A9) are escaped by Go for JavaScript safety.
    if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) & 0xFE) == 0xA8) {
      out_ += static_cast<unsigned char>(text[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
      continue;
    }
    out_ += static_cast<char>(c);
  }
  out_ += '"';
}

}  // namespace kpp::api::runtime
