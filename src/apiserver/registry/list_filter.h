// The labelSelector and fieldSelector of a list, watch or deletecollection, checked against the
// kind's field labels (field_labels.h).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "apimachinery/labels/field_selector.h"
#include "apimachinery/labels/selector.h"
#include "apiserver/registry/field_labels.h"
#include "base/result.h"
#include "http/server.h"

namespace kpp::apiserver {

class ListFilter {
 public:
  // Parses the request's selectors: BadRequest for malformed ones and for field labels the kind
  // does not support.
  static Result<ListFilter> FromRequest(const api::KindInfo& kind, const http::Request& request);

  bool Empty() const { return labels_.Empty() && fields_.Empty(); }
  bool Matches(const api::Object& object) const;
  // The same for an object known by its labels and a lookup of its field label values (the
  // watch cache's form).
  using FieldLookup = std::function<std::string_view(std::string_view label)>;
  bool Matches(const labels::Set& labels, const FieldLookup& field) const;
  // The value the field selector requires `label` to have, e.g. the namespace of a list across
  // all namespaces that selects metadata.namespace=team.
  std::optional<std::string> RequiredValue(std::string_view label) const {
    return fields_.RequiresExactMatch(label);
  }

 private:
  labels::Selector labels_ = labels::Selector::Everything();
  fields::Selector fields_ = fields::Selector::Everything();
  std::span<const FieldLabel> field_labels_;
  std::vector<std::string> field_names_;
};

}  // namespace kpp::apiserver
