#include "apiserver/registry/strategy.h"

#include <fmt/format.h>

#include "api/core/v1/codec.h"
#include "apimachinery/labels/validation.h"

namespace kpp::apiserver {
namespace {

using validation::FieldPath;

// metadata.name and generateName must satisfy `check` (a DNS subdomain for most kinds).
void ValidateName(const api::Object& object, std::vector<std::string> (*check)(std::string_view),
                  validation::FieldErrors& errors) {
  const auto& metadata = object.metadata();
  const FieldPath path("metadata");
  if (metadata.name.empty() && metadata.generate_name.empty()) {
    errors.push_back(validation::Required(path.Child("name"), "name or generateName is required"));
    return;
  }
  for (const auto& message : check(metadata.name)) {
    errors.push_back(validation::Invalid(path.Child("name"), metadata.name, message));
  }
}

class DefaultStrategy : public Strategy {};

class NamespaceStrategy final : public Strategy {
 public:
  void PrepareForCreate(api::Object& object) const override {
    auto& ns = static_cast<api::TypedObject<api::core::v1::Namespace>&>(object).value();
    // Upstream adds the "kubernetes" finalizer, which the namespace controller removes after
    // emptying a terminating namespace.
    if (std::find(ns.spec.finalizers.begin(), ns.spec.finalizers.end(), "kubernetes") ==
        ns.spec.finalizers.end()) {
      ns.spec.finalizers.push_back("kubernetes");
    }
    ns.status = {};
    ns.status.phase = "Active";
  }
  void Validate(const api::Object& object, validation::FieldErrors& errors) const override {
    ValidateName(object, &validation::IsDNS1123Label, errors);
  }
  Status CheckDelete(const api::KindInfo&, std::string_view name) const override {
    if (name == "default" || name == "kube-system" || name == "kube-public") {
      return Error(
          ErrorCode::kForbidden,
          fmt::format("namespaces \"{}\" is forbidden: this namespace may not be deleted", name));
    }
    return Ok();
  }
};

}  // namespace

void Strategy::PrepareForCreate(api::Object&) const {}

void Strategy::Validate(const api::Object& object, validation::FieldErrors& errors) const {
  ValidateName(object, &validation::IsDNS1123Subdomain, errors);
}

Status Strategy::CheckDelete(const api::KindInfo&, std::string_view) const {
  return Ok();
}

const Strategy& StrategyFor(const api::KindInfo& kind) {
  static const DefaultStrategy default_strategy;
  static const NamespaceStrategy namespace_strategy;
  if (kind.group.empty() && kind.kind == "Namespace") return namespace_strategy;
  return default_strategy;
}

}  // namespace kpp::apiserver
