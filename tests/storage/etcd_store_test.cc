// The etcd backend against a real etcd: the conformance suite, plus what only this backend has —
// endpoint failover, watches that survive an etcd restart, TLS with client certificates, and its
// option and connection errors.
//
// Every test gets its own etcd process (about 0.3 s to start), so each starts from an empty
// keyspace at revision 1 that no earlier test has compacted; CTest runs each test case in its own
// process anyway.
#include "storage/etcd/etcd_store.h"

#include <thread>

#include "base/files.h"
#include "etcd_process.h"
#include "storage/store_conformance.h"
#include "support/test_pki.h"

namespace kpp::storage::testing {

// The conformance suite's backend: a fresh etcd. Not in an anonymous namespace, because CTest
// shows its name in the test names.
class EtcdBackend {
 public:
  Result<std::unique_ptr<Store>> Open() {
    if (!started_) {
      auto started = etcd_.Start();
      if (!started) return Error(ErrorCode::kServiceUnavailable, started.message());
      started_ = true;
    }
    return OpenEtcdStore(etcd_.StoreOptions());
  }
  // etcd keeps real time: lease tests wait.
  void AdvanceTime(std::chrono::seconds duration) { std::this_thread::sleep_for(duration); }

 private:
  EtcdProcess etcd_;
  bool started_ = false;
};

INSTANTIATE_TYPED_TEST_SUITE_P(EtcdConformance, StoreConformanceTest, EtcdBackend);

namespace {

std::string DeadEndpoint() {
  return "http://127.0.0.1:" + std::to_string(FreeLoopbackPort());
}

class EtcdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(etcd_.Start()); }

  EtcdProcess etcd_;
};

TEST_F(EtcdStoreTest, FailsOverFromADeadFirstEndpoint) {
  EtcdStoreOptions options = etcd_.StoreOptions();
  const std::string dead = DeadEndpoint();
  options.endpoints = {dead, etcd_.client_url()};
  const auto started = std::chrono::steady_clock::now();
  auto store = OpenEtcdStore(options);
  ASSERT_TRUE(store.ok()) << Describe(store.error());
  Store& s = **store;
  auto written = s.Put("/f/a", "1");
  ASSERT_TRUE(written.ok()) << Describe(written.error());
  EXPECT_EQ(s.Get("/f/a")->value, "1");
  EXPECT_TRUE(s.Health().ok());
  auto watch = s.Watch(WatchRequest::Prefix("/f/", written->mod_revision));
  ASSERT_TRUE(watch.ok()) << Describe(watch.error());
  auto events = CollectEvents(**watch, 1, 10s);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv, *written);
  // A refused connection is noticed at once: failing over costs no dial timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - started, options.dial_timeout);
}

TEST_F(EtcdStoreTest, UnreachableEndpointsAreNamedInTheError) {
  EtcdStoreOptions options = etcd_.StoreOptions();
  options.endpoints = {DeadEndpoint(), DeadEndpoint()};
  auto store = OpenEtcdStore(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kServiceUnavailable);
  for (const std::string& endpoint : options.endpoints)
    EXPECT_NE(store.error().message().find(endpoint), std::string::npos) << store.error().message();
}

TEST_F(EtcdStoreTest, WatchResumesAfterEtcdRestarts) {
  auto store = OpenEtcdStore(etcd_.StoreOptions());
  ASSERT_TRUE(store.ok()) << Describe(store.error());
  Store& s = **store;
  auto watch = s.Watch(WatchRequest::Prefix("/r/"));
  ASSERT_TRUE(watch.ok()) << Describe(watch.error());
  const KeyValue before = s.Put("/r/a", "before").value();
  auto first = CollectEvents(**watch, 1, 10s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kv, before);

  etcd_.Kill();
  ASSERT_TRUE(etcd_.Restart());
  // Requests fail until the client has reconnected; writes then go on at the next revisions.
  std::vector<KeyValue> after;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (after.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    auto kv = s.Put(fmt::format("/r/{}", after.size()), "after");
    if (kv.ok())
      after.push_back(*kv);
    else
      std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0].mod_revision, before.mod_revision + 1) << "etcd lost data in the restart";

  // Every event exactly once, in order: the watch resumed at the revision after `before`.
  auto resumed = CollectEvents(**watch, 3, 20s);
  ASSERT_EQ(resumed.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(resumed[i].kv, after[i]);
  ExpectNoMoreEvents(**watch);
}

TEST(EtcdStoreWatchTest, QuietWatchResumesPastLaterCompactions) {
  // etcd tells a caught-up watch every 100 ms how far it is (progress notifications), so a watch
  // of a quiet range resumes from a recent revision after a break, not from its last event's,
  // which later compactions would have made Gone.
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.Start(nullptr, {"--experimental-watch-progress-notify-interval=100ms"}));
  auto store = OpenEtcdStore(etcd.StoreOptions());
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  auto watch = s.Watch(WatchRequest::Prefix("/quiet/"));
  ASSERT_TRUE(watch.ok());
  KeyValue other;
  for (int i = 0; i < 20; ++i)
    other = s.Put("/busy", fmt::format("{}", i)).value();
  std::this_thread::sleep_for(500ms);  // several progress notifications
  ASSERT_TRUE(s.Compact(other.mod_revision).ok());

  etcd.Kill();
  ASSERT_TRUE(etcd.Restart());
  std::optional<KeyValue> quiet;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!quiet && std::chrono::steady_clock::now() < deadline) {
    auto kv = s.Put("/quiet/a", "1");
    if (kv.ok())
      quiet = *kv;
    else
      std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(quiet.has_value());
  auto events = CollectEvents(**watch, 1, 20s);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv, *quiet);
}

TEST_F(EtcdStoreTest, CompactionDuringCatchUpEndsTheWatchWithGone) {
  auto store = OpenEtcdStore(etcd_.StoreOptions());
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  // etcd replays history to a new watch in rounds of at most 1,000 revisions every 100 ms, so
  // 6,000 revisions take several rounds: the compaction lands while most are still to come.
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&s, t] {
      for (int i = 0; i < 750; ++i)
        ASSERT_TRUE(s.Put(fmt::format("/a/{}", t), "v").ok());
    });
  }
  for (auto& writer : writers)
    writer.join();
  const Revision current = *s.CurrentRevision();
  ASSERT_EQ(current, 6001);
  auto watch = s.Watch(WatchRequest::Prefix("/a", 2));
  ASSERT_TRUE(watch.ok());
  auto first = (*watch)->Next(5s);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->empty());
  ASSERT_LT(first->back().kv.mod_revision, 5000);
  ASSERT_TRUE(s.Compact(5900).ok());
  Revision expected = first->back().kv.mod_revision + 1;
  Result<std::vector<Event>> next = (*watch)->Next(1s);
  while (next.ok() && !next->empty()) {
    for (const Event& event : *next)
      ASSERT_EQ(event.kv.mod_revision, expected++);
    next = (*watch)->Next(1s);
  }
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code(), ErrorCode::kGone) << Describe(next.error());
  EXPECT_NE(next.error().message().find("required revision has been compacted"), std::string::npos);
  EXPECT_EQ(*s.CompactedRevision(), 5900);
}

TEST_F(EtcdStoreTest, SlowConsumerIsCutOffWithTooManyRequests) {
  auto store = OpenEtcdStore(etcd_.StoreOptions());
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  WatchRequest request = WatchRequest::Prefix("/s/");
  request.max_buffered_events = 10;
  auto watch = s.Watch(request);
  ASSERT_TRUE(watch.ok());
  // Once the watch is live, etcd sends each revision on its own; before that it may replay many
  // in one response, which an empty buffer accepts whole.
  const KeyValue live = s.Put("/s/live", "v").value();
  ASSERT_EQ(CollectEvents(**watch, 1, 10s).size(), 1u);
  Revision last = 0;
  for (int i = 0; i < 50; ++i) {
    auto kv = s.Put(fmt::format("/s/{}", i), "v");
    ASSERT_TRUE(kv.ok());
    last = kv->mod_revision;
  }
  std::this_thread::sleep_for(300ms);  // let the events reach the watcher, unread
  Revision expected = live.mod_revision + 1;
  Result<std::vector<Event>> next = (*watch)->Next(1s);
  while (next.ok() && !next->empty()) {
    for (const Event& event : *next)
      EXPECT_EQ(event.kv.mod_revision, expected++);
    next = (*watch)->Next(1s);
  }
  ASSERT_FALSE(next.ok()) << "not cut off; received up to revision " << expected - 1;
  EXPECT_EQ(next.error().code(), ErrorCode::kTooManyRequests);
  EXPECT_NE(next.error().message().find(fmt::format("re-watch from revision {}", expected)),
            std::string::npos)
      << next.error().message();
  EXPECT_LE(expected, last);
}

TEST_F(EtcdStoreTest, WatchOutlivingTheStoreReportsItClosed) {
  auto store = OpenEtcdStore(etcd_.StoreOptions());
  ASSERT_TRUE(store.ok());
  auto watch = (*store)->Watch(WatchRequest::Prefix("/"));
  ASSERT_TRUE(watch.ok());
  store->reset();
  auto next = (*watch)->Next(5s);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code(), ErrorCode::kServiceUnavailable);
}

TEST(EtcdStoreOptionsTest, MalformedOptionsAreRefused) {
  EtcdStoreOptions options;
  EXPECT_EQ(CodeOf(OpenEtcdStore(options)), ErrorCode::kBadRequest);
  options.endpoints = {"unix:///run/etcd.sock"};
  EXPECT_EQ(CodeOf(OpenEtcdStore(options)), ErrorCode::kBadRequest);
  options.endpoints = {"https://127.0.0.1"};
  EXPECT_EQ(CodeOf(OpenEtcdStore(options)), ErrorCode::kBadRequest);
  options.endpoints = {"https://127.0.0.1:2379"};
  options.ca_file = "/nonexistent/ca.crt";
  auto missing_ca = OpenEtcdStore(options);
  ASSERT_FALSE(missing_ca.ok());
  EXPECT_EQ(missing_ca.error().code(), ErrorCode::kBadRequest);
  EXPECT_NE(missing_ca.error().message().find("/nonexistent/ca.crt"), std::string::npos);
}

TEST(EtcdStoreTlsTest, ClientCertificatesAreRequiredAndUsed) {
  kpp::testing::TestPki pki;
  ASSERT_TRUE(pki.ok());
  const std::string server_cert = pki.dir() + "/server.crt";
  const std::string server_key = pki.dir() + "/server.key";
  ASSERT_TRUE(WriteFileAtomic(server_cert, pki.serving().certificate_pem, 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(server_key, pki.serving().private_key_pem, 0600).ok());
  const EtcdTlsFiles tls{.cert_file = server_cert,
                         .key_file = server_key,
                         .client_ca_file = pki.dir() + "/ca.crt",
                         .ca_file = pki.dir() + "/ca.crt",
                         .client_cert_file = pki.dir() + "/client.crt",
                         .client_key_file = pki.dir() + "/client.key"};
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.Start(&tls));

  auto store = OpenEtcdStore(etcd.StoreOptions());
  ASSERT_TRUE(store.ok()) << Describe(store.error());
  auto written = (*store)->Put("/tls/a", "1");
  ASSERT_TRUE(written.ok()) << Describe(written.error());
  EXPECT_EQ((*store)->Get("/tls/a")->value, "1");

  // Without a client certificate, or with one from another CA, etcd refuses the connection.
  EtcdStoreOptions anonymous = etcd.StoreOptions();
  anonymous.cert_file.clear();
  anonymous.key_file.clear();
  EXPECT_EQ(CodeOf(OpenEtcdStore(anonymous)), ErrorCode::kServiceUnavailable);
  EtcdStoreOptions intruder = etcd.StoreOptions();
  intruder.cert_file = pki.dir() + "/intruder.crt";
  intruder.key_file = pki.dir() + "/intruder.key";
  EXPECT_EQ(CodeOf(OpenEtcdStore(intruder)), ErrorCode::kServiceUnavailable);
}

}  // namespace
}  // namespace kpp::storage::testing
