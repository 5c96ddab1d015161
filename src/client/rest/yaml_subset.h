// The part of YAML that kubeconfig files use, read into JSON values: block mappings and
// sequences (including "- key: value" items and sequences at their key's indentation), plain,
// single- and double-quoted scalars, empty flow collections ({} and []), comments and "---".
// Scalars stay strings (callers interpret "true"). A document that starts with '{' is JSON.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "base/result.h"

namespace kpp::client::rest {

Result<boost::json::value> ParseYamlSubset(std::string_view text);

}  // namespace kpp::client::rest
