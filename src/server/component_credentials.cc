#include "server/component_credentials.h"

#include <fmt/format.h>

#include "base/files.h"
#include "pki/cluster_tls.h"
#include "server/kubeconfig.h"

namespace kpp::server {
namespace {

constexpr std::chrono::hours kValidity{24 * 365};
constexpr std::chrono::hours kRenewBefore{24 * 30};

// The certificate written before, when it still serves `identity`.
bool Reusable(const pki::CertificateAndKey& pair, const std::string& ca_pem,
              const ComponentIdentity& identity, std::chrono::system_clock::time_point now) {
  auto info = pki::ParseCertificate(pair.certificate_pem);
  if (!info.ok()) return false;
  if (!pki::CheckKeyMatches(pair.certificate_pem, pair.private_key_pem).ok()) return false;
  if (!pki::CheckSignedBy(pair.certificate_pem, ca_pem).ok()) return false;
  return info->common_name == identity.user && info->organizations == identity.groups &&
         info->not_after - now > kRenewBefore;
}

}  // namespace

ComponentIdentity SchedulerIdentity() {
  return {"system:kube-scheduler", {}, "kube-scheduler"};
}

ComponentIdentity ControllerManagerIdentity() {
  return {"system:kube-controller-manager", {}, "kube-controller-manager"};
}

ComponentIdentity KubeProxyIdentity() {
  return {"system:kube-proxy", {}, "kube-proxy"};
}

ComponentIdentity NodeIdentity(const std::string& node_name) {
  return {"system:node:" + node_name, {"system:nodes"}, "node-" + node_name};
}

Result<ComponentCredentials> IssueComponentCredentials(const std::string& data_dir,
                                                       const ComponentIdentity& identity,
                                                       const std::string& server_url,
                                                       std::chrono::system_clock::time_point now) {
  const std::string tls_dir = data_dir + "/tls";
  pki::CertificateAndKey ca;
  KPP_ASSIGN_OR_RETURN(ca.certificate_pem,
                       ReadFile(fmt::format("{}/{}.crt", tls_dir, pki::kCaName)));
  KPP_ASSIGN_OR_RETURN(ca.private_key_pem,
                       ReadFile(fmt::format("{}/{}.key", tls_dir, pki::kCaName)));
  const std::string dir = data_dir + "/components";
  KPP_RETURN_IF_ERROR(EnsureWritableDirectory(dir, 0700));
  ComponentCredentials credentials;
  credentials.ca_certificate_pem = ca.certificate_pem;
  credentials.certificate_path = fmt::format("{}/{}.crt", dir, identity.file_name);
  credentials.key_path = fmt::format("{}/{}.key", dir, identity.file_name);
  credentials.kubeconfig_path = fmt::format("{}/{}.kubeconfig", dir, identity.file_name);

  pki::CertificateAndKey existing;
  auto certificate = ReadFile(credentials.certificate_path);
  auto key = ReadFile(credentials.key_path);
  if (certificate.ok() && key.ok()) {
    existing = {*certificate, *key};
  }
  if (!existing.certificate_pem.empty() && Reusable(existing, ca.certificate_pem, identity, now)) {
    credentials.client = std::move(existing);
  } else {
    pki::CertificateRequest request;
    request.common_name = identity.user;
    request.organizations = identity.groups;
    request.usage = pki::KeyUsage::kClient;
    request.validity = kValidity;
    KPP_ASSIGN_OR_RETURN(credentials.client, pki::IssueCertificate(ca, request));
    // The key first: a certificate never sits beside a key it does not match for long.
    KPP_RETURN_IF_ERROR(
        WriteFileAtomic(credentials.key_path, credentials.client.private_key_pem, 0600));
    KPP_RETURN_IF_ERROR(
        WriteFileAtomic(credentials.certificate_path, credentials.client.certificate_pem, 0644));
  }
  credentials.kubeconfig = RenderKubeconfig(server_url, ca.certificate_pem, credentials.client);
  KPP_RETURN_IF_ERROR(WriteFileAtomic(credentials.kubeconfig_path, credentials.kubeconfig, 0600));
  return credentials;
}

}  // namespace kpp::server
