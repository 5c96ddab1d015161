// Defaulting of admission webhooks, as upstream's pkg/apis/admissionregistration/v1 does it.
// The scalar defaults (failurePolicy, matchPolicy, timeoutSeconds, ...) are in the schema.
#include "api/admissionregistration.k8s.io/v1/codec.h"

namespace kpp::api::admissionregistration_k8s_io::v1 {

namespace {

// Absent selectors become the empty selector, which matches everything.
template <typename Webhook>
void DefaultSelectors(Webhook& obj) {
  if (!obj.namespace_selector) obj.namespace_selector.emplace();
  if (!obj.object_selector) obj.object_selector.emplace();
}

}  // namespace

void DefaultValidatingWebhook(ValidatingWebhook& obj) {
  DefaultSelectors(obj);
}

void DefaultMutatingWebhook(MutatingWebhook& obj) {
  DefaultSelectors(obj);
}

}  // namespace kpp::api::admissionregistration_k8s_io::v1
