// Go-compatible quoting of strings for error messages (what fmt's %q prints), so that messages
// built here read exactly like the upstream Kubernetes ones clients may match on.
#pragma once

#include <string>
#include <string_view>

namespace kpp {

// `text` as a double-quoted Go string literal, like strconv.Quote: `"` and `\` are escaped,
// control characters become \n, \t, \x01 ..., invalid UTF-8 bytes become \xNN, and valid
// multi-byte UTF-8 is kept (C1 controls become \u00NN). Pure; thread-safe.
std::string GoQuote(std::string_view text);

}  // namespace kpp
