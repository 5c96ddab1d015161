// The rules for an object's name, per kind, as upstream's ValidateObjectMeta with each kind's name
// function: metadata.generateName is checked as a prefix, metadata.name (generated or given) in
// full, by the kind's rule from the schema (`name=`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/meta/v1/types.h"
#include "api/runtime/kinds.h"
#include "apimachinery/validation/field_errors.h"

namespace kpp::apiserver {

// Upstream's messages for `name` under `rule`; `prefix` for a generateName, which may end in a
// dash.
std::vector<std::string> CheckName(api::NameRule rule, std::string_view name, bool prefix);

// Appends the errors of metadata.generateName and metadata.name (name or generateName is
// required), at those paths.
void ValidateObjectName(const api::KindInfo& kind, const api::meta::v1::ObjectMeta& metadata,
                        validation::FieldErrors& errors);

}  // namespace kpp::apiserver
