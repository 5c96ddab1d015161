#include "server/component_config.h"

namespace kpp::server {

client::rest::RestConfig ComponentRestConfig(const std::string& url, const pki::ClusterTls& tls,
                                             const std::string& component) {
  client::rest::RestConfig config;
  config.server = url;
  config.tls.ca_pem = tls.ca.certificate_pem;
  config.tls.client_certificate_pem = tls.admin.certificate_pem;
  config.tls.client_key_pem = tls.admin.private_key_pem;
  config.user_agent = "kpp-" + component;
  return config;
}

}  // namespace kpp::server
