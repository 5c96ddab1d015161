// Access to the resources of the kind table (api::AllKinds) through a RestClient: unstructured
// (DynamicResource: JSON objects, client-go's dynamic client) and typed (TypedResource<T>: the
// generated API types and codecs, client-go's clientset), plus watches decoded from the
// WatchEvent stream.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "api/runtime/type_meta.h"
#include "base/result.h"
#include "client/rest/rest_client.h"

namespace kpp::client {

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  std::string resource_version_match;  // "", "Exact", "NotOlderThan"
  int64_t limit = 0;
  std::string continue_token;
  std::optional<int64_t> timeout_seconds;  // watches: the server ends the stream after it
  bool allow_watch_bookmarks = false;
  std::optional<bool> send_initial_events;
};

struct GetOptions {
  std::string resource_version;
};

struct WriteOptions {
  std::string field_manager;
  bool dry_run = false;
  bool force = false;  // server-side apply only
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string propagation_policy;  // "", "Orphan", "Background", "Foreground"
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
};

enum class PatchType { kJson, kMerge, kStrategicMerge, kApply };
std::string_view ContentTypeOf(PatchType type);

// The kind table entry for an object's apiVersion and kind, or null.
const api::KindInfo* FindKind(std::string_view api_version, std::string_view kind);
// The kind table entry for group, version and plural resource name, or null.
const api::KindInfo* FindResource(std::string_view group, std::string_view version,
                                  std::string_view plural);

// "/api/v1/namespaces/<ns>/<plural>[/<name>[/<subresource>]]" (no namespace segment when `ns`
// is empty or the kind is cluster-scoped).
std::string ResourcePath(const api::KindInfo& kind, std::string_view ns, std::string_view name = "",
                         std::string_view subresource = "");

// One event of a watch. `object` is the raw JSON value (for ERROR events a Status).
struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  boost::json::value object;
};

// Splits a watch stream into events, however the bytes are cut into pieces.
class WatchDecoder {
 public:
  WatchDecoder();
  // Feeds `bytes`; calls `on_event` for each complete event (false stops). Error on bytes that
  // are not a stream of WatchEvent objects.
  Status Feed(std::string_view bytes, const std::function<bool(WatchEvent&&)>& on_event);

 private:
  boost::json::stream_parser parser_;
};

class DynamicResource {
 public:
  DynamicResource(std::shared_ptr<rest::RestClient> client, const api::KindInfo& kind,
                  std::string ns = "");

  Result<boost::json::object> Get(std::string_view name, const GetOptions& options = {}) const;
  // The list object (items, metadata.resourceVersion, metadata.continue).
  Result<boost::json::object> List(const ListOptions& options = {}) const;
  Result<boost::json::object> Create(const boost::json::object& object,
                                     const WriteOptions& options = {}) const;
  Result<boost::json::object> Update(const boost::json::object& object,
                                     const WriteOptions& options = {}) const;
  Result<boost::json::object> UpdateStatus(const boost::json::object& object,
                                           const WriteOptions& options = {}) const;
  Result<boost::json::object> Patch(std::string_view name, PatchType type, std::string_view patch,
                                    const WriteOptions& options = {},
                                    std::string_view subresource = "") const;
  Status Delete(std::string_view name, const DeleteOptions& options = {}) const;
  // Streams events until the server ends the watch, `on_event` returns false, or `canceller`
  // is cancelled. An error when the watch cannot start or breaks.
  Status Watch(const ListOptions& options, const std::function<bool(WatchEvent&&)>& on_event,
               rest::StreamCanceller* canceller = nullptr) const;

  // The same requests on JSON text, for the typed client.
  Result<std::string> GetJson(std::string_view name, const GetOptions& options) const;
  Result<std::string> ListJson(const ListOptions& options) const;
  Result<std::string> WriteJson(std::string_view method, std::string_view name,
                                std::string_view subresource, std::string body,
                                const WriteOptions& options,
                                std::string_view content_type = "application/json") const;

  const api::KindInfo& kind() const { return kind_; }
  const std::string& ns() const { return ns_; }
  const std::shared_ptr<rest::RestClient>& client() const { return client_; }

 private:
  std::shared_ptr<rest::RestClient> client_;
  const api::KindInfo& kind_;
  std::string ns_;
};

// Query parameters of a list or watch.
std::vector<std::pair<std::string, std::string>> ListQuery(const ListOptions& options, bool watch);

// Decodes `json` (one object of `kind`, possibly without apiVersion and kind, as list items are)
// with the kind's codec, filling in apiVersion and kind.
Result<api::ObjectPtr> DecodeObject(const api::KindInfo& kind, std::string_view json);
// The same from an object already parsed (a watch event's).
Result<api::ObjectPtr> DecodeObject(const api::KindInfo& kind, boost::json::value json);

// The kind table entry whose codec decodes T (the first version using that type). Aborts when T
// is not a resource kind.
template <typename T>
const api::KindInfo& KindFor() {
  static const api::KindInfo* const found = [] {
    for (const auto& kind : api::AllKinds()) {
      if (dynamic_cast<const api::TypedKindCodec<T>*>(kind.codec) != nullptr) return &kind;
    }
    return static_cast<const api::KindInfo*>(nullptr);
  }();
  if (found == nullptr) std::abort();
  return *found;
}

template <typename T>
struct TypedList {
  std::vector<T> items;
  std::string resource_version;
  std::string continue_token;
};

namespace resource_detail {
// Splits a list's JSON into its items' JSON and its metadata.
Status SplitList(std::string_view json, std::vector<std::string>& items,
                 std::string& resource_version, std::string& continue_token);
}  // namespace resource_detail

template <typename T>
class TypedResource {
 public:
  TypedResource(std::shared_ptr<rest::RestClient> client, std::string ns = "")
      : dynamic_(std::move(client), KindFor<T>(), std::move(ns)) {}

  Result<T> Get(std::string_view name, const GetOptions& options = {}) const {
    KPP_ASSIGN_OR_RETURN(std::string json, dynamic_.GetJson(name, options));
    return Decode(json);
  }
  Result<TypedList<T>> List(const ListOptions& options = {}) const {
    KPP_ASSIGN_OR_RETURN(std::string json, dynamic_.ListJson(options));
    std::vector<std::string> items;
    TypedList<T> out;
    KPP_RETURN_IF_ERROR(
        resource_detail::SplitList(json, items, out.resource_version, out.continue_token));
    out.items.reserve(items.size());
    for (const auto& item : items) {
      KPP_ASSIGN_OR_RETURN(T object, Decode(item));
      out.items.push_back(std::move(object));
    }
    return out;
  }
  Result<T> Create(const T& object, const WriteOptions& options = {}) const {
    return Write("POST", "", "", object, options);
  }
  // As Create, for a caller that does not read what the server answers: the answer is not
  // decoded (the event recorder writes one event per scheduled pod).
  Status CreateIgnoringAnswer(const T& object, const WriteOptions& options = {}) const {
    return IgnoringAnswer(dynamic_.WriteJson("POST", "", "", EncodeWithKind(object), options));
  }
  Result<T> Update(const T& object, const WriteOptions& options = {}) const {
    return Write("PUT", object.metadata.name, "", object, options);
  }
  Result<T> UpdateStatus(const T& object, const WriteOptions& options = {}) const {
    return Write("PUT", object.metadata.name, "status", object, options);
  }
  Result<T> Patch(std::string_view name, PatchType type, std::string patch,
                  const WriteOptions& options = {}, std::string_view subresource = "") const {
    KPP_ASSIGN_OR_RETURN(std::string json,
                         dynamic_.WriteJson("PATCH", name, subresource, std::move(patch), options,
                                            ContentTypeOf(type)));
    return Decode(json);
  }
  // As Patch, for a caller that does not read the patched object: the answer is not decoded.
  Status PatchIgnoringAnswer(std::string_view name, PatchType type, std::string patch,
                             const WriteOptions& options = {},
                             std::string_view subresource = "") const {
    return IgnoringAnswer(dynamic_.WriteJson("PATCH", name, subresource, std::move(patch), options,
                                             ContentTypeOf(type)));
  }
  Status Delete(std::string_view name, const DeleteOptions& options = {}) const {
    return dynamic_.Delete(name, options);
  }
  const DynamicResource& dynamic() const { return dynamic_; }

 private:
  Result<T> Write(std::string_view method, std::string_view name, std::string_view subresource,
                  const T& object, const WriteOptions& options) const {
    KPP_ASSIGN_OR_RETURN(std::string json, dynamic_.WriteJson(method, name, subresource,
                                                              EncodeWithKind(object), options));
    return Decode(json);
  }
  static Status IgnoringAnswer(Result<std::string> written) {
    if (!written.ok()) return std::move(written).error();
    return {};
  }
  // The object's JSON with the kind's apiVersion and kind where the object leaves them empty.
  std::string EncodeWithKind(const T& object) const {
    const auto& kind = dynamic_.kind();
    if (!object.kind.empty() && !object.api_version.empty()) return api::ToJson(object);
    if (object.kind.empty() && object.api_version.empty()) {
      return api::WithTypeMeta(kind, api::ToJson(object));
    }
    T copy = object;
    if (copy.kind.empty()) copy.kind = std::string(kind.kind);
    if (copy.api_version.empty()) copy.api_version = api::GroupVersionOf(kind);
    return api::ToJson(copy);
  }
  Result<T> Decode(std::string_view json) const {
    KPP_ASSIGN_OR_RETURN(api::Decoded<T> decoded, api::FromJson<T>(json));
    T object = std::move(decoded.object);
    const auto& kind = dynamic_.kind();
    if (object.kind.empty()) object.kind = std::string(kind.kind);
    if (object.api_version.empty()) object.api_version = api::GroupVersionOf(kind);
    return object;
  }

  DynamicResource dynamic_;
};

}  // namespace kpp::client
