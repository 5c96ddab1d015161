// Internal: the string formats upstream checks in custom resources (go-openapi's strfmt registry,
// limited to the formats apiextensions-apiserver keeps in 1.32).
#pragma once

#include <string>
#include <string_view>

namespace kpp::apiextensions::schema::internal {

// The format as the validator sees it: unsupported formats are dropped ("" returned) as upstream
// strips them before validating (strings: the strfmt names; integer: int32/int64; number:
// float/double). `type` is the schema's single type, or "" for none or int-or-string.
std::string EffectiveFormat(std::string_view type, std::string_view format);
// Whether `format` (as written in the schema) is a string format the validator checks.
bool IsStringFormat(std::string_view format);
// Whether `value` is valid for the string format `format`.
bool StringMatchesFormat(std::string_view format, std::string_view value);

}  // namespace kpp::apiextensions::schema::internal
