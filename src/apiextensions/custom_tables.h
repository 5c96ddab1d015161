// Tables of custom resources (what `kubectl get` prints): NAME, then the version's
// additionalPrinterColumns (Age when it declares none), each cell read with a simple JSONPath
// and typed as upstream's tableconvertor does it.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "apiserver/printers/printers.h"

namespace kpp::apiextensions {

// The columns of a custom resource's table.
std::vector<apiserver::printers::Column> CustomColumns(const api::KindInfo& kind);
// One row's cells for `object` of the custom resource `kind`.
void PrintCustomRow(const api::KindInfo& kind, const api::Object& object,
                    const apiserver::printers::PrintContext& context,
                    apiserver::printers::Row& row);

// The values a simple JSONPath (".spec.replicas", ".status.conditions[0].type",
// ".status.conditions[?(@.type==\"Ready\")].status", optionally wrapped in {}) selects in
// `root`.
std::vector<const boost::json::value*> JsonPathValues(const boost::json::value& root,
                                                      std::string_view path);
// The first value, or null.
const boost::json::value* JsonPathValue(const boost::json::value& root, std::string_view path);
// Sets the value at a dotted path (".spec.replicas"), creating the objects on the way.
void SetJsonPath(boost::json::value& root, std::string_view path, boost::json::value value);

}  // namespace kpp::apiextensions
