#include "apiserver/registry/list_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apiserver/responses.h"

namespace kpp::apiserver {
namespace {

// Upstream's largest store page when a selector filters items out and a page needs refilling.
constexpr int64_t kMaxStorePage = 10000;

constexpr std::string_view kListTooOld = "The resourceVersion for the provided list is too old.";
constexpr std::string_view kInconsistentContinue =
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list.";

// 410 Expired for a continue token whose snapshot was compacted; its metadata carries a token
// that resumes at the same key but at the latest revision, for clients that accept an
// inconsistent list.
http::Response ExpiredContinueResponse(std::string_view next_key, std::string_view prefix) {
  const Error expired(ErrorCode::kExpired, std::string(kInconsistentContinue));
  boost::json::value status = boost::json::parse(apimachinery::StatusJson(expired));
  status.as_object()["metadata"].as_object()["continue"] =
      EncodeContinueToken(next_key, prefix, -1);
  return JsonResponse(expired.http_status(), boost::json::serialize(status));
}

http::Response RangeFailure(storage::Store& store, const Error& error, bool continuing,
                            std::string_view next_key, std::string_view prefix, int64_t revision) {
  if (error.code() == ErrorCode::kGone) {
    if (continuing) return ExpiredContinueResponse(next_key, prefix);
    return StatusResponse(Error(ErrorCode::kExpired, std::string(kListTooOld)));
  }
  if (error.code() == ErrorCode::kTimeout) {
    auto current = store.CurrentRevision();
    if (current.ok()) return StatusResponse(TooLargeResourceVersionError(revision, *current));
  }
  return StatusResponse(error);
}

}  // namespace

Error TooLargeResourceVersionError(int64_t requested, int64_t current) {
  return Error(
      ErrorCode::kTimeout,
      fmt::format("Timeout: Too large resource version: {}, current: {}", requested, current),
      {{"ResourceVersionTooLarge", "Too large resource version", ""}});
}

std::optional<http::Response> CheckGetResourceVersion(storage::Store& store,
                                                      const http::Request& request) {
  auto requested = ParseResourceVersion(request.FindQuery("resourceVersion").value_or(""));
  if (!requested.ok()) return StatusResponse(requested.error());
  if (*requested == 0) return std::nullopt;
  auto current = store.CurrentRevision();
  if (!current.ok()) return StatusResponse(current.error());
  if (*requested > *current) {
    return StatusResponse(TooLargeResourceVersionError(*requested, *current));
  }
  return std::nullopt;
}

std::variant<ListRequest, http::Response> ParseListRequest(const api::KindInfo& kind,
                                                           const http::Request& request) {
  auto options = ListOptions::FromRequest(request);
  if (!options.ok()) return StatusResponse(options.error());
  if (auto valid = ValidateListOptions(*options); !valid.ok()) {
    const apimachinery::StatusDetails details{"", "meta.k8s.io", "ListOptions"};
    return StatusResponse(valid.error(), &details);
  }
  auto filter = ListFilter::FromRequest(kind, request);
  if (!filter.ok()) return StatusResponse(filter.error());
  return ListRequest{*std::move(options), *std::move(filter)};
}

std::variant<ListPage, http::Response> ReadListPage(storage::Store& store, std::string_view prefix,
                                                    const ListOptions& options,
                                                    const ListFilter& filter,
                                                    const StoredDecoder& decode) {
  auto plan = PlanListRead(options, prefix);
  if (!plan.ok()) return StatusResponse(plan.error());
  const bool paging = options.limit > 0;
  const auto full = [&](const ListPage& page) {
    return paging && static_cast<int64_t>(page.objects.size()) >= options.limit;
  };
  const std::string range_end = storage::PrefixRangeEnd(prefix);
  int64_t store_limit = paging ? options.limit : 0;
  int64_t revision = plan->revision;
  std::string next_key = plan->start_key;
  std::string last_key;
  bool more = false;
  int64_t count = 0;
  ListPage page;
  // Without selectors one store page fills the list page; with them, items that do not match
  // leave it short, and further store pages (twice as large each time) fill it.
  for (;;) {
    auto range = store.Range({next_key, range_end, store_limit, revision});
    if (!range.ok()) {
      return RangeFailure(store, range.error(), plan->continuing, next_key, prefix,
                          revision != 0 ? revision : plan->minimum_revision);
    }
    if (plan->minimum_revision > range->revision) {
      return StatusResponse(TooLargeResourceVersionError(plan->minimum_revision, range->revision));
    }
    count = range->count;
    more = static_cast<int64_t>(range->kvs.size()) < range->count;
    if (revision == 0) revision = range->revision;
    if (range->kvs.empty()) break;
    for (const auto& kv : range->kvs) {
      if (full(page)) {
        more = true;
        break;
      }
      last_key = kv.key;
      auto object = decode(kv);
      if (!object.ok()) return StatusResponse(InternalError(object.error().message()));
      if (filter.Matches(**object)) page.objects.push_back(std::move(object).value());
    }
    next_key = last_key + '\0';
    if (!more || !paging || full(page)) break;
    store_limit = std::min(store_limit * 2, std::max(kMaxStorePage, store_limit));
  }
  page.meta.resource_version = std::to_string(revision);
  if (more) {
    page.meta.continue_ = EncodeContinueToken(next_key, prefix, revision);
    // The store counts keys, not matches: only an unfiltered list knows what remains.
    if (filter.Empty()) page.meta.remaining_item_count = count - options.limit;
  }
  return page;
}

}  // namespace kpp::apiserver
