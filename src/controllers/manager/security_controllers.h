// The controllers of kube-controller-manager that service accounts and quotas rely on, as the
// manager runs them: "serviceaccount" (as service-account-controller), "root-ca-cert-publisher"
// (as root-ca-cert-publisher) and "resourcequota" (as resourcequota-controller) each with its
// own identity (ControllerContexts), "serviceaccount-token" with the manager's own credentials
// and the key of --service-account-private-key-file, as upstream starts it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/informers/shared_informer.h"
#include "client/rest/rest_client.h"
#include "controllers/manager/controller_context.h"
#include "controllers/manager/controller_manager.h"

namespace kpp::controllers {

class SecurityControllers {
 public:
  // Whether `controller` is one of these.
  static bool Handles(const std::string& controller);
  // The enabled ones among them, on `factory` (not yet running). An error when the key or the
  // root CA file cannot be read.
  static Result<std::unique_ptr<SecurityControllers>> Create(
      client::informers::SharedInformerFactory& factory,
      std::shared_ptr<client::rest::RestClient> manager_client, ControllerContexts& contexts,
      const ControllerManagerOptions& options, const std::vector<std::string>& enabled);
  ~SecurityControllers();

  void Run();  // after the factory's caches synced
  void Stop();

 private:
  SecurityControllers();
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace kpp::controllers
