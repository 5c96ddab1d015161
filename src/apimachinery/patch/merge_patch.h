// JSON Merge Patch (RFC 7386), Content-Type application/merge-patch+json: objects merge member
// by member, null deletes a member, anything else (arrays included) replaces.
//
// Pure functions; thread-safe.
#pragma once

#include <boost/json/value.hpp>

#include "base/result.h"

namespace kpp::patch {

// Applies `patch` to `target` and returns the result. A patch that is not an object replaces the
// target wholesale (the API server should reject such a body first: an API object can only be
// patched by an object, see ParseObjectPatch). Errors: kBadRequest when the patch nests deeper
// than kMaxJsonDepth.
Result<boost::json::value> ApplyMergePatch(boost::json::value target,
                                           const boost::json::value& patch);

// A merge patch that turns `original` into `modified`: members missing from `modified` become
// null, changed members carry their new value (objects recursively, only what changed), equal
// members are left out. Inherent limits of the format: an explicit null in `modified` cannot be
// expressed (applying the patch deletes the member instead), and nulls inside a value that
// replaces a non-object are dropped on apply. Errors: kBadRequest beyond kMaxJsonDepth.
Result<boost::json::value> CreateMergePatch(const boost::json::value& original,
                                            const boost::json::value& modified);

}  // namespace kpp::patch
