#include "apiserver/registry/resource_handler.h"

#include <fmt/format.h>
#include <strings.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "api/conversion/conversions.h"
#include "api/meta/v1/codec.h"
#include "api/runtime/object.h"
#include "api/runtime/protobuf.h"
#include "api/runtime/type_meta.h"
#include "apiextensions/custom_resources.h"
#include "apimachinery/labels/validation.h"
#include "apimachinery/patch/json_patch.h"
#include "apimachinery/patch/json_util.h"
#include "apimachinery/patch/merge_patch.h"
#include "apimachinery/patch/strategic_merge_patch.h"
#include "apimachinery/validation/field_errors.h"
#include "apimachinery/yaml/yaml_to_json.h"
#include "apiserver/printers/printers.h"
#include "apiserver/registry/lifecycle.h"
#include "apiserver/registry/list_filter.h"
#include "apiserver/registry/list_reader.h"
#include "apiserver/registry/object_name.h"
#include "apiserver/registry/update_validation.h"
#include "apiserver/responses.h"
#include "apiserver/watchcache/cached_resources.h"
#include "apiserver/watchcache/stored_json.h"
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

// The media type of a request's body, without parameters; empty when it has none.
std::string_view BodyMediaType(const http::Request& request) {
  const std::string* content_type = request.FindHeader("Content-Type");
  if (content_type == nullptr) return {};
  std::string_view type = *content_type;
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  return type;
}

// upstream's summary of a body it could not decode: JSON-looking text as is, anything else in
// hex, both cut at 30 bytes.
std::string SummarizeBody(std::string_view body) {
  constexpr size_t kMaxLength = 30;
  if (body.empty()) return "<empty>";
  const std::string_view head = body.substr(0, kMaxLength);
  std::string summary;
  if (body.front() == '{') {
    summary = head;
  } else {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (const unsigned char c : head) {
      summary += kDigits[c >> 4];
      summary += kDigits[c & 15];
    }
  }
  if (body.size() > kMaxLength) summary += " ...";
  return summary;
}

// For a body in YAML (application/yaml on create and update; every apply configuration, as
// upstream reads them with its YAML decoder even when they are JSON), the request with the body as
// JSON, or the 400 for YAML that does not convert; nullopt for every other request.
std::optional<std::variant<http::Request, http::Response>> YamlBodyAsJson(
    const api::KindInfo& kind, const http::Request& request) {
  const std::string_view media_type = BodyMediaType(request);
  const bool apply = media_type == "application/apply-patch+yaml";
  if (media_type != "application/yaml" && !apply) return std::nullopt;
  auto json = yaml::ToJson(request.body);
  if (!json.ok()) {
    if (apply) return StatusResponse(json.error());
    return StatusResponse(BadRequestError(
        fmt::format("the object provided is unrecognized (must be of type {}): {} ({})", kind.kind,
                    json.error().message(), SummarizeBody(request.body))));
  }
  http::Request converted = request;
  converted.body = *std::move(json);
  if (!apply) {
    for (auto& header : converted.headers) {
      if (strcasecmp(header.name.c_str(), "Content-Type") == 0) header.value = "application/json";
    }
  }
  return converted;
}

// Request bodies are JSON or protobuf (kubectl 1.32+ sends protobuf for built-in kinds); YAML
// arrives here as JSON (YamlBodyAsJson).
std::optional<http::Response> CheckBodyMediaType(const http::Request& request) {
  const std::string* content_type = request.FindHeader("Content-Type");
  if (content_type == nullptr || content_type->empty() ||
      content_type->starts_with("application/json") || IsProtobufBody(request)) {
    return std::nullopt;
  }
  return StatusResponse(Error(ErrorCode::kUnsupportedMediaType,
                              "the body of the request was in an unknown format - accepted media "
                              "types include: application/json, application/yaml, "
                              "application/vnd.kubernetes.protobuf"));
}

// A delete's DeleteOptions: from the body when it has one, else from the query, as upstream
// reads them.
Result<api::meta::v1::DeleteOptions> ParseDeleteOptions(const http::Request& request) {
  api::meta::v1::DeleteOptions options;
  if (request.body.empty()) {
    for (const auto& [key, value] : request.query) {
      if (key == "dryRun") options.dry_run.push_back(value);
      if (key == "propagationPolicy") options.propagation_policy = value;
      if (key == "orphanDependents") options.orphan_dependents = value == "true";
      if (key == "gracePeriodSeconds") {
        char* end = nullptr;
        const long long seconds = std::strtoll(value.c_str(), &end, 10);
        if (end == value.c_str() || *end != '\0') {
          return BadRequestError(
              fmt::format("strconv.ParseInt: parsing \"{}\": invalid syntax", value));
        }
        options.grace_period_seconds = seconds;
      }
    }
    return options;
  }
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
  if (const auto& policy = options.propagation_policy;
      policy && *policy != "Orphan" && *policy != "Background" && *policy != "Foreground") {
    return Error(ErrorCode::kInvalid,
                 fmt::format("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: "
                             "Unsupported value: \"{}\": supported values: \"Foreground\", "
                             "\"Background\", \"Orphan\", \"nil\"",
                             *policy));
  }
  return options;
}

}  // namespace

bool IsDryRun(const http::Request& request) {
  for (const auto& [key, value] : request.query) {
    if (key == "dryRun" && value == "All") return true;
  }
  return false;
}

std::string ToStoredJson(api::Object& object) {
  object.kind().clear();
  object.api_version().clear();
  object.metadata().resource_version.clear();
  return object.ToJson();
}

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
                                 std::span<const api::KindInfo> kinds,
                                 const apiextensions::CustomResourceKinds* custom_kinds,
                                 ResourceOptions options)
    : store_(store),
      clock_(clock),
      kinds_(kinds),
      custom_kinds_(custom_kinds),
      cached_(std::make_unique<CachedResources>(store, clock)),
      field_managers_(kinds),
      options_(options),
      leases_(store, clock) {
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

ResourceHandler::~ResourceHandler() = default;

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
    return custom_kinds_ != nullptr ? custom_kinds_->Find(group, version, plural) : nullptr;
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

std::optional<http::Response> ResourceHandler::Serve(const http::Request& request,
                                                     const UserInfo* user) const {
  auto target = Parse(request.path);
  if (!target) return std::nullopt;
  target->user = user;
  std::optional<http::Request> json_body;
  if (auto converted = YamlBodyAsJson(*target->kind, request)) {
    if (auto* failure = std::get_if<http::Response>(&*converted)) return std::move(*failure);
    json_body = std::get<http::Request>(*std::move(converted));
  }
  http::Response response = Route(*target, json_body ? *json_body : request);
  if (const auto warning = target->kind->deprecation_warning; !warning.empty()) {
    // Every answer about a deprecated version says so, as upstream's do.
    response.headers.push_back({"Warning", fmt::format("299 - \"{}\"", warning)});
  }
  return response;
}

http::Response ResourceHandler::Route(const ResourceRequest& target,
                                      const http::Request& request) const {
  if (!target.subresource.empty()) return ServeSubresource(target, request);
  const std::string& method = request.method;
  if (target.name.empty()) {
    if (method == "GET") {
      if (request.QueryFlag("watch")) return Watch(target, request);
      return List(target, request);
    }
    if (method == "POST") {
      if (auto unsupported = CheckBodyMediaType(request)) return *std::move(unsupported);
      // A Binding is not stored: it assigns its pod to a node.
      if (target.kind->group.empty() && target.kind->kind == "Binding") {
        return Bind(target, request);
      }
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
  object.api_version() = api::GroupVersionOf(kind);
  return object.ToJson();
}

// One object in the encoding the client prefers.
http::Response ObjectResponse(int status, const api::KindInfo& kind, api::Object& object,
                              const http::Request& request) {
  if (apiextensions::CustomResourceOf(kind) == nullptr && PrefersProtobuf(request)) {
    return ProtobufResponse(status, api::protobuf::Wrap(api::GroupVersionOf(kind), kind.kind,
                                                        object.ToProtobufMessage()));
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

// Whether an object of `kind` is stored as the typed encoder writes it in `kind`'s own version,
// so that its stored or cached text is what encoding the object would give (without apiVersion
// and kind).
bool StoredAsServed(const api::KindInfo& kind) {
  return &api::StorageKind(kind) == &kind && apiextensions::CustomResourceOf(kind) == nullptr;
}

// The answer to a write of `object`, whose stored form `stored_json` (ToStoredJson's) got
// `revision`. For a built-in kind served in the version it is stored in, as JSON: that text with
// kind, apiVersion and resourceVersion spliced in where the encoder writes them, instead of a
// second encode of the object. Otherwise the object, encoded for the client.
http::Response WrittenObjectResponse(int status, const api::KindInfo& kind, api::Object& object,
                                     std::string_view stored_json, int64_t revision,
                                     const http::Request& request) {
  if (StoredAsServed(kind) && !PrefersProtobuf(request)) {
    if (auto spliced = watchcache::SpliceResourceVersion(stored_json, revision)) {
      return JsonResponse(status, api::WithTypeMeta(kind, *spliced));
    }
  }
  object.metadata().resource_version = ResourceVersionText(revision);
  return StoredObjectResponse(status, kind, object, request);
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
  if (apiextensions::CustomResourceOf(kind) == nullptr && PrefersProtobuf(request)) {
    // A <Kind>List message: ListMeta is field 1, the items are field 2.
    api::protobuf::Writer writer;
    const size_t meta = writer.BeginMessage(1);
    api::meta::v1::EncodeProto(page.meta, writer);
    writer.EndMessage(meta);
    for (const auto& object : objects)
      writer.String(2, object->ToProtobufMessage());
    return ProtobufResponse(
        200, api::protobuf::Wrap(api::GroupVersionOf(kind), kind.list_kind, writer.data()));
  }
  std::string body = fmt::format(R"({{"kind":"{}","apiVersion":"{}","metadata":{},"items":[)",
                                 kind.list_kind, api::GroupVersionOf(kind), api::ToJson(page.meta));
  // Items of custom resource lists carry their apiVersion and kind, as upstream's unstructured
  // lists do.
  const bool typed_items = apiextensions::CustomResourceOf(kind) != nullptr;
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i > 0) body += ',';
    if (typed_items) {
      objects[i]->kind() = std::string(kind.kind);
      objects[i]->api_version() = api::GroupVersionOf(kind);
    }
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
  const std::string group_version = api::GroupVersionOf(kind);
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

// `old_object` is the object an update (through `subresource`) replaces (null on create).
std::optional<Error> Validate(const api::KindInfo& kind, const api::Object& object,
                              const api::Object* old_object = nullptr,
                              std::string_view subresource = "") {
  validation::FieldErrors errors;
  ValidateObjectName(api::StorageKind(kind), object.metadata(), errors);
  auto field_errors = object.ValidateFields();
  errors.insert(errors.end(), field_errors.begin(), field_errors.end());
  const Strategy& strategy = StrategyFor(api::StorageKind(kind));
  if (old_object != nullptr) {
    strategy.ValidateUpdate(subresource, object, *old_object, errors);
  } else {
    strategy.Validate(object, errors);
  }
  if (old_object != nullptr) ValidateUpdate(kind, *old_object, object, errors);
  if (errors.empty()) return std::nullopt;
  return validation::ToInvalidError(QualifiedKind(kind), object.metadata().name, errors);
}

http::Response WithWarnings(http::Response response, const http::Response& warnings) {
  for (const auto& header : warnings.headers)
    response.headers.push_back(header);
  return response;
}

}  // namespace

http::Response ResourceHandler::Watch(const ResourceRequest& target,
                                      const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  auto include = printers::IncludeObject::kMetadata;
  if (WantsTable(request)) {
    auto parsed = printers::ParseIncludeObject(request.FindQuery("includeObject").value_or(""));
    if (!parsed.ok()) return StatusResponse(parsed.error());
    include = *parsed;
  }
  return cached_->Watch(
      kind, StorageKey(kind, target.namespace_, ""), request,
      [&kind, &clock = clock_, include](api::Object& object, bool with_columns) {
        std::vector<api::ObjectPtr> one;
        one.push_back(object.Clone());
        api::meta::v1::ListMeta list_meta;
        list_meta.resource_version = object.metadata().resource_version;
        auto table = TableJson(kind, one, std::move(list_meta), clock, include, with_columns);
        return table.ok() ? *std::move(table) : apimachinery::StatusJson(table.error());
      });
}

std::string ResourceHandler::NowText() const {
  return api::Time::FromUnixSeconds(
             std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch())
                 .count())
      .ToString();
}

Result<storage::LeaseId> ResourceHandler::LeaseForWrite(const api::KindInfo& kind) const {
  // Both views of events (core/v1 and events.k8s.io/v1) are stored as core/v1 Events.
  const api::KindInfo& stored = api::StorageKind(kind);
  if (!(stored.group.empty() && stored.kind == "Event") || options_.event_ttl.count() <= 0) {
    return storage::LeaseId{0};
  }
  return leases_.LeaseFor(options_.event_ttl);
}

http::Response ResourceHandler::Create(const ResourceRequest& target, const http::Request& request,
                                       bool applied) const {
  const api::KindInfo& kind = *target.kind;
  if (const auto* custom = apiextensions::CustomResourceOf(kind); custom && custom->terminating) {
    return StatusResponse(Error(ErrorCode::kMethodNotAllowed,
                                "create not allowed while custom resource definition is "
                                "terminating"));
  }
  // A namespace the watch cache holds exists (NamespaceLifecycle admission refuses the
  // terminating ones); one it does not hold yet may just have been created: the store says.
  if (kind.namespaced && namespaces_ != nullptr &&
      cached_->Cached(*namespaces_, StorageKey(*namespaces_, "", target.namespace_)) == nullptr) {
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
  const std::string sent_name = decoded->object->metadata().name;
  if (auto& sent = decoded->object->metadata(); sent.name.empty() && !sent.generate_name.empty()) {
    // Upstream keeps generated names within 63 characters.
    sent.name = sent.generate_name.substr(0, 58) + RandomString(5, "bcdfghjklmnpqrstvwxz2456789");
  }
  // Defaulted in the version the client wrote in, then converted to (and defaulted in) the
  // version the store holds, where the rest happens.
  decoded->object->SetDefaults();
  if (!applied) {
    field_managers_.RecordUpdate(kind, nullptr, *decoded->object, request, "", NowText());
  }
  auto converted = api::conversion::ToStorageVersion(kind, std::move(decoded->object));
  if (!converted.ok()) return StatusResponse(converted.error());
  api::Object& object = **converted;
  if (auto refused = Admit(target, admission::Operation::kCreate, sent_name, &object, nullptr,
                           request, warnings)) {
    return *std::move(refused);
  }
  auto& metadata = object.metadata();
  metadata.uid = NewUuid();  // before the strategy: a job's selector is made of its uid
  StrategyFor(api::StorageKind(kind)).PrepareForCreateAs(object, target.user);
  if (auto* custom = dynamic_cast<apiextensions::UnstructuredObject*>(&object);
      custom != nullptr && HasSubresource(kind, "status")) {
    // With a status subresource a new custom resource starts without status, as upstream's.
    custom->content().erase("status");
  }
  // Fields the server owns on create, whatever the client sent (the uid above).
  metadata.creation_timestamp = api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count());
  metadata.resource_version.clear();
  metadata.deletion_timestamp.reset();
  metadata.deletion_grace_period_seconds.reset();
  metadata.self_link.clear();
  if (TracksGeneration(kind)) metadata.generation = 1;
  if (auto error = Validate(kind, object)) {
    return ObjectError(kind, metadata.name, *std::move(error));
  }
  if (IsDryRun(request)) {
    return WithWarnings(StoredObjectResponse(201, kind, object, request), warnings);
  }
  const std::string name = metadata.name;
  auto lease = LeaseForWrite(kind);
  if (!lease.ok()) return StatusResponse(lease.error());
  const std::string stored_json = ToStoredJson(object);
  auto revision = store_.Create(StorageKey(kind, metadata.namespace_, name), stored_json, *lease);
  if (!revision.ok()) {
    if (revision.error().code() == ErrorCode::kAlreadyExists) {
      return ObjectError(
          kind, name,
          Error(ErrorCode::kAlreadyExists,
                fmt::format("{} \"{}\" already exists", QualifiedResource(kind), name)));
    }
    return StatusResponse(revision.error());
  }
  return WithWarnings(
      WrittenObjectResponse(201, kind, object, stored_json, revision->mod_revision, request),
      warnings);
}

http::Response ResourceHandler::Get(const ResourceRequest& target,
                                    const http::Request& request) const {
  if (auto too_new = CheckGetResourceVersion(store_, request)) return *std::move(too_new);
  if (auto cached = cached_->Get(
          *target.kind, StorageKey(*target.kind, target.namespace_, target.name), request)) {
    if (*cached == nullptr) return NotFound(*target.kind, target.name);
    if (WantsTable(request)) {
      api::meta::v1::ListMeta list_meta;
      list_meta.resource_version = (*cached)->metadata().resource_version;
      std::vector<api::ObjectPtr> one;
      one.push_back(*std::move(cached));
      return TableResponse(*target.kind, one, std::move(list_meta), request, clock_);
    }
    return ObjectResponse(200, *target.kind, **cached, request);
  }
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

std::optional<ResourceHandler::StoredObject> ResourceHandler::LoadCached(
    const ResourceRequest& target) const {
  const api::KindInfo& kind = *target.kind;
  std::string key = StorageKey(kind, target.namespace_, target.name);
  watchcache::CachedObjectPtr cached = cached_->Cached(kind, key);
  if (cached == nullptr) return std::nullopt;
  auto object = DecodeStored(kind, cached->json, cached->revision);
  if (!object.ok()) return std::nullopt;
  storage::KeyValue kv{.key = std::move(key),
                       .create_revision = cached->create_revision,
                       .mod_revision = cached->revision};
  const std::string* json = &cached->json;
  return StoredObject{std::move(kv), std::move(object).value(),
                      std::shared_ptr<const std::string>(std::move(cached), json)};
}

http::Response ResourceHandler::List(const ResourceRequest& target,
                                     const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  auto parsed = ParseListRequest(kind, request);
  if (auto* failure = std::get_if<http::Response>(&parsed)) return std::move(*failure);
  const auto& list = std::get<ListRequest>(parsed);
  const std::string prefix = ListPrefix(target, list.filter);
  auto cached = cached_->List(kind, prefix, list, request);
  auto page =
      cached ? *std::move(cached)
             : ReadListPage(store_, prefix, list.options, list.filter,
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
  // The first attempt writes over the watch cache's copy, as upstream's GuaranteedUpdate starts
  // from its cached object: only a success answers it (the write is a compare-and-swap on the
  // copy's revision); anything else is done again, from the body, over the store's copy.
  if (!IsDryRun(request)) {
    if (auto cached = LoadCached(target)) {
      http::Response response = UpdateOver(target, request, std::move(*cached));
      if (response.status >= 200 && response.status <= 299) return response;
    }
  }
  return UpdateOver(target, request, std::nullopt);
}

http::Response ResourceHandler::UpdateOver(const ResourceRequest& target,
                                           const http::Request& request,
                                           std::optional<StoredObject> cached) const {
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
  auto loaded =
      cached ? std::variant<StoredObject, http::Response>(*std::move(cached)) : Load(target);
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
                                             http::Response warnings, bool* conflicted,
                                             bool applied) const {
  const api::KindInfo& kind = *target.kind;
  auto& metadata = object.metadata();
  // Identity and history stay as the server recorded them.
  const auto& old_metadata = current.metadata();
  if (!metadata.uid.empty() && metadata.uid != old_metadata.uid) {
    return ObjectError(kind, target.name,
                       validation::ToInvalidError(
                           QualifiedKind(kind), target.name,
                           {validation::Invalid(validation::FieldPath("metadata").Child("uid"),
                                                metadata.uid, "field is immutable")}));
  }
  metadata.uid = old_metadata.uid;
  metadata.creation_timestamp = old_metadata.creation_timestamp;
  metadata.generation = old_metadata.generation;
  metadata.deletion_timestamp = old_metadata.deletion_timestamp;
  metadata.deletion_grace_period_seconds = old_metadata.deletion_grace_period_seconds;
  object.SetDefaults();
  PrepareUpdate(kind, target.subresource, object, current);
  if (!applied) {
    field_managers_.RecordUpdate(kind, &current, object, request, target.subresource, NowText());
  }
  // Validated and stored in the version the store holds.
  auto converted = api::conversion::ToStorageVersion(kind, object.Clone());
  if (!converted.ok()) return StatusResponse(converted.error());
  api::Object& stored = **converted;
  if (auto refused = Admit(target, admission::Operation::kUpdate, target.name, &stored, &current,
                           request, warnings)) {
    return *std::move(refused);
  }
  if (auto error = Validate(kind, stored, &current, target.subresource)) {
    return ObjectError(kind, target.name, *std::move(error));
  }
  if (IsDryRun(request)) {
    stored.metadata().resource_version = ResourceVersionText(current_revision);
    return WithWarnings(StoredObjectResponse(200, kind, stored, request), warnings);
  }
  // An update that removes the last finalizer of an object being deleted deletes it, as
  // upstream's store does (a graceful deletion still running waits for its grace period).
  if (FinalizersDone(stored, current)) {
    auto deleted =
        store_.Delete(StorageKey(kind, target.namespace_, target.name), current_revision);
    if (!deleted.ok()) {
      if (deleted.error().code() == ErrorCode::kConflict) {
        if (conflicted != nullptr) *conflicted = true;
        return ObjectError(kind, target.name, ConflictError(kind, target.name));
      }
      if (deleted.error().code() == ErrorCode::kNotFound) return NotFound(kind, target.name);
      return StatusResponse(deleted.error());
    }
    stored.metadata().resource_version = ResourceVersionText(current_revision);
    return WithWarnings(StoredObjectResponse(200, kind, stored, request), warnings);
  }
  const std::string stored_json = ToStoredJson(stored);
  auto revision = StoreUpdate(target, stored_json, current_revision, conflicted);
  if (auto* failure = std::get_if<http::Response>(&revision)) return std::move(*failure);
  return WithWarnings(
      WrittenObjectResponse(200, kind, stored, stored_json, std::get<int64_t>(revision), request),
      warnings);
}

std::variant<int64_t, http::Response> ResourceHandler::StoreUpdate(const ResourceRequest& target,
                                                                   std::string_view stored_json,
                                                                   int64_t current_revision,
                                                                   bool* conflicted) const {
  const api::KindInfo& kind = *target.kind;
  auto lease = LeaseForWrite(kind);
  if (!lease.ok()) return StatusResponse(lease.error());
  auto written = store_.Update(StorageKey(kind, target.namespace_, target.name), stored_json,
                               current_revision, *lease);
  if (written.ok()) return written->mod_revision;
  switch (written.error().code()) {
    case ErrorCode::kConflict:
      if (conflicted != nullptr) *conflicted = true;
      return ObjectError(kind, target.name, ConflictError(kind, target.name));
    case ErrorCode::kNotFound: return NotFound(kind, target.name);
    default: return StatusResponse(written.error());
  }
}

http::Response ResourceHandler::Patch(const ResourceRequest& target,
                                      const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  const std::string* content_type_header = request.FindHeader("Content-Type");
  const std::string content_type =
      content_type_header == nullptr
          ? ""
          : content_type_header->substr(0, content_type_header->find(';'));
  const bool is_apply = content_type == "application/apply-patch+yaml";
  if (auto options = FieldManagers::ValidatePatchOptions(request, is_apply); !options.ok()) {
    return StatusResponse(options.error());
  }
  if (is_apply) return ServerSideApply(target, request);
  enum class PatchType { kJson, kMerge, kStrategic };
  PatchType type;
  if (content_type == "application/json-patch+json") {
    type = PatchType::kJson;
  } else if (content_type == "application/merge-patch+json") {
    type = PatchType::kMerge;
  } else if (content_type == "application/strategic-merge-patch+json" &&
             apiextensions::CustomResourceOf(kind) == nullptr) {
    type = PatchType::kStrategic;
  } else if (apiextensions::CustomResourceOf(kind) != nullptr) {
    return StatusResponse(Error(ErrorCode::kUnsupportedMediaType,
                                "the body of the request was in an unknown format - accepted media "
                                "types include: application/json-patch+json, "
                                "application/merge-patch+json, application/apply-patch+yaml"));
  } else {
    return StatusResponse(Error(ErrorCode::kUnsupportedMediaType,
                                "the body of the request was in an unknown format - accepted media "
                                "types include: application/json-patch+json, "
                                "application/merge-patch+json, application/apply-patch+yaml, "
                                "application/strategic-merge-patch+json"));
  }
  auto policy = FieldValidation(request);
  if (!policy.ok()) return StatusResponse(policy.error());
  // A patch carries no precondition unless it sets a resourceVersion, so a write that raced
  // with it is simply retried against the newer object, as upstream does. The first attempt
  // patches the watch cache's copy, as upstream's GuaranteedUpdate starts from its cached
  // object: only a success answers it, anything else is tried again from the store.
  bool try_cache = !IsDryRun(request);
  for (int attempt = 0;; ++attempt) {
    std::optional<StoredObject> cached = try_cache ? LoadCached(target) : std::nullopt;
    const bool from_cache = cached.has_value();
    try_cache = false;
    auto loaded =
        from_cache ? std::variant<StoredObject, http::Response>(*std::move(cached)) : Load(target);
    if (auto* failure = std::get_if<http::Response>(&loaded)) return std::move(*failure);
    const auto& current = std::get<StoredObject>(loaded);
    bool conflicted = false;
    http::Response response = [&]() -> http::Response {
      // The object as a client reads it; from the cache's text when there is one.
      auto served = patch::ParseJson(current.cached_json != nullptr && StoredAsServed(kind)
                                         ? api::WithTypeMeta(kind, *current.cached_json)
                                         : ToResponseJson(kind, *current.object->Clone()));
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
      return CommitUpdate(target, request, object, *current.object, current.kv.mod_revision,
                          warnings, &conflicted);
    }();
    if (from_cache && (response.status < 200 || response.status > 299)) {
      --attempt;  // not an attempt: the store's copy decides
      continue;
    }
    if (!conflicted || attempt >= 4) return response;
  }
}

http::Response ResourceHandler::ServerSideApply(const ResourceRequest& target,
                                                const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  auto policy = FieldValidation(request);
  if (!policy.ok()) return StatusResponse(policy.error());
  for (int attempt = 0;; ++attempt) {
    auto kv = store_.Get(StorageKey(kind, target.namespace_, target.name));
    if (!kv.ok() && kv.error().code() != ErrorCode::kNotFound) return StatusResponse(kv.error());
    if (!kv.ok()) {
      // Applying what does not exist creates it, with the applier owning what it applied.
      auto merged = field_managers_.Apply(kind, target.name, nullptr, request, NowText());
      if (!merged.ok()) return ObjectError(kind, target.name, merged.error());
      http::Request create = request;
      create.body = *std::move(merged);
      // The merged object is JSON whatever the configuration came as.
      std::erase_if(create.headers, [](const auto& header) {
        return strcasecmp(header.name.c_str(), "Content-Type") == 0;
      });
      http::Response response = Create(target, create, /*applied=*/true);
      if (response.status != 409 || attempt >= 4) return response;
      continue;  // created meanwhile: apply to it
    }
    auto current = FromStored(kind, *kv);
    if (!current.ok()) return StatusResponse(InternalError(current.error().message()));
    const std::string live = ToResponseJson(kind, *(*current)->Clone());
    auto merged = field_managers_.Apply(kind, target.name, &live, request, NowText());
    if (!merged.ok()) return ObjectError(kind, target.name, merged.error());
    http::Response warnings;
    auto decoded = kind.codec->Decode(*merged, {.unknown_fields = *policy});
    if (!decoded.ok()) return StatusResponse(decoded.error());
    AddFieldWarnings(*decoded, warnings);
    api::Object& object = *decoded->object;
    if (object.metadata().namespace_ != target.namespace_) {
      return StatusResponse(
          BadRequestError(fmt::format("the namespace of the provided object does not match the "
                                      "namespace sent on the request")));
    }
    if (object.metadata().resource_version != ResourceVersionText(kv->mod_revision)) {
      return ObjectError(kind, target.name, ConflictError(kind, target.name));
    }
    bool conflicted = false;
    http::Response response = CommitUpdate(target, request, object, **current, kv->mod_revision,
                                           warnings, &conflicted, /*applied=*/true);
    if (!conflicted || attempt >= 4) return response;
  }
}

http::Response ResourceHandler::Delete(const ResourceRequest& target,
                                       const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  if (auto status = StrategyFor(kind).CheckDelete(kind, target.name); !status.ok()) {
    return ObjectError(kind, target.name, status.error());
  }
  auto options = ParseDeleteOptions(request);
  if (!options.ok()) return StatusResponse(options.error());
  return DeleteObject(target, *options, request);
}

http::Response ResourceHandler::DeleteObject(const ResourceRequest& target,
                                             const api::meta::v1::DeleteOptions& options,
                                             const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  const bool dry_run =
      std::find(options.dry_run.begin(), options.dry_run.end(), "All") != options.dry_run.end();
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  // Each attempt plans against the object as stored and writes only if it is still that one.
  for (int attempt = 0;; ++attempt) {
    auto loaded = Load(target);
    if (auto* failure = std::get_if<http::Response>(&loaded)) return std::move(*failure);
    auto& stored = std::get<StoredObject>(loaded);
    const auto& metadata = stored.object->metadata();
    if (const auto& preconditions = options.preconditions) {
      if (preconditions->uid && *preconditions->uid != metadata.uid) {
        return ObjectError(
            kind, target.name,
            Error(ErrorCode::kConflict,
                  fmt::format("Operation cannot be fulfilled on {} \"{}\": the UID in the "
                              "precondition ({}) does not match the UID in record ({}). The "
                              "object might have been deleted and then recreated",
                              QualifiedResource(kind), target.name, *preconditions->uid,
                              metadata.uid)));
      }
      if (preconditions->resource_version &&
          *preconditions->resource_version != metadata.resource_version) {
        return ObjectError(
            kind, target.name,
            Error(ErrorCode::kConflict,
                  fmt::format("Operation cannot be fulfilled on {} \"{}\": the ResourceVersion "
                              "in the precondition ({}) does not match the ResourceVersion in "
                              "record ({}). The object might have been modified",
                              QualifiedResource(kind), target.name,
                              *preconditions->resource_version, metadata.resource_version)));
      }
    }
    http::Response admission_warnings;
    if (auto refused = Admit(target, admission::Operation::kDelete, target.name, nullptr,
                             stored.object.get(), request, admission_warnings)) {
      return *std::move(refused);
    }
    auto object = stored.object->Clone();
    auto planned_options = options;
    Result<DeleteAction> action = DeleteAction::kDeleteNow;
    if (&api::StorageKind(kind) == namespaces_) {
      auto terminating = BeginNamespaceTermination(kind, *object, planned_options, now);
      if (!terminating.ok()) return ObjectError(kind, target.name, terminating.error());
      action = *terminating ? Result<DeleteAction>(DeleteAction::kUpdate)
                            : PlanDelete(kind, *object, planned_options, now);
    } else if (apiextensions::IsCustomResourceDefinition(kind) &&
               !object->metadata().deletion_timestamp.has_value()) {
      // A definition's objects go first (apiextensions/crd_controller.h).
      apiextensions::BeginCrdTermination(*object, NowText());
      action = DeleteAction::kUpdate;
    } else {
      action = PlanDelete(kind, *object, planned_options, now);
    }
    if (!action.ok()) return StatusResponse(action.error());
    // Nothing to change (already being deleted as asked): no write, as upstream skips no-op
    // updates.
    if (*action == DeleteAction::kPending ||
        (*action == DeleteAction::kUpdate && object->ToJson() == stored.object->ToJson())) {
      return ObjectResponse(200, kind, *stored.object, request);
    }
    const std::string key = stored.kv.key;
    if (*action == DeleteAction::kUpdate) {
      // Kept, as being deleted: answered with its new state.
      auto converted = api::conversion::ToStorageVersion(kind, object->Clone());
      if (!converted.ok()) return StatusResponse(converted.error());
      if (dry_run) return StoredObjectResponse(200, kind, **converted, request);
      auto revision = store_.Update(key, ToStoredJson(**converted), stored.kv.mod_revision);
      if (!revision.ok()) {
        if (revision.error().code() == ErrorCode::kConflict && attempt < 4) continue;
        if (revision.error().code() == ErrorCode::kNotFound) return NotFound(kind, target.name);
        return StatusResponse(revision.error());
      }
      (*converted)->metadata().resource_version = ResourceVersionText(revision->mod_revision);
      return StoredObjectResponse(200, kind, **converted, request);
    }
    if (!dry_run) {
      auto deleted = store_.Delete(key, stored.kv.mod_revision);
      if (!deleted.ok()) {
        if (deleted.error().code() == ErrorCode::kConflict && attempt < 4) continue;
        if (deleted.error().code() == ErrorCode::kNotFound) return NotFound(kind, target.name);
        return StatusResponse(deleted.error());
      }
    }
    // Pods and namespaces answer with the deleted object, as upstream's stores for them do;
    // other kinds with a Status.
    if (kind.group.empty() && (kind.kind == "Pod" || kind.kind == "Namespace")) {
      return ObjectResponse(200, kind, *stored.object, request);
    }
    std::string details =
        fmt::format(R"({{"name":"{}",{}"kind":"{}","uid":"{}"}})", target.name,
                    kind.group.empty() ? "" : fmt::format(R"("group":"{}",)", kind.group),
                    kind.plural, metadata.uid);
    return JsonResponse(
        200,
        fmt::format(R"({{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Success",)"
                    R"("details":{}}})",
                    details));
  }
}

http::Response ResourceHandler::DeleteCollection(const ResourceRequest& target,
                                                 const http::Request& request) const {
  const api::KindInfo& kind = *target.kind;
  if (!HasVerb(kind, "deletecollection")) return NotAllowed();
  auto parsed = ParseListRequest(kind, request);
  if (auto* failure = std::get_if<http::Response>(&parsed)) return std::move(*failure);
  auto& list = std::get<ListRequest>(parsed);
  auto options = ParseDeleteOptions(request);
  if (!options.ok()) return StatusResponse(options.error());
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
      // Each object goes as a delete of it would (grace periods, finalizers).
      const ResourceRequest one{&kind, metadata.namespace_, metadata.name, "", target.user};
      http::Response removed = DeleteObject(one, *options, request);
      if (removed.status >= 300 && removed.status != 404) return removed;
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
  cached_->Prewarm(kinds_);
  return Ok();
}

}  // namespace kpp::apiserver
