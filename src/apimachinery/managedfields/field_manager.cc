#include "apimachinery/managedfields/field_manager.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <map>
#include <tuple>

#include "apimachinery/managedfields/typed_value.h"

namespace kpp::managedfields {

namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::string_view kApply = "Apply";
constexpr std::string_view kUpdate = "Update";

// Fields nobody owns: identity and bookkeeping the server sets (upstream's strip set). Only
// these paths themselves; what is below metadata (labels, ...) is owned as usual.
const FieldSet& StrippedFields() {
  static const FieldSet stripped = [] {
    FieldSet set;
    set.Insert({PathElement::Field("apiVersion")});
    set.Insert({PathElement::Field("kind")});
    set.Insert({PathElement::Field("metadata")});
    for (const char* name : {"name", "namespace", "creationTimestamp", "selfLink", "uid",
                             "clusterName", "generation", "managedFields", "resourceVersion"}) {
      set.Insert({PathElement::Field("metadata"), PathElement::Field(name)});
    }
    return set;
  }();
  return stripped;
}

std::string_view StringMember(const object& entry, std::string_view name) {
  const auto* v = entry.if_contains(name);
  return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : "";
}

// Entries are one per manager and operation; an Update entry also per API version, since
// its fields are in that version's terms. Time never counts.
bool SameIdentity(const ManagerEntry& entry, std::string_view manager, std::string_view operation,
                  std::string_view api_version, std::string_view subresource) {
  return entry.manager == manager && entry.operation == operation &&
         entry.subresource == subresource &&
         (operation == kApply || entry.api_version == api_version);
}

// How upstream names a manager in a conflict: "name", with its subresource and, for updates,
// the API version it wrote in.
std::string DescribeManager(const ManagerEntry& entry) {
  std::string out = fmt::format("\"{}\"", entry.manager);
  if (!entry.subresource.empty()) out += fmt::format(" with subresource \"{}\"", entry.subresource);
  if (entry.operation == kUpdate) out += fmt::format(" using {}", entry.api_version);
  return out;
}

Error ConflictError(const std::vector<std::pair<std::string, Path>>& conflicts) {
  std::vector<ErrorCause> causes;
  for (const auto& [manager, path] : conflicts) {
    causes.push_back({"FieldManagerConflict", "conflict with " + manager, PathToString(path)});
  }
  std::string message;
  if (conflicts.size() == 1) {
    message = fmt::format("Apply failed with 1 conflict: conflict with {}: {}", conflicts[0].first,
                          PathToString(conflicts[0].second));
  } else {
    message = fmt::format("Apply failed with {} conflicts: ", conflicts.size());
    std::string current;
    std::vector<std::string> lines;
    for (const auto& [manager, path] : conflicts) {
      if (manager != current) {
        lines.push_back(fmt::format("conflicts with {}:", manager));
        current = manager;
      }
      lines.push_back("- " + PathToString(path));
    }
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) message += '\n';
      message += lines[i];
    }
  }
  return Error(ErrorCode::kConflict, std::move(message), std::move(causes));
}

FieldSet Owned(const FieldSet& fields, const FieldSet& reset_fields) {
  return fields.Difference(StrippedFields()).RecursiveDifference(reset_fields);
}

void DropEmpty(ManagedFields& managed) {
  std::erase_if(managed, [](const ManagerEntry& entry) { return entry.fields.Empty(); });
}

}  // namespace

Result<ManagedFields> DecodeManagedFields(const value& entries) {
  ManagedFields managed;
  if (entries.is_null()) return managed;
  if (!entries.is_array()) {
    return Error(ErrorCode::kBadRequest, "metadata.managedFields must be a list");
  }
  const auto& list = entries.as_array();
  for (size_t i = 0; i < list.size(); ++i) {
    // Built only for an error: every write decodes the live object's entries.
    const auto at = [i] { return fmt::format("metadata.managedFields[{}]", i); };
    if (!list[i].is_object()) return Error(ErrorCode::kBadRequest, at() + " must be an object");
    const auto& entry = list[i].as_object();
    ManagerEntry decoded{.manager = std::string(StringMember(entry, "manager")),
                         .operation = std::string(StringMember(entry, "operation")),
                         .api_version = std::string(StringMember(entry, "apiVersion")),
                         .time = std::string(StringMember(entry, "time")),
                         .subresource = std::string(StringMember(entry, "subresource")),
                         .fields = {}};
    if (decoded.operation != kApply && decoded.operation != kUpdate) {
      return Error(ErrorCode::kBadRequest,
                   fmt::format("{}.operation: unsupported value \"{}\"", at(), decoded.operation));
    }
    if (auto type = StringMember(entry, "fieldsType"); type != "FieldsV1") {
      return Error(ErrorCode::kBadRequest,
                   fmt::format("{}.fieldsType: unsupported value \"{}\"", at(), type));
    }
    if (const auto* fields = entry.if_contains("fieldsV1"); fields != nullptr) {
      auto set = FieldSet::FromFieldsV1(*fields);
      if (!set.ok()) return Error(ErrorCode::kBadRequest, at() + ": " + set.error().message());
      decoded.fields = *std::move(set);
    }
    managed.push_back(std::move(decoded));
  }
  return managed;
}

std::vector<const ManagerEntry*> EntriesToEncode(const ManagedFields& managed) {
  std::vector<const ManagerEntry*> sorted;
  for (const auto& entry : managed) {
    if (!entry.fields.Empty()) sorted.push_back(&entry);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    return std::tie(a->operation, a->time, a->manager, a->api_version, a->subresource) <
           std::tie(b->operation, b->time, b->manager, b->api_version, b->subresource);
  });
  return sorted;
}

array EncodeManagedFields(const ManagedFields& managed) {
  array out;
  for (const auto* entry : EntriesToEncode(managed)) {
    object json;
    if (!entry->manager.empty()) json.emplace("manager", entry->manager);
    json.emplace("operation", entry->operation);
    if (!entry->api_version.empty()) json.emplace("apiVersion", entry->api_version);
    if (!entry->time.empty()) json.emplace("time", entry->time);
    json.emplace("fieldsType", "FieldsV1");
    json.emplace("fieldsV1", entry->fields.ToFieldsV1());
    if (!entry->subresource.empty()) json.emplace("subresource", entry->subresource);
    out.push_back(std::move(json));
  }
  return out;
}

ManagedFields ManagedFieldsForWrite(const value* request_entries, const value* live_entries,
                                    bool* from_request) {
  if (from_request != nullptr) *from_request = false;
  if (request_entries != nullptr && request_entries->is_array()) {
    const auto& list = request_entries->as_array();
    const bool reset =
        list.empty() || (list.size() == 1 && list[0].is_object() && list[0].as_object().empty());
    if (reset) return {};
    if (auto decoded = DecodeManagedFields(*request_entries); decoded.ok() && !decoded->empty()) {
      if (from_request != nullptr) *from_request = true;
      return *std::move(decoded);
    }
  }
  if (live_entries == nullptr) return {};
  auto decoded = DecodeManagedFields(*live_entries);
  return decoded.ok() ? *std::move(decoded) : ManagedFields{};
}

std::string ManagerFromUserAgent(std::string_view user_agent) {
  std::string_view prefix = user_agent.substr(0, user_agent.find('/'));
  return std::string(prefix.substr(0, 128));
}

// What one write (`before` to `after`, in the writer's version) changed, in the paths of each
// version that has entries; worked out once per version.
class FieldManager::ChangesByVersion {
 public:
  ChangesByVersion(const FieldManager& manager, const value& before, const value& after,
                   const Writer& writer, Changes writer_changes)
      : manager_(manager), before_(before), after_(after), writer_(writer) {
    by_version_.emplace(writer.api_version, std::move(writer_changes));
  }

  // The changes in the paths of `entry`'s version: the writer's own when the entry has no other
  // version, or when the objects do not convert to it.
  const Changes& For(const ManagerEntry& entry) {
    const std::string& version = entry.api_version.empty() || manager_.converter_ == nullptr
                                     ? writer_.api_version
                                     : entry.api_version;
    if (auto it = by_version_.find(version); it != by_version_.end()) return it->second;
    Changes changes = by_version_.at(writer_.api_version);
    auto before = manager_.converter_->Convert(before_, version);
    auto after = before.ok() ? manager_.converter_->Convert(after_, version) : before;
    if (after.ok()) {
      auto comparison = Compare(before->object, after->object, after->type);
      if (comparison.ok()) {
        changes = {Owned(comparison->Changed(), manager_.reset_fields_),
                   Owned(comparison->removed, manager_.reset_fields_)};
      }
    }
    return by_version_.emplace(version, std::move(changes)).first->second;
  }

 private:
  const FieldManager& manager_;
  const value& before_;
  const value& after_;
  const Writer& writer_;
  std::map<std::string, Changes, std::less<>> by_version_;
};

FieldManager::FieldManager(const TypeNode* type, const FieldSet& reset_fields,
                           const VersionConverter* converter)
    : type_(type), reset_fields_(reset_fields), converter_(converter) {}

Result<ManagedFields> FieldManager::Update(const value& live, const value& updated,
                                           ManagedFields managed, const Writer& writer) const {
  auto comparison = Compare(live, updated, type_);
  if (!comparison.ok()) return comparison.error();
  const FieldSet changed = Owned(comparison->Changed(), reset_fields_);
  const FieldSet removed = Owned(comparison->removed, reset_fields_);
  ChangesByVersion changes(*this, live, updated, writer, {changed, removed});
  ManagerEntry* own = nullptr;
  for (auto& entry : managed) {
    if (SameIdentity(entry, writer.manager, kUpdate, writer.api_version, writer.subresource)) {
      own = &entry;
      continue;
    }
    // An update always wins: whoever owned what it changed or removed owns it no more.
    const Changes& in_version = changes.For(entry);
    entry.fields = entry.fields.Difference(in_version.changed).Difference(in_version.removed);
  }
  if (own == nullptr) {
    own = &managed.emplace_back(ManagerEntry{.manager = writer.manager,
                                             .operation = std::string(kUpdate),
                                             .api_version = writer.api_version,
                                             .time = {},
                                             .subresource = writer.subresource,
                                             .fields = {}});
  }
  FieldSet fields = own->fields.Difference(removed).Union(changed);
  // The time says when the manager last changed what it owns, so a no-op keeps it.
  if (!(fields == own->fields) || own->time.empty()) own->time = writer.now;
  own->fields = std::move(fields);
  DropEmpty(managed);
  return managed;
}

Result<FieldManager::Applied> FieldManager::Apply(const value& live, const value& config,
                                                  ManagedFields managed, const Writer& writer,
                                                  bool force) const {
  auto merged = Merge(live, config, type_);
  if (!merged.ok()) return merged.error();
  auto applied_fields = ToFieldSet(config, type_);
  if (!applied_fields.ok()) return applied_fields.error();
  const FieldSet applied = Owned(*applied_fields, reset_fields_);

  ManagerEntry* own = nullptr;
  FieldSet owned_by_others;
  for (auto& entry : managed) {
    if (SameIdentity(entry, writer.manager, kApply, writer.api_version, writer.subresource)) {
      own = &entry;
    } else {
      owned_by_others = owned_by_others.Union(entry.fields);
    }
  }
  // Fields this manager applied last time and no longer does are removed, unless someone
  // (another manager, or this configuration below them) still owns them or what is below them.
  if (own != nullptr) {
    const FieldSet keep = owned_by_others.Union(applied);
    FieldSet dropped;
    own->fields.Difference(applied).ForEach([&](const Path& path) {
      if (!keep.HasAtOrBelow(path)) dropped.Insert(path);
    });
    RemoveFields(*merged, dropped, type_);
  }

  auto comparison = Compare(live, *merged, type_);
  if (!comparison.ok()) return comparison.error();
  const FieldSet changed = Owned(comparison->Changed(), reset_fields_);
  const FieldSet removed = Owned(comparison->removed, reset_fields_);
  ChangesByVersion changes(*this, live, *merged, writer, {changed, removed});
  std::vector<std::pair<std::string, Path>> conflicts;
  for (auto& entry : managed) {
    if (&entry == own) continue;
    // Conflicts are named in the paths of the version the other manager wrote, as upstream's.
    entry.fields.Intersection(changes.For(entry).changed).ForEach([&](const Path& path) {
      conflicts.emplace_back(DescribeManager(entry), path);
    });
  }
  if (!conflicts.empty() && !force) {
    std::stable_sort(conflicts.begin(), conflicts.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    return ConflictError(conflicts);
  }
  for (auto& entry : managed) {
    if (&entry == own) continue;
    const Changes& in_version = changes.For(entry);
    entry.fields = entry.fields.Difference(in_version.changed).Difference(in_version.removed);
  }
  if (own == nullptr) {
    own = &managed.emplace_back(ManagerEntry{.manager = writer.manager,
                                             .operation = std::string(kApply),
                                             .api_version = writer.api_version,
                                             .time = {},
                                             .subresource = writer.subresource,
                                             .fields = {}});
  }
  if (!(own->fields == applied) || own->time.empty() || own->api_version != writer.api_version) {
    own->time = writer.now;
  }
  own->api_version = writer.api_version;
  own->fields = applied;
  DropEmpty(managed);
  return Applied{*std::move(merged), std::move(managed)};
}

}  // namespace kpp::managedfields
