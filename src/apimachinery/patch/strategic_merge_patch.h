// Strategic merge patch (Content-Type application/strategic-merge-patch+json), the patch format
// of `kubectl apply`, `kubectl edit`, `kubectl patch` (default type), label and annotate.
//
// It is a JSON merge patch in which the API schema (PatchMetaLookup) decides how lists merge:
// lists whose patchStrategy is "merge" merge their objects by the patchMergeKey (or, for lists
// of scalars, as a set); other lists are replaced. The patch may carry directives:
//   "$patch": "replace" | "delete" | "merge"  in an object: replace it instead of merging, reset it
//                                              to {} (drop it when it did not exist), or merge (the
//                                              default; upstream rejects the explicit form, we
//                                              accept it);
//   {"<mergeKey>": v, "$patch": "delete"}      in a merged list: delete the elements with key v;
//   {"$patch": "replace"}                      in a merged list: the list becomes the other
//                                              elements of the patch list;
//   "$retainKeys": [fields]                    clear every field of the object not listed;
//   "$setElementOrder/<list>": [...]           order of the merged list (objects carry only
//                                              their merge key);
//   "$deleteFromPrimitiveList/<list>": [...]   values to remove from a list of scalars;
//   null as a member value                     delete that member.
// Values that have nothing to merge with are taken from the patch without directives and null
// members. Ordering of merged lists follows upstream: $setElementOrder first, then the order of
// the patch list, then the order of the live list.
//
// The result matches upstream's on upstream's own apply test cases, list order included (even
// where that order stems from how upstream reuses memory, see MergeOrderedList). Deliberate
// differences: directives and nulls never survive into the result (upstream leaves some in values
// it copies or replaces wholesale; typed decoding drops them there), a new map that says
// "$patch": "replace" keeps its content (upstream drops it), "$deleteFromPrimitiveList" runs after
// the other members of its object (upstream: random order), and malformed patches that upstream
// answers with 500 (unknown directive, missing merge key, mixed element types) are 400.
//
// Errors: kBadRequest for a malformed patch (as upstream for directive format errors), kInvalid
// for lists of lists (upstream: 422), kInternalError when the schema asks to merge a list of
// objects without a merge key, and whatever the PatchMetaLookup returns. Messages start with the
// dotted field path, e.g. "spec.containers: map: {...} does not contain declared merge key: name".
// Recursion is bounded by kMaxJsonDepth (kBadRequest beyond it).
//
// Pure function of its arguments; thread-safe when the lookup is.
#pragma once

#include <boost/json/value.hpp>

#include "apimachinery/patch/patch_meta.h"
#include "base/result.h"

namespace kpp::patch {

// Applies `patch` (a JSON object) to `original` (a JSON object, or null for an empty one) using
// `schema` for per-field metadata (NoPatchMeta() for schemaless objects) and returns the result.
Result<boost::json::value> ApplyStrategicMergePatch(boost::json::value original,
                                                    const boost::json::value& patch,
                                                    const PatchMetaLookup& schema);

}  // namespace kpp::patch
