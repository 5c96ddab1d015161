// The client library against a real `kpp server --disable-agent`: typed and unstructured CRUD,
// typed errors, informers, watches across a server restart and a 410, leader election, events.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "api/coordination.k8s.io/v1/codec.h"
#include "api/core/v1/codec.h"
#include "client/informers/shared_informer.h"
#include "client/leaderelection/leader_elector.h"
#include "client/record/event_recorder.h"
#include "client/rest/config.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"
#include "support/kpp_server_fixture.h"

namespace kpp::client {
namespace {

using namespace std::chrono_literals;
using api::core::v1::ConfigMap;
using informers::ObjectRef;
using testing::KppServer;

template <typename F>
bool Eventually(F condition, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

class ClientE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    client_ = NewClient();
    ASSERT_NE(client_, nullptr);
  }

  std::shared_ptr<rest::RestClient> NewClient() {
    auto config = rest::LoadKubeconfig(server_.kubeconfig_path());
    EXPECT_TRUE(config.ok()) << config.error().message();
    if (!config.ok()) return nullptr;
    config->qps = 200;
    config->burst = 400;
    auto client = rest::RestClient::Create(*config);
    EXPECT_TRUE(client.ok()) << client.error().message();
    return client.ok() ? *client : nullptr;
  }

  static ConfigMap MakeConfigMap(const std::string& name, const std::string& value) {
    ConfigMap cm;
    cm.metadata.name = name;
    cm.data["key"] = value;
    return cm;
  }

  KppServer server_;
  std::shared_ptr<rest::RestClient> client_;
};

TEST_F(ClientE2ETest, TypedCrudAndTypedErrors) {
  TypedResource<ConfigMap> configmaps(client_, "default");
  auto created = configmaps.Create(MakeConfigMap("typed", "one"));
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_EQ(created->kind, "ConfigMap");
  EXPECT_EQ(created->api_version, "v1");
  EXPECT_FALSE(created->metadata.uid.empty());
  EXPECT_FALSE(created->metadata.resource_version.empty());

  auto again = configmaps.Create(MakeConfigMap("typed", "one"));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(IsAlreadyExists(again.error())) << again.error().message();
  EXPECT_EQ(again.error().http_status(), 409);

  auto got = configmaps.Get("typed");
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ(got->data.at("key"), "one");

  ConfigMap changed = *got;
  changed.data["key"] = "two";
  auto updated = configmaps.Update(changed);
  ASSERT_TRUE(updated.ok()) << updated.error().message();
  EXPECT_EQ(updated->data.at("key"), "two");
  // The same update again carries a stale resourceVersion.
  auto stale = configmaps.Update(changed);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(IsConflict(stale.error())) << stale.error().message();

  auto patched = configmaps.Patch("typed", PatchType::kStrategicMerge, R"({"data":{"extra":"x"}})");
  ASSERT_TRUE(patched.ok()) << patched.error().message();
  EXPECT_EQ(patched->data.at("extra"), "x");
  auto merged = configmaps.Patch("typed", PatchType::kMerge, R"({"data":{"extra":null}})");
  ASSERT_TRUE(merged.ok()) << merged.error().message();
  EXPECT_FALSE(merged->data.contains("extra"));

  ASSERT_TRUE(configmaps.Create(MakeConfigMap("typed-2", "x")).ok());
  auto list = configmaps.List();
  ASSERT_TRUE(list.ok()) << list.error().message();
  EXPECT_FALSE(list->resource_version.empty());
  ASSERT_EQ(list->items.size(), 3u);  // and the root CA publisher's kube-root-ca.crt
  EXPECT_EQ(list->items[0].kind, "ConfigMap");
  ListOptions paged;
  paged.limit = 1;
  auto page = configmaps.List(paged);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 1u);
  EXPECT_FALSE(page->continue_token.empty());

  ASSERT_TRUE(configmaps.Delete("typed").ok());
  auto gone = configmaps.Get("typed");
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(IsNotFound(gone.error()));
  EXPECT_EQ(gone.error().message(), "configmaps \"typed\" not found");
  auto delete_again = configmaps.Delete("typed");
  ASSERT_FALSE(delete_again.ok());
  EXPECT_TRUE(IsNotFound(delete_again.error()));

  // Validation failures keep their causes.
  auto invalid = configmaps.Create(MakeConfigMap("Not_A_Name", "x"));
  ASSERT_FALSE(invalid.ok());
  EXPECT_TRUE(IsInvalid(invalid.error()));
  EXPECT_FALSE(invalid.error().causes().empty());
}

TEST_F(ClientE2ETest, UnstructuredCrudAndStatus) {
  const auto* deployments = FindKind("apps/v1", "Deployment");
  ASSERT_NE(deployments, nullptr);
  DynamicResource resource(client_, *deployments, "default");
  auto object = boost::json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","labels":{"app":"web"}},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"c","image":"nginx"}]}}}})")
                    .as_object();
  auto created = resource.Create(object);
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_EQ(created->at("metadata").at("generation").as_int64(), 1);

  auto with_status = *created;
  with_status["status"] = boost::json::parse(R"({"replicas":2,"readyReplicas":1})");
  auto status_updated = resource.UpdateStatus(with_status);
  ASSERT_TRUE(status_updated.ok()) << status_updated.error().message();
  EXPECT_EQ(status_updated->at("status").at("readyReplicas").as_int64(), 1);

  auto patched = resource.Patch("web", PatchType::kJson,
                                R"([{"op":"replace","path":"/spec/replicas","value":3}])");
  ASSERT_TRUE(patched.ok()) << patched.error().message();
  EXPECT_EQ(patched->at("spec").at("replicas").as_int64(), 3);

  ListOptions selected;
  selected.label_selector = "app=web";
  auto list = resource.List(selected);
  ASSERT_TRUE(list.ok()) << list.error().message();
  EXPECT_EQ(list->at("items").as_array().size(), 1u);
  selected.label_selector = "app=other";
  EXPECT_EQ(resource.List(selected)->at("items").as_array().size(), 0u);

  DeleteOptions options;
  options.precondition_uid = "not-the-uid";
  auto refused = resource.Delete("web", options);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(IsConflict(refused.error())) << refused.error().message();
  ASSERT_TRUE(resource.Delete("web").ok());
  EXPECT_TRUE(IsNotFound(resource.Get("web").error()));
}

// Records what an informer's handler was told, as "add ns/name", "update ...", "delete ...".
class Recorder {
 public:
  informers::EventHandler Handler() {
    return {
        [this](const ObjectRef& object, bool) { Push("add " + Key(object)); },
        [this](const ObjectRef&, const ObjectRef& object) { Push("update " + Key(object)); },
        [this](const informers::DeletedObject& deleted) {
          Push(std::string(deleted.final_state_unknown ? "tombstone " : "delete ") + deleted.key);
        },
    };
  }
  bool Saw(const std::string& what) const {
    std::lock_guard lock(mutex_);
    return std::find(seen_.begin(), seen_.end(), what) != seen_.end();
  }
  int Count(const std::string& prefix) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count_if(
        seen_.begin(), seen_.end(), [&](const std::string& s) { return s.starts_with(prefix); }));
  }
  std::string All() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& s : seen_)
      out += s + "\n";
    return out;
  }

 private:
  static std::string Key(const ObjectRef& object) { return informers::MetaNamespaceKey(*object); }
  void Push(std::string what) {
    std::lock_guard lock(mutex_);
    seen_.push_back(std::move(what));
  }
  mutable std::mutex mutex_;
  std::vector<std::string> seen_;
};

TEST_F(ClientE2ETest, InformerSyncsAndSeesAddUpdateDelete) {
  TypedResource<ConfigMap> configmaps(client_, "default");
  ASSERT_TRUE(configmaps.Create(MakeConfigMap("before", "0")).ok());

  informers::SharedInformerFactory factory(client_);
  auto& informer = factory.InformerFor<ConfigMap>();
  // One informer per kind, whoever asks.
  EXPECT_EQ(&informer, &factory.InformerFor(*FindKind("v1", "ConfigMap")));
  Recorder recorder;
  auto registration = informer.AddEventHandler(recorder.Handler());
  factory.Start();
  ASSERT_TRUE(factory.WaitForCacheSync(20s));
  ASSERT_TRUE(Eventually([&] { return registration.HasSynced(); }));
  // The first list reads the watch cache (resourceVersion "0", as client-go's), which may not
  // hold the create yet on a loaded machine; then the watch that follows brings it.
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("add default/before"); })) << recorder.All();
  informers::Lister<ConfigMap> lister(informer);
  ASSERT_NE(lister.Get("default", "before"), nullptr);
  EXPECT_EQ(lister.Get("default", "before")->data.at("key"), "0");

  ASSERT_TRUE(configmaps.Create(MakeConfigMap("live", "1")).ok());
  ASSERT_TRUE(Eventually([&] { return recorder.Saw("add default/live"); })) << recorder.All();
  auto live = configmaps.Get("live");
  ASSERT_TRUE(live.ok());
  live->data["key"] = "2";
  ASSERT_TRUE(configmaps.Update(*live).ok());
  ASSERT_TRUE(Eventually([&] { return recorder.Saw("update default/live"); })) << recorder.All();
  ASSERT_TRUE(Eventually([&] {
    auto cached = lister.Get("default", "live");
    return cached != nullptr && cached->data.at("key") == "2";
  }));
  ASSERT_TRUE(configmaps.Delete("live").ok());
  ASSERT_TRUE(Eventually([&] { return recorder.Saw("delete default/live"); })) << recorder.All();
  EXPECT_EQ(lister.Get("default", "live"), nullptr);
  auto labelled = MakeConfigMap("labelled", "x");
  labelled.metadata.labels["app"] = "web";
  ASSERT_TRUE(configmaps.Create(labelled).ok());
  ASSERT_TRUE(Eventually([&] { return recorder.Saw("add default/labelled"); })) << recorder.All();
  const auto web = lister.List(*labels::Selector::Parse("app=web"));
  ASSERT_EQ(web.size(), 1u);
  EXPECT_EQ(web[0]->metadata.name, "labelled");
  // before and the root CA publisher's kube-root-ca.crt.
  EXPECT_EQ(lister.ListNamespace("default", *labels::Selector::Parse("app!=web")).size(), 2u);
  ASSERT_TRUE(configmaps.Delete("labelled").ok());
  ASSERT_TRUE(Eventually([&] { return recorder.Saw("delete default/labelled"); }));
  std::vector<std::string> in_default;
  for (const auto& object : lister.ListNamespace("default"))
    in_default.push_back(object->metadata.name);
  std::sort(in_default.begin(), in_default.end());
  EXPECT_EQ(in_default, (std::vector<std::string>{"before", "kube-root-ca.crt"}));

  // A handler added late gets the cache's content as adds.
  Recorder late;
  auto late_registration = informer.AddEventHandler(late.Handler());
  ASSERT_TRUE(Eventually([&] { return late_registration.HasSynced(); }));
  EXPECT_TRUE(late.Saw("add default/before"));
  EXPECT_FALSE(late.Saw("add default/live"));
  factory.Shutdown();
}

TEST_F(ClientE2ETest, InformerResumesAfterServerRestart) {
  TypedResource<ConfigMap> configmaps(client_, "default");
  ASSERT_TRUE(configmaps.Create(MakeConfigMap("kept", "0")).ok());
  informers::SharedInformerFactory factory(client_);
  factory.default_options().reflector.initial_backoff = 100ms;
  factory.default_options().reflector.max_backoff = 500ms;
  auto& informer = factory.InformerFor<ConfigMap>();
  Recorder recorder;
  informer.AddEventHandler(recorder.Handler());
  factory.Start();
  ASSERT_TRUE(factory.WaitForCacheSync(20s));
  const int watches_before = informer.reflector().watches();

  const int port = server_.port();
  ASSERT_TRUE(server_.Stop());
  ASSERT_TRUE(server_.Start({"--https-listen-port", std::to_string(port)}));
  ASSERT_TRUE(configmaps.Create(MakeConfigMap("after-restart", "1")).ok());
  ASSERT_TRUE(Eventually([&] { return recorder.Saw("add default/after-restart"); }))
      << recorder.All();
  EXPECT_GT(informer.reflector().watches(), watches_before);
  // Nothing the server still holds was lost or seen twice as new.
  EXPECT_EQ(recorder.Count("add default/kept"), 1) << recorder.All();
  EXPECT_EQ(recorder.Count("delete"), 0) << recorder.All();
  EXPECT_EQ(recorder.Count("tombstone"), 0) << recorder.All();
  EXPECT_NE(informers::Lister<ConfigMap>(informer).Get("default", "kept"), nullptr);
}

// A sink that holds the reflector inside its first Replace until released, so the test can
// change the world between the list and the watch that follows it.
class GatedSink : public informers::ReflectorSink {
 public:
  void Replace(std::vector<ObjectRef> objects, const std::string& resource_version) override {
    std::unique_lock lock(mutex_);
    ++replaces_;
    versions_.push_back(resource_version);
    names_.clear();
    for (const auto& object : objects)
      names_.insert(object->metadata().name);
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_; });
  }
  void Add(ObjectRef object) override {
    std::lock_guard lock(mutex_);
    names_.insert(object->metadata().name);
  }
  void Update(ObjectRef) override {}
  void Delete(ObjectRef object) override {
    std::lock_guard lock(mutex_);
    names_.erase(object->metadata().name);
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  int replaces() const {
    std::lock_guard lock(mutex_);
    return replaces_;
  }
  std::string version(size_t i) const {
    std::lock_guard lock(mutex_);
    return i < versions_.size() ? versions_[i] : "";
  }
  bool Has(const std::string& name) const {
    std::lock_guard lock(mutex_);
    return names_.contains(name);
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool released_ = false;
  int replaces_ = 0;
  std::vector<std::string> versions_;
  std::set<std::string> names_;
};

TEST_F(ClientE2ETest, ReflectorListsAgainAfterGone) {
  TypedResource<ConfigMap> configmaps(client_, "default");
  ASSERT_TRUE(configmaps.Create(MakeConfigMap("first", "0")).ok());
  GatedSink sink;
  informers::ReflectorOptions options;
  options.initial_backoff = 100ms;
  options.max_backoff = 500ms;
  informers::Reflector reflector(DynamicResource(client_, *FindKind("v1", "ConfigMap"), "default"),
                                 sink, options);
  std::thread runner([&] { reflector.Run(); });
  ASSERT_TRUE(Eventually([&] { return sink.replaces() == 1; }));
  // While the reflector sits between its list and its watch: writes it has not seen, then a
  // restart, so the restarted server's watch cache starts after the listed version.
  ASSERT_TRUE(configmaps.Create(MakeConfigMap("unseen", "1")).ok());
  const int port = server_.port();
  ASSERT_TRUE(server_.Stop());
  ASSERT_TRUE(server_.Start({"--https-listen-port", std::to_string(port)}));
  // The server itself answers a watch from that version with 410 Expired.
  {
    DynamicResource raw(client_, *FindKind("v1", "ConfigMap"), "default");
    ListOptions old;
    old.resource_version = sink.version(0);
    ASSERT_FALSE(old.resource_version.empty());
    std::string type;
    int code = 0;
    auto status = raw.Watch(old, [&](WatchEvent&& event) {
      type = event.type;
      code = static_cast<int>(event.object.as_object().at("code").as_int64());
      return false;
    });
    EXPECT_TRUE(status.ok()) << status.error().message();
    EXPECT_EQ(type, "ERROR");
    EXPECT_EQ(code, 410);
  }
  sink.Release();
  ASSERT_TRUE(Eventually([&] { return sink.replaces() == 2; })) << sink.replaces();
  EXPECT_TRUE(sink.Has("unseen"));
  ASSERT_TRUE(configmaps.Create(MakeConfigMap("later", "2")).ok());
  EXPECT_TRUE(Eventually([&] { return sink.Has("later"); }));
  reflector.Stop();
  runner.join();
}

TEST_F(ClientE2ETest, LeaderElectionHandsOverWhenTheLeaderStops) {
  struct Candidate {
    std::string name;
    std::atomic<bool> leading = false;
    std::atomic<int> started = 0;
    std::atomic<int> stopped = 0;
    std::mutex mutex;
    std::string observed_leader;
    std::unique_ptr<leaderelection::LeaderElector> elector;
    std::thread thread;
  };
  auto make = [&](Candidate& candidate) {
    leaderelection::LeaderElectionConfig config;
    config.lease_namespace = "default";
    config.lease_name = "test-controller";
    config.identity = candidate.name;
    config.lease_duration = 3s;
    config.renew_deadline = 2s;
    config.retry_period = 200ms;
    config.callbacks.on_started_leading = [&candidate] {
      candidate.leading = true;
      ++candidate.started;
    };
    config.callbacks.on_stopped_leading = [&candidate] {
      candidate.leading = false;
      ++candidate.stopped;
    };
    config.callbacks.on_new_leader = [&candidate](const std::string& identity) {
      std::lock_guard lock(candidate.mutex);
      candidate.observed_leader = identity;
    };
    auto elector = leaderelection::LeaderElector::Create(client_, config);
    ASSERT_TRUE(elector.ok()) << elector.error().message();
    candidate.elector = std::move(*elector);
    candidate.thread = std::thread([&candidate] { candidate.elector->Run(); });
  };
  Candidate a{.name = "candidate-a"};
  make(a);
  ASSERT_TRUE(Eventually([&] { return a.leading.load(); }));
  Candidate b{.name = "candidate-b"};
  make(b);
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(b.mutex);
    return b.observed_leader == "candidate-a";
  }));
  EXPECT_FALSE(b.leading);
  EXPECT_FALSE(b.elector->IsLeader());

  TypedResource<api::coordination_k8s_io::v1::Lease> leases(client_, "default");
  auto lease = leases.Get("test-controller");
  ASSERT_TRUE(lease.ok()) << lease.error().message();
  EXPECT_EQ(lease->spec.holder_identity, "candidate-a");
  EXPECT_EQ(lease->spec.lease_duration_seconds, 3);
  EXPECT_EQ(lease->spec.lease_transitions, 0);
  ASSERT_TRUE(lease->spec.acquire_time.has_value());
  ASSERT_TRUE(lease->spec.renew_time.has_value());

  // The leader stops: it releases the lease and b takes over well before the lease expires.
  a.elector->Stop();
  a.thread.join();
  EXPECT_EQ(a.stopped, 1);
  EXPECT_FALSE(a.elector->IsLeader());
  ASSERT_TRUE(Eventually([&] { return b.leading.load(); }, 10s));
  EXPECT_EQ(b.started, 1);
  lease = leases.Get("test-controller");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->spec.holder_identity, "candidate-b");
  EXPECT_EQ(lease->spec.lease_transitions, 1);
  // b keeps renewing.
  const auto renewed = lease->spec.renew_time;
  ASSERT_TRUE(Eventually([&] {
    auto now = leases.Get("test-controller");
    return now.ok() && now->spec.renew_time != renewed;
  }));
  b.elector->Stop();
  b.thread.join();
  EXPECT_EQ(b.stopped, 1);
}

TEST_F(ClientE2ETest, EventRecorderAggregatesRepeats) {
  TypedResource<ConfigMap> configmaps(client_, "default");
  auto cm = configmaps.Create(MakeConfigMap("evented", "0"));
  ASSERT_TRUE(cm.ok());
  record::EventRecorder recorder(client_, {.component = "test-controller", .host = "host-1"});
  const api::TypedObject<ConfigMap> object(*cm);
  for (int i = 0; i < 3; ++i)
    recorder.Event(object, record::kEventTypeNormal, "Synced", "all good");
  recorder.Event(object, record::kEventTypeWarning, "Failed", "something broke");
  recorder.Flush();
  EXPECT_EQ(recorder.created(), 2);
  EXPECT_EQ(recorder.patched(), 2);

  TypedResource<api::core::v1::Event> events(client_, "default");
  auto list = events.List();
  ASSERT_TRUE(list.ok()) << list.error().message();
  std::map<std::string, api::core::v1::Event> by_reason;
  for (auto& event : list->items)
    by_reason[event.reason] = event;
  ASSERT_TRUE(by_reason.contains("Synced"));
  const auto& synced = by_reason["Synced"];
  EXPECT_EQ(synced.count, 3);
  EXPECT_EQ(synced.message, "all good");
  EXPECT_EQ(synced.type, "Normal");
  EXPECT_EQ(synced.source.component, "test-controller");
  EXPECT_EQ(synced.source.host, "host-1");
  EXPECT_EQ(synced.reporting_component, "test-controller");
  EXPECT_EQ(synced.involved_object.kind, "ConfigMap");
  EXPECT_EQ(synced.involved_object.name, "evented");
  EXPECT_EQ(synced.involved_object.uid, cm->metadata.uid);
  EXPECT_FALSE(synced.first_timestamp.IsZero());
  EXPECT_FALSE(synced.last_timestamp.IsZero());
  ASSERT_TRUE(by_reason.contains("Failed"));
  EXPECT_EQ(by_reason["Failed"].count, 1);
  EXPECT_EQ(by_reason["Failed"].type, "Warning");
}

}  // namespace
}  // namespace kpp::client
