#include "client/rest/resource.h"

#include <fmt/format.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "client/rest/errors.h"

namespace kpp::client {

namespace json = boost::json;

std::string_view ContentTypeOf(PatchType type) {
  switch (type) {
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

const api::KindInfo* FindKind(std::string_view api_version, std::string_view kind) {
  for (const auto& info : api::AllKinds()) {
    if (info.kind == kind && api::GroupVersionOf(info) == api_version) return &info;
  }
  return nullptr;
}

const api::KindInfo* FindResource(std::string_view group, std::string_view version,
                                  std::string_view plural) {
  for (const auto& info : api::AllKinds()) {
    if (info.group == group && info.version == version && info.plural == plural) return &info;
  }
  return nullptr;
}

std::string ResourcePath(const api::KindInfo& kind, std::string_view ns, std::string_view name,
                         std::string_view subresource) {
  std::string path = kind.group.empty() ? fmt::format("/api/{}", kind.version)
                                        : fmt::format("/apis/{}/{}", kind.group, kind.version);
  if (kind.namespaced && !ns.empty()) path += fmt::format("/namespaces/{}", ns);
  path += "/";
  path += kind.plural;
  if (!name.empty()) {
    path += "/";
    path += name;
    if (!subresource.empty()) {
      path += "/";
      path += subresource;
    }
  }
  return path;
}

namespace {

// Each event's tree lives in an arena of its own, kept alive by the event's values (a tree of
// a running pod is a few hundred nodes, each a malloc otherwise).
json::storage_ptr NewEventStorage() {
  return json::make_shared_resource<json::monotonic_resource>(16 * 1024);
}

json::parse_options WatchParseOptions() {
  json::parse_options options;
  // As deep as the server's own decoding allows (a custom resource's schema nests deeply);
  // Boost's default of 32 would refuse such an event.
  options.max_depth = api::DecodeOptions{}.max_depth;
  return options;
}

}  // namespace

WatchDecoder::WatchDecoder() : parser_(NewEventStorage(), WatchParseOptions()) {}

Status WatchDecoder::Feed(std::string_view bytes,
                          const std::function<bool(WatchEvent&&)>& on_event) {
  while (!bytes.empty()) {
    // The parser skips the whitespace between events itself (the server ends each with a
    // newline), also when a piece holds only that.
    json::error_code ec;
    const size_t used = parser_.write_some(bytes.data(), bytes.size(), ec);
    if (ec) return BadRequestError("decoding watch stream: " + ec.message());
    bytes.remove_prefix(used);
    if (!parser_.done()) return Ok();
    json::value value = parser_.release();
    parser_.reset(NewEventStorage());
    if (!value.is_object()) return BadRequestError("watch event is not an object");
    auto& object = value.as_object();
    const auto* type = object.if_contains("type");
    if (type == nullptr || !type->is_string()) return BadRequestError("watch event without type");
    auto* inner = object.if_contains("object");
    // Constructed, not assigned: a value assigned across storages is copied out of the arena.
    WatchEvent event{std::string(type->as_string()),
                     inner != nullptr ? json::value(std::move(*inner)) : json::value()};
    if (!on_event(std::move(event))) return Ok();
  }
  return Ok();
}

DynamicResource::DynamicResource(std::shared_ptr<rest::RestClient> client,
                                 const api::KindInfo& kind, std::string ns)
    : client_(std::move(client)), kind_(kind), ns_(kind.namespaced ? std::move(ns) : "") {}

namespace {

Result<json::object> ParseObject(const std::string& text) {
  json::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object())
    return InternalError("the server answered with something not a JSON object");
  return std::move(value.as_object());
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ListQuery(const ListOptions& options, bool watch) {
  std::vector<std::pair<std::string, std::string>> query;
  if (watch) query.emplace_back("watch", "true");
  if (!options.label_selector.empty()) query.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) query.emplace_back("fieldSelector", options.field_selector);
  if (!options.resource_version.empty()) {
    query.emplace_back("resourceVersion", options.resource_version);
  }
  if (!options.resource_version_match.empty()) {
    query.emplace_back("resourceVersionMatch", options.resource_version_match);
  }
  if (options.limit > 0) query.emplace_back("limit", std::to_string(options.limit));
  if (!options.continue_token.empty()) query.emplace_back("continue", options.continue_token);
  if (options.timeout_seconds) {
    query.emplace_back("timeoutSeconds", std::to_string(*options.timeout_seconds));
  }
  if (options.allow_watch_bookmarks) query.emplace_back("allowWatchBookmarks", "true");
  if (options.send_initial_events) {
    query.emplace_back("sendInitialEvents", *options.send_initial_events ? "true" : "false");
  }
  return query;
}

Result<std::string> DynamicResource::GetJson(std::string_view name,
                                             const GetOptions& options) const {
  rest::Request request;
  request.path = ResourcePath(kind_, ns_, name);
  if (!options.resource_version.empty()) {
    request.query.emplace_back("resourceVersion", options.resource_version);
  }
  KPP_ASSIGN_OR_RETURN(auto response, client_->Do(request));
  return std::move(response.body);
}

Result<std::string> DynamicResource::ListJson(const ListOptions& options) const {
  rest::Request request;
  request.path = ResourcePath(kind_, ns_);
  request.query = ListQuery(options, false);
  KPP_ASSIGN_OR_RETURN(auto response, client_->Do(request));
  return std::move(response.body);
}

Result<std::string> DynamicResource::WriteJson(std::string_view method, std::string_view name,
                                               std::string_view subresource, std::string body,
                                               const WriteOptions& options,
                                               std::string_view content_type) const {
  rest::Request request;
  request.method = std::string(method);
  request.path = ResourcePath(kind_, ns_, name, subresource);
  request.body = std::move(body);
  request.content_type = std::string(content_type);
  if (!options.field_manager.empty())
    request.query.emplace_back("fieldManager", options.field_manager);
  if (options.dry_run) request.query.emplace_back("dryRun", "All");
  if (options.force) request.query.emplace_back("force", "true");
  KPP_ASSIGN_OR_RETURN(auto response, client_->Do(request));
  return std::move(response.body);
}

Result<json::object> DynamicResource::Get(std::string_view name, const GetOptions& options) const {
  KPP_ASSIGN_OR_RETURN(std::string text, GetJson(name, options));
  return ParseObject(text);
}

Result<json::object> DynamicResource::List(const ListOptions& options) const {
  KPP_ASSIGN_OR_RETURN(std::string text, ListJson(options));
  return ParseObject(text);
}

namespace {
std::string NameOf(const json::object& object) {
  const auto* metadata = object.if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return "";
  const auto* name = metadata->as_object().if_contains("name");
  return name != nullptr && name->is_string() ? std::string(name->as_string()) : "";
}
}  // namespace

Result<json::object> DynamicResource::Create(const json::object& object,
                                             const WriteOptions& options) const {
  KPP_ASSIGN_OR_RETURN(std::string text,
                       WriteJson("POST", "", "", json::serialize(object), options));
  return ParseObject(text);
}

Result<json::object> DynamicResource::Update(const json::object& object,
                                             const WriteOptions& options) const {
  const std::string name = NameOf(object);
  if (name.empty()) return BadRequestError("resource name may not be empty");
  KPP_ASSIGN_OR_RETURN(std::string text,
                       WriteJson("PUT", name, "", json::serialize(object), options));
  return ParseObject(text);
}

Result<json::object> DynamicResource::UpdateStatus(const json::object& object,
                                                   const WriteOptions& options) const {
  const std::string name = NameOf(object);
  if (name.empty()) return BadRequestError("resource name may not be empty");
  KPP_ASSIGN_OR_RETURN(std::string text,
                       WriteJson("PUT", name, "status", json::serialize(object), options));
  return ParseObject(text);
}

Result<json::object> DynamicResource::Patch(std::string_view name, PatchType type,
                                            std::string_view patch, const WriteOptions& options,
                                            std::string_view subresource) const {
  KPP_ASSIGN_OR_RETURN(std::string text, WriteJson("PATCH", name, subresource, std::string(patch),
                                                   options, ContentTypeOf(type)));
  return ParseObject(text);
}

Status DynamicResource::Delete(std::string_view name, const DeleteOptions& options) const {
  json::object body{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (!options.precondition_uid.empty() || !options.precondition_resource_version.empty()) {
    json::object preconditions;
    if (!options.precondition_uid.empty()) preconditions["uid"] = options.precondition_uid;
    if (!options.precondition_resource_version.empty()) {
      preconditions["resourceVersion"] = options.precondition_resource_version;
    }
    body["preconditions"] = std::move(preconditions);
  }
  if (options.dry_run) body["dryRun"] = json::array{"All"};
  rest::Request request;
  request.method = "DELETE";
  request.path = ResourcePath(kind_, ns_, name);
  request.body = json::serialize(body);
  KPP_RETURN_IF_ERROR(client_->Do(request));
  return Ok();
}

Status DynamicResource::Watch(const ListOptions& options,
                              const std::function<bool(WatchEvent&&)>& on_event,
                              rest::StreamCanceller* canceller) const {
  rest::Request request;
  request.path = ResourcePath(kind_, ns_);
  request.query = ListQuery(options, true);
  WatchDecoder decoder;
  std::optional<Error> decode_error;
  bool stopped = false;
  // Without a server-side timeout a quiet watch still sees a bookmark each minute when it allows
  // them; the idle limit only catches a dead connection.
  const auto idle = std::chrono::milliseconds(
      options.timeout_seconds ? (*options.timeout_seconds + 30) * 1000 : 5 * 60 * 1000);
  auto status = client_->Stream(
      request,
      [&](std::string_view bytes) {
        auto fed = decoder.Feed(bytes, [&](WatchEvent&& event) {
          if (!on_event(std::move(event))) stopped = true;
          return !stopped;
        });
        if (!fed.ok()) {
          decode_error = std::move(fed).error();
          return false;
        }
        return !stopped;
      },
      canceller, idle);
  if (decode_error) return *decode_error;
  return status;
}

namespace {

api::ObjectPtr WithKindAndVersion(const api::KindInfo& kind, api::ObjectPtr object) {
  if (object->kind().empty()) object->kind() = std::string(kind.kind);
  if (object->api_version().empty()) object->api_version() = api::GroupVersionOf(kind);
  return object;
}

}  // namespace

Result<api::ObjectPtr> DecodeObject(const api::KindInfo& kind, std::string_view json) {
  KPP_ASSIGN_OR_RETURN(auto decoded, kind.codec->Decode(json, {}));
  return WithKindAndVersion(kind, std::move(decoded.object));
}

Result<api::ObjectPtr> DecodeObject(const api::KindInfo& kind, json::value json) {
  KPP_ASSIGN_OR_RETURN(auto object, kind.codec->DecodeParsed(std::move(json)));
  return WithKindAndVersion(kind, std::move(object));
}

namespace resource_detail {

Status SplitList(std::string_view text, std::vector<std::string>& items,
                 std::string& resource_version, std::string& continue_token) {
  json::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return InternalError("the list answered is not a JSON object");
  const auto& list = value.as_object();
  if (const auto* metadata = list.if_contains("metadata"); metadata && metadata->is_object()) {
    if (const auto* rv = metadata->as_object().if_contains("resourceVersion");
        rv && rv->is_string()) {
      resource_version = std::string(rv->as_string());
    }
    if (const auto* token = metadata->as_object().if_contains("continue");
        token && token->is_string()) {
      continue_token = std::string(token->as_string());
    }
  }
  if (const auto* array = list.if_contains("items"); array && array->is_array()) {
    items.reserve(array->as_array().size());
    for (const auto& item : array->as_array())
      items.push_back(json::serialize(item));
  }
  return Ok();
}

}  // namespace resource_detail
}  // namespace kpp::client
