// JSON Patch (RFC 6902): an ordered list of operations (add, remove, replace, move, copy, test)
// addressed by JSON Pointers, as sent with Content-Type application/json-patch+json.
//
// Error codes follow the upstream API server: a body that is not a JSON array of objects is
// 400 BadRequest, more than kMaxJsonPatchOperations operations is 413 RequestEntityTooLarge, and
// an operation that cannot be applied (unknown op, missing member, bad pointer, missing target,
// failed test, ...) is 422 Invalid. Upstream answers the latter with the fixed message "the server
// rejected our request due to an error in our request"; we keep the precise reason in the message,
// e.g. `json patch operation 1 ("test" at "/spec/replicas"): ...` and leave it to the API server to
// decide how much of it to show.
//
// A JsonPatch is an immutable value; Apply() is const and safe to call from several threads.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <string_view>

#include "base/result.h"

namespace kpp::patch {

// Upstream's cap on operations in one patch.
inline constexpr std::size_t kMaxJsonPatchOperations = 10000;

struct JsonPatchOptions {
  // Upper bound on the number of JSON values all "copy" operations of one patch may duplicate
  // together; 0 means unlimited. Each copy can double a document, so without a bound a small
  // request can demand exponential memory.
  std::size_t max_copied_values = 1'000'000;
};

class JsonPatch {
 public:
  // Parses a patch body. Errors: kBadRequest when `text` is not a JSON array of objects;
  // kRequestEntityTooLarge beyond kMaxJsonPatchOperations operations.
  static Result<JsonPatch> Parse(std::string_view text);
  // Same checks for an already parsed body.
  static Result<JsonPatch> FromValue(boost::json::value document);

  std::size_t size() const { return operations_.size(); }
  const boost::json::array& operations() const { return operations_; }

  // Applies the operations in order to `document` and returns the result; all or nothing (on an
  // error nothing of `document` is returned). Results nested deeper than kMaxJsonDepth are
  // rejected. Errors: kInvalid naming the operation's index, op and path and the reason.
  Result<boost::json::value> Apply(boost::json::value document,
                                   const JsonPatchOptions& options = {}) const;

 private:
  explicit JsonPatch(boost::json::array operations) : operations_(std::move(operations)) {}

  boost::json::array operations_;
};

}  // namespace kpp::patch
