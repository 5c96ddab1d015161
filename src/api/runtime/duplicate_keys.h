// Duplicate object keys in a JSON document. Boost.JSON keeps the last of equal keys when it
// builds a value, as Go's decoder does, so strict decoding (fieldValidation=Strict|Warn) finds
// them in a separate streaming pass.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kpp::api::runtime {

// The paths of repeated keys, in upstream's form ("metadata.name",
// "spec.containers[0].image"), in document order. Empty for malformed JSON: the decoder reports
// that.
std::vector<std::string> FindDuplicateKeys(std::string_view json, unsigned max_depth);

}  // namespace kpp::api::runtime
