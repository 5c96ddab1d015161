// Internal: the pieces of Validate that the CRD checks reuse for `default` values.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema::internal {

// The kube-openapi validation of `value` against `schema` alone, as field errors under
// `base_path` ("" for a custom resource, whose errors then carry the value's own paths).
validation::FieldErrors ValidateAgainstSchema(const boost::json::value& value, const Schema& schema,
                                              const std::string& base_path);

// Upstream's objectmeta.Validate: apiVersion, kind and metadata of every embedded resource.
void ValidateEmbeddedResources(const boost::json::value& value, const Schema& schema,
                               const validation::FieldPath& path, bool is_resource_root,
                               validation::FieldErrors& errors);

}  // namespace kpp::apiextensions::schema::internal
