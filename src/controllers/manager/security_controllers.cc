#include "controllers/manager/security_controllers.h"

#include <fmt/format.h>

#include <algorithm>

#include "apiserver/authn/legacy_token.h"
#include "apiserver/authn/service_account_key.h"
#include "base/clock.h"
#include "base/files.h"
#include "base/log.h"
#include "controllers/resourcequota/resource_quota_controller.h"
#include "controllers/resourcequota/rest_reader.h"
#include "controllers/serviceaccount/service_account_controllers.h"

namespace kpp::controllers {

struct SecurityControllers::Parts {
  std::unique_ptr<apiserver::ServiceAccountKey> key;
  std::unique_ptr<TokensController> tokens;
  std::unique_ptr<ServiceAccountsController> accounts;
  std::unique_ptr<RootCaCertPublisher> root_ca;
  std::unique_ptr<RestListReader> quota_reader;
  std::unique_ptr<ResourceQuotaController> quotas;
};

SecurityControllers::SecurityControllers() : parts_(std::make_unique<Parts>()) {}

SecurityControllers::~SecurityControllers() {
  Stop();
}

bool SecurityControllers::Handles(const std::string& controller) {
  return controller == "serviceaccount" || controller == "root-ca-cert-publisher" ||
         controller == "serviceaccount-token" || controller == "resourcequota";
}

Result<std::unique_ptr<SecurityControllers>> SecurityControllers::Create(
    client::informers::SharedInformerFactory& factory,
    std::shared_ptr<client::rest::RestClient> manager_client, ControllerContexts& contexts,
    const ControllerManagerOptions& options, const std::vector<std::string>& enabled) {
  const auto on = [&](std::string_view name) {
    return std::find(enabled.begin(), enabled.end(), name) != enabled.end();
  };
  std::unique_ptr<SecurityControllers> self(new SecurityControllers());
  Parts& parts = *self->parts_;
  std::string root_ca = options.client_config.tls.ca_pem;
  if (!options.root_ca_file.empty()) {
    auto read = ReadFile(options.root_ca_file);
    if (!read.ok()) return std::move(read).error().WithContext("--root-ca-file");
    root_ca = *std::move(read);
  }
  if (on("serviceaccount-token")) {
    if (options.service_account_private_key_file.empty()) {
      KLOG_WARNING(
          "serviceaccount-token controller: --service-account-private-key-file is not set, "
          "not starting it");
    } else {
      auto pem = ReadFile(options.service_account_private_key_file);
      if (!pem.ok()) {
        return std::move(pem).error().WithContext("--service-account-private-key-file");
      }
      auto key = apiserver::ServiceAccountKey::FromPem(*pem);
      if (!key.ok()) {
        return std::move(key).error().WithContext("--service-account-private-key-file");
      }
      parts.key = std::move(key).value();
      parts.tokens = std::make_unique<TokensController>(
          factory, manager_client,
          [key = parts.key.get()](std::string_view ns, std::string_view account,
                                  std::string_view uid, std::string_view secret) {
            return apiserver::IssueLegacyToken(*key, ns, account, uid, secret);
          },
          root_ca);
    }
  }
  if (on("serviceaccount")) {
    parts.accounts = std::make_unique<ServiceAccountsController>(
        factory, contexts.For("serviceaccount").client());
  }
  if (on("root-ca-cert-publisher")) {
    parts.root_ca = std::make_unique<RootCaCertPublisher>(
        factory, contexts.For("root-ca-cert-publisher").client(), root_ca);
  }
  if (on("resourcequota")) {
    auto client = contexts.For("resourcequota").client();
    parts.quota_reader = std::make_unique<RestListReader>(client);
    parts.quotas =
        std::make_unique<ResourceQuotaController>(client, *parts.quota_reader, RealClock());
  }
  return self;
}

void SecurityControllers::Run() {
  if (parts_->tokens) parts_->tokens->Run();
  if (parts_->accounts) parts_->accounts->Run();
  if (parts_->root_ca) parts_->root_ca->Run();
  if (parts_->quotas) parts_->quotas->Start();
}

void SecurityControllers::Stop() {
  if (!parts_) return;
  if (parts_->quotas) parts_->quotas->Stop();
  if (parts_->root_ca) parts_->root_ca->Stop();
  if (parts_->accounts) parts_->accounts->Stop();
  if (parts_->tokens) parts_->tokens->Stop();
}

}  // namespace kpp::controllers
