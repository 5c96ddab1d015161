#include "apiserver/watchcache/cached_resources.h"

#include <fmt/format.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <cstdlib>

#include "api/conversion/conversions.h"
#include "api/meta/v1/codec.h"
#include "apiextensions/custom_resources.h"
#include "apimachinery/status.h"
#include "apimachinery/validation/field_errors.h"
#include "apiserver/registry/field_labels.h"
#include "apiserver/registry/resource_handler.h"
#include "apiserver/responses.h"
#include "apiserver/watchcache/stored_json.h"
#include "base/log.h"

namespace kpp::apiserver {
namespace {

using watchcache::CachedObject;
using watchcache::CachedObjectPtr;

bool WantsTable(const http::Request& request) {
  const std::string* accept = request.FindHeader("Accept");
  return accept != nullptr && accept->find("as=Table") != std::string::npos;
}

// Go's strconv.ParseBool, as query parameters are decoded; nullopt when absent or not a bool.
std::optional<bool> QueryBool(const http::Request& request, std::string_view name) {
  const auto value = request.FindQuery(name);
  if (!value) return std::nullopt;
  for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (*value == yes) return true;
  }
  for (std::string_view no : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (*value == no) return false;
  }
  return std::nullopt;
}

// The cached object as an object of `kind` (any version of the stored kind), as a list item:
// without apiVersion and kind, with its resourceVersion.
Result<api::ObjectPtr> DecodeCached(const api::KindInfo& kind, const CachedObject& cached) {
  KPP_ASSIGN_OR_RETURN(auto decoded, api::StorageKind(kind).codec->Decode(cached.json, {}));
  KPP_ASSIGN_OR_RETURN(api::ObjectPtr object,
                       api::conversion::FromStorageVersion(kind, std::move(decoded.object)));
  object->api_version().clear();
  object->kind().clear();
  object->metadata().resource_version = std::to_string(cached.revision);
  return object;
}

// The object as a client of `kind` sees it. For the stored version this is the cached JSON
// with apiVersion and kind in front (where Go's encoder puts them), without decoding.
Result<std::string> ResponseJson(const api::KindInfo& kind, const CachedObject& cached) {
  if (&api::StorageKind(kind) == &kind && cached.json.starts_with('{')) {
    std::string json =
        fmt::format(R"({{"kind":"{}","apiVersion":"{}")", kind.kind, api::GroupVersionOf(kind));
    if (cached.json != "{}") json += ',';
    json.append(cached.json, 1);
    return json;
  }
  KPP_ASSIGN_OR_RETURN(api::ObjectPtr object, DecodeCached(kind, cached));
  object->kind() = std::string(kind.kind);
  object->api_version() = api::GroupVersionOf(kind);
  return object->ToJson();
}

// Upstream's BOOKMARK object: an empty object of the kind carrying only the resourceVersion
// (and the annotation that ends a watch-list's initial events).
std::string BookmarkJson(const api::KindInfo& kind, int64_t revision, bool initial_events_end) {
  std::string metadata = fmt::format(R"({{"resourceVersion":"{}")", revision);
  if (initial_events_end) metadata += R"(,"annotations":{"k8s.io/initial-events-end":"true"})";
  metadata += '}';
  auto decoded = kind.codec->Decode(fmt::format(R"({{"metadata":{}}})", metadata), {});
  if (decoded.ok()) {
    api::Object& object = *decoded->object;
    object.kind() = std::string(kind.kind);
    object.api_version() = api::GroupVersionOf(kind);
    return object.ToJson();
  }
  return fmt::format(R"({{"kind":"{}","apiVersion":"{}","metadata":{}}})", kind.kind,
                     api::GroupVersionOf(kind), metadata);
}

// The field labels of a request's kind and of the version its objects are stored in, whose
// values the cache keeps.
struct RequestLabels {
  std::span<const FieldLabel> requested;
  std::span<const FieldLabel> stored;
};

RequestLabels FieldLabelsOfStored(const api::KindInfo& kind) {
  const api::KindInfo& stored = api::StorageKind(kind);
  return {FieldLabelsOf(kind.group, kind.kind), FieldLabelsOf(stored.group, stored.kind)};
}

// Whether `filter` (of the request's kind) selects `object`, whose field values follow the
// stored kind's labels.
bool Selects(const ListFilter& filter, const RequestLabels& labels, const CachedObject& object) {
  return filter.Matches(object.labels, [&](std::string_view label) -> std::string_view {
    const std::string_view stored = StoredFieldLabel(labels.requested, label);
    for (size_t i = 0; i < labels.stored.size(); ++i) {
      if (labels.stored[i].label == stored) return object.Field(i);
    }
    return {};
  });
}

// The cached form of a stored value whose JSON (with its resourceVersion) is `json`: what
// selectors read comes from one parse of it, into an arena freed on return. Null when `json` does
// not parse.
CachedObjectPtr CachedFromJson(std::span<const FieldLabel> labels, std::string_view key,
                               std::string json, int64_t create_revision, int64_t revision) {
  auto cached = std::make_shared<CachedObject>();
  cached->key = std::string(key);
  cached->json = std::move(json);
  cached->create_revision = create_revision;
  cached->revision = revision;
  boost::json::monotonic_resource arena(4096);
  boost::system::error_code error;
  const boost::json::value tree = boost::json::parse(cached->json, error, &arena);
  if (error) return nullptr;
  const auto* top = tree.if_object();
  const auto* metadata = top == nullptr ? nullptr : top->if_contains("metadata");
  const auto* object_labels = metadata == nullptr || !metadata->is_object()
                                  ? nullptr
                                  : metadata->get_object().if_contains("labels");
  if (object_labels != nullptr && object_labels->is_object()) {
    for (const auto& [name, value] : object_labels->get_object()) {
      if (value.is_string()) {
        cached->labels.emplace(std::string(name), std::string(value.get_string()));
      }
    }
  }
  for (const auto& label : labels) {
    cached->fields += FieldValue(label, tree);
    cached->fields += '\0';
  }
  cached->fields.shrink_to_fit();
  return cached;
}

// Builds the cached form of a stored value of `stored` (a storage version).
watchcache::ObjectBuilder BuilderFor(const api::KindInfo& stored) {
  const auto labels = FieldLabelsOf(stored.group, stored.kind);
  // A typed kind's stored value is its encoder's output: the revision is spliced into the text.
  // Custom resources (and anything not in that form) are decoded and encoded again.
  const bool typed = apiextensions::CustomResourceOf(stored) == nullptr;
  return [&stored, labels, typed](std::string_view key, std::string_view value,
                                  int64_t create_revision,
                                  int64_t revision) -> Result<CachedObjectPtr> {
    if (typed) {
      if (auto spliced = watchcache::SpliceResourceVersion(value, revision)) {
        auto cached = CachedFromJson(labels, key, std::move(*spliced), create_revision, revision);
        if (cached != nullptr) return cached;
      }
    }
    KPP_ASSIGN_OR_RETURN(auto decoded, stored.codec->Decode(value, {}));
    api::Object& object = *decoded.object;
    object.kind().clear();
    object.api_version().clear();
    object.metadata().resource_version = std::to_string(revision);
    std::string json = object.ToJson();
    json.shrink_to_fit();
    auto cached = CachedFromJson(labels, key, std::move(json), create_revision, revision);
    if (cached == nullptr) return InternalError(fmt::format("{} does not encode as JSON", key));
    return cached;
  };
}

// A stream of one line (an ERROR event), for watches refused after the response started, as
// upstream's cache refuses them.
class OneEventStream final : public http::BodyStream {
 public:
  explicit OneEventStream(std::string line) : line_(std::move(line)) {}
  std::optional<std::string> Next() override {
    if (sent_) return std::nullopt;
    sent_ = true;
    return line_;
  }
  void Cancel() override {}

 private:
  std::string line_;
  bool sent_ = false;
};

http::Response StreamResponse(std::shared_ptr<http::BodyStream> stream, bool table) {
  http::Response response = JsonResponse(
      200, "", table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json");
  response.stream = std::move(stream);
  return response;
}

http::Response ErrorEventResponse(const Error& error, bool table) {
  return StreamResponse(std::make_shared<OneEventStream>(
                            watchcache::WatchEventLine("ERROR", apimachinery::StatusJson(error))),
                        table);
}

}  // namespace

Status ValidateWatchOptions(const ListOptions& options, std::optional<bool> send_initial_events) {
  using validation::FieldPath;
  validation::FieldErrors errors;
  const FieldPath match_path("resourceVersionMatch");
  const std::string& match = options.resource_version_match;
  if (send_initial_events && match != "NotOlderThan") {
    errors.push_back(validation::Forbidden(
        match_path, "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
  }
  if (!match.empty()) {
    if (!send_initial_events) {
      errors.push_back(validation::Forbidden(
          match_path,
          "resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
          "provided"));
    }
    if (match != "NotOlderThan") {
      errors.push_back(validation::NotSupported(match_path, match, {"NotOlderThan"}));
    }
    if (!options.continue_token.empty()) {
      errors.push_back(validation::Forbidden(
          match_path, "resourceVersionMatch is forbidden when continue is provided"));
    }
  }
  if (errors.empty()) return Ok();
  return validation::ToInvalidError("ListOptions.meta.k8s.io", "", errors);
}

CachedResources::CachedResources(storage::Store& store, Clock& clock,
                                 CachedResourcesOptions options)
    : store_(store), options_(std::move(options)), caches_(store, clock, options_.caches) {}

Result<std::shared_ptr<watchcache::WatchCache>> CachedResources::CacheOf(
    const api::KindInfo& kind) {
  const api::KindInfo& stored = api::StorageKind(kind);
  return caches_.Get(StorageKey(stored, "", ""), BuilderFor(stored));
}

void CachedResources::Prewarm(std::span<const api::KindInfo> kinds) {
  for (const auto& kind : kinds) {
    if (&api::StorageKind(kind) != &kind) continue;
    if (auto cache = CacheOf(kind); !cache.ok()) {
      KLOG_WARNING("watch cache for {}: {}", kind.plural, cache.error().message());
    }
  }
}

std::optional<std::variant<ListPage, http::Response>> CachedResources::List(
    const api::KindInfo& kind, std::string_view prefix, const ListRequest& list,
    const http::Request& request) {
  const ListOptions& options = list.options;
  if (!options.continue_token.empty() || options.resource_version_match == "Exact") {
    return std::nullopt;
  }
  int64_t required = 0;
  const bool consistent = options.resource_version.empty();
  if (!consistent) {
    auto parsed = ParseResourceVersion(options.resource_version);
    if (!parsed.ok()) return std::nullopt;  // the store's path reports it
    // Legacy: a resourceVersion with a limit and no match reads exactly that revision.
    if (options.resource_version_match.empty() && options.limit > 0 && *parsed > 0) {
      return std::nullopt;
    }
    required = *parsed;
  }
  auto cache = CacheOf(kind);
  if (!cache.ok()) return std::nullopt;
  if (consistent) {
    auto current = store_.CurrentRevision();
    if (!current.ok()) return std::nullopt;
    if (!caches_.WaitForRevision(*current, options_.freshness_wait)) {
      KLOG_V(2, "watch cache: {} not at revision {} in time; listing from the store", kind.plural,
             *current);
      return std::nullopt;
    }
  } else if (required > (*cache)->revision()) {
    auto current = store_.CurrentRevision();
    if (!current.ok()) return StatusResponse(current.error());
    if (required > *current) {
      return StatusResponse(TooLargeResourceVersionError(required, *current));
    }
    if (!caches_.WaitForRevision(required, options_.freshness_wait)) {
      return StatusResponse(TooLargeResourceVersionError(required, (*cache)->revision()));
    }
  }
  auto snapshot = (*cache)->List(prefix);
  const auto labels = FieldLabelsOfStored(kind);
  std::vector<CachedObjectPtr> selected;
  bool more = false;
  for (const auto& object : snapshot.objects) {
    if (!Selects(list.filter, labels, *object)) continue;
    if (options.limit > 0 && static_cast<int64_t>(selected.size()) >= options.limit) {
      more = true;
      break;
    }
    selected.push_back(object);
  }
  api::meta::v1::ListMeta meta;
  meta.resource_version = std::to_string(snapshot.revision);
  if (more) {
    // The next page comes from the store at the same revision.
    meta.continue_ = EncodeContinueToken(selected.back()->key + '\0', prefix, snapshot.revision);
    if (list.filter.Empty()) {
      meta.remaining_item_count = static_cast<int64_t>(snapshot.objects.size()) - options.limit;
    }
  }
  if (!WantsTable(request) && !PrefersProtobuf(request) && &api::StorageKind(kind) == &kind) {
    // The items as cached are the list's items: no decoding.
    size_t size = 128;
    for (const auto& object : selected)
      size += object->json.size() + 1;
    std::string body;
    body.reserve(size);
    body += fmt::format(R"({{"kind":"{}","apiVersion":"{}","metadata":{},"items":[)",
                        kind.list_kind, api::GroupVersionOf(kind), api::ToJson(meta));
    // Items of custom resource lists carry their apiVersion and kind, as upstream's unstructured
    // lists do (the cached JSON has keys in order, so they go first).
    const std::string type_prefix = apiextensions::CustomResourceOf(kind) == nullptr
                                        ? std::string()
                                        : fmt::format(R"({{"apiVersion":"{}","kind":"{}",)",
                                                      api::GroupVersionOf(kind), kind.kind);
    for (size_t i = 0; i < selected.size(); ++i) {
      if (i > 0) body += ',';
      const std::string& item = selected[i]->json;
      if (!type_prefix.empty() && item.size() > 2) {
        body += type_prefix;
        body.append(item, 1);
      } else {
        body += item;
      }
    }
    body += "]}";
    return JsonResponse(200, std::move(body));
  }
  ListPage page;
  page.meta = std::move(meta);
  page.objects.reserve(selected.size());
  for (const auto& object : selected) {
    auto decoded = DecodeCached(kind, *object);
    if (!decoded.ok()) return StatusResponse(InternalError(decoded.error().message()));
    page.objects.push_back(std::move(decoded).value());
  }
  return page;
}

std::optional<api::ObjectPtr> CachedResources::Get(const api::KindInfo& kind, std::string_view key,
                                                   const http::Request& request) {
  if (request.FindQuery("resourceVersion").value_or("") != "0") return std::nullopt;
  auto cache = CacheOf(kind);
  if (!cache.ok()) return std::nullopt;
  CachedObjectPtr object = (*cache)->Get(key);
  if (object == nullptr) return api::ObjectPtr();
  auto decoded = DecodeCached(kind, *object);
  if (!decoded.ok()) return std::nullopt;
  return std::move(decoded).value();
}

CachedObjectPtr CachedResources::Cached(const api::KindInfo& kind, std::string_view key) {
  auto cache = CacheOf(kind);
  return cache.ok() ? (*cache)->Get(key) : nullptr;
}

std::vector<CachedObjectPtr> CachedResources::CachedList(const api::KindInfo& kind,
                                                         std::string_view prefix) {
  auto cache = CacheOf(kind);
  return cache.ok() ? (*cache)->List(prefix).objects : std::vector<CachedObjectPtr>{};
}

http::Response CachedResources::Watch(const api::KindInfo& kind, std::string_view prefix,
                                      const http::Request& request, const TableEncoder& table) {
  auto filter = ListFilter::FromRequest(kind, request);
  if (!filter.ok()) return StatusResponse(filter.error());
  auto options = ListOptions::FromRequest(request);
  if (!options.ok()) return StatusResponse(options.error());
  std::optional<bool> send_initial_events = QueryBool(request, "sendInitialEvents");
  if (options->send_initial_events && !send_initial_events) send_initial_events = false;
  if (auto valid = ValidateWatchOptions(*options, send_initial_events); !valid.ok()) {
    const apimachinery::StatusDetails details{"", "meta.k8s.io", "ListOptions"};
    return StatusResponse(valid.error(), &details);
  }
  const std::string& version = options->resource_version;
  // As upstream's defaults with WatchList on (1.32): a watch from "" or "0" is a watch-list.
  if (!send_initial_events && options->resource_version_match.empty() &&
      (version.empty() || version == "0")) {
    send_initial_events = true;
  }
  auto requested = ParseResourceVersion(version);
  if (!requested.ok()) return StatusResponse(requested.error());
  auto cache = CacheOf(kind);
  if (!cache.ok()) return StatusResponse(cache.error());

  const bool as_table = WantsTable(request);
  watchcache::WatchRequest watch;
  watch.prefix = std::string(prefix);
  watch.matches = [filter = *std::move(filter), prefix = std::string(prefix),
                   labels = FieldLabelsOfStored(kind)](const CachedObject& object) {
    return object.key.starts_with(prefix) && Selects(filter, labels, object);
  };
  if (as_table) {
    // Tables are encoded per watcher: only the first carries the column definitions.
    auto first = std::make_shared<bool>(true);
    watch.encoding.object = [&kind, table,
                             first](const CachedObject& cached) -> Result<std::string> {
      KPP_ASSIGN_OR_RETURN(api::ObjectPtr object, DecodeCached(kind, cached));
      std::string encoded = table(*object, *first);
      *first = false;
      return encoded;
    };
    watch.encoding.bookmark = [](int64_t revision, bool initial_events_end) {
      std::string metadata = fmt::format(R"({{"resourceVersion":"{}")", revision);
      if (initial_events_end) {
        metadata += R"(,"annotations":{"k8s.io/initial-events-end":"true"})";
      }
      return fmt::format(R"({{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{}}})",
                         metadata);
    };
  } else {
    watch.encoding.shared_id = &kind;
    watch.encoding.object = [&kind](const CachedObject& cached) {
      return ResponseJson(kind, cached);
    };
    watch.encoding.bookmark = [&kind](int64_t revision, bool initial_events_end) {
      return BookmarkJson(kind, revision, initial_events_end);
    };
  }
  watch.bookmarks = QueryBool(request, "allowWatchBookmarks").value_or(false);
  // Upstream ends watches after timeoutSeconds, or a randomized 30-60 minutes without one.
  std::chrono::seconds timeout(1800);
  if (auto value = request.FindQuery("timeoutSeconds")) {
    timeout =
        std::chrono::seconds(std::max(0L, std::strtol(std::string(*value).c_str(), nullptr, 10)));
  }
  watch.deadline = std::chrono::steady_clock::now() + timeout;

  // The revision the watch must start at or after.
  int64_t required = *requested;
  if (*send_initial_events && version.empty()) {
    // A consistent start: the state at the store's current revision or later.
    auto current = store_.CurrentRevision();
    if (!current.ok()) return StatusResponse(current.error());
    required = *current;
  }
  if ((*send_initial_events || options->resource_version_match == "NotOlderThan") &&
      required > (*cache)->revision()) {
    auto current = store_.CurrentRevision();
    if (!current.ok()) return StatusResponse(current.error());
    if (required > *current || !caches_.WaitForRevision(required, options_.freshness_wait)) {
      return ErrorEventResponse(TooLargeResourceVersionError(required, (*cache)->revision()),
                                as_table);
    }
  }
  if (*send_initial_events) {
    watch.send_initial_events = true;
  } else if (required > 0) {
    watch.start_revision = required;
  }
  return StreamResponse((*cache)->Watch(std::move(watch)), as_table);
}

}  // namespace kpp::apiserver
