#include "controllers/history/history.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "client/rest/errors.h"
#include "controllers/common/controller_utils.h"
#include "controllers/deployment/deployment.h"

namespace kpp::controllers {

std::string HashRevisionData(const std::string& data, std::optional<int32_t> collision_count) {
  uint32_t hash = 2166136261u;
  auto add = [&](std::string_view bytes) {
    for (unsigned char byte : bytes) {
      hash ^= byte;
      hash *= 16777619u;
    }
  };
  add(data);
  if (collision_count) {
    const auto count = static_cast<uint32_t>(*collision_count);
    const char bytes[4] = {static_cast<char>(count & 0xff), static_cast<char>((count >> 8) & 0xff),
                           static_cast<char>((count >> 16) & 0xff),
                           static_cast<char>((count >> 24) & 0xff)};
    add(std::string_view(bytes, 4));
  }
  return SafeEncodeString(std::to_string(hash));
}

std::string RevisionName(const std::string& prefix, const std::string& hash) {
  return prefix.substr(0, 223) + "-" + hash;
}

std::string TemplatePatch(const api::core::v1::PodTemplateSpec& pod_template) {
  boost::json::value template_json = boost::json::parse(api::ToJson(pod_template));
  template_json.as_object()["$patch"] = "replace";
  boost::json::object spec;
  spec["template"] = std::move(template_json);
  boost::json::object patch;
  patch["spec"] = std::move(spec);
  return boost::json::serialize(patch);
}

Result<api::core::v1::PodTemplateSpec> TemplateOfRevision(const ControllerRevision& revision) {
  const auto& data = revision.data.value();
  const auto* spec = data.is_object() ? data.as_object().if_contains("spec") : nullptr;
  const auto* pod_template =
      spec != nullptr && spec->is_object() ? spec->as_object().if_contains("template") : nullptr;
  if (pod_template == nullptr) {
    return InvalidError("controllerrevision " + revision.metadata.name + " has no spec.template");
  }
  KPP_ASSIGN_OR_RETURN(auto decoded, api::FromJson<api::core::v1::PodTemplateSpec>(
                                         boost::json::serialize(*pod_template)));
  return std::move(decoded.object);
}

ControllerRevision NewRevision(const std::string& api_version, const std::string& kind,
                               const api::meta::v1::ObjectMeta& owner,
                               const std::map<std::string, std::string>& labels,
                               const std::string& data, int64_t revision,
                               std::optional<int32_t> collision_count) {
  ControllerRevision out;
  out.api_version = "apps/v1";
  out.kind = "ControllerRevision";
  out.metadata.namespace_ = owner.namespace_;
  out.metadata.name = RevisionName(owner.name, HashRevisionData(data, collision_count));
  out.metadata.labels = labels;
  out.metadata.owner_references.push_back(ControllerRef(api_version, kind, owner));
  out.data = api::RawJson(boost::json::parse(data));
  out.revision = revision;
  return out;
}

void SortRevisions(std::vector<std::shared_ptr<const ControllerRevision>>& revisions) {
  std::stable_sort(revisions.begin(), revisions.end(), [](const auto& a, const auto& b) {
    if (a->revision != b->revision) return a->revision < b->revision;
    const auto a_time = a->metadata.creation_timestamp.unix_seconds;
    const auto b_time = b->metadata.creation_timestamp.unix_seconds;
    if (a_time != b_time) return a_time < b_time;
    return a->metadata.name < b->metadata.name;
  });
}

int64_t NextRevisionNumber(
    const std::vector<std::shared_ptr<const ControllerRevision>>& revisions) {
  int64_t highest = 0;
  for (const auto& revision : revisions)
    highest = std::max(highest, revision->revision);
  return highest + 1;
}

std::vector<std::shared_ptr<const ControllerRevision>> EqualRevisions(
    const std::vector<std::shared_ptr<const ControllerRevision>>& revisions,
    const std::string& data) {
  const api::RawJson wanted(boost::json::parse(data));
  std::vector<std::shared_ptr<const ControllerRevision>> out;
  for (const auto& revision : revisions) {
    if (revision->data == wanted) out.push_back(revision);
  }
  return out;
}

Result<std::vector<std::shared_ptr<const ControllerRevision>>> ClaimRevisions(
    WorkloadClient& client, const std::string& api_version, const std::string& kind,
    const api::meta::v1::ObjectMeta& owner, const labels::Selector& selector,
    const std::vector<std::shared_ptr<const ControllerRevision>>& revisions) {
  const auto owner_ref = ControllerRef(api_version, kind, owner);
  const ObjectPatcher patch = [&](const std::string& ns, const std::string& name,
                                  const std::string& body) {
    return client.PatchRevision(ns, name, body);
  };
  std::vector<std::shared_ptr<const ControllerRevision>> claimed;
  for (const auto& revision : revisions) {
    KPP_ASSIGN_OR_RETURN(bool claims,
                         ClaimObject(owner_ref, owner, selector, revision->metadata, patch));
    if (claims) claimed.push_back(revision);
  }
  return claimed;
}

Result<ControllerRevision> EnsureUpdateRevision(
    WorkloadClient& client, const std::string& api_version, const std::string& kind,
    const api::meta::v1::ObjectMeta& owner, const std::map<std::string, std::string>& labels,
    const std::string& data, std::vector<std::shared_ptr<const ControllerRevision>>& revisions,
    int32_t& collision_count) {
  SortRevisions(revisions);
  const int64_t next = NextRevisionNumber(revisions);
  auto equal = EqualRevisions(revisions, data);
  if (!equal.empty()) {
    const auto& found = equal.back();
    if (found == revisions.back()) return *found;
    // Rolling back to an old template: it becomes the newest revision again.
    KPP_RETURN_IF_ERROR(client.PatchRevision(found->metadata.namespace_, found->metadata.name,
                                             "{\"revision\":" + std::to_string(next) + "}"));
    ControllerRevision renumbered = *found;
    renumbered.revision = next;
    return renumbered;
  }
  for (int attempt = 0; attempt < 10; ++attempt) {
    ControllerRevision wanted =
        NewRevision(api_version, kind, owner, labels, data, next, collision_count);
    auto created = client.CreateRevision(wanted);
    if (created.ok()) return created;
    if (!client::IsAlreadyExists(created.error())) return created;
    // The name is taken: the same data (ours, not yet in the cache) or a hash collision.
    auto existing = client.GetRevision(wanted.metadata.namespace_, wanted.metadata.name);
    if (!existing.ok()) return std::move(existing).error();
    const auto* ref = ControllerRefOf(existing->metadata);
    if (existing->data == wanted.data && ref != nullptr && ref->uid == owner.uid) return existing;
    ++collision_count;
  }
  return Error(ErrorCode::kConflict,
               "too many controllerrevision name collisions for " + owner.name);
}

Status TruncateHistory(WorkloadClient& client,
                       const std::vector<std::shared_ptr<const ControllerRevision>>& revisions,
                       const std::vector<std::string>& live, int32_t history_limit) {
  std::vector<std::shared_ptr<const ControllerRevision>> old;
  for (const auto& revision : revisions) {
    if (std::find(live.begin(), live.end(), revision->metadata.name) == live.end()) {
      old.push_back(revision);
    }
  }
  SortRevisions(old);
  const auto excess = static_cast<int64_t>(old.size()) - std::max<int32_t>(history_limit, 0);
  for (int64_t i = 0; i < excess; ++i) {
    auto deleted = client.DeleteRevision(old[i]->metadata.namespace_, old[i]->metadata.name);
    if (!deleted.ok() && !client::IsNotFound(deleted.error())) return deleted;
  }
  return Ok();
}

}  // namespace kpp::controllers
