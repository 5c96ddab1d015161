// Empties terminating namespaces, the part of upstream's namespace controller kpp has so far:
// for a namespace being deleted it deletes every namespaced resource in it, and once nothing is
// left removes the "kubernetes" finalizer (PUT .../finalize) and deletes the namespace again,
// which then goes. It talks to the API server only through requests (an in-process loopback
// call), like any other client; until the client library and informers exist it finds
// terminating namespaces by listing them every second.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "api/runtime/kinds.h"
#include "http/server.h"

namespace kpp::controllers {

class NamespaceCleaner {
 public:
  // `call` sends one request to the API server and returns its answer; `kinds` are the resources
  // it serves. Both must outlive the cleaner.
  using Call = std::function<http::Response(const http::Request&)>;
  // The resources served besides `kinds` at the moment (custom resources), one entry each.
  using MoreKinds = std::function<std::vector<api::KindInfo>()>;
  NamespaceCleaner(Call call, std::span<const api::KindInfo> kinds, MoreKinds more_kinds = {});
  ~NamespaceCleaner();
  NamespaceCleaner(const NamespaceCleaner&) = delete;
  NamespaceCleaner& operator=(const NamespaceCleaner&) = delete;

  // Runs SyncAll every second on a thread of its own until Stop.
  void Start();
  void Stop();

  // One pass over every terminating namespace.
  void SyncAll();
  // Empties the terminating namespace `name`; once it is empty, finalizes and deletes it.
  // Returns whether the namespace was finalized.
  bool Sync(const std::string& name);

 private:
  http::Response Send(std::string method, std::string path, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> query = {}) const;

  Call call_;
  std::span<const api::KindInfo> kinds_;
  MoreKinds more_kinds_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace kpp::controllers
