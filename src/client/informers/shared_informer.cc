#include "client/informers/shared_informer.h"

#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/log.h"

namespace kpp::client::informers {

struct HandlerRegistration::Listener {
  EventHandler handler;
  std::chrono::nanoseconds resync{0};
  std::chrono::steady_clock::time_point next_resync;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::function<void()>> pending;
  bool stopping = false;
  std::atomic<bool> synced = false;
  std::thread thread;

  void Push(std::function<void()> notification) {
    std::lock_guard lock(mutex);
    if (stopping) return;
    pending.push_back(std::move(notification));
    changed.notify_one();
  }

  // The handler's thread: notifications in order, each one alone.
  void Loop() {
    std::unique_lock lock(mutex);
    while (true) {
      changed.wait(lock, [&] { return stopping || !pending.empty(); });
      if (stopping) return;
      auto notification = std::move(pending.front());
      pending.pop_front();
      lock.unlock();
      notification();
      lock.lock();
    }
  }

  void Stop() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
  }

  void NotifyAdd(const ObjectRef& object, bool initial) {
    if (!handler.on_add) return;
    Push([this, object, initial] { handler.on_add(object, initial); });
  }
  void NotifyUpdate(const ObjectRef& old_object, const ObjectRef& new_object) {
    if (!handler.on_update) return;
    Push([this, old_object, new_object] { handler.on_update(old_object, new_object); });
  }
  void NotifyDelete(DeletedObject deleted) {
    if (!handler.on_delete) return;
    Push([this, deleted = std::move(deleted)] { handler.on_delete(deleted); });
  }
  void MarkSynced() {
    Push([this] { synced = true; });
  }
};

bool HandlerRegistration::HasSynced() const {
  return listener_ != nullptr && listener_->synced;
}

SharedInformer::SharedInformer(DynamicResource resource, InformerOptions options)
    : resource_(std::move(resource)), options_(std::move(options)), store_(options_.indexers) {
  ReflectorOptions reflector_options = options_.reflector;
  reflector_options.selectors = options_.selectors;
  reflector_ =
      std::make_unique<Reflector>(resource_, static_cast<ReflectorSink&>(*this), reflector_options);
}

SharedInformer::~SharedInformer() {
  Stop();
}

HandlerRegistration SharedInformer::AddEventHandler(EventHandler handler,
                                                    std::chrono::nanoseconds resync_period) {
  auto listener = std::make_shared<Listener>();
  listener->handler = std::move(handler);
  listener->resync = resync_period.count() == 0 ? options_.resync_period : resync_period;
  listener->next_resync =
      options_.clock->Monotonic() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                        std::max(listener->resync, std::chrono::nanoseconds(0)));
  Listener* raw = listener.get();
  listener->thread = std::thread([raw] { raw->Loop(); });
  std::lock_guard lock(mutex_);
  if (synced_) {
    for (const auto& object : store_.List())
      listener->NotifyAdd(object, true);
    listener->MarkSynced();
  }
  listeners_.push_back(listener);
  HandlerRegistration registration;
  registration.listener_ = listener;
  return registration;
}

void SharedInformer::RemoveEventHandler(const HandlerRegistration& registration) {
  std::shared_ptr<Listener> removed;
  {
    std::lock_guard lock(mutex_);
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if (*it == registration.listener_) {
        removed = *it;
        listeners_.erase(it);
        break;
      }
    }
  }
  if (removed) removed->Stop();
}

Status SharedInformer::AddIndexers(const Indexers& indexers) {
  return store_.AddIndexers(indexers);
}

std::string SharedInformer::LastSyncResourceVersion() const {
  return reflector_->LastSyncResourceVersion();
}

void SharedInformer::Run() {
  if (started_.exchange(true)) return;
  reflector_thread_ = std::thread([this] { reflector_->Run(); });
  resync_thread_ = std::thread([this] { ResyncLoop(); });
}

void SharedInformer::Stop() {
  if (stopped_.exchange(true)) return;
  reflector_->Stop();
  stop_changed_.notify_all();
  if (reflector_thread_.joinable()) reflector_thread_.join();
  {
    std::lock_guard lock(mutex_);
    stop_changed_.notify_all();
  }
  if (resync_thread_.joinable()) resync_thread_.join();
  std::vector<std::shared_ptr<Listener>> listeners;
  {
    std::lock_guard lock(mutex_);
    listeners = listeners_;
  }
  for (auto& listener : listeners)
    listener->Stop();
}

void SharedInformer::Distribute(const std::function<void(Listener&)>& notify) {
  for (auto& listener : listeners_)
    notify(*listener);
}

void SharedInformer::Replace(std::vector<ObjectRef> objects, const std::string&) {
  // Handlers get the objects in the list's order.
  std::vector<std::pair<std::string, ObjectRef>> ordered;
  ordered.reserve(objects.size());
  std::unordered_map<std::string, ObjectRef> items;
  items.reserve(objects.size());
  for (auto& object : objects) {
    if (options_.transform) object = options_.transform(std::move(object));
    std::string key = MetaNamespaceKey(*object);
    items.emplace(key, object);
    ordered.emplace_back(std::move(key), std::move(object));
  }
  std::lock_guard lock(mutex_);
  const bool initial = !synced_;
  auto old = store_.Replace(std::move(items));
  // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
  for (const auto& entry : ordered) {
    const auto& key = entry.first;
    const auto& object = entry.second;
    const auto previous = old.find(key);
    if (previous == old.end()) {
      Distribute([&](Listener& listener) { listener.NotifyAdd(object, initial); });
    } else {
      // Unchanged objects are not handed out again on a relist (resync does that).
      if (previous->second->metadata().resource_version != object->metadata().resource_version) {
        const ObjectRef& before = previous->second;
        Distribute([&](Listener& listener) { listener.NotifyUpdate(before, object); });
      }
      old.erase(previous);
    }
  }
  for (auto& [key, object] : old) {
    DeletedObject deleted{key, object, true};
    Distribute([&](Listener& listener) { listener.NotifyDelete(deleted); });
  }
  if (initial) {
    Distribute([](Listener& listener) { listener.MarkSynced(); });
    synced_ = true;
  }
}

void SharedInformer::Add(ObjectRef object) {
  // An ADDED for an object the cache holds (a watch restarted from an older version) is an
  // update to the handlers, and a MODIFIED for one it lacks an add: both go by the cache.
  Update(std::move(object));
}

void SharedInformer::Update(ObjectRef object) {
  if (options_.transform) object = options_.transform(std::move(object));
  const std::string key = MetaNamespaceKey(*object);
  std::lock_guard lock(mutex_);
  ObjectRef old = store_.Get(key);
  store_.Upsert(key, object);
  if (old) {
    Distribute([&](Listener& listener) { listener.NotifyUpdate(old, object); });
  } else {
    Distribute([&](Listener& listener) { listener.NotifyAdd(object, false); });
  }
}

void SharedInformer::Delete(ObjectRef object) {
  if (options_.transform) object = options_.transform(std::move(object));
  const std::string key = MetaNamespaceKey(*object);
  std::lock_guard lock(mutex_);
  store_.Delete(key);
  DeletedObject deleted{key, object, false};
  Distribute([&](Listener& listener) { listener.NotifyDelete(deleted); });
}

void SharedInformer::ResyncLoop() {
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    // Bounded waits: the clock may be a FakeClock that moves without telling us.
    stop_changed_.wait_for(lock, std::chrono::milliseconds(100));
    if (stopped_ || !synced_) continue;
    const auto now = options_.clock->Monotonic();
    for (auto& listener : listeners_) {
      if (listener->resync <= std::chrono::nanoseconds(0) || now < listener->next_resync) continue;
      listener->next_resync =
          now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(listener->resync);
      for (const auto& object : store_.List())
        listener->NotifyUpdate(object, object);
    }
  }
}

bool WaitForCacheSync(const std::vector<const SharedInformer*>& informers,
                      std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    bool all = true;
    for (const auto* informer : informers) {
      if (informer->IsStopped()) return false;
      all = all && informer->HasSynced();
    }
    if (all) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

SharedInformerFactory::SharedInformerFactory(std::shared_ptr<rest::RestClient> client,
                                             std::chrono::nanoseconds default_resync,
                                             std::string ns)
    : client_(std::move(client)), ns_(std::move(ns)) {
  defaults_.resync_period = default_resync;
  defaults_.clock = &client_->clock();
}

SharedInformerFactory::~SharedInformerFactory() {
  Shutdown();
}

SharedInformer& SharedInformerFactory::InformerFor(const api::KindInfo& kind) {
  std::lock_guard lock(mutex_);
  auto& slot = informers_[&kind];
  if (!slot) {
    slot = std::make_unique<SharedInformer>(DynamicResource(client_, kind, ns_), defaults_);
  }
  return *slot;
}

void SharedInformerFactory::Start() {
  std::lock_guard lock(mutex_);
  for (auto& [kind, informer] : informers_)
    informer->Run();
}

bool SharedInformerFactory::WaitForCacheSync(std::chrono::milliseconds timeout) const {
  std::vector<const SharedInformer*> informers;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [kind, informer] : informers_)
      informers.push_back(informer.get());
  }
  return informers::WaitForCacheSync(informers, timeout);
}

void SharedInformerFactory::Shutdown() {
  std::lock_guard lock(mutex_);
  for (auto& [kind, informer] : informers_)
    informer->Stop();
}

}  // namespace kpp::client::informers
