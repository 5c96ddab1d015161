// Random identifiers from the system's cryptographic generator (OpenSSL): unpredictable, so
// they are safe to use where an attacker must not guess them (UIDs, generated names).
#pragma once

#include <string>
#include <string_view>

namespace kpp {

// A random RFC 4122 version 4 UUID, e.g. "3f0c3f5e-8c1a-4b6e-9d3e-2c1b0a9f8e7d". Thread-safe.
std::string NewUuid();

// `length` characters drawn uniformly from `alphabet`. Thread-safe.
std::string RandomString(size_t length, std::string_view alphabet);

}  // namespace kpp
