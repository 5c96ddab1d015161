// The admin kubeconfig that `kpp server` writes for kubectl.
#pragma once

#include <string>

#include "pki/certificates.h"

namespace kpp::server {

// A kubeconfig with one cluster/user/context named "default", as k3s writes it: the server URL,
// the CA, and the client certificate and key, all inline as base64 data.
std::string RenderKubeconfig(const std::string& server_url, const std::string& ca_pem,
                             const pki::CertificateAndKey& client);

// The URL clients on this host use: loopback when listening on every address, else the bind
// address itself.
std::string LocalServerUrl(const std::string& bind_address, uint16_t port);

}  // namespace kpp::server
