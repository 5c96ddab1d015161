// Secrets written with stringData, as upstream's v1 conversion treats them.
#include "api/core/v1/codec.h"

namespace kpp::api::core::v1 {

void DefaultSecret(Secret& obj) {
  // stringData is write-only: its values win over data's for the same key and it is never
  // stored or returned, so clients read every value back from data (base64 in JSON).
  for (auto& [key, value] : obj.string_data)
    obj.data.insert_or_assign(key, std::move(value));
  obj.string_data.clear();
}

}  // namespace kpp::api::core::v1
