#include "apiserver/admission/limit_ranger.h"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <vector>

#include "apimachinery/resource/quantity.h"
#include "apiserver/admission/json_access.h"

namespace kpp::apiserver::admission {
namespace {

using boost::json::object;
using resource::Quantity;

// How long a live lookup that found no LimitRange in a namespace stands (upstream's liveTTL).
constexpr std::chrono::seconds kLiveLookupTtl(30);

// Resource name -> quantity, sorted by name (upstream iterates Go maps; kpp reports in order).
using ResourceList = std::map<std::string, Quantity, std::less<>>;

ResourceList ListOf(const object* list) {
  ResourceList result;
  if (list == nullptr) return result;
  for (const auto& [name, value] : *list) {
    std::optional<Quantity> quantity;
    if (value.is_string()) {
      auto parsed = Quantity::Parse(value.as_string());
      if (parsed.ok()) quantity = *parsed;
    } else if (value.is_int64()) {
      quantity = Quantity::FromInt64(value.as_int64());
    }
    if (quantity) result.emplace(std::string(name), *quantity);
  }
  return result;
}

struct LimitItem {
  std::string type;
  ResourceList max, min, default_limit, default_request, max_ratio;
};

// The items of a LimitRange, with upstream's defaulting of Container items (a max is the default
// limit, a default limit the default request, a min the default request, when unset).
std::vector<LimitItem> ItemsOf(const object& limit_range) {
  std::vector<LimitItem> items;
  const auto* limits = json::Array(json::Object(&limit_range, "spec"), "limits");
  if (limits == nullptr) return items;
  for (const auto& value : *limits) {
    if (!value.is_object()) continue;
    const object* fields = &value.as_object();
    LimitItem item{std::string(json::String(fields, "type")),
                   ListOf(json::Object(fields, "max")),
                   ListOf(json::Object(fields, "min")),
                   ListOf(json::Object(fields, "default")),
                   ListOf(json::Object(fields, "defaultRequest")),
                   ListOf(json::Object(fields, "maxLimitRequestRatio"))};
    if (item.type == "Container") {
      for (const auto& [name, quantity] : item.max)
        item.default_limit.emplace(name, quantity);
      for (const auto& [name, quantity] : item.default_limit) {
        item.default_request.emplace(name, quantity);
      }
      for (const auto& [name, quantity] : item.min)
        item.default_request.emplace(name, quantity);
    }
    items.push_back(std::move(item));
  }
  return items;
}

Result<std::vector<std::vector<LimitItem>>> LimitRanges(const Attributes& attributes,
                                                        Context& context) {
  KPP_ASSIGN_OR_RETURN(auto ranges, context.reader.ListTrustingEmpty(
                                        "", "limitranges", attributes.namespace_, kLiveLookupTtl));
  std::vector<std::vector<LimitItem>> items;
  for (const auto& range : ranges)
    items.push_back(ItemsOf(range));
  return items;
}

bool Applies(const Attributes& attributes) {
  if (!attributes.subresource.empty() || attributes.object == nullptr) return false;
  // Containers cannot change after creation, so pod updates need no look.
  if (attributes.Is("", "pods")) return attributes.operation == Operation::kCreate;
  return attributes.Is("", "persistentvolumeclaims") &&
         (attributes.operation == Operation::kCreate || attributes.operation == Operation::kUpdate);
}

std::string Text(const Quantity& quantity) {
  return quantity.String();
}

// Upstream compares milli-values when they fit, else whole values.
int Compare(const Quantity& a, const Quantity& b) {
  return a.Cmp(b);
}

void MinConstraint(std::string_view type, const std::string& name, const Quantity& enforced,
                   const ResourceList& requests, const ResourceList& limits,
                   std::vector<std::string>& errors) {
  const auto request = requests.find(name);
  const auto limit = limits.find(name);
  if (request == requests.end()) {
    errors.push_back(fmt::format("minimum {} usage per {} is {}.  No request is specified", name,
                                 type, Text(enforced)));
  } else if (Compare(request->second, enforced) < 0) {
    errors.push_back(fmt::format("minimum {} usage per {} is {}, but request is {}", name, type,
                                 Text(enforced), Text(request->second)));
  } else if (limit != limits.end() && Compare(limit->second, enforced) < 0) {
    errors.push_back(fmt::format("minimum {} usage per {} is {}, but limit is {}", name, type,
                                 Text(enforced), Text(limit->second)));
  }
}

void MaxConstraint(std::string_view type, const std::string& name, const Quantity& enforced,
                   const ResourceList& requests, const ResourceList& limits,
                   std::vector<std::string>& errors) {
  const auto request = requests.find(name);
  const auto limit = limits.find(name);
  if (limit == limits.end()) {
    errors.push_back(fmt::format("maximum {} usage per {} is {}.  No limit is specified", name,
                                 type, Text(enforced)));
  } else if (Compare(limit->second, enforced) > 0) {
    errors.push_back(fmt::format("maximum {} usage per {} is {}, but limit is {}", name, type,
                                 Text(enforced), Text(limit->second)));
  } else if (request != requests.end() && Compare(request->second, enforced) > 0) {
    errors.push_back(fmt::format("maximum {} usage per {} is {}, but request is {}", name, type,
                                 Text(enforced), Text(request->second)));
  }
}

void MaxRequestConstraint(std::string_view type, const std::string& name, const Quantity& enforced,
                          const ResourceList& requests, std::vector<std::string>& errors) {
  const auto request = requests.find(name);
  if (request == requests.end()) {
    errors.push_back(fmt::format("maximum {} usage per {} is {}.  No request is specified", name,
                                 type, Text(enforced)));
  } else if (Compare(request->second, enforced) > 0) {
    errors.push_back(fmt::format("maximum {} usage per {} is {}, but request is {}", name, type,
                                 Text(enforced), Text(request->second)));
  }
}

void RatioConstraint(std::string_view type, const std::string& name, const Quantity& enforced,
                     const ResourceList& requests, const ResourceList& limits,
                     std::vector<std::string>& errors) {
  const auto request = requests.find(name);
  const auto limit = limits.find(name);
  if (request == requests.end() || request->second.IsZero()) {
    errors.push_back(
        fmt::format("{} max limit to request ratio per {} is {}, but no request is "
                    "specified or request is 0",
                    name, type, Text(enforced)));
    return;
  }
  if (limit == limits.end() || limit->second.IsZero()) {
    errors.push_back(
        fmt::format("{} max limit to request ratio per {} is {}, but no limit is "
                    "specified or limit is 0",
                    name, type, Text(enforced)));
    return;
  }
  const double observed =
      limit->second.AsApproximateDouble() / request->second.AsApproximateDouble();
  if (observed > enforced.AsApproximateDouble()) {
    errors.push_back(
        fmt::format("{} max limit to request ratio per {} is {}, but provided ratio "
                    "is {:f}",
                    name, type, Text(enforced), observed));
  }
}

void CheckBounds(const LimitItem& item, const ResourceList& requests, const ResourceList& limits,
                 std::vector<std::string>& errors) {
  for (const auto& [name, quantity] : item.min) {
    MinConstraint(item.type, name, quantity, requests, limits, errors);
  }
  for (const auto& [name, quantity] : item.max) {
    MaxConstraint(item.type, name, quantity, requests, limits, errors);
  }
  for (const auto& [name, quantity] : item.max_ratio) {
    RatioConstraint(item.type, name, quantity, requests, limits, errors);
  }
}

struct Resources {
  ResourceList requests, limits;
};

Resources ContainerResources(const object& container) {
  const auto* resources = json::Object(&container, "resources");
  return {ListOf(json::Object(resources, "requests")), ListOf(json::Object(resources, "limits"))};
}

// Upstream's pod totals: the containers summed, raised to any one init container's value.
Resources PodResources(const object* spec) {
  Resources total;
  const auto add = [](ResourceList& sum, const ResourceList& more) {
    for (const auto& [name, quantity] : more) {
      auto [it, inserted] = sum.emplace(name, quantity);
      if (!inserted) it->second.Add(quantity);
    }
  };
  const auto raise = [](ResourceList& sum, const ResourceList& one) {
    for (const auto& [name, quantity] : one) {
      auto [it, inserted] = sum.emplace(name, quantity);
      if (!inserted && it->second.Cmp(quantity) < 0) it->second = quantity;
    }
  };
  if (const auto* containers = json::Array(spec, "containers")) {
    for (const auto& container : *containers) {
      if (!container.is_object()) continue;
      auto resources = ContainerResources(container.as_object());
      add(total.requests, resources.requests);
      add(total.limits, resources.limits);
    }
  }
  if (const auto* containers = json::Array(spec, "initContainers")) {
    for (const auto& container : *containers) {
      if (!container.is_object()) continue;
      auto resources = ContainerResources(container.as_object());
      raise(total.requests, resources.requests);
      raise(total.limits, resources.limits);
    }
  }
  return total;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names)
    text += (text.empty() ? "" : ", ") + name;
  return text;
}

// Sets the defaults a container lacks; returns upstream's annotation phrases for it.
void DefaultContainer(object& container, const ResourceList& default_limits,
                      const ResourceList& default_requests, std::string_view prefix,
                      std::vector<std::string>& annotations) {
  auto& resources = json::EnsureObject(container, "resources");
  std::vector<std::string> set_requests, set_limits;
  if (!default_limits.empty()) {
    auto& limits = json::EnsureObject(resources, "limits");
    for (const auto& [name, quantity] : default_limits) {
      if (limits.contains(name)) continue;
      limits[name] = quantity.String();
      set_limits.push_back(name);
    }
  }
  if (!default_requests.empty()) {
    auto& requests = json::EnsureObject(resources, "requests");
    for (const auto& [name, quantity] : default_requests) {
      if (requests.contains(name)) continue;
      requests[name] = quantity.String();
      set_requests.push_back(name);
    }
  }
  const std::string_view name = json::String(&container, "name");
  if (!set_requests.empty()) {
    annotations.push_back(fmt::format("{} request for {} {}", Joined(set_requests), prefix, name));
  }
  if (!set_limits.empty()) {
    annotations.push_back(fmt::format("{} limit for {} {}", Joined(set_limits), prefix, name));
  }
}

}  // namespace

std::optional<Rejection> LimitRanger::Admit(Attributes& attributes, Context& context) const {
  if (!Applies(attributes) || !attributes.Is("", "pods")) return std::nullopt;
  auto ranges = LimitRanges(attributes, context);
  if (!ranges.ok()) return Rejection{ranges.error(), {}};
  for (const auto& items : *ranges) {
    ResourceList default_limits, default_requests;
    for (const auto& item : items) {
      if (item.type != "Container") continue;
      for (const auto& [name, quantity] : item.default_limit)
        default_limits[name] = quantity;
      for (const auto& [name, quantity] : item.default_request)
        default_requests[name] = quantity;
    }
    if (default_limits.empty() && default_requests.empty()) continue;
    object& pod = *attributes.object;
    object& spec = json::EnsureObject(pod, "spec");
    std::vector<std::string> annotations;
    for (const auto& [list, prefix] :
         {std::pair{"containers", "container"}, std::pair{"initContainers", "init container"}}) {
      auto* containers = spec.if_contains(list);
      if (containers == nullptr || !containers->is_array()) continue;
      for (auto& container : containers->as_array()) {
        if (container.is_object()) {
          DefaultContainer(container.as_object(), default_limits, default_requests, prefix,
                           annotations);
        }
      }
    }
    context.mutated = true;
    if (!annotations.empty()) {
      std::string text = "LimitRanger plugin set: ";
      for (size_t i = 0; i < annotations.size(); ++i) {
        text += (i > 0 ? "; " : "") + annotations[i];
      }
      json::EnsureObject(json::EnsureObject(pod, "metadata"),
                         "annotations")["kubernetes.io/limit-ranger"] = text;
    }
  }
  return std::nullopt;
}

std::optional<Rejection> LimitRanger::Validate(const Attributes& attributes,
                                               Context& context) const {
  if (!Applies(attributes)) return std::nullopt;
  auto ranges = LimitRanges(attributes, context);
  if (!ranges.ok()) return Rejection{ranges.error(), {}};
  std::vector<std::string> errors;
  const object* spec = json::Object(attributes.object, "spec");
  const bool pod = attributes.Is("", "pods");
  for (const auto& items : *ranges) {
    for (const auto& item : items) {
      if (pod && item.type == "Container") {
        for (std::string_view list : {"containers", "initContainers"}) {
          const auto* containers = json::Array(spec, list);
          if (containers == nullptr) continue;
          for (const auto& container : *containers) {
            if (!container.is_object()) continue;
            const auto resources = ContainerResources(container.as_object());
            CheckBounds(item, resources.requests, resources.limits, errors);
          }
        }
      } else if (pod && item.type == "Pod") {
        const auto resources = PodResources(spec);
        CheckBounds(item, resources.requests, resources.limits, errors);
      } else if (!pod && item.type == "PersistentVolumeClaim") {
        const auto requests = ListOf(json::Object(json::Object(spec, "resources"), "requests"));
        for (const auto& [name, quantity] : item.min) {
          MinConstraint(item.type, name, quantity, requests, {}, errors);
        }
        for (const auto& [name, quantity] : item.max) {
          MaxRequestConstraint(item.type, name, quantity, requests, errors);
        }
      }
    }
  }
  if (errors.empty()) return std::nullopt;
  // Upstream's aggregate error: one message alone, several in brackets.
  std::string message = errors.size() == 1 ? errors[0] : "[" + Joined(errors) + "]";
  return AdmissionForbidden(attributes, message);
}

}  // namespace kpp::apiserver::admission
