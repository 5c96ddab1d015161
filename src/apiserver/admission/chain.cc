#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>

#include "apiserver/admission/admission.h"
#include "storage/store.h"

namespace kpp::apiserver::admission {
namespace {

std::string QualifiedResource(std::string_view group, std::string_view resource) {
  return group.empty() ? std::string(resource) : fmt::format("{}.{}", resource, group);
}

std::string StorageKeyOf(std::string_view group, std::string_view resource,
                         std::string_view namespace_, std::string_view name) {
  std::string key =
      fmt::format("/registry/{}/{}/", group.empty() ? std::string_view("core") : group, resource);
  if (!namespace_.empty()) key += std::string(namespace_) + "/";
  key += name;
  return key;
}

Result<boost::json::object> ParseStored(std::string_view value) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(value, ec);
  if (ec || !parsed.is_object()) return InternalError("stored object is not a JSON object");
  return std::move(parsed.as_object());
}

}  // namespace

std::string_view OperationName(Operation operation) {
  switch (operation) {
    case Operation::kCreate: return "CREATE";
    case Operation::kUpdate: return "UPDATE";
    case Operation::kDelete: return "DELETE";
    case Operation::kConnect: return "CONNECT";
  }
  return "";
}

UserInfo LoopbackUser() {
  return UserInfo{"system:apiserver", {"system:authenticated", "system:masters"}, "", {}};
}

Rejection Forbidden(const Attributes& attributes, std::string_view name, std::string_view message,
                    std::vector<ErrorCause> causes) {
  const std::string resource = QualifiedResource(attributes.group, attributes.resource);
  const std::string text = name.empty()
                               ? fmt::format("{} is forbidden: {}", resource, message)
                               : fmt::format("{} \"{}\" is forbidden: {}", resource, name, message);
  return Rejection{Error(ErrorCode::kForbidden, text, std::move(causes)),
                   {std::string(name), attributes.group, attributes.resource}};
}

Rejection AdmissionForbidden(const Attributes& attributes, std::string_view message) {
  std::string name = "Unknown";
  if (!attributes.name.empty()) {
    name = attributes.name;
  } else if (attributes.object != nullptr) {
    const auto* metadata = attributes.object->if_contains("metadata");
    if (metadata != nullptr && metadata->is_object()) {
      const auto& meta = metadata->as_object();
      const auto* object_name = meta.if_contains("name");
      const auto* generate_name = meta.if_contains("generateName");
      if (attributes.operation != Operation::kCreate && object_name != nullptr &&
          object_name->is_string() && !object_name->as_string().empty()) {
        name = object_name->as_string();
      } else if (generate_name != nullptr && generate_name->is_string() &&
                 !generate_name->as_string().empty()) {
        name = generate_name->as_string();
      }
    }
  }
  if (name == "Unknown" && !attributes.generate_name.empty()) name = attributes.generate_name;
  return Forbidden(attributes, name, message);
}

Rejection NotFound(std::string_view group, std::string_view resource, std::string_view name) {
  return Rejection{
      NotFoundError(fmt::format("{} \"{}\" not found", QualifiedResource(group, resource), name)),
      {std::string(name), std::string(group), std::string(resource)}};
}

Result<std::optional<boost::json::object>> StoreReader::Get(std::string_view group,
                                                            std::string_view resource,
                                                            std::string_view namespace_,
                                                            std::string_view name) const {
  if (cached_.get) {
    if (auto json = cached_.get(group, resource, namespace_, name)) {
      KPP_ASSIGN_OR_RETURN(auto object, ParseStored(*json));
      return std::optional<boost::json::object>(std::move(object));
    }
  }
  auto kv = store_.Get(StorageKeyOf(group, resource, namespace_, name));
  if (!kv.ok()) {
    if (kv.error().code() == ErrorCode::kNotFound) return std::optional<boost::json::object>();
    return kv.error();
  }
  KPP_ASSIGN_OR_RETURN(auto object, ParseStored(kv->value));
  return std::optional<boost::json::object>(std::move(object));
}

Result<std::vector<boost::json::object>> StoreReader::List(std::string_view group,
                                                           std::string_view resource,
                                                           std::string_view namespace_) const {
  return ListFromCacheOrStore(group, resource, namespace_, std::chrono::seconds(0));
}

Result<std::vector<boost::json::object>> StoreReader::ListTrustingEmpty(
    std::string_view group, std::string_view resource, std::string_view namespace_,
    std::chrono::seconds live_ttl) const {
  return ListFromCacheOrStore(group, resource, namespace_, live_ttl);
}

Result<std::vector<boost::json::object>> StoreReader::ListFromCacheOrStore(
    std::string_view group, std::string_view resource, std::string_view namespace_,
    std::chrono::seconds live_ttl) const {
  const bool trusts_empty = cached_.list && live_ttl.count() > 0;
  std::vector<boost::json::object> objects;
  std::string prefix = StorageKeyOf(group, resource, namespace_, "");
  if (cached_.list) {
    for (const auto& json : cached_.list(group, resource, namespace_)) {
      KPP_ASSIGN_OR_RETURN(auto object, ParseStored(*json));
      objects.push_back(std::move(object));
    }
    if (!objects.empty()) return objects;
  }
  if (trusts_empty) {
    std::lock_guard lock(empty_mutex_);
    auto found = found_empty_.find(prefix);
    if (found != found_empty_.end() &&
        std::chrono::steady_clock::now() - found->second < live_ttl) {
      return objects;
    }
  }
  KPP_ASSIGN_OR_RETURN(auto range, store_.Range(storage::RangeRequest::Prefix(prefix)));
  if (trusts_empty && range.kvs.empty()) {
    std::lock_guard lock(empty_mutex_);
    if (found_empty_.size() >= 4096) found_empty_.clear();
    found_empty_[prefix] = std::chrono::steady_clock::now();
  }
  for (const auto& kv : range.kvs) {
    KPP_ASSIGN_OR_RETURN(auto object, ParseStored(kv.value));
    objects.push_back(std::move(object));
  }
  return objects;
}

Chain::Chain(std::unique_ptr<Reader> reader, Clock& clock)
    : reader_(std::move(reader)), clock_(clock) {}

Chain::~Chain() = default;

void Chain::Add(std::unique_ptr<Plugin> plugin) {
  plugins_.push_back(std::move(plugin));
}

std::vector<std::string_view> Chain::Names() const {
  std::vector<std::string_view> names;
  for (const auto& plugin : plugins_)
    names.push_back(plugin->Name());
  return names;
}

bool Chain::NeedsObject(const Attributes& attributes) const {
  return std::any_of(plugins_.begin(), plugins_.end(), [&](const auto& plugin) {
    return plugin->NeedsObjectGiven(attributes, *reader_);
  });
}

Outcome Chain::Admit(Attributes& attributes) const {
  Outcome outcome;
  Context context{*reader_, clock_, outcome.warnings};
  if (authorize_) context.authorize = &authorize_;
  context.audit_annotations = &outcome.audit_annotations;
  for (const auto& plugin : plugins_) {
    if (auto rejection = plugin->Admit(attributes, context)) {
      outcome.rejection = std::move(rejection);
      return outcome;
    }
  }
  outcome.mutated = context.mutated;
  for (const auto& plugin : plugins_) {
    if (auto rejection = plugin->Validate(attributes, context)) {
      outcome.rejection = std::move(rejection);
      return outcome;
    }
  }
  return outcome;
}

}  // namespace kpp::apiserver::admission
