// Discovery and OpenAPI documents that follow what is served: the generated kinds plus the
// custom resources of CustomResourceKinds. Rebuilt (lazily, on the next request) whenever the
// served custom resources change, so that ETags and hashes change and clients notice.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "api/runtime/kinds.h"
#include "apiextensions/custom_resources.h"
#include "apiserver/discovery.h"
#include "apiserver/openapi.h"

namespace kpp::apiextensions {

class ServedDocuments {
 public:
  // All arguments must outlive this. `definitions_v2` is the generated OpenAPI definitions.
  ServedDocuments(const CustomResourceKinds& custom, std::span<const api::KindInfo> builtins,
                  std::string_view definitions_v2, std::string version);

  // Thread-safe; the documents stay valid while the caller holds them.
  std::shared_ptr<const apiserver::Discovery> discovery() const;
  std::shared_ptr<const apiserver::OpenApiDocuments> openapi() const;

 private:
  void Refresh() const;

  const CustomResourceKinds& custom_;
  std::span<const api::KindInfo> builtins_;
  std::string_view definitions_v2_;
  std::string version_;
  mutable std::mutex mutex_;
  mutable uint64_t generation_ = ~uint64_t{0};
  mutable std::shared_ptr<const apiserver::Discovery> discovery_;
  mutable std::shared_ptr<const apiserver::OpenApiDocuments> openapi_;
  mutable uint64_t openapi_generation_ = ~uint64_t{0};
};

// The OpenAPI v2 definition of a custom resource version (from its openAPIV3Schema, with
// apiVersion, kind and metadata as for every object and x-kubernetes-group-version-kind), and
// of its list, keyed by definition name.
void AddCustomResourceDefinitions(const api::KindInfo& kind, boost::json::object& definitions);

}  // namespace kpp::apiextensions
