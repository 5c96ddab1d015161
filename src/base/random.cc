#include "base/random.h"

#include <openssl/rand.h>

#include <array>
#include <cstdlib>
#include <cstring>

namespace kpp {
namespace {

void FillRandom(unsigned char* bytes, size_t size) {
  // Small requests (a UUID per request for its audit ID, per object for its uid) are served
  // from a per-thread buffer: each RAND_bytes call costs about as much as 512 bytes of output.
  constexpr size_t kBuffered = 512;
  thread_local std::array<unsigned char, kBuffered> buffer;
  thread_local size_t used = kBuffered;
  if (size > kBuffered / 4) {
    // Failure means the system has no entropy source; nothing sensible can continue.
    if (RAND_bytes(bytes, static_cast<int>(size)) != 1) std::abort();
    return;
  }
  if (used + size > kBuffered) {
    if (RAND_bytes(buffer.data(), static_cast<int>(kBuffered)) != 1) std::abort();
    used = 0;
  }
  std::memcpy(bytes, buffer.data() + used, size);
  // Handed-out bytes are not left behind for anyone reading this thread's memory later.
  std::memset(buffer.data() + used, 0, size);
  used += size;
}

}  // namespace

std::string NewUuid() {
  std::array<unsigned char, 16> bytes{};
  FillRandom(bytes.data(), bytes.size());
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(36);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kHex[bytes[i] >> 4];
    text += kHex[bytes[i] & 0x0f];
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
