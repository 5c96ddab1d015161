// The options of a list that decide what is read and from which snapshot: limit and continue,
// resourceVersion and resourceVersionMatch, with upstream's validation, its continue token and
// its rules for which revision a page is read at (k8s.io/apiserver's etcd3 store, which kpp's
// store mirrors).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "http/server.h"

namespace kpp::apiserver {

struct ListOptions {
  std::string resource_version;
  std::string resource_version_match;  // "", "Exact" or "NotOlderThan"
  int64_t limit = 0;                   // <= 0: no limit
  std::string continue_token;
  bool send_initial_events = false;  // present at all (only watches may use it)

  // The query parameters: BadRequest when limit is not a number.
  static Result<ListOptions> FromRequest(const http::Request& request);
};

// Upstream's checks of a list's options: Invalid (422) ListOptions.meta.k8s.io with one cause
// per problem, e.g. "resourceVersionMatch is forbidden unless resourceVersion is provided".
Status ValidateListOptions(const ListOptions& options);

// A resourceVersion as a revision: "" and "0" are 0; BadRequest with upstream's message
// ("invalid resource version: ...") for anything but a decimal number.
Result<int64_t> ParseResourceVersion(std::string_view resource_version);

// The continue token of a page that ends before `next_key` (a key under `prefix`), read at
// `revision`: base64url (no padding) of {"v":"meta.k8s.io/v1","rv":<revision>,"start":<next_key
// without prefix>}, as upstream encodes it. A revision of -1 means "continue at the latest
// revision", which upstream hands out when the snapshot was compacted.
std::string EncodeContinueToken(std::string_view next_key, std::string_view prefix,
                                int64_t revision);

struct ContinuePoint {
  std::string key;  // the first key of the next page: `prefix` + the token's start
  int64_t revision = 0;
};
// Reads a token back; Error messages as upstream's ("continue key is not valid: ..."), without
// the "invalid continue token: " that the list adds. Start keys that would leave `prefix`
// ("../x") are refused.
Result<ContinuePoint> DecodeContinueToken(std::string_view token, std::string_view prefix);

// Where a list page starts and which snapshot it reads.
struct ListRead {
  std::string start_key;         // `prefix`, or where the continue token points
  int64_t revision = 0;          // the snapshot revision; 0 = the current one
  int64_t minimum_revision = 0;  // the read's revision must be at least this (NotOlderThan)
  bool continuing = false;       // started from a continue token
};

// upstream's rules: a continue token reads at its revision (or the latest for -1) and forbids a
// resourceVersion other than "" and "0"; resourceVersionMatch=Exact, and a resourceVersion with
// a limit but no match (the legacy form), read at that revision; otherwise the current revision,
// which must be at least resourceVersion. BadRequest for bad tokens and versions.
Result<ListRead> PlanListRead(const ListOptions& options, std::string_view prefix);

}  // namespace kpp::apiserver
