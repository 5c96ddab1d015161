// Writes what a JSON merge patch of an object (or of its /status) would, the way upstream's
// controllers write status and a deployment's revision: an update carrying the resourceVersion
// just read. Their system:controller:* roles grant `update`, not `patch`, on those.
#pragma once

#include <memory>
#include <string>

#include "api/runtime/kinds.h"
#include "base/result.h"
#include "client/rest/rest_client.h"

namespace kpp::controllers {

// Reads `name`, merges `patch` into it and updates it (its /status with `status`); a conflict
// reads again, up to five tries. `strategic`: `patch` is a strategic merge patch, merged with
// the kind's patch strategies (owner references by uid, `$patch: delete`, ...).
Status UpdateWithMergePatch(const std::shared_ptr<client::rest::RestClient>& client,
                            const api::KindInfo& kind, const std::string& ns,
                            const std::string& name, const std::string& patch, bool status,
                            const std::string& field_manager, bool strategic = false);

}  // namespace kpp::controllers
