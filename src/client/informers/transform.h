// Typed informer transforms (InformerOptions::transform, client-go's SetTransform).
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "client/informers/shared_informer.h"

namespace kpp::client::informers {

// A transform that replaces each object of T by `trim(object)` and passes others unchanged, so
// it can also be a factory's default for informers of every kind.
template <typename T, typename Trim>
std::function<ObjectRef(ObjectRef)> TypedTransform(Trim trim) {
  return [trim = std::move(trim)](ObjectRef object) -> ObjectRef {
    auto typed = As<T>(object);
    if (typed == nullptr) return object;
    return std::make_shared<const api::TypedObject<T>>(trim(*typed));
  };
}

}  // namespace kpp::client::informers
