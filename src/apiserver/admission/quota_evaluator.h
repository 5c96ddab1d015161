// What ResourceQuota counts (upstream's pkg/quota/v1/evaluator/core and generic object counts):
// the usage one object makes of a quota's resources, which resources a kind answers for, which
// pods a quota's scopes select, and the containers' "must specify" constraints. Shared by the
// ResourceQuota admission plugin and the ResourceQuota controller. Objects are the JSON of their
// storage version.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apimachinery/resource/quantity.h"
#include "apiserver/admission/admission.h"

namespace kpp::apiserver::admission::quota {

// Resource name -> quantity, sorted by name (upstream prints sorted too).
using ResourceList = std::map<std::string, resource::Quantity, std::less<>>;

ResourceList ParseResourceList(const boost::json::object* list);
boost::json::object ToJson(const ResourceList& list);

ResourceList Add(const ResourceList& a, const ResourceList& b);
// a - b, each result at least zero (upstream's SubtractWithNonNegativeResult).
ResourceList SubtractNonNegative(const ResourceList& a, const ResourceList& b);
// Only the entries named in `names`.
ResourceList Mask(const ResourceList& list, const std::vector<std::string>& names);
std::vector<std::string> Names(const ResourceList& list);
bool Equal(const ResourceList& a, const ResourceList& b);
// "a=1,b=2" (upstream's prettyPrint).
std::string PrettyPrint(const ResourceList& list);

// One scope requirement of a quota: spec.scopes as Exists, and spec.scopeSelector's expressions.
struct ScopeRequirement {
  std::string scope;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};
std::vector<ScopeRequirement> ScopesOf(const boost::json::object& resource_quota);

// The evaluator of one group/resource: nullopt for what quota ignores (events).
class Evaluator {
 public:
  static std::optional<Evaluator> For(std::string_view group, std::string_view resource);

  std::string_view group() const { return group_; }
  std::string_view resource() const { return resource_; }
  // Whether admission charges this operation.
  bool Handles(Operation operation) const;
  // Of `names`, the ones this evaluator counts.
  std::vector<std::string> MatchingResources(const std::vector<std::string>& names) const;
  // Whether `quota` (with its status.hard) covers `object`: a matching resource and every scope.
  bool Matches(const boost::json::object& resource_quota, const boost::json::object& object) const;
  bool MatchesScope(const ScopeRequirement& scope, const boost::json::object& object) const;
  // The usage `object` makes; terminal pods count only as count/pods.
  ResourceList Usage(const boost::json::object& object,
                     std::chrono::system_clock::time_point now) const;
  // Upstream's "must specify ..." text for containers that leave out a required cpu/memory
  // request or limit; nullopt when every container names them.
  std::optional<std::string> Constraints(const std::vector<std::string>& required,
                                         const boost::json::object& object) const;

 private:
  enum class Type { kPods, kServices, kPersistentVolumeClaims, kObjectCount };
  Evaluator(Type type, std::string_view group, std::string_view resource)
      : type_(type), group_(group), resource_(resource) {}
  std::string CountName() const;

  Type type_;
  std::string group_;
  std::string resource_;
};

// The group/resources of the kinds quota counts besides count/<resource>.<group>.
struct GroupResource {
  std::string group;
  std::string resource;
};
// Which group/resource a hard resource name is about ("count/deployments.apps", "pods",
// "requests.cpu" -> pods...); nullopt for names no evaluator knows.
std::optional<GroupResource> GroupResourceOf(std::string_view name);

// What the quota controller computes: the usage of every object `reader` lists in the quota's
// namespace for the resources of the quota's spec.hard (a zero for each one known).
Result<ResourceList> CalculateUsage(const boost::json::object& resource_quota,
                                    std::string_view namespace_, const Reader& reader,
                                    std::chrono::system_clock::time_point now);

}  // namespace kpp::apiserver::admission::quota
