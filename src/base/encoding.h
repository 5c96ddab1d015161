// Byte encodings used on the wire and in config files.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace kpp {

// Standard base64 with padding (RFC 4648 section 4), no line breaks.
std::string Base64Encode(std::string_view bytes);
// Inverse of Base64Encode; Invalid for malformed input.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace kpp
