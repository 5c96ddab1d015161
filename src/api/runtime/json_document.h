// Parsing a request body into a JSON document for the generated decoders, in one pass that also
// notices whether some object has a key twice (Boost.JSON keeps only the last), so that the
// slower search for the duplicates' paths runs only when there are some.
#pragma once

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "base/result.h"

namespace kpp::api::runtime {

struct JsonDocument {
  boost::json::value value;
  bool has_duplicate_keys = false;
};

// As boost::json::parse with `max_depth` (same errors: BadRequest "invalid JSON: <reason>"), but
// a number beyond the range of a double is an error (Go's), not infinity; the values are
// allocated from `storage`.
Result<JsonDocument> ParseJsonDocument(std::string_view json, unsigned max_depth,
                                       boost::json::storage_ptr storage = {});

}  // namespace kpp::api::runtime
