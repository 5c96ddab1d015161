#include "apiserver/audit/auditor.h"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "api/runtime/protobuf.h"
#include "apimachinery/yaml/yaml_to_json.h"
#include "apiserver/ops/request_info.h"
#include "base/log.h"
#include "base/random.h"

namespace kpp::apiserver::audit {

namespace json = boost::json;
using SystemTime = std::chrono::system_clock::time_point;

// What one request's events are made of. Filled on the request's thread; once the policy has
// decided (and RequestReceived is queued) only `annotations` (events copy them) and `request`
// (events never read it) change, so the writer thread reads the rest without locks.
struct Auditor::Record : std::enable_shared_from_this<Auditor::Record> {
  const Auditor* auditor = nullptr;
  // The request, while its handler runs (Decide copies the body from it).
  const http::Request* request = nullptr;
  std::string audit_id;
  std::string request_uri;
  std::string user_agent;
  std::vector<std::string> source_ips;
  // At levels Request and RequestResponse; at Metadata too for creates and updates, whose
  // object's metadata completes objectRef (never written out there).
  std::string request_body;
  std::string request_content_type;
  SystemTime received;
  ops::RequestInfo info;
  std::optional<UserInfo> user;
  // Set by the request's thread after the RequestReceived stage, as upstream's impersonation
  // filter runs after its audit filter; events copy it.
  std::optional<UserInfo> impersonated_user;
  bool decided = false;
  Decision decision;
  json::object annotations;
};

namespace {

// One event, queued; its JSON is made on the writer's thread, off the request's path.
struct PendingEvent {
  std::shared_ptr<const Auditor::Record> record;
  std::string_view stage;
  SystemTime stage_time;
  bool has_response = false;
  int status = 0;
  std::string error_body;     // a failure's Status
  std::string response_body;  // only at RequestResponse
  std::string response_content_type;
  json::object annotations;
  std::optional<UserInfo> impersonated_user;
};

}  // namespace

namespace {

thread_local Auditor::Record* current_record = nullptr;

// metav1.MicroTime: RFC 3339 in UTC with microseconds.
std::string MicroTime(SystemTime time) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:06}Z", text, micros % 1000000);
}

// What may never be recorded beyond Metadata: objects that carry credentials.
bool IsSensitive(const ops::RequestInfo& info) {
  if (!info.is_resource_request) return false;
  if (info.api_group.empty() && info.resource == "secrets") return true;
  if (info.api_group.empty() && info.resource == "serviceaccounts" && info.subresource == "token")
    return true;
  return info.api_group == "authentication.k8s.io" && info.resource == "tokenreviews";
}

std::vector<std::string> SourceIps(const http::Request& request) {
  std::vector<std::string> ips;
  if (const std::string* forwarded = request.FindHeader("X-Forwarded-For")) {
    std::string_view rest = *forwarded;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view ip = rest.substr(0, comma);
      while (!ip.empty() && ip.front() == ' ')
        ip.remove_prefix(1);
      while (!ip.empty() && ip.back() == ' ')
        ip.remove_suffix(1);
      if (!ip.empty()) ips.emplace_back(ip);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  std::string remote = request.remote_address;
  if (const auto colon = remote.rfind(':'); colon != std::string::npos) remote.resize(colon);
  if (remote.size() > 2 && remote.front() == '[' && remote.back() == ']') {
    remote = remote.substr(1, remote.size() - 2);
  }
  if (!remote.empty() && std::find(ips.begin(), ips.end(), remote) == ips.end()) {
    ips.push_back(remote);
  }
  return ips;
}

void DropManagedFields(json::value& object) {
  if (!object.is_object()) return;
  if (json::value* metadata = object.get_object().if_contains("metadata");
      metadata != nullptr && metadata->is_object()) {
    metadata->get_object().erase("managedFields");
  }
  if (json::value* items = object.get_object().if_contains("items");
      items != nullptr && items->is_array()) {
    for (json::value& item : items->get_array())
      DropManagedFields(item);
  }
}

// The JSON of a protobuf body (one object of a built-in kind, as kubectl's typed clients send
// and accept), as upstream logs the decoded object whatever the wire encoding.
std::optional<std::string> ProtobufToJson(std::string_view body) {
  auto envelope = api::protobuf::Unwrap(body);
  if (!envelope.ok()) return std::nullopt;
  for (const api::KindInfo& kind : api::AllKinds()) {
    if (kind.kind != envelope->kind || kind.codec == nullptr ||
        api::GroupVersionOf(kind) != envelope->api_version) {
      continue;
    }
    auto object = kind.codec->DecodeProtobuf(envelope->message);
    if (!object.ok()) return std::nullopt;
    (*object)->kind() = envelope->kind;
    (*object)->api_version() = envelope->api_version;
    return (*object)->ToJson();
  }
  return std::nullopt;
}

// A JSON, YAML or protobuf body as a JSON object; nullopt for anything else.
std::optional<json::value> BodyObject(std::string_view body, const std::string* content_type,
                                      bool omit_managed_fields) {
  if (body.empty()) return std::nullopt;
  std::string text;
  if (content_type != nullptr && content_type->find("protobuf") != std::string::npos) {
    auto converted = ProtobufToJson(body);
    if (!converted) return std::nullopt;
    text = *std::move(converted);
    body = text;
  } else if (content_type != nullptr && content_type->find("yaml") != std::string::npos) {
    auto converted = yaml::ToJson(body);
    if (!converted.ok()) return std::nullopt;
    text = *std::move(converted);
    body = text;
  } else if (content_type != nullptr && content_type->find("json") == std::string::npos) {
    return std::nullopt;
  }
  boost::system::error_code error;
  json::value value = json::parse(body, error);
  if (error || !value.is_object()) return std::nullopt;
  if (omit_managed_fields) DropManagedFields(value);
  return value;
}

// Creates and updates send an object; its metadata completes the event's objectRef.
bool CarriesObject(const ops::RequestInfo& info) {
  return info.is_resource_request && (info.verb == "create" || info.verb == "update");
}

struct ObjectMetadata {
  std::string namespace_, name, uid, resource_version;
};

ObjectMetadata MetadataOf(const json::value& object) {
  ObjectMetadata out;
  const auto* metadata = object.as_object().if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return out;
  auto text = [&](std::string_view key) -> std::string {
    const auto* value = metadata->as_object().if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
  };
  out.namespace_ = text("namespace");
  out.name = text("name");
  out.uid = text("uid");
  out.resource_version = text("resourceVersion");
  return out;
}

const std::string* ResponseHeader(const http::Response& response, std::string_view name) {
  for (const auto& header : response.headers) {
    if (header.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), header.name.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return &header.value;
    }
  }
  return nullptr;
}

json::object ResponseStatus(int code, std::string_view error_body) {
  json::object status;
  status["metadata"] = json::object();
  if (!error_body.empty()) {
    boost::system::error_code error;
    json::value body = json::parse(error_body, error);
    if (!error && body.is_object() && body.get_object().contains("status")) {
      for (std::string_view field : {"status", "message", "reason", "details"}) {
        if (const json::value* value = body.get_object().if_contains(field)) status[field] = *value;
      }
    }
  }
  status["code"] = code;
  return status;
}

// Ends the record of a watch when its stream ends.
class AuditedStream final : public http::BodyStream {
 public:
  AuditedStream(std::shared_ptr<http::BodyStream> inner, std::function<void()> on_end)
      : inner_(std::move(inner)), on_end_(std::move(on_end)) {}
  ~AuditedStream() override { on_end_(); }
  std::optional<std::string> Next() override { return inner_->Next(); }
  void Cancel() override { inner_->Cancel(); }

 private:
  std::shared_ptr<http::BodyStream> inner_;
  std::function<void()> on_end_;
};

// JSON text appended by hand: an event has a fixed shape, and building a boost::json object for
// each (a dozen allocations, a hash table) cost more than the request it records.
void AppendQuoted(std::string& out, std::string_view text) {
  out += '"';
  size_t run = 0;  // start of the characters not yet appended
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    }
  }
  out.append(text.substr(run));
  out += '"';
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  AppendQuoted(out, value);
}

void AppendStrings(std::string& out, const std::vector<std::string>& values) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    AppendQuoted(out, values[i]);
  }
  out += ']';
}

void AppendUser(std::string& out, const UserInfo& user) {
  out += "{\"username\":";
  AppendQuoted(out, user.name);
  if (!user.uid.empty()) AppendField(out, "uid", user.uid);
  if (!user.groups.empty()) {
    out += ",\"groups\":";
    AppendStrings(out, user.groups);
  }
  if (!user.extra.empty()) {
    out += ",\"extra\":{";
    bool first = true;
    for (const auto& [key, values] : user.extra) {
      if (!first) out += ',';
      first = false;
      AppendQuoted(out, key);
      out += ':';
      AppendStrings(out, values);
    }
    out += '}';
  }
  out += '}';
}

std::string FormatEvent(const PendingEvent& pending) {
  const Auditor::Record& record = *pending.record;
  const Level level = record.decision.level;
  std::string out;
  out.reserve(768);
  out += R"({"kind":"Event","apiVersion":"audit.k8s.io/v1")";
  AppendField(out, "level", LevelName(level));
  AppendField(out, "auditID", record.audit_id);
  AppendField(out, "stage", pending.stage);
  AppendField(out, "requestURI", record.request_uri);
  AppendField(out, "verb", record.info.verb);
  out += ",\"user\":";
  if (record.user) {
    AppendUser(out, *record.user);
  } else {
    out += "{}";
  }
  if (pending.impersonated_user) {
    out += ",\"impersonatedUser\":";
    AppendUser(out, *pending.impersonated_user);
  }
  out += ",\"sourceIPs\":";
  AppendStrings(out, record.source_ips);
  if (!record.user_agent.empty()) AppendField(out, "userAgent", record.user_agent);
  // The request's object, once the handler has read it (upstream completes objectRef from it
  // then, so the RequestReceived stage goes without).
  std::optional<json::value> request_object;
  if (pending.has_response) {
    request_object = BodyObject(record.request_body, &record.request_content_type,
                                record.decision.omit_managed_fields);
  }
  if (record.info.is_resource_request) {
    const ops::RequestInfo& info = record.info;
    ObjectMetadata metadata;
    if (request_object && CarriesObject(info)) metadata = MetadataOf(*request_object);
    auto either = [](const std::string& from_path, const std::string& from_object) {
      return from_path.empty() ? from_object : from_path;
    };
    out += ",\"objectRef\":{\"resource\":";
    AppendQuoted(out, info.resource);
    if (const auto& ns = either(info.namespace_, metadata.namespace_); !ns.empty()) {
      AppendField(out, "namespace", ns);
    }
    if (const auto& name = either(info.name, metadata.name); !name.empty()) {
      AppendField(out, "name", name);
    }
    if (!metadata.uid.empty()) AppendField(out, "uid", metadata.uid);
    if (!info.api_group.empty()) AppendField(out, "apiGroup", info.api_group);
    AppendField(out, "apiVersion", info.api_version);
    if (!metadata.resource_version.empty()) {
      AppendField(out, "resourceVersion", metadata.resource_version);
    }
    if (!info.subresource.empty()) AppendField(out, "subresource", info.subresource);
    out += '}';
  }
  if (pending.has_response) {
    out += ",\"responseStatus\":";
    if (pending.error_body.empty()) {
      out += fmt::format(R"({{"metadata":{{}},"code":{}}})", pending.status);
    } else {
      out += json::serialize(ResponseStatus(pending.status, pending.error_body));
    }
    if (level >= Level::kRequest && request_object) {
      out += ",\"requestObject\":";
      out += json::serialize(*request_object);
    }
    if (level >= Level::kRequestResponse) {
      if (auto object = BodyObject(pending.response_body, &pending.response_content_type,
                                   record.decision.omit_managed_fields)) {
        out += ",\"responseObject\":";
        out += json::serialize(*object);
      }
    }
  }
  AppendField(out, "requestReceivedTimestamp", MicroTime(record.received));
  AppendField(out, "stageTimestamp", MicroTime(pending.stage_time));
  if (!pending.annotations.empty()) {
    out += ",\"annotations\":";
    out += json::serialize(pending.annotations);
  }
  out += '}';
  return out;
}

}  // namespace

Result<std::unique_ptr<Auditor>> Auditor::Create(const AuditOptions& options) {
  if (options.log_path.empty()) return std::make_unique<Auditor>(std::nullopt, nullptr);
  if (options.policy_file.empty()) {
    KLOG_WARNING("no audit policy file provided, no events will be recorded");
    return std::make_unique<Auditor>(std::nullopt, nullptr);
  }
  KPP_ASSIGN_OR_RETURN(Policy policy, LoadPolicy(options.policy_file));
  LogWriterOptions writer_options;
  writer_options.path = options.log_path;
  writer_options.max_age_days = options.log_max_age_days;
  writer_options.max_backups = options.log_max_backups;
  writer_options.max_size_mb = options.log_max_size_mb;
  KPP_ASSIGN_OR_RETURN(auto writer, LogWriter::Open(writer_options));
  KLOG_INFO("audit log: {} (policy {}, {} rules)", options.log_path, options.policy_file,
            policy.rules.size());
  return std::make_unique<Auditor>(std::move(policy), std::move(writer));
}

void Auditor::Flush() const {
  if (writer_) writer_->Flush();
}

void Auditor::Decide(Record& record) const {
  record.decided = true;
  static const UserInfo kNobody;
  record.decision = Evaluate(*policy_, record.user ? *record.user : kNobody, record.info);
  if (IsSensitive(record.info) && record.decision.level > Level::kMetadata) {
    record.decision.level = Level::kMetadata;
  }
  if (record.request != nullptr &&
      (record.decision.level >= Level::kRequest ||
       (record.decision.level == Level::kMetadata && CarriesObject(record.info)))) {
    record.request_body = record.request->body;
    if (const std::string* type = record.request->FindHeader("Content-Type")) {
      record.request_content_type = *type;
    }
  }
  if (record.decision.level != Level::kNone && !record.decision.Omits(Stage::kRequestReceived)) {
    Emit(record.shared_from_this(), StageName(Stage::kRequestReceived), nullptr);
  }
}

void Auditor::Emit(const std::shared_ptr<Record>& record, std::string_view stage,
                   const http::Response* response) const {
  PendingEvent event;
  event.record = record;
  event.stage = stage;
  event.stage_time = std::chrono::system_clock::now();
  event.annotations = record->annotations;
  event.impersonated_user = record->impersonated_user;
  if (response != nullptr) {
    event.has_response = true;
    event.status = response->status;
    if (response->status >= 300 && !response->stream) event.error_body = response->body;
    if (record->decision.level >= Level::kRequestResponse && !response->stream) {
      event.response_body = response->body;
      if (const std::string* type = ResponseHeader(*response, "Content-Type")) {
        event.response_content_type = *type;
      }
    }
  }
  writer_->Write([event = std::move(event)] { return FormatEvent(event); });
}

http::Response Auditor::Handle(const http::Request& request, const Handler& handler) const {
  const std::string* client_id = request.FindHeader("Audit-Id");
  std::string audit_id = client_id != nullptr && !client_id->empty() ? *client_id : NewUuid();
  if (!writer_) {
    http::Response response = handler(request);
    response.SetHeader("Audit-Id", std::move(audit_id));
    return response;
  }
  auto record = std::make_shared<Record>();
  record->auditor = this;
  record->request = &request;
  record->audit_id = audit_id;
  record->request_uri = request.target;
  if (const std::string* agent = request.FindHeader("User-Agent")) record->user_agent = *agent;
  record->source_ips = SourceIps(request);
  record->received = std::chrono::system_clock::now();
  record->info = ops::ParseRequestInfo(request.method, request.path, request.query);
  Record* const outer = current_record;
  current_record = record.get();
  http::Response response;
  try {
    response = handler(request);
  } catch (...) {
    current_record = outer;
    if (!record->decided) Decide(*record);
    record->request = nullptr;
    if (record->decision.level != Level::kNone && !record->decision.Omits(Stage::kPanic)) {
      http::Response failure{500, {}, {}};
      Emit(record, StageName(Stage::kPanic), &failure);
    }
    throw;
  }
  current_record = outer;
  if (!record->decided) Decide(*record);
  record->request = nullptr;
  response.SetHeader("Audit-Id", std::move(audit_id));
  if (record->decision.level == Level::kNone) return response;
  if (response.stream) {
    if (!record->decision.Omits(Stage::kResponseStarted)) {
      Emit(record, StageName(Stage::kResponseStarted), &response);
    }
    if (!record->decision.Omits(Stage::kResponseComplete)) {
      response.stream = std::make_shared<AuditedStream>(
          std::move(response.stream), [this, record, status = response.status] {
            http::Response end{status, {}, {}};
            Emit(record, StageName(Stage::kResponseComplete), &end);
          });
    }
    return response;
  }
  if (!record->decision.Omits(Stage::kResponseComplete)) {
    Emit(record, StageName(Stage::kResponseComplete), &response);
  }
  return response;
}

void SetRequestUser(const UserInfo& user) {
  if (current_record == nullptr || current_record->decided) return;
  current_record->user = user;
  // Recorded now, before the request is served, as upstream records it.
  current_record->auditor->Decide(*current_record);
}

void SetImpersonatedUser(const UserInfo& user) {
  if (current_record == nullptr) return;
  current_record->impersonated_user = user;
}

void AddRequestAnnotation(std::string_view key, std::string_view value) {
  if (current_record == nullptr) return;
  current_record->annotations[key] = value;
}

}  // namespace kpp::apiserver::audit
