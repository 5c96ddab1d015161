// Client credentials for kpp's own components, so each authenticates as itself and gets only
// the rights upstream's bootstrap policy grants it: a certificate from the cluster CA (CN = user,
// O = groups) and a kubeconfig using it, kept under <data-dir>/components.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "pki/certificates.h"

namespace kpp::server {

struct ComponentIdentity {
  std::string user;
  std::vector<std::string> groups;
  std::string file_name;  // base name of the files under <data-dir>/components
};

ComponentIdentity SchedulerIdentity();          // system:kube-scheduler
ComponentIdentity ControllerManagerIdentity();  // system:kube-controller-manager
ComponentIdentity KubeProxyIdentity();          // system:kube-proxy
// system:node:<name> in system:nodes, as kubelets are known to the node authorizer.
ComponentIdentity NodeIdentity(const std::string& node_name);

struct ComponentCredentials {
  pki::CertificateAndKey client;
  std::string ca_certificate_pem;
  std::string kubeconfig;  // the rendered kubeconfig, also written to kubeconfig_path
  std::string certificate_path;
  std::string key_path;
  std::string kubeconfig_path;
};

// Issues `identity`'s client certificate from the CA in <data_dir>/tls (reusing the one written
// before while it names the same identity, chains to the CA and has more than 30 days left) and
// writes <name>.crt, <name>.key and <name>.kubeconfig (pointing at `server_url`) under
// <data_dir>/components. Keys and kubeconfigs are 0600, the directory 0700. Thread-compatible:
// one caller per identity at a time.
Result<ComponentCredentials> IssueComponentCredentials(const std::string& data_dir,
                                                       const ComponentIdentity& identity,
                                                       const std::string& server_url,
                                                       std::chrono::system_clock::time_point now);

}  // namespace kpp::server
