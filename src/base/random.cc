#include "base/random.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <array>
#include <cstdlib>

namespace kpp {
namespace {

void FillRandom(unsigned char* bytes, size_t size) {
  // Failure means the system has no entropy source; nothing sensible can continue.
  if (RAND_bytes(bytes, static_cast<int>(size)) != 1) std::abort();
}

}  // namespace

std::string NewUuid() {
  std::array<unsigned char, 16> bytes{};
  FillRandom(bytes.data(), bytes.size());
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string text;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += fmt::format("{:02x}", bytes[i]);
  }
  return text;
}

std::string RandomString(size_t length, std::string_view alphabet) {
  std::string text;
  text.reserve(length);
  // Rejection sampling keeps every character equally likely.
  const unsigned limit = 256 - 256 % alphabet.size();
  while (text.size() < length) {
    unsigned char byte = 0;
    FillRandom(&byte, 1);
    if (byte < limit) text += alphabet[byte % alphabet.size()];
  }
  return text;
}

}  // namespace kpp
