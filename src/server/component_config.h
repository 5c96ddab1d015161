// The client configuration a control-plane component inside `kpp server` talks to the API
// server with: over HTTPS to its own URL, verified against the cluster CA, authenticated by the
// component's own client certificate (server/component_credentials).
#pragma once

#include <string>

#include "client/rest/config.h"
#include "pki/certificates.h"

namespace kpp::server {

client::rest::RestConfig ComponentRestConfig(const std::string& url, const std::string& ca_pem,
                                             const pki::CertificateAndKey& client,
                                             const std::string& component);

}  // namespace kpp::server
