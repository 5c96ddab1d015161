// The client configuration a control-plane component inside `kpp server` talks to the API
// server with: over HTTPS to its own URL, verified against the cluster CA.
#pragma once

#include <string>

#include "client/rest/config.h"
#include "pki/cluster_tls.h"

namespace kpp::server {

// For now every component authenticates with the admin client certificate; per-component
// identities (e.g. system:kube-scheduler) replace it here once the PKI issues them.
client::rest::RestConfig ComponentRestConfig(const std::string& url, const pki::ClusterTls& tls,
                                             const std::string& component);

}  // namespace kpp::server
