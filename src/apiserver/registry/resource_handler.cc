#include "apiserver/registry/resource_handler.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "api/conversion/conversions.h"
#include "api/meta/v1/codec.h"
#include "api/runtime/object.h"
#include "api/runtime/protobuf.h"
#include "apimachinery/labels/validation.h"
#include "apimachinery/patch/json_patch.h"
#include "apimachinery/patch/json_util.h"
#include "apimachinery/patch/merge_patch.h"
#include "apimachinery/patch/strategic_merge_patch.h"
#include "apimachinery/validation/field_errors.h"
#include "apiserver/printers/printers.h"
#include "apiserver/registry/list_filter.h"
#include "apiserver/registry/list_reader.h"
#include "apiserver/responses.h"
#include "base/log.h"
#include "base/random.h"

namespace kpp::apiserver {
namespace {

using apimachinery::StatusDetails;

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto segment = path.substr(0, slash);
    if (!segment.empty()) segments.push_back(segment);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

std::string GroupVersion(const api::KindInfo& kind) {
  return kind.group.empty() ? std::string(kind.version)
                            : fmt::format("{}/{}", kind.group, kind.version);
}

// "configmaps" or "deployments.apps", as upstream names a resource in messages.
std::string QualifiedResource(const api::KindInfo& kind) {
  return kind.group.empty() ? std::string(kind.plural)
                            : fmt::format("{}.{}", kind.plural, kind.group);
}

// "ConfigMap" or "Deployment.apps", as upstream names a kind in Invalid errors.
std::string QualifiedKind(const api::KindInfo& kind) {
  return kind.group.empty() ? std::string(kind.kind) : fmt::format("{}.{}", kind.kind, kind.group);
}

http::Response ObjectError(const api::KindInfo& kind, std::string_view name, Error error) {
  // Upstream names the kind in Invalid errors and the resource in the others.
  const StatusDetails details{
      std::string(name), std::string(kind.group),
      std::string(error.code() == ErrorCode::kInvalid ? kind.kind : kind.plural)};
  return StatusResponse(error, &details);
}

http::Response NotFound(const api::KindInfo& kind, std::string_view name) {
  return ObjectError(
      kind, name, NotFoundError(fmt::format("{} \"{}\" not found", QualifiedResource(kind), name)));
}

Error ConflictError(const api::KindInfo& kind, std::string_view name) {
  return Error(ErrorCode::kConflict,
               fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has been "
                           "modified; please apply your changes to the latest version and try "
                           "again",
                           QualifiedResource(kind), name));
}

http::Response NotAllowed() {
  return StatusResponse(Error(ErrorCode::kMethodNotAllowed,
                              "the server does not allow this method on the requested resource"));
}

bool HasVerb(const api::KindInfo& kind, std::string_view verb) {
  std::string_view verbs = kind.verbs;
  while (!verbs.empty()) {
    const size_t comma = verbs.find(',');
    if (verbs.substr(0, comma) == verb) return true;
    if (comma == std::string_view::npos) break;
    verbs.remove_prefix(comma + 1);
  }
  return false;
}

bool WantsTable(const http::Request& request) {
  const std::string* accept = request.FindHeader("Accept");
  return accept != nullptr && accept->find("as=Table") != std::string::npos;
}

bool IsDryRun(const http::Request& request) {
  for (const auto& [key, value] : request.query) {
    if (key == "dryRun" && value == "All") return true;
  }
  return false;
}

// The unknown-field policy a write asked for (upstream's fieldValidation; Warn by default).
Result<api::UnknownFields> FieldValidation(const http::Request& request) {
  const auto value = request.FindQuery("fieldValidation");
  if (!value || value->empty() || *value == "Warn") return api::UnknownFields::kCollect;
  if (*value == "Strict") return api::UnknownFields::kReject;
  if (*value == "Ignore") return api::UnknownFields::kIgnore;
  return BadRequestError(fmt::format(
      "fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got \"{}\"", *value));
}

std::string ResourceVersionText(int64_t revision) {
  return std::to_string(revision);
}

bool IsProtobufBody(const http::Request& request) {
  const std::string* content_type = request.FindHeader("Content-Type");
  return content_type != nullptr && content_type->starts_with(api::protobuf::kMediaType);
}

// Request bodies are JSON or protobuf (kubectl 1.32+ sends protobuf for built-in kinds).
std::optional<http::Response> CheckBodyMediaType(const http::Request& request) {
  const std::string* content_type = request.FindHeader("Content-Type");
  if (content_type == nullptr || content_type->empty() ||
      content_type->starts_with("application/json") || IsProtobufBody(request)) {
    return std::nullopt;
  }
  return StatusResponse(Error(ErrorCode::kUnsupportedMediaType,
                              "the body of the request was in an unknown format - accepted media "
                              "types include: application/json, "
                              "application/vnd.kubernetes.protobuf"));
}

// Whether a delete only pretends: dryRun=All in its DeleteOptions, which come in the body when
// it has one, else in the query, as upstream reads them.
Result<bool> DeleteIsDryRun(const http::Request& request) {
  if (request.body.empty()) return IsDryRun(request);
  api::meta::v1::DeleteOptions options;
  if (IsProtobufBody(request)) {
    KPP_ASSIGN_OR_RETURN(auto envelope, api::protobuf::Unwrap(request.body));
    api::protobuf::Reader reader(envelope.message);
    api::meta::v1::DecodeProto(reader, options);
    if (reader.failed()) return BadRequestError(reader.error()->message());
  } else {
    auto decoded = api::FromJson<api::meta::v1::DeleteOptions>(request.body);
    if (!decoded.ok()) return BadRequestError(decoded.error().message());
    options = std::move(decoded->object);
  }
  return std::find(options.dry_run.begin(), options.dry_run.end(), "All") != options.dry_run.end();
}

}  // namespace

std::string StorageKey(const api::KindInfo& kind, std::string_view namespace_,
                       std::string_view name) {
  // Every version of a kind shares the key of the version it is stored in, whose group may
  // differ (extensions/v1beta1 deployments are apps deployments).
  const api::KindInfo& stored = api::StorageKind(kind);
  const std::string_view group = stored.group.empty() ? std::string_view("core") : stored.group;
  std::string key = fmt::format("/registry/{}/{}/", group, stored.plural);
  if (!namespace_.empty()) key += std::string(namespace_) + "/";
  key += name;
  return key;
}

ResourceHandler::ResourceHandler(storage::Store& store, Clock& clock,
                                 std::span<const api::KindInfo> kinds)
    : store_(store), clock_(clock), kinds_(kinds) {
  for (const auto& kind : kinds_) {
    if (kind.group.empty() && kind.plural == "namespaces") namespaces_ = &kind;
    std::map<std::string, patch::PatchMeta, std::less<>> by_path;
    for (const auto& field : kind.patch_fields) {
      auto meta = patch::ParsePatchMeta(field.strategy, field.merge_key);
      if (meta.ok()) by_path.emplace(std::string(field.path), *meta);
    }
    patch_meta_.emplace(&kind, patch::PatchMetaTable(std::move(by_path)));
  }
}

std::optional<ResourceRequest> ResourceHandler::Parse(std::string_view path) const {
  const auto segments = SplitPath(path);
  std::string_view group, version;
  size_t rest = 0;
  if (segments.size() >= 3 && segments[0] == "api") {
    version = segments[1];
    rest = 2;
  } else if (segments.size() >= 4 && segments[0] == "apis") {
    group = segments[1];
    version = segments[2];
    rest = 3;
  } else {
    return std::nullopt;
  }
  auto find = [&](std::string_view plural) -> const api::KindInfo* {
    for (const auto& kind : kinds_) {
      if (kind.group == group && kind.version == version && kind.plural == plural) return &kind;
    }
    return nullptr;
  };
  const size_t count = segments.size() - rest;
  ResourceRequest request;
  // /namespaces/<ns>/<resource>[/<name>[/<subresource>]] for namespaced kinds.
  if (count >= 3 && segments[rest] == "namespaces") {
    if (const auto* kind = find(segments[rest + 2]); kind != nullptr && kind->namespaced) {
      if (count > 5) return std::nullopt;
      request.kind = kind;
      request.namespace_ = segments[rest + 1];
      if (count >= 4) request.name = segments[rest + 3];
      if (count >= 5) request.subresource = segments[rest + 4];
      return request;
    }
  }
  // <resource>[/<name>[/<subresource>]]: cluster-scoped kinds, or namespaced ones across all
  // namespaces (collection only).
  const auto* kind = find(segments[rest]);
  if (kind == nullptr || count > 3) return std::nullopt;
  if (kind->namespaced && count > 1) return std::nullopt;
  request.kind = kind;
  if (count >= 2) request.name = segments[rest + 1];
  if (count >= 3) request.subresource = segments[rest + 2];
  return request;
}

std::optional<http::Response> ResourceHandler::Serve(const http::Request& request) const {
  auto target = Parse(request.path);
  if (!target) return std::nullopt;
  http::Response response = Route(*target, request);
  if (const auto warning = target->kind->deprecation_warning; !warning.empty()) {
    // Every answer about a deprecated version says so, as upstream's do.
    response.headers.push_back({"Warning", fmt::format("299 - \"{}\"", warning)});
  }
  return response;
}

http::Response ResourceHandler::Route(const ResourceRequest& target,
                                      const http::Request& request) const {
  if (!target.subresource.empty()) {
    return StatusResponse(NotFoundError("the server could not find the requested resource"));
  }
  const std::string& method = request.method;
  if (target.name.empty()) {
    if (method == "GET") {
      const auto watch = request.FindQuery("watch").value_or("");
      if (watch == "true" || watch == "1") return Watch(target, request);
      return List(target, request);
    }
    if (method == "POST") {
      if (auto unsupported = CheckBodyMediaType(request)) return *std::move(unsupported);
      return Create(target, request);
    }
    if (method == "DELETE") return DeleteCollection(target, request);
    return NotAllowed();
  }
  if (method == "GET") return Get(target, request);
  if (method == "PUT") {
    if (auto unsupported = CheckBodyMediaType(request)) return *std::move(unsupported);
  }
  if (method == "PUT") return Update(target, request);
  if (method == "DELETE") return Delete(target, request);
  if (method == "PATCH") return Patch(target, request);
  return NotAllowed();
}

namespace {

// Decodes a stored value, which is in the version `kind` is stored in, into an object of `kind`
// with the resourceVersion of `revision`.
Result<api::ObjectPtr> DecodeStored(const api::KindInfo& kind, std::string_view value,
                                    int64_t revision) {
  KPP_ASSIGN_OR_RETURN(auto decoded, api::StorageKind(kind).codec->Decode(value, {}));
  KPP_ASSIGN_OR_RETURN(api::ObjectPtr object,
                       api::conversion::FromStorageVersion(kind, std::move(decoded.object)));
  // Like what is stored, without apiVersion and kind: a list's items carry none.
  object->api_version().clear();
  object->kind().clear();
  object->metadata().resource_version = ResourceVersionText(revision);
  return object;
}

// Decodes what the store holds into an object with its resourceVersion set.
Result<api::ObjectPtr> FromStored(const api::KindInfo& kind, const storage::KeyValue& kv) {
  return DecodeStored(kind, kv.value, kv.mod_revision);
}

std::string ToResponseJson(const api::KindInfo& kind, api::Object& object) {
  object.kind() = std::string(kind.kind);
  object.api_version() = GroupVersion(kind);
  return object.ToJson();
}

// One object in the encoding the client prefers.
http::Response ObjectResponse(int status, const api::KindInfo& kind, api::Object& object,
                              const http::Request& request) {
  if (PrefersProtobuf(request)) {
    return ProtobufResponse(
        status, api::protobuf::Wrap(GroupVersion(kind), kind.kind, object.ToProtobufMessage()));
  }
  return JsonResponse(status, ToResponseJson(kind, object));
}

// One object, held in the version `kind` is stored in, in `kind`'s version.
http::Response StoredObjectResponse(int status, const api::KindInfo& kind, api::Object& object,
                                    const http::Request& request) {
  const api::KindInfo& stored = api::StorageKind(kind);
  if (&stored == &kind) return ObjectResponse(status, kind, object, request);
  auto served = api::conversion::Convert(object, stored, kind);
  if (!served.ok()) return StatusResponse(served.error());
  return ObjectResponse(status, kind, **served, request);
}

// What is stored: the object without apiVersion/kind and resourceVersion, which the server
// derives on every read.
std::string ToStoredJson(api::Object& object) {
  object.kind().clear();
  object.api_version().clear();
  object.metadata().resource_version.clear();
  return object.ToJson();
}

// The Table `kubectl get` asks for, with the kind's own columns (apiserver/printers).
Result<std::string> TableJson(const api::KindInfo& kind, const std::vector<api::ObjectPtr>& objects,
                              api::meta::v1::ListMeta list_meta, const Clock& clock,
                              printers::IncludeObject include, bool with_columns = true) {
  return printers::TableJson(kind, objects, std::move(list_meta), {include, !with_columns},
                             clock.Now());
}

http::Response TableResponse(const api::KindInfo& kind, const std::vector<api::ObjectPtr>& objects,
                             api::meta::v1::ListMeta list_meta, const http::Request& request,
                             const Clock& clock) {
  auto include = printers::ParseIncludeObject(request.FindQuery("includeObject").value_or(""));
  if (!include.ok()) return StatusResponse(include.error());
  auto table = TableJson(kind, objects, std::move(list_meta), clock, *include);
  if (!table.ok()) return StatusResponse(table.error());
  return JsonResponse(200, *std::move(table), "application/json;as=Table;v=v1;g=meta.k8s.io");
}

// A <Kind>List (or a Table of it) in the encoding the client prefers.
http::Response ListResponse(const api::KindInfo& kind, const ListPage& page,
                            const http::Request& request, const Clock& clock) {
  const auto& objects = page.objects;
  if (WantsTable(request)) return TableResponse(kind, objects, page.meta, request, clock);
  if (PrefersProtobuf(request)) {
    // A <Kind>List message: ListMeta is field 1, the items are field 2.
    api::protobuf::Writer writer;
    const size_t meta = writer.BeginMessage(1);
    api::meta::v1::EncodeProto(page.meta, writer);
    writer.EndMessage(meta);
    for (const auto& object : objects)
      writer.String(2, object->ToProtobufMessage());
    return ProtobufResponse(200,
                            api::protobuf::Wrap(GroupVersion(kind), kind.list_kind, writer.data()));
  }
  std::string body = fmt::format(R"({{"kind":"{}","apiVersion":"{}","metadata":{},"items":[)",
                                 kind.list_kind, GroupVersion(kind), api::ToJson(page.meta));
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i > 0) body += ',';
    body += objects[i]->ToJson();
  }
  body += "]}";
  return JsonResponse(200, std::move(body));
}

// fieldValidation=Warn: one Warning header per unknown or duplicate field, as upstream sends them.
void AddFieldWarnings(const api::Decoded<api::ObjectPtr>& decoded, http::Response& warnings) {
  const std::pair<const char*, const std::vector<std::string>*> kinds_of_field[] = {
      {"unknown", &decoded.unknown_fields}, {"duplicate", &decoded.duplicate_fields}};
  for (const auto& [what, fields] : kinds_of_field) {
    for (const auto& field : *fields) {
      warnings.headers.push_back(
          {"Warning", fmt::format("299 - \"{} field \\\"{}\\\"\"", what, field)});
    }
  }
}

// A protobuf body: the envelope names apiVersion and kind, which the JSON path finds in the
// object itself.
Result<api::Decoded<api::ObjectPtr>> DecodeProtobufBody(const api::KindInfo& kind,
                                                        std::string_view body) {
  KPP_ASSIGN_OR_RETURN(auto envelope, api::protobuf::Unwrap(body));
  KPP_ASSIGN_OR_RETURN(api::ObjectPtr object, kind.codec->DecodeProtobuf(envelope.message));
  object->api_version() = std::move(envelope.api_version);
  object->kind() = std::move(envelope.kind);
  return api::Decoded<api::ObjectPtr>{std::move(object), {}};
}

// Parses a request body, with upstream's messages for each way it can be wrong.
Result<api::Decoded<api::ObjectPtr>> DecodeBody(const api::KindInfo& kind,
                                                const http::Request& request,
                                                http::Response& warnings) {
  KPP_ASSIGN_OR_RETURN(api::UnknownFields policy, FieldValidation(request));
  auto decoded = IsProtobufBody(request)
                     ? DecodeProtobufBody(kind, request.body)
                     : kind.codec->Decode(request.body, {.unknown_fields = policy});
  if (!decoded.ok()) {
    return BadRequestError(fmt::format("{} in version \"{}\" cannot be handled as a {}: {}",
                                       kind.kind, kind.version, kind.kind,
                                       decoded.error().message()));
  }
  AddFieldWarnings(*decoded, warnings);
  api::Object& object = *decoded->object;
  const std::string group_version = GroupVersion(kind);
  if (!object.api_version().empty() && object.api_version() != group_version) {
    return BadRequestError(
        fmt::format("the API version in the data ({}) does not match the expected API version ({})",
                    object.api_version(), group_version));
  }
  if (!object.kind().empty() && object.kind() != kind.kind) {
    return BadRequestError(
        fmt::format("the kind in the data ({}) does not match the expected "
                    "kind ({})",
                    object.kind(), kind.kind));
  }
  return decoded;
}

// Puts the request's namespace on the object, refusing a different one in the body.
Status ApplyNamespace(const api::KindInfo& kind, const ResourceRequest& target,
                      api::Object& object) {
  auto& metadata = object.metadata();
  if (!kind.namespaced) {
    metadata.namespace_.clear();
    return Ok();
  }
  if (metadata.namespace_.empty()) metadata.namespace_ = target.namespace_;
  if (metadata.namespace_ != target.namespace_) {
    return BadRequestError(
        "the namespace of the provided object does not match the namespace sent on the request");
  }
  return Ok();
}

std::optional<Error> Validate(const api::KindInfo& kind, const api::Object& object) {
  validation::FieldErrors errors = object.ValidateFields();
  StrategyFor(api::StorageKind(kind)).Validate(object, errors);
  if (errors.empty()) return std::nullopt;
  return validation::ToInvalidError(QualifiedKind(kind), object.metadata().name, errors);
}

http::Response WithWarnings(http::Response response, const http::Response& warnings) {
  for (const auto& header : warnings.headers)
    response.headers.push_back(header);
  return response;
}

struct Matching {
  std::vector<api::ObjectPtr> objects;
  int64_t revision;  // the store revision they were read at
};

// The objects under `prefix` that `filter` selects, at the current revision.
Result<Matching> ReadMatching(storage::Store& store, const api::KindInfo& kind,
                              const std::string& prefix, const ListFilter& filter) {
  KPP_ASSIGN_OR_RETURN(storage::RangeResult range,
                       store.Range(storage::RangeRequest::Prefix(prefix)));
  Matching matching{{}, range.revision};
  for (const auto& kv : range.kvs) {
    auto object = FromStored(kind, kv);
    if (!object.ok()) return InternalError(object.error().message());
    if (filter.Matches(**object)) matching.objects.push_back(std::move(object).value());
  }
  return matching;
}

// One watch: the events of the store's watch on the kind's prefix, as newline-separated
// WatchEvent JSON, optionally preceded by ADDED events for the objects that existed at the start
// revision. Ends at the deadline, when cancelled, or after an ERROR event.
class WatchStream final : public http::BodyStream {
 public:
  WatchStream(const api::KindInfo& kind, std::unique_ptr<storage::Watcher> watcher,
              ListFilter filter, bool as_table, std::chrono::steady_clock::time_point deadline)
      : kind_(kind),
        watcher_(std::move(watcher)),
        filter_(std::move(filter)),
        as_table_(as_table),
        deadline_(deadline) {}

  // Queues an ADDED event for an object that existed before the watch started. Call before the
  // stream is handed to the server.
  void AddExisting(api::Object& object) { initial_.push_back(Line("ADDED", object)); }

  // How Table events are printed: what each row carries and the clock ages are measured by.
  // Call before AddExisting.
  void SetTableOptions(printers::IncludeObject include, const Clock& clock) {
    table_include_ = include;
    clock_ = &clock;
  }

  std::optional<std::string> Next() override {
    if (cancelled_ || ended_) return std::nullopt;
    if (!initial_.empty()) {
      std::string out;
      for (auto& line : initial_)
        out += line;
      initial_.clear();
      return out;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline_) return std::nullopt;
    const auto wait = std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(1000),
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now));
    auto events = watcher_->Next(wait);
    if (!events.ok()) {
      ended_ = true;
      if (events.error().code() != ErrorCode::kGone) return std::nullopt;
      // Upstream reports a watch that fell out of the history as an ERROR event, 410 Expired.
      const Error expired(ErrorCode::kExpired, "too old resource version");
      return "{\"type\":\"ERROR\",\"object\":" + apimachinery::StatusJson(expired) + "}\n";
    }
    std::string out;
    for (const auto& event : *events)
      out += EventLine(event);
    return out;
  }

  void Cancel() override { cancelled_ = true; }

 private:
  // A WatchEvent line for `object` (already carrying its resourceVersion). As a Table, only the
  // first event carries the column definitions, as upstream sends them.
  std::string Line(std::string_view type, api::Object& object) {
    std::string encoded;
    if (as_table_) {
      std::vector<api::ObjectPtr> one;
      one.push_back(object.Clone());
      api::meta::v1::ListMeta list_meta;
      list_meta.resource_version = object.metadata().resource_version;
      auto table =
          TableJson(kind_, one, std::move(list_meta), *clock_, table_include_, first_table_);
      if (!table.ok())
        return "{\"type\":\"ERROR\",\"object\":" + apimachinery::StatusJson(table.error()) + "}\n";
      encoded = *std::move(table);
      first_table_ = false;
    } else {
      encoded = ToResponseJson(kind_, object);
    }
    return fmt::format("{{\"type\":\"{}\",\"object\":{}}}\n", type, encoded);
  }

  // The stored value decoded, carrying the resourceVersion of `revision`; null when it does not
  // decode.
  api::ObjectPtr DecodeAt(const storage::KeyValue& kv, int64_t revision) const {
    auto decoded = DecodeStored(kind_, kv.value, revision);
    return decoded.ok() ? std::move(decoded).value() : nullptr;
  }

  // As upstream filters watches: an object that starts matching the selectors is ADDED, one
  // that stops matching is DELETED, changes outside them are not sent.
  std::string EventLine(const storage::Event& event) {
    const int64_t revision = event.kv.mod_revision;
    const bool deleted = event.type == storage::Event::Type::kDelete;
    api::ObjectPtr current = deleted ? nullptr : DecodeAt(event.kv, revision);
    api::ObjectPtr previous;
    if (event.prev_kv && (deleted || !filter_.Empty()))
      previous = DecodeAt(*event.prev_kv, revision);
    const bool was = previous != nullptr && filter_.Matches(*previous);
    const bool is = current != nullptr && filter_.Matches(*current);
    if (is) {
      const bool created = event.kv.create_revision == event.kv.mod_revision;
      return Line(created || (!filter_.Empty() && !was) ? "ADDED" : "MODIFIED", *current);
    }
    if (was) return Line("DELETED", deleted ? *previous : *current);
    return "";
  }

  const api::KindInfo& kind_;
  std::unique_ptr<storage::Watcher> watcher_;
  const ListFilter filter_;
  std::vector<std::string> initial_;
  const bool as_table_;
  bool first_table_ = true;
  printers::IncludeObject table_include_ = printers::IncludeObject::kMetadata;
  const Clock* clock_ = &RealClock();
  const std::chrono::steady_clock::time_point deadline_;
  std::atomic<bool> cancelled_{false};
  bool ended_ = false;
};

}  // namespace

http::Response ResourceHandler::Watch(const ResourceRequest& target,
                                      const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  auto filter = ListFilter::FromRequest(kind, request);
  if (!filter.ok()) return StatusResponse(filter.error());
  const std::string prefix = StorageKey(kind, target.namespace_, "");
  const std::string requested = std::string(request.FindQuery("resourceVersion").value_or(""));
  int64_t start = 0;
  std::vector<api::ObjectPtr> existing;
  if (requested.empty() || requested == "0") {
    // No version to resume from: the current objects come first, as ADDED events.
    auto snapshot = ReadMatching(store_, kind, prefix, *filter);
    if (!snapshot.ok()) return StatusResponse(snapshot.error());
    existing = std::move(snapshot->objects);
    start = snapshot->revision + 1;
  } else {
    char* end = nullptr;
    const long long parsed = std::strtoll(requested.c_str(), &end, 10);
    if (end == requested.c_str() || *end != '\0' || parsed < 0) {
      return StatusResponse(
          BadRequestError(fmt::format("invalid resource version: \"{}\"", requested)));
    }
    start = parsed + 1;
  }
  auto watcher = store_.Watch(storage::WatchRequest::Prefix(prefix, start));
  if (!watcher.ok()) {
    if (watcher.error().code() == ErrorCode::kGone) {
      return StatusResponse(
          Error(ErrorCode::kGone, fmt::format("too old resource version: {}", requested)));
    }
    return StatusResponse(watcher.error());
  }
  // Upstream ends watches after timeoutSeconds, or a randomized 30-60 minutes without one.
  std::chrono::seconds timeout(1800);
  if (auto value = request.FindQuery("timeoutSeconds")) {
    timeout =
        std::chrono::seconds(std::max(0L, std::strtol(std::string(*value).c_str(), nullptr, 10)));
  }
  auto stream = std::make_shared<WatchStream>(kind, std::move(watcher).value(), *std::move(filter),
                                              WantsTable(request),
                                              std::chrono::steady_clock::now() + timeout);
  if (WantsTable(request)) {
    auto include = printers::ParseIncludeObject(request.FindQuery("includeObject").value_or(""));
    if (!include.ok()) return StatusResponse(include.error());
    stream->SetTableOptions(*include, clock_);
  }
  for (auto& object : existing)
    stream->AddExisting(*object);
  http::Response response = JsonResponse(
      200, "",
      WantsTable(request) ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json");
  response.stream = std::move(stream);
  return response;
}

http::Response ResourceHandler::Create(const ResourceRequest& target,
                                       const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  if (kind.namespaced && namespaces_ != nullptr) {
    auto ns = store_.Get(StorageKey(*namespaces_, "", target.namespace_));
    if (!ns.ok()) {
      if (ns.error().code() == ErrorCode::kNotFound) {
        return NotFound(*namespaces_, target.namespace_);
      }
      return StatusResponse(ns.error());
    }
  }
  http::Response warnings;
  auto decoded = DecodeBody(kind, request, warnings);
  if (!decoded.ok()) return StatusResponse(decoded.error());
  if (auto status = ApplyNamespace(kind, target, *decoded->object); !status.ok()) {
    return StatusResponse(status.error());
  }
  if (auto& sent = decoded->object->metadata(); sent.name.empty() && !sent.generate_name.empty()) {
    sent.name = sent.generate_name + RandomString(5, "bcdfghjklmnpqrstvwxz2456789");
  }
  // Defaulted in the version the client wrote in, then converted to (and defaulted in) the
  // version the store holds, where the rest happens.
  decoded->object->SetDefaults();
  auto converted = api::conversion::ToStorageVersion(kind, std::move(decoded->object));
  if (!converted.ok()) return StatusResponse(converted.error());
  api::Object& object = **converted;
  auto& metadata = object.metadata();
  StrategyFor(api::StorageKind(kind)).PrepareForCreate(object);
  // Fields the server owns on create, whatever the client sent.
  metadata.uid = NewUuid();
  metadata.creation_timestamp = api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count());
  metadata.resource_version.clear();
  metadata.deletion_timestamp.reset();
  metadata.deletion_grace_period_seconds.reset();
  metadata.self_link.clear();
  if (auto error = Validate(kind, object)) {
    return ObjectError(kind, metadata.name, *std::move(error));
  }
  if (IsDryRun(request)) {
    return WithWarnings(StoredObjectResponse(201, kind, object, request), warnings);
  }
  const std::string name = metadata.name;
  auto stored = object.Clone();
  auto revision = store_.Create(StorageKey(kind, metadata.namespace_, name), ToStoredJson(*stored));
  if (!revision.ok()) {
    if (revision.error().code() == ErrorCode::kAlreadyExists) {
      return ObjectError(
          kind, name,
          Error(ErrorCode::kAlreadyExists,
                fmt::format("{} \"{}\" already exists", QualifiedResource(kind), name)));
    }
    return StatusResponse(revision.error());
  }
  metadata.resource_version = ResourceVersionText(revision->mod_revision);
  return WithWarnings(StoredObjectResponse(201, kind, object, request), warnings);
}

http::Response ResourceHandler::Get(const ResourceRequest& target,
                                    const http::Request& request) const {
  if (auto too_new = CheckGetResourceVersion(store_, request)) return *std::move(too_new);
  auto loaded = Load(target);
  if (auto* failure = std::get_if<http::Response>(&loaded)) return std::move(*failure);
  auto& stored = std::get<StoredObject>(loaded);
  if (WantsTable(request)) {
    std::vector<api::ObjectPtr> one;
    one.push_back(std::move(stored.object));
    api::meta::v1::ListMeta list_meta;
    list_meta.resource_version = ResourceVersionText(stored.kv.mod_revision);
    return TableResponse(*target.kind, one, std::move(list_meta), request, clock_);
  }
  return ObjectResponse(200, *target.kind, *stored.object, request);
}

std::variant<ResourceHandler::StoredObject, http::Response> ResourceHandler::Load(
    const ResourceRequest& target) const {
  const api::KindInfo& kind = *target.kind;
  auto kv = store_.Get(StorageKey(kind, target.namespace_, target.name));
  if (!kv.ok()) {
    if (kv.error().code() == ErrorCode::kNotFound) return NotFound(kind, target.name);
    return StatusResponse(kv.error());
  }
  auto object = FromStored(kind, *kv);
  if (!object.ok()) return StatusResponse(InternalError(object.error().message()));
  return StoredObject{*std::move(kv), std::move(object).value()};
}

http::Response ResourceHandler::List(const ResourceRequest& target,
                                     const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  auto parsed = ParseListRequest(kind, request);
  if (auto* failure = std::get_if<http::Response>(&parsed)) return std::move(*failure);
  const auto& list = std::get<ListRequest>(parsed);
  auto page = ReadListPage(store_, ListPrefix(target, list.filter), list.options, list.filter,
                           [&kind](const storage::KeyValue& kv) { return FromStored(kind, kv); });
  if (auto* failure = std::get_if<http::Response>(&page)) return std::move(*failure);
  return ListResponse(kind, std::get<ListPage>(page), request, clock_);
}

std::string ResourceHandler::ListPrefix(const ResourceRequest& target,
                                        const ListFilter& filter) const {
  const api::KindInfo& kind = *target.kind;
  std::string namespace_ = target.namespace_;
  // A list across all namespaces that selects one namespace reads only that namespace's keys,
  // as upstream narrows it.
  if (namespace_.empty() && kind.namespaced) {
    if (auto selected = filter.RequiredValue("metadata.namespace");
        selected && validation::IsDNS1123Label(*selected).empty()) {
      namespace_ = *std::move(selected);
    }
  }
  return StorageKey(kind, namespace_, "");
}

http::Response ResourceHandler::Update(const ResourceRequest& target,
                                       const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  http::Response warnings;
  auto decoded = DecodeBody(kind, request, warnings);
  if (!decoded.ok()) return StatusResponse(decoded.error());
  api::Object& object = *decoded->object;
  if (auto status = ApplyNamespace(kind, target, object); !status.ok()) {
    return StatusResponse(status.error());
  }
  auto& metadata = object.metadata();
  if (metadata.name != target.name) {
    return StatusResponse(BadRequestError(
        fmt::format("the name of the object ({}) does not match the name on the URL ({})",
                    metadata.name, target.name)));
  }
  auto loaded = Load(target);
  if (auto* failure = std::get_if<http::Response>(&loaded)) return std::move(*failure);
  const auto& current = std::get<StoredObject>(loaded);
  if (!metadata.resource_version.empty() &&
      metadata.resource_version != ResourceVersionText(current.kv.mod_revision)) {
    return ObjectError(kind, target.name, ConflictError(kind, target.name));
  }
  return CommitUpdate(target, request, object, *current.object, current.kv.mod_revision, warnings,
                      nullptr);
}

http::Response ResourceHandler::CommitUpdate(const ResourceRequest& target,
                                             const http::Request& request, api::Object& object,
                                             const api::Object& current, int64_t current_revision,
                                             const http::Response& warnings,
                                             bool* conflicted) const {
  const api::KindInfo& kind = *target.kind;
  auto& metadata = object.metadata();
  // Identity and history stay as the server recorded them.
  const auto& old_metadata = current.metadata();
  metadata.uid = old_metadata.uid;
  metadata.creation_timestamp = old_metadata.creation_timestamp;
  metadata.generation = old_metadata.generation;
  metadata.deletion_timestamp = old_metadata.deletion_timestamp;
  object.SetDefaults();
  // Validated and stored in the version the store holds.
  auto converted = api::conversion::ToStorageVersion(kind, object.Clone());
  if (!converted.ok()) return StatusResponse(converted.error());
  api::Object& stored = **converted;
  if (auto error = Validate(kind, stored)) {
    return ObjectError(kind, target.name, *std::move(error));
  }
  if (IsDryRun(request)) {
    stored.metadata().resource_version = ResourceVersionText(current_revision);
    return WithWarnings(StoredObjectResponse(200, kind, stored, request), warnings);
  }
  auto revision = store_.Update(StorageKey(kind, target.namespace_, target.name),
                                ToStoredJson(stored), current_revision);
  if (!revision.ok()) {
    if (revision.error().code() == ErrorCode::kConflict) {
      if (conflicted != nullptr) *conflicted = true;
      return ObjectError(kind, target.name, ConflictError(kind, target.name));
    }
    if (revision.error().code() == ErrorCode::kNotFound) return NotFound(kind, target.name);
    return StatusResponse(revision.error());
  }
  stored.metadata().resource_version = ResourceVersionText(revision->mod_revision);
  return WithWarnings(StoredObjectResponse(200, kind, stored, request), warnings);
}

http::Response ResourceHandler::Patch(const ResourceRequest& target,
                                      const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  const std::string* content_type_header = request.FindHeader("Content-Type");
  const std::string content_type =
      content_type_header == nullptr
          ? ""
          : content_type_header->substr(0, content_type_header->find(';'));
  enum class PatchType { kJson, kMerge, kStrategic };
  PatchType type;
  if (content_type == "application/json-patch+json") {
    type = PatchType::kJson;
  } else if (content_type == "application/merge-patch+json") {
    type = PatchType::kMerge;
  } else if (content_type == "application/strategic-merge-patch+json") {
    type = PatchType::kStrategic;
  } else {
    return StatusResponse(Error(ErrorCode::kUnsupportedMediaType,
                                "the body of the request was in an unknown format - accepted media "
                                "types include: application/json-patch+json, "
                                "application/merge-patch+json, "
                                "application/strategic-merge-patch+json"));
  }
  auto policy = FieldValidation(request);
  if (!policy.ok()) return StatusResponse(policy.error());
  // A patch carries no precondition unless it sets a resourceVersion, so a write that raced
  // with it is simply retried against the newer object, as upstream does.
  for (int attempt = 0;; ++attempt) {
    auto loaded = Load(target);
    if (auto* failure = std::get_if<http::Response>(&loaded)) return std::move(*failure);
    const auto& current = std::get<StoredObject>(loaded);
    auto served = patch::ParseJson(ToResponseJson(kind, *current.object->Clone()));
    if (!served.ok()) return StatusResponse(InternalError(served.error().message()));
    Result<boost::json::value> patched = InternalError("unreachable");
    if (type == PatchType::kJson) {
      auto json_patch = patch::JsonPatch::Parse(request.body);
      if (!json_patch.ok()) return StatusResponse(json_patch.error());
      patched = json_patch->Apply(std::move(*served));
    } else {
      auto body = patch::ParseObjectPatch(request.body);
      if (!body.ok()) return StatusResponse(body.error());
      patched = type == PatchType::kMerge ? patch::ApplyMergePatch(std::move(*served), *body)
                                          : patch::ApplyStrategicMergePatch(
                                                std::move(*served), *body, patch_meta_.at(&kind));
    }
    if (!patched.ok()) return StatusResponse(patched.error());
    http::Response warnings;
    auto decoded =
        kind.codec->Decode(boost::json::serialize(*patched), {.unknown_fields = *policy});
    if (!decoded.ok()) return StatusResponse(decoded.error());
    AddFieldWarnings(*decoded, warnings);
    api::Object& object = *decoded->object;
    if (object.metadata().name != target.name ||
        object.metadata().namespace_ != target.namespace_) {
      return StatusResponse(
          BadRequestError("metadata.name and metadata.namespace cannot be changed by a patch"));
    }
    if (object.metadata().resource_version != ResourceVersionText(current.kv.mod_revision)) {
      return ObjectError(kind, target.name, ConflictError(kind, target.name));
    }
    bool conflicted = false;
    http::Response response = CommitUpdate(target, request, object, *current.object,
                                           current.kv.mod_revision, warnings, &conflicted);
    if (!conflicted || attempt >= 4) return response;
  }
}

http::Response ResourceHandler::Delete(const ResourceRequest& target,
                                       const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  if (auto status = StrategyFor(kind).CheckDelete(kind, target.name); !status.ok()) {
    return ObjectError(kind, target.name, status.error());
  }
  auto loaded = Load(target);
  if (auto* failure = std::get_if<http::Response>(&loaded)) return std::move(*failure);
  const auto& stored = std::get<StoredObject>(loaded);
  const std::string uid = stored.object->metadata().uid;
  auto dry_run = DeleteIsDryRun(request);
  if (!dry_run.ok()) return StatusResponse(dry_run.error());
  if (!*dry_run) {
    auto deleted = store_.Delete(stored.kv.key, stored.kv.mod_revision);
    if (!deleted.ok()) {
      if (deleted.error().code() == ErrorCode::kNotFound) return NotFound(kind, target.name);
      return StatusResponse(deleted.error());
    }
    if (&kind == namespaces_) {
      // The namespace controller's job, done at once: nothing may outlive its namespace.
      for (const auto& candidate : kinds_) {
        if (!candidate.namespaced) continue;
        auto contents =
            store_.Range(storage::RangeRequest::Prefix(StorageKey(candidate, target.name, "")));
        if (!contents.ok()) continue;
        for (const auto& item : contents->kvs)
          IgnoreError(store_.Delete(item.key, 0));
      }
    }
  }
  std::string details = fmt::format(
      R"({{"name":"{}",{}"kind":"{}","uid":"{}"}})", target.name,
      kind.group.empty() ? "" : fmt::format(R"("group":"{}",)", kind.group), kind.plural, uid);
  return JsonResponse(
      200, fmt::format(R"({{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Success",)"
                       R"("details":{}}})",
                       details));
}

http::Response ResourceHandler::DeleteCollection(const ResourceRequest& target,
                                                 const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  if (!HasVerb(kind, "deletecollection")) return NotAllowed();
  auto parsed = ParseListRequest(kind, request);
  if (auto* failure = std::get_if<http::Response>(&parsed)) return std::move(*failure);
  auto& list = std::get<ListRequest>(parsed);
  auto dry_run = DeleteIsDryRun(request);
  if (!dry_run.ok()) return StatusResponse(dry_run.error());
  const std::string prefix = ListPrefix(target, list.filter);
  const auto decode = [&kind](const storage::KeyValue& kv) { return FromStored(kind, kv); };
  // As upstream: a client's limit deletes one page; otherwise pages of 10,000 until none is
  // left, and the answer is the first page's list metadata with every deleted item.
  const bool one_page = list.options.limit > 0;
  if (!one_page) list.options.limit = 10000;
  ListPage deleted;
  for (bool first = true;; first = false) {
    auto read = ReadListPage(store_, prefix, list.options, list.filter, decode);
    if (auto* failure = std::get_if<http::Response>(&read)) return std::move(*failure);
    auto& page = std::get<ListPage>(read);
    for (auto& object : page.objects) {
      const auto& metadata = object->metadata();
      if (auto allowed = StrategyFor(kind).CheckDelete(kind, metadata.name); !allowed.ok()) {
        return ObjectError(kind, metadata.name, allowed.error());
      }
      if (*dry_run) continue;
      // Each object goes as a delete of it would, whatever changed since the list was read.
      auto removed = store_.Delete(StorageKey(kind, metadata.namespace_, metadata.name), 0);
      if (!removed.ok() && removed.error().code() != ErrorCode::kNotFound) {
        return StatusResponse(removed.error());
      }
    }
    if (first) deleted.meta = page.meta;
    std::move(page.objects.begin(), page.objects.end(), std::back_inserter(deleted.objects));
    if (one_page || page.meta.continue_.empty()) break;
    list.options.continue_token = std::move(page.meta.continue_);
    list.options.resource_version.clear();
    list.options.resource_version_match.clear();
  }
  return ListResponse(kind, deleted, request, clock_);
}

Status ResourceHandler::Bootstrap() const {
  if (namespaces_ == nullptr) return Ok();
  const api::KindInfo* namespaces = namespaces_;
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    const std::string key = StorageKey(*namespaces, "", name);
    if (store_.Get(key).ok()) continue;
    auto decoded =
        namespaces->codec->Decode(fmt::format(R"({{"metadata":{{"name":"{}"}}}})", name), {});
    if (!decoded.ok()) return decoded.error();
    api::Object& object = *decoded->object;
    object.SetDefaults();
    StrategyFor(*namespaces).PrepareForCreate(object);
    object.metadata().uid = NewUuid();
    object.metadata().creation_timestamp = api::Time::FromUnixSeconds(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count());
    auto created = store_.Create(key, ToStoredJson(object));
    if (!created.ok() && created.error().code() != ErrorCode::kAlreadyExists) {
      return created.error();
    }
    KLOG_INFO("created namespace {}", name);
  }
  return Ok();
}

}  // namespace kpp::apiserver
