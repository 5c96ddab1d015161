// In-memory stand-ins for the seams of a controller's sync: a lister over a vector, a client
// that records every request (and answers as a server would), and an event sink that keeps
// events.
#pragma once

#include <fmt/format.h>

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "controllers/common/controller_utils.h"

namespace kpp::controllers::testing {

template <typename T>
class FakeLister final : public ObjectLister<T> {
 public:
  void Add(T object) { objects_.push_back(std::make_shared<const T>(std::move(object))); }
  std::shared_ptr<const T> Get(const std::string& ns, const std::string& name) const override {
    for (const auto& object : objects_) {
      if (object->metadata.namespace_ == ns && object->metadata.name == name) return object;
    }
    return nullptr;
  }
  std::vector<std::shared_ptr<const T>> List(const std::string& ns) const override {
    std::vector<std::shared_ptr<const T>> out;
    for (const auto& object : objects_) {
      if (object->metadata.namespace_ == ns) out.push_back(object);
    }
    return out;
  }

 private:
  std::vector<std::shared_ptr<const T>> objects_;
};

class FakeClient final : public ControllerClient {
 public:
  Result<Pod> CreatePod(const Pod& pod) override {
    std::lock_guard lock(mutex_);
    if (fail_pod_creates_after >= 0 &&
        static_cast<int>(created_pods.size()) >= fail_pod_creates_after) {
      actions.push_back("create pod (refused)");
      return Error(ErrorCode::kForbidden, "pods \"x\" is forbidden: exceeded quota");
    }
    Pod created = pod;
    created.metadata.name = pod.metadata.generate_name + fmt::format("{:05}", created_pods.size());
    created.metadata.uid = "pod-uid-" + std::to_string(created_pods.size());
    created_pods.push_back(created);
    actions.push_back("create pod " + created.metadata.name);
    return created;
  }
  Status DeletePod(const std::string& ns, const std::string& name) override {
    std::lock_guard lock(mutex_);
    actions.push_back("delete pod " + ns + "/" + name);
    deleted_pods.push_back(name);
    return Ok();
  }
  Status PatchPod(const std::string& ns, const std::string& name,
                  const std::string& patch) override {
    std::lock_guard lock(mutex_);
    actions.push_back("patch pod " + ns + "/" + name + " " + patch);
    return Ok();
  }
  Result<ReplicaSet> CreateReplicaSet(const ReplicaSet& rs) override {
    std::lock_guard lock(mutex_);
    if (replica_sets_exist) {
      actions.push_back("create rs (exists)");
      return Error(ErrorCode::kAlreadyExists,
                   fmt::format("replicasets.apps \"{}\" already exists", rs.metadata.name));
    }
    ReplicaSet created = rs;
    created.metadata.uid = "rs-uid-" + rs.metadata.name;
    created.metadata.creation_timestamp = api::Time::FromUnixSeconds(2'000'000'000);
    actions.push_back(
        fmt::format("create rs {} replicas={}", rs.metadata.name, rs.spec.replicas.value_or(1)));
    created_replica_sets.push_back(created);
    return created;
  }
  Result<ReplicaSet> UpdateReplicaSet(const ReplicaSet& rs) override {
    std::lock_guard lock(mutex_);
    actions.push_back(
        fmt::format("update rs {} replicas={}", rs.metadata.name, rs.spec.replicas.value_or(1)));
    updated_replica_sets.push_back(rs);
    return rs;
  }
  Status DeleteReplicaSet(const std::string& ns, const std::string& name) override {
    std::lock_guard lock(mutex_);
    actions.push_back("delete rs " + ns + "/" + name);
    return Ok();
  }
  Status PatchReplicaSet(const std::string& ns, const std::string& name,
                         const std::string& patch) override {
    std::lock_guard lock(mutex_);
    actions.push_back("patch rs " + ns + "/" + name + " " + patch);
    return Ok();
  }
  Status PatchDeployment(const std::string& ns, const std::string& name,
                         const std::string& patch) override {
    std::lock_guard lock(mutex_);
    actions.push_back("patch deployment " + ns + "/" + name + " " + patch);
    return Ok();
  }
  Result<api::meta::v1::ObjectMeta> GetMetadata(const std::string& resource, const std::string& ns,
                                                const std::string& name) override {
    std::lock_guard lock(mutex_);
    actions.push_back("get " + resource + " " + ns + "/" + name);
    auto found = fresh.find(resource + "/" + ns + "/" + name);
    if (found == fresh.end()) return NotFoundError(resource + " \"" + name + "\" not found");
    return found->second;
  }
  Status PatchStatus(const std::string& resource, const std::string& ns, const std::string& name,
                     const std::string& patch) override {
    std::lock_guard lock(mutex_);
    actions.push_back("patch status " + resource + " " + ns + "/" + name);
    status_patches.push_back(patch);
    return Ok();
  }

  // Actions of one kind ("create pod", "delete rs", ...).
  int Count(const std::string& prefix) const {
    int count = 0;
    for (const auto& action : actions)
      count += action.rfind(prefix, 0) == 0;
    return count;
  }

  std::mutex mutex_;
  int fail_pod_creates_after = -1;
  // Every replica set create is answered AlreadyExists.
  bool replica_sets_exist = false;
  std::vector<std::string> actions;
  std::vector<Pod> created_pods;
  std::vector<std::string> deleted_pods;
  std::vector<ReplicaSet> created_replica_sets;
  std::vector<ReplicaSet> updated_replica_sets;
  std::vector<std::string> status_patches;
  // What GetMetadata answers, by "<resource>/<ns>/<name>".
  std::map<std::string, api::meta::v1::ObjectMeta> fresh;
};

struct RecordedEvent {
  std::string kind, name, type, reason, message;
};

class FakeEvents final : public EventSink {
 public:
  void Event(const api::core::v1::ObjectReference& object, const std::string& type,
             const std::string& reason, const std::string& message) override {
    std::lock_guard lock(mutex_);
    events.push_back({object.kind, object.name, type, reason, message});
  }
  std::mutex mutex_;
  std::vector<RecordedEvent> events;
};

}  // namespace kpp::controllers::testing
