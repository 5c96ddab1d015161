// metadata.managedFields for every write through the REST pipeline, and server-side apply
// (PATCH with application/apply-patch+yaml), on top of apimachinery/managedfields with the
// types of the generated OpenAPI definitions.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "apimachinery/managedfields/field_manager.h"
#include "base/result.h"
#include "http/server.h"

namespace kpp::apiserver {

class FieldManagers {
 public:
  explicit FieldManagers(std::span<const api::KindInfo> kinds);
  ~FieldManagers();
  FieldManagers(const FieldManagers&) = delete;
  FieldManagers& operator=(const FieldManagers&) = delete;

  // Gives the request's manager (fieldManager, else the User-Agent's first word) the fields it
  // set in `updated` over `live` (nullptr for a create), in `updated`'s managedFields. Both
  // objects are in `kind`'s version, as the client wrote. A write is never refused for its
  // bookkeeping: when the fields cannot be worked out, the live object's managedFields are kept.
  void RecordUpdate(const api::KindInfo& kind, const api::Object* live, api::Object& updated,
                    const http::Request& request, std::string_view subresource,
                    const std::string& now) const;

  // Server-side apply of the request body to `live` (nullptr when the object does not exist),
  // both as the client's version `kind` serves them. Answers the merged object (JSON) with its
  // managedFields set. Errors: 422 for a missing fieldManager, 400 for a body that is not a
  // JSON object of this kind and name, 409 for conflicts (unless force=true).
  Result<std::string> Apply(const api::KindInfo& kind, std::string_view name,
                            const std::string* live_json, const http::Request& request,
                            const std::string& now) const;

  // The checks upstream makes of PatchOptions: `force` only with apply, a fieldManager for
  // apply. Errors: 422 Invalid on PatchOptions with field causes.
  static Status ValidatePatchOptions(const http::Request& request, bool is_apply);

 private:
  struct KindTypes {
    const managedfields::TypeNode* type = nullptr;
    std::string empty_json;  // the empty object a create starts from
  };
  const KindTypes* TypesOf(const api::KindInfo& kind) const;
  // The kind table entry of the same resource as `kind` in `api_version`, or nullptr.
  const api::KindInfo* ServedIn(const api::KindInfo& kind, std::string_view api_version) const;
  class KindVersions;

  boost::json::object definitions_;
  std::unique_ptr<managedfields::TypeModel> model_;
  std::map<const api::KindInfo*, KindTypes> types_;
  // What the main resource of a kind with a status subresource does not write: its status.
  managedfields::FieldSet status_fields_;
  managedfields::FieldSet no_fields_;
};

}  // namespace kpp::apiserver
