// The registry strategy of certificates.k8s.io/v1 CertificateSigningRequests (upstream's
// pkg/registry/certificates): the requestor is recorded at create, the spec never changes, the
// approval subresource writes only status.conditions and the status subresource only the
// certificate and non-approval conditions, with upstream's validation of each.
#pragma once

#include "apiserver/registry/strategy.h"

namespace kpp::apiserver {

// The strategy of CertificateSigningRequest, or null for other kinds.
const Strategy* CertificatesStrategyFor(const api::KindInfo& kind);

}  // namespace kpp::apiserver
