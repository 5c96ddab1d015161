// Upstream's apiextensions controllers that make a CustomResourceDefinition served, folded into
// one loop: naming (status.acceptedNames, NamesAccepted), establishing (Established), the served
// kinds in CustomResourceKinds, and the finalizer (a terminating definition's objects are
// deleted, then its customresourcecleanup finalizer removed, which deletes it). It talks to the
// API server through in-process loopback requests, like any client, and polls the definitions
// (from the watch cache) a few times a second.
#pragma once

#include <boost/json/object.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "api/runtime/kinds.h"
#include "apiextensions/custom_resources.h"
#include "base/clock.h"
#include "http/server.h"

namespace kpp::apiextensions {

class CrdController {
 public:
  using Call = std::function<http::Response(const http::Request&)>;
  // `call`, `kinds`, `clock` must outlive the controller; `builtins` are the generated kinds.
  CrdController(Call call, CustomResourceKinds& kinds, std::span<const api::KindInfo> builtins,
                Clock& clock);
  ~CrdController();
  CrdController(const CrdController&) = delete;
  CrdController& operator=(const CrdController&) = delete;

  // Runs SyncAll every 200 ms on a thread of its own until Stop.
  void Start();
  void Stop();
  // Asks for a pass soon (a definition changed).
  void Wake();

  // One pass: names, conditions and served kinds of every definition; cleanup of terminating
  // ones. Passes run one at a time; the API server also runs one right after a client changed a
  // definition, so that its answer comes after the definition is served (or gone).
  void SyncAll();

 private:
  http::Response Send(std::string method, std::string path, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> query = {}) const;
  // Deletes the objects of a terminating definition; once none is left removes the finalizer.
  // Returns whether the definition is gone.
  bool Finalize(const boost::json::object& crd);
  std::string Now() const;

  Call call_;
  CustomResourceKinds& kinds_;
  std::span<const api::KindInfo> builtins_;
  Clock& clock_;
  std::thread thread_;
  std::mutex sync_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
};

}  // namespace kpp::apiextensions
