#include "controllers/common/update_with_merge_patch.h"

#include <boost/json.hpp>
#include <map>

#include "apimachinery/patch/merge_patch.h"
#include "apimachinery/patch/patch_meta.h"
#include "apimachinery/patch/strategic_merge_patch.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"

namespace kpp::controllers {

Status UpdateWithMergePatch(const std::shared_ptr<client::rest::RestClient>& client,
                            const api::KindInfo& kind, const std::string& ns,
                            const std::string& name, const std::string& patch, bool status,
                            const std::string& field_manager, bool strategic) {
  boost::system::error_code parse_error;
  const boost::json::value patch_value = boost::json::parse(patch, parse_error);
  if (parse_error) return InvalidError("invalid merge patch: " + parse_error.message());
  std::map<std::string, patch::PatchMeta, std::less<>> strategies;
  if (strategic) {
    for (const auto& field : kind.patch_fields) {
      auto meta = patch::ParsePatchMeta(field.strategy, field.merge_key);
      if (meta.ok()) strategies.emplace(std::string(field.path), *meta);
    }
  }
  const patch::PatchMetaTable schema(std::move(strategies));
  client::WriteOptions options;
  options.field_manager = field_manager;
  const client::DynamicResource resource(client, kind, ns);
  for (int attempt = 0;; ++attempt) {
    KPP_ASSIGN_OR_RETURN(auto current, resource.Get(name));
    KPP_ASSIGN_OR_RETURN(
        auto merged, patch::ApplyMergePatch(boost::json::value(std::move(current)), patch_value));
    if (!merged.is_object()) return InvalidError("a merge patch of an object must be an object");
    auto written = status ? resource.UpdateStatus(merged.as_object(), options)
                          : resource.Update(merged.as_object(), options);
    if (written.ok()) return Ok();
    if (!client::IsConflict(written.error()) || attempt >= 4) return std::move(written).error();
  }
}

}  // namespace kpp::controllers
