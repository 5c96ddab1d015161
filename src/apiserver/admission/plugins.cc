// The plugins kpp has, by upstream's name, and the order they run in.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/admission_config.h"
#include "apiserver/admission/certificates.h"
#include "apiserver/admission/limit_ranger.h"
#include "apiserver/admission/namespace_lifecycle.h"
#include "apiserver/admission/node_restriction.h"
#include "apiserver/admission/pod_security.h"
#include "apiserver/admission/priority.h"
#include "apiserver/admission/resource_quota.h"
#include "apiserver/admission/service_account.h"
#include "apiserver/admission/webhook.h"

namespace kpp::apiserver::admission {

const std::vector<std::string>& OrderedPluginNames() {
  // Upstream's kube-apiserver order (AllOrderedPlugins), of the plugins kpp has.
  static const std::vector<std::string> names = {"NamespaceLifecycle",
                                                 "LimitRanger",
                                                 "ServiceAccount",
                                                 "NodeRestriction",
                                                 "PodSecurity",
                                                 "Priority",
                                                 "DefaultTolerationSeconds",
                                                 "DefaultStorageClass",
                                                 "CertificateApproval",
                                                 "CertificateSigning",
                                                 "CertificateSubjectRestriction",
                                                 "MutatingAdmissionWebhook",
                                                 "ValidatingAdmissionWebhook",
                                                 "ResourceQuota"};
  return names;
}

const std::vector<std::string>& DefaultEnabledPlugins() {
  static const std::vector<std::string> names = OrderedPluginNames();
  return names;
}

Result<std::unique_ptr<Chain>> NewChain(const std::vector<std::string>& names,
                                        std::unique_ptr<Reader> reader, Clock& clock,
                                        const AdmissionConfiguration* config) {
  const AdmissionConfiguration defaults;
  if (config == nullptr) config = &defaults;
  const std::map<std::string, std::function<std::unique_ptr<Plugin>()>, std::less<>> factories = {
      {"NamespaceLifecycle", [] { return std::make_unique<NamespaceLifecycle>(); }},
      {"LimitRanger", [] { return std::make_unique<LimitRanger>(); }},
      {"NodeRestriction", [] { return std::make_unique<NodeRestriction>(); }},
      {"Priority", [] { return std::make_unique<Priority>(); }},
      {"DefaultTolerationSeconds", [] { return std::make_unique<DefaultTolerationSeconds>(); }},
      {"DefaultStorageClass", [] { return std::make_unique<DefaultStorageClass>(); }},
      {"PodSecurity", [&] { return std::make_unique<PodSecurity>(config->pod_security); }},
      {"ServiceAccount", [] { return std::make_unique<ServiceAccount>(); }},
      {"ResourceQuota", [] { return std::make_unique<ResourceQuota>(); }},
      {"CertificateApproval", [] { return std::make_unique<CertificateApproval>(); }},
      {"CertificateSigning", [] { return std::make_unique<CertificateSigning>(); }},
      {"CertificateSubjectRestriction",
       [] { return std::make_unique<CertificateSubjectRestriction>(); }},
      {"MutatingAdmissionWebhook", [] { return std::make_unique<MutatingWebhook>(); }},
      {"ValidatingAdmissionWebhook", [] { return std::make_unique<ValidatingWebhook>(); }},
  };
  for (const auto& name : names) {
    if (!factories.contains(name)) {
      return InvalidError(fmt::format("unknown admission plugin: {}", name));
    }
  }
  auto chain = std::make_unique<Chain>(std::move(reader), clock);
  for (const auto& name : OrderedPluginNames()) {
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      chain->Add(factories.find(name)->second());
    }
  }
  return chain;
}

}  // namespace kpp::apiserver::admission
