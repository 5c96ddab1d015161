#include "apiextensions/custom_resources.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

const object* ObjectAt(const object& json, std::string_view key) {
  const value* found = json.if_contains(key);
  return found != nullptr && found->is_object() ? &found->get_object() : nullptr;
}

std::string TextAt(const object* json, std::string_view key) {
  if (json == nullptr) return {};
  const value* found = json->if_contains(key);
  return found != nullptr && found->is_string() ? std::string(found->get_string()) : "";
}

std::vector<std::string> TextsAt(const object* json, std::string_view key) {
  std::vector<std::string> out;
  if (json == nullptr) return out;
  const value* found = json->if_contains(key);
  if (found == nullptr || !found->is_array()) return out;
  for (const auto& item : found->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

bool BoolAt(const object* json, std::string_view key) {
  if (json == nullptr) return false;
  const value* found = json->if_contains(key);
  return found != nullptr && found->is_bool() && found->get_bool();
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

// "stable.example.com" -> "com.example.stable", as upstream names custom resources' definitions.
std::string ReversedGroup(std::string_view group) {
  std::vector<std::string_view> parts;
  while (!group.empty()) {
    const auto dot = group.find('.');
    parts.push_back(group.substr(0, dot));
    if (dot == std::string_view::npos) break;
    group.remove_prefix(dot + 1);
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (!out.empty()) out += '.';
    out += *it;
  }
  return out;
}

// The names a definition is served under: status.acceptedNames once set, else spec.names.
const object* ServingNames(const object& crd) {
  const object* status = ObjectAt(crd, "status");
  const object* accepted = status == nullptr ? nullptr : ObjectAt(*status, "acceptedNames");
  if (accepted != nullptr && !TextAt(accepted, "plural").empty()) return accepted;
  const object* spec = ObjectAt(crd, "spec");
  return spec == nullptr ? nullptr : ObjectAt(*spec, "names");
}

// Kubernetes version priority, as discovery orders versions (v2 > v1 > v1beta1 > ...).
int VersionRank(std::string_view version, int& major, int& minor) {
  major = 0;
  minor = 0;
  if (version.size() < 2 || version[0] != 'v' || !isdigit(static_cast<unsigned char>(version[1])))
    return 0;
  size_t i = 1;
  while (i < version.size() && isdigit(static_cast<unsigned char>(version[i])))
    major = major * 10 + (version[i++] - '0');
  if (i == version.size()) return 3;
  std::string_view rest = version.substr(i);
  int rank = 0;
  if (rest.starts_with("beta")) {
    rank = 2;
    rest.remove_prefix(4);
  } else if (rest.starts_with("alpha")) {
    rank = 1;
    rest.remove_prefix(5);
  } else {
    return 0;
  }
  if (rest.empty()) return 0;
  for (char c : rest) {
    if (!isdigit(static_cast<unsigned char>(c))) return 0;
    minor = minor * 10 + (c - '0');
  }
  return rank;
}

bool PreferredVersion(std::string_view a, std::string_view b) {
  int a_major, a_minor, b_major, b_minor;
  const int a_rank = VersionRank(a, a_major, a_minor);
  const int b_rank = VersionRank(b, b_major, b_minor);
  if (a_rank != b_rank) return a_rank > b_rank;
  if (a_rank == 0) return a < b;
  if (a_major != b_major) return a_major > b_major;
  return a_minor > b_minor;
}

class NoSchema final : public UnstructuredSchema {
 public:
  void Prune(boost::json::object&, std::vector<std::string>&) const override {}
  void Default(boost::json::object&) const override {}
  validation::FieldErrors Validate(const boost::json::object&) const override { return {}; }
};

// A version's openAPIV3Schema at work on its objects (apiextensions/schema): what it does not
// specify is pruned when an object is decoded, its defaults set, and objects validated against
// it, as upstream's custom resource codec and strategy do.
class StructuralSchema final : public UnstructuredSchema {
 public:
  explicit StructuralSchema(schema::SchemaPtr compiled) : schema_(std::move(compiled)) {}
  void Prune(boost::json::object& content, std::vector<std::string>& pruned) const override {
    value whole(std::move(content));
    auto removed = schema::Prune(whole, *schema_);
    content = std::move(whole.as_object());
    pruned.insert(pruned.end(), removed.begin(), removed.end());
  }
  void Default(boost::json::object& content) const override {
    value whole(std::move(content));
    schema::ApplyDefaults(whole, *schema_);
    content = std::move(whole.as_object());
  }
  validation::FieldErrors Validate(const boost::json::object& object) const override {
    return schema::Validate(value(object), *schema_);
  }
  const schema::Schema& compiled() const { return *schema_; }

 private:
  schema::SchemaPtr schema_;
};

}  // namespace

const ServedCustomResource* CustomResourceOf(const api::KindInfo& kind) {
  const auto* codec = dynamic_cast<const UnstructuredCodec*>(kind.codec);
  return codec == nullptr ? nullptr : codec->custom();
}

bool IsCustomResourceDefinition(const api::KindInfo& kind) {
  return kind.group == "apiextensions.k8s.io" && kind.kind == "CustomResourceDefinition";
}

std::vector<std::unique_ptr<ServedCustomResource>> BuildServedVersions(const object& crd) {
  std::vector<std::unique_ptr<ServedCustomResource>> out;
  const object* spec = ObjectAt(crd, "spec");
  const object* names = ServingNames(crd);
  if (spec == nullptr || names == nullptr) return out;
  const value* versions = spec->if_contains("versions");
  if (versions == nullptr || !versions->is_array()) return out;
  const object* metadata = ObjectAt(crd, "metadata");
  const bool terminating = metadata != nullptr && metadata->contains("deletionTimestamp");
  ServedCustomResource* storage = nullptr;
  for (const auto& item : versions->get_array()) {
    if (!item.is_object()) continue;
    const object& version = item.get_object();
    auto served = std::make_unique<ServedCustomResource>();
    ServedCustomResource& r = *served;
    r.crd_name = TextAt(metadata, "name");
    r.group = TextAt(spec, "group");
    r.version = TextAt(&version, "name");
    r.kind = TextAt(names, "kind");
    r.list_kind = TextAt(names, "listKind");
    if (r.list_kind.empty()) r.list_kind = r.kind + "List";
    r.plural = TextAt(names, "plural");
    r.singular = TextAt(names, "singular");
    if (r.singular.empty()) {
      r.singular = r.kind;
      std::transform(r.singular.begin(), r.singular.end(), r.singular.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    r.short_names = Join(TextsAt(names, "shortNames"));
    r.categories = Join(TextsAt(names, "categories"));
    r.namespaced = TextAt(spec, "scope") != "Cluster";
    r.served = BoolAt(&version, "served");
    r.terminating = terminating;
    // Upstream's order of a custom resource's verbs in discovery.
    r.verbs = "delete,deletecollection,get,list,patch,create,update,watch";
    r.openapi_name = fmt::format("{}.{}.{}", ReversedGroup(r.group), r.version, r.kind);
    if (BoolAt(&version, "deprecated")) {
      r.deprecation_warning = TextAt(&version, "deprecationWarning");
      if (r.deprecation_warning.empty()) {
        r.deprecation_warning = fmt::format("{}/{} {} is deprecated", r.group, r.version, r.kind);
      }
    }
    std::vector<std::string> subresources;
    if (const object* sub = ObjectAt(version, "subresources")) {
      if (sub->contains("status")) subresources.push_back("status");
      if (const object* scale = ObjectAt(*sub, "scale")) {
        subresources.push_back("scale");
        r.scale = ScalePaths{TextAt(scale, "specReplicasPath"), TextAt(scale, "statusReplicasPath"),
                             TextAt(scale, "labelSelectorPath")};
      }
    }
    r.subresources = Join(subresources);
    if (const value* columns = version.if_contains("additionalPrinterColumns");
        columns != nullptr && columns->is_array()) {
      for (const auto& column : columns->get_array()) {
        if (!column.is_object()) continue;
        const object& c = column.get_object();
        PrinterColumn printer{TextAt(&c, "name"),
                              TextAt(&c, "type"),
                              TextAt(&c, "format"),
                              TextAt(&c, "description"),
                              0,
                              TextAt(&c, "jsonPath")};
        if (const value* priority = c.if_contains("priority"); priority && priority->is_int64()) {
          printer.priority = static_cast<int32_t>(priority->get_int64());
        }
        r.columns.push_back(std::move(printer));
      }
    }
    if (r.columns.empty()) {
      r.columns.push_back({"Age", "date", "",
                           "CreationTimestamp is a timestamp representing the server time when "
                           "this object was created.",
                           0, ".metadata.creationTimestamp"});
    }
    if (const object* schema = ObjectAt(version, "schema")) {
      if (const value* v3 = schema->if_contains("openAPIV3Schema")) r.schema = *v3;
    }
    r.schema_hooks = std::make_unique<NoSchema>();
    if (r.schema.is_object()) {
      if (auto compiled = schema::Compile(r.schema); compiled.ok()) {
        r.schema_hooks = std::make_unique<StructuralSchema>(*std::move(compiled));
      }
    }
    r.codec = std::make_unique<UnstructuredCodec>(r.schema_hooks.get(), &r);
    api::KindInfo& info = r.info;
    info.group = r.group;
    info.version = r.version;
    info.kind = r.kind;
    info.plural = r.plural;
    info.singular = r.singular;
    info.list_kind = r.list_kind;
    info.namespaced = r.namespaced;
    info.short_names = r.short_names;
    info.categories = r.categories;
    info.subresources = r.subresources;
    info.verbs = r.verbs;
    info.openapi_name = r.openapi_name;
    info.codec = r.codec.get();
    info.deprecation_warning = r.deprecation_warning;
    if (BoolAt(&version, "storage")) storage = &r;
    out.push_back(std::move(served));
  }
  // Every version reads and writes the same keys (/registry/<group>/<plural>/...) and objects
  // are stored without apiVersion, so conversion strategy None needs no storage pointer.
  for (auto& version : out)
    version->storage_version = storage != nullptr ? storage->version : version->version;
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return PreferredVersion(a->version, b->version);
  });
  return out;
}

const api::KindInfo* CustomResourceKinds::Find(std::string_view group, std::string_view version,
                                               std::string_view plural) const {
  std::shared_lock lock(mutex_);
  for (const auto& [name, definition] : definitions_) {
    for (const ServedCustomResource* served : definition.versions) {
      if (served->served && served->plural == plural && served->group == group &&
          served->version == version) {
        return &served->info;
      }
    }
  }
  return nullptr;
}

std::vector<const api::KindInfo*> CustomResourceKinds::Served() const {
  std::shared_lock lock(mutex_);
  std::vector<const api::KindInfo*> out;
  for (const auto& [name, definition] : definitions_) {
    for (const ServedCustomResource* served : definition.versions) {
      if (served->served) out.push_back(&served->info);
    }
  }
  return out;
}

void CustomResourceKinds::Update(const std::vector<object>& crds) {
  std::map<std::string, std::pair<std::string, const object*>> wanted;
  for (const auto& crd : crds) {
    const object* metadata = ObjectAt(crd, "metadata");
    const object* spec = ObjectAt(crd, "spec");
    if (metadata == nullptr || spec == nullptr || ServingNames(crd) == nullptr) continue;
    // What serving depends on: the spec, the accepted names, whether it is terminating.
    std::string fingerprint = SortedJson(*spec) + SortedJson(*ServingNames(crd)) +
                              (metadata->contains("deletionTimestamp") ? "T" : "");
    wanted.emplace(TextAt(metadata, "name"), std::make_pair(std::move(fingerprint), &crd));
  }
  std::unique_lock lock(mutex_);
  bool changed = false;
  for (auto it = definitions_.begin(); it != definitions_.end();) {
    if (!wanted.contains(it->first)) {
      it = definitions_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  for (const auto& [name, entry] : wanted) {
    auto& [fingerprint, crd] = entry;
    auto found = definitions_.find(name);
    if (found != definitions_.end() && found->second.fingerprint == fingerprint) continue;
    Definition definition{fingerprint, {}};
    for (auto& version : BuildServedVersions(*crd)) {
      definition.versions.push_back(version.get());
      all_.push_back(std::move(version));
    }
    definitions_[name] = std::move(definition);
    changed = true;
  }
  if (changed) ++generation_;
}

void SetCondition(object& status, std::string_view type, std::string_view value_text,
                  std::string_view reason, std::string_view message, std::string_view now) {
  value& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = array();
  for (auto& item : conditions.get_array()) {
    if (!item.is_object() || TextAt(&item.get_object(), "type") != type) continue;
    object& condition = item.get_object();
    if (TextAt(&condition, "status") != value_text) condition["lastTransitionTime"] = now;
    condition["status"] = value_text;
    condition["reason"] = reason;
    condition["message"] = message;
    return;
  }
  conditions.get_array().push_back(object{{"type", type},
                                          {"status", value_text},
                                          {"lastTransitionTime", now},
                                          {"reason", reason},
                                          {"message", message}});
}

bool NamesAccepted(const object& crd) {
  const object* status = ObjectAt(crd, "status");
  if (status == nullptr) return false;
  const value* conditions = status->if_contains("conditions");
  if (conditions == nullptr || !conditions->is_array()) return false;
  for (const auto& item : conditions->get_array()) {
    if (item.is_object() && TextAt(&item.get_object(), "type") == "NamesAccepted") {
      return TextAt(&item.get_object(), "status") == "True";
    }
  }
  return false;
}

object DesiredStatus(const object& crd, std::span<const object> all_crds,
                     std::span<const api::KindInfo> builtins, std::string_view now) {
  const object* spec = ObjectAt(crd, "spec");
  const object* requested = spec == nullptr ? nullptr : ObjectAt(*spec, "names");
  const std::string group = TextAt(spec, "group");
  const std::string name = TextAt(ObjectAt(crd, "metadata"), "name");
  object status;
  if (const object* old = ObjectAt(crd, "status")) status = *old;
  object accepted;
  if (const object* old = ObjectAt(status, "acceptedNames")) accepted = *old;

  // Names other definitions of the group have been given, and the group's built-in resources.
  std::set<std::string> resources;
  std::set<std::string> kinds;
  for (const auto& other : all_crds) {
    const object* other_spec = ObjectAt(other, "spec");
    if (TextAt(ObjectAt(other, "metadata"), "name") == name || TextAt(other_spec, "group") != group)
      continue;
    const object* other_status = ObjectAt(other, "status");
    const object* names =
        other_status == nullptr ? nullptr : ObjectAt(*other_status, "acceptedNames");
    if (names == nullptr) continue;
    for (const char* key : {"plural", "singular"}) {
      if (auto text = TextAt(names, key); !text.empty()) resources.insert(text);
    }
    for (const auto& short_name : TextsAt(names, "shortNames"))
      resources.insert(short_name);
    for (const char* key : {"kind", "listKind"}) {
      if (auto text = TextAt(names, key); !text.empty()) kinds.insert(text);
    }
  }
  for (const auto& builtin : builtins) {
    if (builtin.group != group) continue;
    resources.emplace(builtin.plural);
    if (!builtin.singular.empty()) resources.emplace(builtin.singular);
    kinds.emplace(builtin.kind);
    if (!builtin.list_kind.empty()) kinds.emplace(builtin.list_kind);
  }
  // Upstream's equalToAcceptedOrFresh.
  auto check = [](const std::string& wanted, const std::string& had,
                  const std::set<std::string>& used) -> std::optional<std::string> {
    if (wanted == had || !used.contains(wanted)) return std::nullopt;
    return fmt::format("\"{}\" is already in use", wanted);
  };
  std::string reason;
  std::string message;
  auto fail = [&](const char* why, std::string text) {
    reason = why;
    message = std::move(text);
  };
  auto take = [&](const char* key, const std::set<std::string>& used, const char* why) {
    std::string wanted = TextAt(requested, key);
    if (std::string_view(key) == "singular" && wanted.empty()) {
      wanted = TextAt(requested, "kind");
      std::transform(wanted.begin(), wanted.end(), wanted.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    if (std::string_view(key) == "listKind" && wanted.empty()) {
      wanted = TextAt(requested, "kind") + "List";
    }
    if (auto error = check(wanted, TextAt(&accepted, key), used)) {
      fail(why, *error);
    } else {
      accepted[key] = wanted;
    }
  };
  take("plural", resources, "PluralConflict");
  take("singular", resources, "SingularConflict");
  const auto wanted_short = TextsAt(requested, "shortNames");
  const auto had_short = TextsAt(&accepted, "shortNames");
  if (wanted_short != had_short) {
    std::string errors;
    for (const auto& short_name : wanted_short) {
      if (std::find(had_short.begin(), had_short.end(), short_name) != had_short.end()) continue;
      if (auto error = check(short_name, "", resources)) {
        if (!errors.empty()) errors += ", ";
        errors += *error;
      }
    }
    if (!errors.empty()) {
      fail("ShortNamesConflict", errors);
    } else if (wanted_short.empty()) {
      accepted.erase("shortNames");
    } else {
      array list;
      for (const auto& short_name : wanted_short)
        list.emplace_back(short_name);
      accepted["shortNames"] = std::move(list);
    }
  }
  take("kind", kinds, "KindConflict");
  take("listKind", kinds, "ListKindConflict");
  if (const value* categories =
          requested == nullptr ? nullptr : requested->if_contains("categories")) {
    accepted["categories"] = *categories;
  } else {
    accepted.erase("categories");
  }
  status["acceptedNames"] = accepted;
  const bool ok = reason.empty();
  if (ok) {
    SetCondition(status, "NamesAccepted", "True", "NoConflicts", "no conflicts found", now);
    SetCondition(status, "Established", "True", "InitialNamesAccepted",
                 "the initial names have been accepted", now);
  } else {
    SetCondition(status, "NamesAccepted", "False", reason, message, now);
    bool established = false;
    if (const value* conditions = status.if_contains("conditions")) {
      for (const auto& item : conditions->get_array()) {
        if (item.is_object() && TextAt(&item.get_object(), "type") == "Established") {
          established = TextAt(&item.get_object(), "status") == "True";
        }
      }
    }
    if (!established) {
      SetCondition(status, "Established", "False", "NotAccepted", "not all names are accepted",
                   now);
    }
  }
  // storedVersions gains the storage version.
  std::vector<std::string> stored = TextsAt(&status, "storedVersions");
  if (const value* versions = spec == nullptr ? nullptr : spec->if_contains("versions");
      versions != nullptr && versions->is_array()) {
    for (const auto& item : versions->get_array()) {
      if (item.is_object() && BoolAt(&item.get_object(), "storage")) {
        const std::string version = TextAt(&item.get_object(), "name");
        if (std::find(stored.begin(), stored.end(), version) == stored.end()) {
          stored.push_back(version);
        }
      }
    }
  }
  array stored_json;
  for (const auto& version : stored)
    stored_json.emplace_back(version);
  status["storedVersions"] = std::move(stored_json);
  return status;
}

bool BeginCrdTermination(api::Object& crd, std::string_view now) {
  auto& metadata = crd.metadata();
  if (metadata.deletion_timestamp.has_value()) return false;
  auto time = api::Time::Parse(std::string(now));
  if (time.ok()) metadata.deletion_timestamp = *time;
  metadata.deletion_grace_period_seconds = 0;
  if (std::find(metadata.finalizers.begin(), metadata.finalizers.end(), kCleanupFinalizer) ==
      metadata.finalizers.end()) {
    metadata.finalizers.emplace_back(kCleanupFinalizer);
  }
  auto json = boost::json::parse(crd.ToJson()).as_object();
  object status;
  if (const object* old = ObjectAt(json, "status")) status = *old;
  SetCondition(status, "Terminating", "True", "InstanceDeletionPending",
               "CustomResourceDefinition marked for deletion; instance deletion pending", now);
  json["status"] = std::move(status);
  (void)crd.AssignJson(boost::json::serialize(json));
  return true;
}

}  // namespace kpp::apiextensions
