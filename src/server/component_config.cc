#include "server/component_config.h"

namespace kpp::server {

client::rest::RestConfig ComponentRestConfig(const std::string& url, const std::string& ca_pem,
                                             const pki::CertificateAndKey& client,
                                             const std::string& component) {
  client::rest::RestConfig config;
  config.server = url;
  config.tls.ca_pem = ca_pem;
  config.tls.client_certificate_pem = client.certificate_pem;
  config.tls.client_key_pem = client.private_key_pem;
  config.user_agent = "kpp-" + component;
  return config;
}

}  // namespace kpp::server
