// Upstream's ResourceQuota controller: keeps every quota's status.hard equal to spec.hard and
// status.used equal to what the objects in its namespace use now (so deleted or finished pods
// give their share back; admission only ever charges). It reads the objects through an
// admission Reader (the store) and writes the status through API requests, with the quota's
// resourceVersion, so a status that changed meanwhile (a charge by admission) is recomputed on
// the next pass instead of being overwritten; usage goes down only when two passes in a row
// agree on it (a charged object may still be on its way to the store). kpp recalculates every quota
// every second, which also covers upstream's 5-minute full resync; there are no per-change triggers
// yet.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/quota_evaluator.h"
#include "base/clock.h"
#include "http/server.h"

namespace kpp::controllers {

class ResourceQuotaController {
 public:
  using Call = std::function<http::Response(const http::Request&)>;
  // `reader` and `clock` must outlive the controller.
  ResourceQuotaController(Call call, const apiserver::admission::Reader& reader, Clock& clock,
                          std::chrono::milliseconds period = std::chrono::seconds(1));
  ~ResourceQuotaController();
  ResourceQuotaController(const ResourceQuotaController&) = delete;
  ResourceQuotaController& operator=(const ResourceQuotaController&) = delete;

  // Runs SyncAll at once, then every period on a thread of its own until Stop.
  void Start();
  void Stop();
  // One pass over every quota; returns how many statuses it wrote.
  int SyncAll();

 private:
  http::Response Send(std::string method, std::string path, std::string body = "") const;

  Call call_;
  const apiserver::admission::Reader& reader_;
  Clock& clock_;
  std::chrono::milliseconds period_;
  // namespace/name -> the resourceVersion and the lower usage one pass saw (SyncAll's thread).
  std::map<std::string, std::pair<std::string, apiserver::admission::quota::ResourceList>>
      pending_releases_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace kpp::controllers
