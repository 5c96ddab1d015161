// What an update may not change, as upstream's ValidateXUpdate functions: the schema's immutable
// fields of the kind (`immutable=`, upstream's `field is immutable`) and the hand-written rules of
// a few kinds (a StatefulSet's spec but for its scaling and template fields, a Pod's spec but for
// images and a few more, a bound PersistentVolumeClaim's spec but for its storage request, a
// RoleBinding's roleRef, an immutable ConfigMap's or Secret's data, a Secret's type, a
// StorageClass, a PriorityClass's value, a Service's cluster IP once set).
#pragma once

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "apimachinery/validation/field_errors.h"

namespace kpp::apiserver {

// Appends the errors of replacing `old_object` with `new_object`. `kind` is the kind the request
// named: some removed versions let fields change that the current ones fix (upstream let an
// apps/v1beta1 Deployment's selector change). Both objects are in the kind's storage version.
void ValidateUpdate(const api::KindInfo& kind, const api::Object& old_object,
                    const api::Object& new_object, validation::FieldErrors& errors);

}  // namespace kpp::apiserver
