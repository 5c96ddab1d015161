#include "base/go_quote.h"

#include <fmt/format.h>

namespace kpp {
namespace {

// Length of the valid UTF-8 sequence starting at `text[pos]`, or 0 if it is not valid.
size_t Utf8SequenceLength(std::string_view text, size_t pos, char32_t& rune) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  size_t length = 0;
  char32_t min_rune = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    rune = lead & 0x1F;
    min_rune = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    rune = lead & 0x0F;
    min_rune = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    rune = lead & 0x07;
    min_rune = 0x10000;
  } else {
    return 0;
  }
  if (pos + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    const unsigned char continuation = byte(pos + i);
    if ((continuation & 0xC0) != 0x80) return 0;
    rune = (rune << 6) | (continuation & 0x3F);
  }
  if (rune < min_rune || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

std::string GoQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (size_t pos = 0; pos < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += fmt::format("\\x{:02x}", c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++pos;
      continue;
    }
    char32_t rune = 0;
    const size_t length = Utf8SequenceLength(text, pos, rune);
    if (length == 0) {
      out += fmt::format("\\x{:02x}", c);
      ++pos;
      continue;
    }
    if (rune < 0xA0) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(rune));
    } else {
      out.append(text.substr(pos, length));
    }
    pos += length;
  }
  out.push_back('"');
  return out;
}

}  // namespace kpp
