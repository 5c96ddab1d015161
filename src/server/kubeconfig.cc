#include "server/kubeconfig.h"

#include <fmt/format.h>

#include "base/encoding.h"

namespace kpp::server {

std::string RenderKubeconfig(const std::string& server_url, const std::string& ca_pem,
                             const pki::CertificateAndKey& client) {
  return fmt::format(R"(apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: {}
    server: {}
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
preferences: {{}}
users:
- name: default
  user:
    client-certificate-data: {}
    client-key-data: {}
)",
                     Base64Encode(ca_pem), server_url, Base64Encode(client.certificate_pem),
                     Base64Encode(client.private_key_pem));
}

std::string LocalServerUrl(const std::string& bind_address, uint16_t port) {
  if (bind_address.empty() || bind_address == "0.0.0.0" || bind_address == "::") {
    return fmt::format("https://127.0.0.1:{}", port);
  }
  if (bind_address.find(':') != std::string::npos) {
    return fmt::format("https://[{}]:{}", bind_address, port);
  }
  return fmt::format("https://{}:{}", bind_address, port);
}

}  // namespace kpp::server
