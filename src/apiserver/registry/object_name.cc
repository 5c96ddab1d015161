#include "apiserver/registry/object_name.h"

#include "apimachinery/labels/validation.h"

namespace kpp::apiserver {
namespace {

// Upstream lets a generateName end in a dash by checking it with its last two characters
// replaced by an "a" (sic: one character shorter), so that "web-" passes as a prefix.
std::string MaskTrailingDash(std::string_view name) {
  if (name.size() > 1 && name.back() == '-') {
    return std::string(name.substr(0, name.size() - 2)) + "a";
  }
  return std::string(name);
}

}  // namespace

std::vector<std::string> CheckName(api::NameRule rule, std::string_view name, bool prefix) {
  switch (rule) {
    case api::NameRule::kSubdomain:
      return validation::IsDNS1123Subdomain(prefix ? MaskTrailingDash(name) : std::string(name));
    case api::NameRule::kLabel:
      return validation::IsDNS1123Label(prefix ? MaskTrailingDash(name) : std::string(name));
    case api::NameRule::kDns1035Label:
      return validation::IsDNS1035Label(prefix ? MaskTrailingDash(name) : std::string(name));
    case api::NameRule::kPathSegment:
      // RBAC's and PersistentVolume's name functions check the whole name even for a prefix.
      return validation::IsPathSegmentName(name);
  }
  return {};
}

void ValidateObjectName(const api::KindInfo& kind, const api::meta::v1::ObjectMeta& metadata,
                        validation::FieldErrors& errors) {
  const validation::FieldPath path("metadata");
  if (!metadata.generate_name.empty()) {
    for (auto& message : CheckName(kind.name_rule, metadata.generate_name, true)) {
      errors.push_back(
          validation::Invalid(path.Child("generateName"), metadata.generate_name, message));
    }
  }
  if (metadata.name.empty()) {
    errors.push_back(validation::Required(path.Child("name"), "name or generateName is required"));
    return;
  }
  for (auto& message : CheckName(kind.name_rule, metadata.name, false)) {
    errors.push_back(validation::Invalid(path.Child("name"), metadata.name, message));
  }
  // The CronJob controller names each job after the cron job plus an 11-character suffix, and a
  // job's name must fit a 63-character label.
  if (kind.group == "batch" && kind.kind == "CronJob" && metadata.name.size() > 52) {
    errors.push_back(validation::Invalid(path.Child("name"), metadata.name,
                                         "must be no more than 52 characters"));
  }
}

}  // namespace kpp::apiserver
