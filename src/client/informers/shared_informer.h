// client-go's shared informers: one Reflector per resource feeds a Store (the cache, with
// indexes) and hands every change to each registered handler on that handler's own thread, in
// order. Handlers added late first get an add for every cached object. A relist that no longer
// holds an object deletes it with final_state_unknown (client-go's DeletedFinalStateUnknown
// tombstone: the delete itself was missed). Resync hands every cached object to a handler again
// as an update, per handler period. The factory keeps one informer per kind per process.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "apimachinery/labels/selector.h"
#include "base/clock.h"
#include "client/informers/reflector.h"
#include "client/informers/store.h"
#include "client/rest/resource.h"

namespace kpp::client::informers {

struct DeletedObject {
  std::string key;
  ObjectRef object;  // the last state known
  // The delete was not seen as an event: a relist no longer held the object.
  bool final_state_unknown = false;
};

struct EventHandler {
  std::function<void(const ObjectRef& object, bool in_initial_list)> on_add;
  std::function<void(const ObjectRef& old_object, const ObjectRef& new_object)> on_update;
  std::function<void(const DeletedObject& deleted)> on_delete;
};

class SharedInformer;

// Identifies one handler registration.
class HandlerRegistration {
 public:
  // True once the handler was handed every object of the first list.
  bool HasSynced() const;

 private:
  friend class SharedInformer;
  struct Listener;
  std::shared_ptr<Listener> listener_;
};

struct InformerOptions {
  ListOptions selectors;                      // label and field selectors
  std::chrono::nanoseconds resync_period{0};  // default for handlers; 0: never
  Indexers indexers = {{kNamespaceIndex, NamespaceIndexFunc()}};
  ReflectorOptions reflector;  // its selectors are overwritten by `selectors`
  // Applied to every object before it is cached and handed to handlers (client-go's
  // SetTransform), e.g. to drop what a component never reads; null keeps objects as decoded.
  std::function<ObjectRef(ObjectRef)> transform;
  Clock* clock = &RealClock();
};

class SharedInformer final : private ReflectorSink {
 public:
  SharedInformer(DynamicResource resource, InformerOptions options = {});
  ~SharedInformer() override;
  SharedInformer(const SharedInformer&) = delete;
  SharedInformer& operator=(const SharedInformer&) = delete;

  // `resync_period` of 0 uses the informer's; a negative one never resyncs.
  HandlerRegistration AddEventHandler(EventHandler handler,
                                      std::chrono::nanoseconds resync_period = {});
  void RemoveEventHandler(const HandlerRegistration& registration);
  Status AddIndexers(const Indexers& indexers);

  // Starts listing and watching on threads of its own; a second call does nothing.
  void Run();
  // Stops the watch and the handler threads (handlers already running finish).
  void Stop();
  bool HasSynced() const { return synced_; }
  bool IsStopped() const { return stopped_; }
  const Store& store() const { return store_; }
  const api::KindInfo& kind() const { return resource_.kind(); }
  std::string LastSyncResourceVersion() const;
  const Reflector& reflector() const { return *reflector_; }

 private:
  using Listener = HandlerRegistration::Listener;

  void Replace(std::vector<ObjectRef> objects, const std::string& resource_version) override;
  void Add(ObjectRef object) override;
  void Update(ObjectRef object) override;
  void Delete(ObjectRef object) override;
  void Distribute(const std::function<void(Listener&)>& notify);
  void ResyncLoop();

  DynamicResource resource_;
  InformerOptions options_;
  Store store_;
  std::unique_ptr<Reflector> reflector_;
  mutable std::mutex mutex_;  // orders store changes with the listeners' queues
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::atomic<bool> synced_ = false;
  std::atomic<bool> started_ = false;
  std::atomic<bool> stopped_ = false;
  std::thread reflector_thread_;
  std::thread resync_thread_;
  std::condition_variable stop_changed_;
};

// Waits until every informer has synced, polling; false when `timeout` passes first or one
// of them stopped.
bool WaitForCacheSync(const std::vector<const SharedInformer*>& informers,
                      std::chrono::milliseconds timeout);

class SharedInformerFactory {
 public:
  // Informers watch `ns` ("" for all namespaces) with `default_resync` for their handlers.
  explicit SharedInformerFactory(std::shared_ptr<rest::RestClient> client,
                                 std::chrono::nanoseconds default_resync = {}, std::string ns = "");
  ~SharedInformerFactory();

  // The process's one informer of `kind` (created on first use, started by Start()).
  SharedInformer& InformerFor(const api::KindInfo& kind);
  template <typename T>
  SharedInformer& InformerFor() {
    return InformerFor(KindFor<T>());
  }
  // Starts every informer created so far that is not running.
  void Start();
  bool WaitForCacheSync(std::chrono::milliseconds timeout) const;
  void Shutdown();
  // Adjusts what new informers get (tests shorten watch timeouts and back-off).
  InformerOptions& default_options() { return defaults_; }

 private:
  std::shared_ptr<rest::RestClient> client_;
  std::string ns_;
  InformerOptions defaults_;
  mutable std::mutex mutex_;
  std::map<const api::KindInfo*, std::unique_ptr<SharedInformer>> informers_;
};

// Typed reads of an informer's cache (client-go's listers). Objects are shared, never copied.
template <typename T>
std::shared_ptr<const T> As(const ObjectRef& object) {
  const auto* typed = dynamic_cast<const api::TypedObject<T>*>(object.get());
  if (typed == nullptr) return nullptr;
  return std::shared_ptr<const T>(object, &typed->value());
}

template <typename T>
class Lister {
 public:
  explicit Lister(const SharedInformer& informer) : store_(informer.store()) {}
  std::vector<std::shared_ptr<const T>> List() const { return Typed(store_.List()); }
  // The objects whose labels `selector` matches.
  std::vector<std::shared_ptr<const T>> List(const labels::Selector& selector) const {
    return Matching(List(), selector);
  }
  std::vector<std::shared_ptr<const T>> ListNamespace(const std::string& ns,
                                                      const labels::Selector& selector) const {
    return Matching(ListNamespace(ns), selector);
  }
  std::vector<std::shared_ptr<const T>> ListNamespace(const std::string& ns) const {
    auto objects = store_.ByIndex(kNamespaceIndex, ns);
    if (objects.ok()) return Typed(*objects);
    std::vector<ObjectRef> matching;
    for (auto& object : store_.List()) {
      if (object->metadata().namespace_ == ns) matching.push_back(object);
    }
    return Typed(matching);
  }
  std::vector<std::shared_ptr<const T>> ByIndex(const std::string& index,
                                                const std::string& value) const {
    auto objects = store_.ByIndex(index, value);
    if (!objects.ok()) return {};
    return Typed(*objects);
  }
  // A cluster-scoped object by name, or a namespaced one by namespace and name; null if absent.
  std::shared_ptr<const T> Get(const std::string& name) const { return As<T>(store_.Get(name)); }
  std::shared_ptr<const T> Get(const std::string& ns, const std::string& name) const {
    return As<T>(store_.Get(ns + "/" + name));
  }

 private:
  static std::vector<std::shared_ptr<const T>> Matching(std::vector<std::shared_ptr<const T>> all,
                                                        const labels::Selector& selector) {
    if (selector.Empty()) return all;
    std::erase_if(all,
                  [&](const auto& object) { return !selector.Matches(object->metadata.labels); });
    return all;
  }
  static std::vector<std::shared_ptr<const T>> Typed(const std::vector<ObjectRef>& objects) {
    std::vector<std::shared_ptr<const T>> out;
    out.reserve(objects.size());
    for (const auto& object : objects) {
      if (auto typed = As<T>(object)) out.push_back(std::move(typed));
    }
    return out;
  }
  const Store& store_;
};

}  // namespace kpp::client::informers
