// Reading a list from the store page by page, as upstream's etcd3 store does: every page of one
// list comes from the same snapshot revision, which the continue token carries.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "api/meta/v1/types.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "apiserver/registry/list_filter.h"
#include "apiserver/registry/list_options.h"
#include "http/server.h"
#include "storage/store.h"

namespace kpp::apiserver {

// What a list-like request (list, deletecollection) asks for.
struct ListRequest {
  ListOptions options;
  ListFilter filter;
};

// The request's list options and selectors, checked in upstream's order, or the error response:
// 400 for what does not parse, 422 (ListOptions.meta.k8s.io) for invalid combinations, 400 for
// field labels `kind` does not support.
std::variant<ListRequest, http::Response> ParseListRequest(const api::KindInfo& kind,
                                                           const http::Request& request);

struct ListPage {
  std::vector<api::ObjectPtr> objects;
  // resourceVersion (the snapshot revision), continue and remainingItemCount.
  api::meta::v1::ListMeta meta;
};

// An object as the client sees it, from what the store holds.
using StoredDecoder = std::function<Result<api::ObjectPtr>(const storage::KeyValue&)>;

// One page of the objects under `prefix` that `filter` selects: at most options.limit of them
// (all without a limit), from the snapshot the options name. Failures come as upstream's
// responses: 410 Expired for a compacted revision (with a token that continues at the latest
// revision when a continue token had expired), 504 Timeout for a revision the store has not
// reached, 400 for bad tokens and versions.
std::variant<ListPage, http::Response> ReadListPage(storage::Store& store, std::string_view prefix,
                                                    const ListOptions& options,
                                                    const ListFilter& filter,
                                                    const StoredDecoder& decode);

// The Timeout upstream answers a read that asks for a newer resourceVersion than the store has.
Error TooLargeResourceVersionError(int64_t requested, int64_t current);

// The resourceVersion of a get: "" and "0" read the latest object, a revision asks for one not
// older than it, which the store's latest always is unless the revision is in its future (504
// Timeout). Upstream's GetOptions has no resourceVersionMatch, so it is not looked at. Nullopt
// when the get may go ahead, else the error response.
std::optional<http::Response> CheckGetResourceVersion(storage::Store& store,
                                                      const http::Request& request);

}  // namespace kpp::apiserver
