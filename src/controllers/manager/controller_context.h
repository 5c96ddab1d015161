// What one controller of the manager runs with: a client under the controller's own identity
// (client_builder.h) and an event recorder writing through it, as upstream's controllers each
// make their own. The shared informers stay on the manager's client.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client/record/event_recorder.h"
#include "client/rest/rest_client.h"
#include "controllers/common/rest_controller_client.h"
#include "controllers/manager/client_builder.h"

namespace kpp::controllers {

// Upstream's names for a controller of the manager (by its --controllers name): the service
// account it runs as under --use-service-account-credentials (kube-system/<service_account>,
// bound to system:controller:<service_account>) and the source component of its events.
struct ControllerIdentity {
  std::string service_account;
  std::string event_component;
};
// Unknown names get "<name>-controller" for both.
ControllerIdentity IdentityOf(const std::string& controller);

class ControllerContext {
 public:
  ControllerContext(std::shared_ptr<client::rest::RestClient> client,
                    const std::string& event_component);
  ~ControllerContext();
  ControllerContext(const ControllerContext&) = delete;
  ControllerContext& operator=(const ControllerContext&) = delete;

  const std::shared_ptr<client::rest::RestClient>& client() const { return client_; }
  EventSink& events() { return events_; }
  // A client adapter over client() (RestControllerClient, RestWorkloadClient, ...) and `args`,
  // owned here so it lives as long as the controller using it.
  template <typename Adapter, typename... Args>
  Adapter& Make(Args&&... args) {
    auto adapter = std::make_shared<Adapter>(client_, std::forward<Args>(args)...);
    Adapter& result = *adapter;
    adapters_.push_back(std::move(adapter));
    return result;
  }

 private:
  std::shared_ptr<client::rest::RestClient> client_;
  client::record::EventRecorder recorder_;
  RecorderEventSink events_;
  std::vector<std::shared_ptr<void>> adapters_;
};

// One context per controller, made on first use. Not thread-safe (the manager builds its
// controllers on one thread).
class ControllerContexts {
 public:
  // `anonymous` (no credentials) stands in for a client that cannot be built, so such a
  // controller is refused rather than given more rights than its own.
  ControllerContexts(ControllerClientBuilder& builder,
                     std::shared_ptr<client::rest::RestClient> anonymous)
      : builder_(builder), anonymous_(std::move(anonymous)) {}
  ControllerContext& For(const std::string& controller);

 private:
  ControllerClientBuilder& builder_;
  std::shared_ptr<client::rest::RestClient> anonymous_;
  std::map<std::string, std::unique_ptr<ControllerContext>> contexts_;
};

}  // namespace kpp::controllers
