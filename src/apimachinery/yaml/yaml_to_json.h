// YAML request bodies as JSON, the way upstream's API server reads them (sigs.k8s.io/yaml on
// go-yaml v2): the first document of the input, with YAML 1.1's implicit types for plain
// scalars (yes/no/on/off are booleans, 0755 is octal, ~ is null), anchors and aliases, and
// merge keys (<<). Mapping keys become strings ("1", "true"). Duplicate keys are kept in the
// JSON text, so that the JSON decoder's strict checks report them as for a JSON body.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace kpp::yaml {

struct ToJsonOptions {
  // Deepest nesting of sequences and mappings accepted.
  unsigned max_depth = 200;
  // Most values the JSON may hold once aliases are expanded (a few aliases to large anchors
  // must not blow up memory).
  size_t max_values = 1'000'000;
};

// BadRequest with upstream's wording on failure, e.g. "error converting YAML to JSON: yaml:
// line 3: mapping values are not allowed in this context".
Result<std::string> ToJson(std::string_view yaml, const ToJsonOptions& options = {});

}  // namespace kpp::yaml
