// The watch cache: its ring of events and 410 for starts it no longer reaches, fan-out of one
// serialization to many watchers, cutting off a watcher that does not read, selector
// transitions, bookmarks and watch-list's initial-events-end; the set of caches fed by one store
// watch, consistent reads, and the memory a cached pod takes.
#include "apiserver/watchcache/watch_cache.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>

#include "api/core/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "apiserver/registry/list_reader.h"
#include "apiserver/watchcache/cache_set.h"
#include "apiserver/watchcache/cached_resources.h"
#include "apiserver/watchcache/stored_json.h"
#include "base/files.h"
#include "storage/sqlite/sqlite_store.h"

namespace kpp::apiserver::watchcache {
namespace {

constexpr std::string_view kPrefix = "/registry/core/configmaps/";

// Test objects: the stored value is {"metadata":{"name":...,"labels":{...}}}; the cached JSON
// adds the resourceVersion.
Result<CachedObjectPtr> Build(std::string_view key, std::string_view value, int64_t create_revision,
                              int64_t revision) {
  boost::json::value json = boost::json::parse(value);
  auto object = std::make_shared<CachedObject>();
  object->key = std::string(key);
  object->create_revision = create_revision;
  object->revision = revision;
  auto& metadata = json.as_object()["metadata"].as_object();
  metadata["resourceVersion"] = std::to_string(revision);
  if (const auto* labels = metadata.if_contains("labels")) {
    for (const auto& [name, label] : labels->as_object())
      object->labels[std::string(name)] = std::string(label.as_string());
  }
  object->json = boost::json::serialize(json);
  return CachedObjectPtr(std::move(object));
}

std::string Value(const std::string& name, const std::string& team = "") {
  std::string labels = team.empty() ? "" : R"(,"labels":{"team":")" + team + R"("})";
  return R"({"metadata":{"name":")" + name + "\"" + labels + "}}";
}

storage::Event Put(const std::string& name, int64_t revision, int64_t created,
                   const std::string& team = "") {
  storage::Event event;
  event.type = storage::Event::Type::kPut;
  event.kv.key = std::string(kPrefix) + "default/" + name;
  event.kv.value = Value(name, team);
  event.kv.create_revision = created;
  event.kv.mod_revision = revision;
  return event;
}

storage::Event Delete(const std::string& name, int64_t revision) {
  storage::Event event;
  event.type = storage::Event::Type::kDelete;
  event.kv.key = std::string(kPrefix) + "default/" + name;
  event.kv.mod_revision = revision;
  return event;
}

struct Line {
  std::string type;
  boost::json::value object;
};

std::vector<Line> Lines(const std::string& chunk) {
  std::vector<Line> lines;
  size_t start = 0;
  while (start < chunk.size()) {
    const size_t end = chunk.find('\n', start);
    auto event = boost::json::parse(chunk.substr(start, end - start));
    lines.push_back({std::string(event.at("type").as_string()), event.at("object")});
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

// Every line a watcher has ready (initial events, then what is buffered).
std::vector<Line> Drain(CacheWatcher& watcher, int calls = 2) {
  std::string out;
  for (int i = 0; i < calls; ++i) {
    auto chunk = watcher.Next();
    if (!chunk) break;
    out += *chunk;
  }
  return Lines(out);
}

class WatchCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<WatchCache> MakeCache(WatchCacheOptions options = {}) {
    return WatchCache::Create(std::string(kPrefix), Build, {}, 10, clock_, options);
  }

  WatchRequest Request(std::optional<int64_t> start = std::nullopt) {
    WatchRequest request;
    request.prefix = std::string(kPrefix);
    request.matches = [](const CachedObject&) { return true; };
    request.encoding.shared_id = &encodes_;
    request.encoding.object = [this](const CachedObject& object) -> Result<std::string> {
      ++encodes_;
      return object.json;
    };
    request.encoding.bookmark = [](int64_t revision, bool end) {
      return fmt::format(R"({{"metadata":{{"resourceVersion":"{}","end":{}}}}})", revision, end);
    };
    request.start_revision = start;
    return request;
  }

  FakeClock clock_;
  int encodes_ = 0;
};

TEST_F(WatchCacheTest, RingKeepsTheNewestEventsAndRefusesOlderStartsWith410) {
  auto cache = MakeCache({.min_events = 4, .fresh_duration = std::chrono::seconds(0)});
  for (int i = 1; i <= 10; ++i)
    cache->Apply(Put("a", 10 + i, 11));
  EXPECT_EQ(cache->ring_size(), 4u);
  EXPECT_EQ(cache->oldest_revision(), 16);  // events 17..20 remain

  auto too_old = cache->Watch(Request(15));
  auto lines = Drain(*too_old, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].type, "ERROR");
  EXPECT_EQ(lines[0].object.at("code"), 410);
  EXPECT_EQ(lines[0].object.at("reason"), "Expired");
  EXPECT_EQ(lines[0].object.at("message"), "too old resource version: 15 (16)");
  EXPECT_FALSE(too_old->Next().has_value());

  auto resumed = cache->Watch(Request(16));
  lines = Drain(*resumed, 1);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].type, "MODIFIED");
  EXPECT_EQ(lines[0].object.at("metadata").at("resourceVersion"), "17");
  EXPECT_EQ(lines[3].object.at("metadata").at("resourceVersion"), "20");
}

TEST_F(WatchCacheTest, RingGrowsWhileItsOldestEventIsFresh) {
  auto cache = MakeCache({.min_events = 4, .max_events = 8});
  for (int i = 1; i <= 10; ++i)
    cache->Apply(Put("a", 10 + i, 11));
  // Doubled twice (4 → 8), then capped: the two oldest went.
  EXPECT_EQ(cache->ring_capacity(), 8u);
  EXPECT_EQ(cache->ring_size(), 8u);
  EXPECT_EQ(cache->oldest_revision(), 12);
}

TEST_F(WatchCacheTest, RingIsBoundedByBytesAndRefusesOlderStartsWith410) {
  // The bytes of one change of "a" (its object and what selectors see of the one before).
  auto probe = MakeCache();
  probe->Apply(Put("a", 11, 11));
  const size_t created_bytes = probe->ring_bytes();
  probe->Apply(Put("a", 12, 11));
  const size_t event_bytes = probe->ring_bytes() - created_bytes;
  ASSERT_GT(event_bytes, created_bytes);

  // Room for five events' objects; the count alone would keep all ten.
  auto cache = MakeCache({.min_events = 2, .max_bytes = 5 * event_bytes + event_bytes / 2});
  for (int i = 1; i <= 10; ++i)
    cache->Apply(Put("a", 10 + i, 11));
  EXPECT_EQ(cache->ring_size(), 5u);
  EXPECT_LE(cache->ring_bytes(), 5 * event_bytes + event_bytes / 2);
  EXPECT_EQ(cache->oldest_revision(), 15);  // events 16..20 remain

  auto too_old = cache->Watch(Request(14));
  auto lines = Drain(*too_old, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].type, "ERROR");
  EXPECT_EQ(lines[0].object.at("code"), 410);
  EXPECT_EQ(lines[0].object.at("message"), "too old resource version: 14 (15)");

  auto resumed = cache->Watch(Request(15));
  lines = Drain(*resumed, 1);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].object.at("metadata").at("resourceVersion"), "16");
  EXPECT_EQ(lines[4].object.at("metadata").at("resourceVersion"), "20");
}

TEST_F(WatchCacheTest, RingKeepsItsMinimumWhateverTheBytes) {
  auto cache = MakeCache({.min_events = 3, .max_bytes = 1});
  for (int i = 1; i <= 10; ++i)
    cache->Apply(Put("a", 10 + i, 11));
  EXPECT_EQ(cache->ring_size(), 3u);
  EXPECT_EQ(cache->oldest_revision(), 17);
}

TEST_F(WatchCacheTest, RingShrinksWhenEvenItsNewestQuarterIsStale) {
  auto cache = MakeCache({.min_events = 4, .max_events = 64});
  int64_t revision = 10;
  for (int i = 0; i < 32; ++i)
    cache->Apply(Put("a", ++revision, 11));
  EXPECT_EQ(cache->ring_capacity(), 32u);
  EXPECT_EQ(cache->ring_size(), 32u);
  const size_t full_bytes = cache->ring_bytes();

  // The load stopped for longer than fresh_duration: the next event halves the ring.
  clock_.Advance(std::chrono::seconds(100));
  cache->Apply(Put("a", ++revision, 11));
  EXPECT_EQ(cache->ring_capacity(), 16u);
  EXPECT_EQ(cache->ring_size(), 16u);
  EXPECT_LT(cache->ring_bytes(), full_bytes);
  EXPECT_EQ(cache->oldest_revision(), revision - 16);
  // Quiet again: halved again.
  clock_.Advance(std::chrono::seconds(100));
  cache->Apply(Put("a", ++revision, 11));
  EXPECT_EQ(cache->ring_capacity(), 8u);
  EXPECT_EQ(cache->ring_size(), 8u);
  // A watch from inside the ring still resumes; one from before it gets 410.
  auto resumed = cache->Watch(Request(revision - 8));
  EXPECT_EQ(Drain(*resumed, 1).size(), 8u);
  auto too_old = cache->Watch(Request(revision - 9));
  auto lines = Drain(*too_old, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].object.at("code"), 410);
}

TEST_F(WatchCacheTest, AnEventsLinesAreDroppedOnceEveryWatcherSentThem) {
  auto cache = MakeCache();
  auto first = cache->Watch(Request());
  auto second = cache->Watch(Request());
  EXPECT_TRUE(Drain(*first, 1).empty());
  EXPECT_TRUE(Drain(*second, 1).empty());
  cache->Apply(Put("a", 11, 11));
  EXPECT_EQ(Drain(*first, 1).size(), 1u);
  EXPECT_EQ(encodes_, 1);
  EXPECT_EQ(Drain(*second, 1).size(), 1u);
  EXPECT_EQ(encodes_, 1);  // shared while the second still had to send it
  // Both sent it: the ring holds the object alone, and a watch resuming from before it
  // encodes the event again.
  auto resumed = cache->Watch(Request(10));
  EXPECT_EQ(Drain(*resumed, 1).size(), 1u);
  EXPECT_EQ(encodes_, 2);
}

TEST_F(WatchCacheTest, AWatcherThatGoesAwayWithAnEventUnsentReleasesItsLines) {
  auto cache = MakeCache();
  auto gone = cache->Watch(Request());
  auto reader = cache->Watch(Request());
  EXPECT_TRUE(Drain(*gone, 1).empty());
  EXPECT_TRUE(Drain(*reader, 1).empty());
  cache->Apply(Put("b", 12, 12));
  gone->Cancel();
  EXPECT_FALSE(gone->Next().has_value());
  gone.reset();
  EXPECT_EQ(Drain(*reader, 1).size(), 1u);
  EXPECT_EQ(encodes_, 1);
  auto again = cache->Watch(Request(11));
  EXPECT_EQ(Drain(*again, 1).size(), 1u);
  EXPECT_EQ(encodes_, 2);
}

TEST_F(WatchCacheTest, EachEventIsSerializedOnceForEveryWatcher) {
  auto cache = MakeCache();
  std::vector<std::shared_ptr<CacheWatcher>> watchers;
  for (int i = 0; i < 5; ++i)
    watchers.push_back(cache->Watch(Request()));
  for (auto& watcher : watchers)
    EXPECT_TRUE(Drain(*watcher, 1).empty());  // no initial events
  cache->Apply(Put("a", 11, 11));
  cache->Apply(Put("a", 12, 11));
  cache->Apply(Delete("a", 13));
  for (auto& watcher : watchers) {
    auto lines = Drain(*watcher, 1);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].type, "ADDED");
    EXPECT_EQ(lines[1].type, "MODIFIED");
    EXPECT_EQ(lines[2].type, "DELETED");
    // A deletion carries the last state at the deletion's resourceVersion.
    EXPECT_EQ(lines[2].object.at("metadata").at("resourceVersion"), "13");
  }
  EXPECT_EQ(encodes_, 3);
}

TEST_F(WatchCacheTest, AWatcherThatDoesNotReadIsCutOffWithoutHoldingUpOthers) {
  auto cache = MakeCache({.watcher_buffer = 3});
  auto slow = cache->Watch(Request());
  auto fast = cache->Watch(Request());
  EXPECT_TRUE(Drain(*slow, 1).empty());
  EXPECT_TRUE(Drain(*fast, 1).empty());
  int64_t revision = 11;
  for (int i = 0; i < 5; ++i) {
    cache->Apply(Put("a" + std::to_string(i), revision, revision));
    ++revision;
    // The fast one keeps up.
    EXPECT_EQ(Drain(*fast, 1).size(), 1u);
  }
  EXPECT_TRUE(slow->cut_off());
  EXPECT_FALSE(fast->cut_off());
  EXPECT_EQ(cache->watcher_count(), 1u);
  // What was buffered still goes out, then the stream ends: the client watches again.
  EXPECT_EQ(Drain(*slow, 1).size(), 3u);
  EXPECT_FALSE(slow->Next().has_value());
}

TEST_F(WatchCacheTest, SelectorsTurnChangesIntoAddedAndDeleted) {
  auto cache = MakeCache();
  auto request = Request();
  request.matches = [](const CachedObject& object) {
    auto team = object.labels.find("team");
    return team != object.labels.end() && team->second == "blue";
  };
  auto watcher = cache->Watch(std::move(request));
  EXPECT_TRUE(Drain(*watcher, 1).empty());
  cache->Apply(Put("s", 11, 11));          // outside
  cache->Apply(Put("s", 12, 11, "blue"));  // enters
  cache->Apply(Put("s", 13, 11, "blue"));  // changes inside
  cache->Apply(Put("s", 14, 11, "red"));   // leaves
  cache->Apply(Delete("s", 15));           // gone while outside
  auto lines = Drain(*watcher, 1);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].type, "ADDED");
  EXPECT_EQ(lines[1].type, "MODIFIED");
  EXPECT_EQ(lines[2].type, "DELETED");
  EXPECT_EQ(lines[2].object.at("metadata").at("labels").at("team"), "red");
}

TEST_F(WatchCacheTest, BookmarksGoToWatchersThatAllowThem) {
  auto cache = MakeCache();
  auto request = Request();
  request.bookmarks = true;
  auto with = cache->Watch(std::move(request));
  auto without = cache->Watch(Request());
  EXPECT_TRUE(Drain(*with, 1).empty());
  EXPECT_TRUE(Drain(*without, 1).empty());
  cache->Apply(Put("a", 11, 11));
  cache->SendBookmarks();
  auto lines = Drain(*with, 1);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].type, "BOOKMARK");
  EXPECT_EQ(lines[1].object.at("metadata").at("resourceVersion"), "11");
  EXPECT_EQ(lines[1].object.at("metadata").at("end"), false);
  EXPECT_EQ(Drain(*without, 1).size(), 1u);
}

TEST_F(WatchCacheTest, WatchListSendsTheStateThenTheInitialEventsEndBookmark) {
  auto cache = MakeCache();
  cache->Apply(Put("a", 11, 11));
  cache->Apply(Put("b", 12, 12));
  auto request = Request();
  request.send_initial_events = true;
  request.bookmarks = true;
  auto watcher = cache->Watch(std::move(request));
  auto lines = Drain(*watcher, 1);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].type, "ADDED");
  EXPECT_EQ(lines[0].object.at("metadata").at("name"), "a");
  EXPECT_EQ(lines[1].object.at("metadata").at("name"), "b");
  EXPECT_EQ(lines[2].type, "BOOKMARK");
  EXPECT_EQ(lines[2].object.at("metadata").at("resourceVersion"), "12");
  EXPECT_EQ(lines[2].object.at("metadata").at("end"), true);
  cache->Apply(Put("a", 13, 11));
  lines = Drain(*watcher, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].type, "MODIFIED");
}

TEST_F(WatchCacheTest, AStartInTheFutureSkipsWhatComesBeforeIt) {
  auto cache = MakeCache();
  auto watcher = cache->Watch(Request(12));
  EXPECT_TRUE(Drain(*watcher, 1).empty());
  cache->Apply(Put("a", 11, 11));
  cache->Apply(Put("a", 12, 11));
  cache->Apply(Put("a", 13, 11));
  auto lines = Drain(*watcher, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].object.at("metadata").at("resourceVersion"), "13");
}

// ---------------------------------------------------------------------------------------------

class CacheSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory("kpp-watch-cache-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    auto store = storage::OpenSqliteStore({.dir = dir_, .compaction_interval = {}});
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    RemoveAll(dir_);
  }

  std::string dir_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(CacheSetTest, OneStoreWatchFeedsEveryCacheAndReachesTheStoresRevision) {
  ASSERT_TRUE(store_->Put("/registry/core/configmaps/default/old", Value("old")).ok());
  CacheSet caches(*store_, RealClock());
  auto configmaps = caches.Get(std::string(kPrefix), Build);
  ASSERT_TRUE(configmaps.ok()) << configmaps.error().message();
  auto secrets = caches.Get("/registry/core/secrets/", Build);
  ASSERT_TRUE(secrets.ok());
  EXPECT_EQ((*configmaps)->List(kPrefix).objects.size(), 1u);

  ASSERT_TRUE(store_->Put("/registry/core/configmaps/default/new", Value("new")).ok());
  // A write elsewhere moves the revision every cache has reached.
  auto last = store_->Put("/registry/core/secrets/default/s", Value("s"));
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(caches.WaitForRevision(last->mod_revision, std::chrono::seconds(10)));
  const auto snapshot = (*configmaps)->List(kPrefix);
  EXPECT_EQ(snapshot.objects.size(), 2u);
  EXPECT_EQ(snapshot.revision, last->mod_revision);
  EXPECT_EQ((*secrets)->List("/registry/core/secrets/").objects.size(), 1u);
  caches.Stop();
  EXPECT_FALSE(caches.WaitForRevision(last->mod_revision + 1, std::chrono::seconds(1)));
}

const api::KindInfo& Kind(std::string_view group, std::string_view kind) {
  for (const auto& info : api::AllKinds()) {
    if (info.group == group && info.kind == kind && &api::StorageKind(info) == &info) return info;
  }
  std::abort();
}

TEST_F(CacheSetTest, ACachedPodTakesAtMostTwiceItsJson) {
  const std::string pod = R"({"metadata":{"name":"web-NAME","namespace":"default",)"
                          R"("uid":"4f1c2d3e-1111-2222-3333-444455556666",)"
                          R"("creationTimestamp":"2026-01-01T00:00:00Z",)"
                          R"("labels":{"app":"web","pod-template-hash":"6d4cf56db6"}},)"
                          R"("spec":{"containers":[{"name":"web","image":"nginx:1.27",)"
                          R"("ports":[{"containerPort":80,"protocol":"TCP"}],)"
                          R"("resources":{"requests":{"cpu":"100m","memory":"128Mi"}},)"
                          R"("terminationMessagePath":"/dev/termination-log",)"
                          R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],)"
                          R"("restartPolicy":"Always","terminationGracePeriodSeconds":30,)"
                          R"("dnsPolicy":"ClusterFirst","serviceAccountName":"default",)"
                          R"("nodeName":"node-1","schedulerName":"default-scheduler",)"
                          R"("tolerations":[{"key":"node.kubernetes.io/not-ready",)"
                          R"("operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},)"
                          R"("status":{"phase":"Running","podIP":"10.42.0.7",)"
                          R"("podIPs":[{"ip":"10.42.0.7"}],"qosClass":"Burstable"}})";
  for (int i = 0; i < 200; ++i) {
    std::string value = pod;
    value.replace(value.find("NAME"), 4, std::to_string(i));
    ASSERT_TRUE(store_->Put("/registry/core/pods/default/web-" + std::to_string(i), value).ok());
  }
  CachedResources resources(*store_, RealClock());
  const auto& pods = Kind("", "Pod");
  http::Request request;
  request.query = {{"resourceVersion", "0"}};
  auto parsed = ParseListRequest(pods, request);
  ASSERT_TRUE(std::holds_alternative<ListRequest>(parsed));
  auto listed =
      resources.List(pods, "/registry/core/pods/", std::get<ListRequest>(parsed), request);
  ASSERT_TRUE(listed.has_value());
  ASSERT_TRUE(std::holds_alternative<http::Response>(*listed));
  const auto body = boost::json::parse(std::get<http::Response>(*listed).body);
  const auto& items = body.at("items").as_array();
  ASSERT_EQ(items.size(), 200u);
  EXPECT_EQ(items[0].at("spec").at("nodeName"), "node-1");
  size_t json_bytes = 0;
  for (const auto& item : items)
    json_bytes += boost::json::serialize(item).size();
  auto cache = resources.caches().Get("/registry/core/pods/", {});
  ASSERT_TRUE(cache.ok());
  const size_t cached_bytes = (*cache)->object_bytes();
  std::printf("cached pods: %zu bytes for %zu bytes of JSON (%.2fx)\n", cached_bytes, json_bytes,
              static_cast<double>(cached_bytes) / static_cast<double>(json_bytes));
  EXPECT_LE(cached_bytes, 2 * json_bytes) << cached_bytes << " bytes for " << json_bytes;
  // Field selectors are answered from what the cache keeps.
  request.query = {{"resourceVersion", "0"}, {"fieldSelector", "spec.nodeName=node-2"}};
  parsed = ParseListRequest(pods, request);
  listed = resources.List(pods, "/registry/core/pods/", std::get<ListRequest>(parsed), request);
  ASSERT_TRUE(listed.has_value());
  EXPECT_TRUE(
      boost::json::parse(std::get<http::Response>(*listed).body).at("items").as_array().empty());
}

TEST(WatchOptionsTest, WatchListNeedsNotOlderThan) {
  ListOptions options;
  auto status = ValidateWatchOptions(options, true);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
  options.resource_version_match = "NotOlderThan";
  EXPECT_TRUE(ValidateWatchOptions(options, true).ok());
  status = ValidateWatchOptions(options, std::nullopt);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find(
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"),
            std::string::npos);
}

// The cache splices the revision into a stored pod's text instead of decoding and encoding it:
// the result must be exactly what the encoder writes with the resourceVersion set.
TEST(SpliceResourceVersionTest, GivesTheEncodersTextWithTheRevision) {
  api::core::v1::Pod full;
  full.metadata.name = "web-1";
  full.metadata.generate_name = "web-";
  full.metadata.namespace_ = "default";
  full.metadata.uid = "4f1c2d3e-1111-2222-3333-444455556666";
  full.metadata.generation = 2;
  full.metadata.labels = {{"app", "web"}};
  full.metadata.annotations = {{"note", "a \"quoted\" } value"}};
  full.metadata.finalizers = {"example.com/keep"};
  full.spec.node_name = "node-1";
  full.status.phase = "Running";
  api::core::v1::Pod named_only;
  named_only.metadata.name = "lonely";
  api::core::v1::Pod labels_only;
  labels_only.metadata.labels = {{"a", "b"}};
  api::core::v1::Pod empty;
  auto every_field = api::FromJson<api::core::v1::Pod>(R"({"metadata":{"name":"p",
      "generateName":"p-","namespace":"ns","selfLink":"/x","uid":"u","generation":3,
      "creationTimestamp":"2026-01-02T03:04:05Z","deletionTimestamp":"2026-01-02T03:04:06Z",
      "deletionGracePeriodSeconds":30,"labels":{"a":"b"},"annotations":{"c":"d"},
      "ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n","uid":"v"}],
      "finalizers":["f"],"managedFields":[{"manager":"m","operation":"Update",
      "apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{}}}]}})");
  ASSERT_TRUE(every_field.ok()) << every_field.error().message();
  for (const api::core::v1::Pod* pod :
       {&full, &named_only, &labels_only, &empty, &every_field->object}) {
    const std::string stored = api::ToJson(*pod);
    api::core::v1::Pod with_revision = *pod;
    with_revision.metadata.resource_version = "1234";
    auto spliced = SpliceResourceVersion(stored, 1234);
    ASSERT_TRUE(spliced.has_value()) << stored;
    EXPECT_EQ(*spliced, api::ToJson(with_revision)) << stored;
  }
}

TEST(SpliceResourceVersionTest, RefusesTextNotInTheEncodersForm) {
  for (std::string_view stored :
       {R"({"spec":{},"metadata":{"name":"a"}})", R"({ "metadata":{"name":"a"}})",
        R"({"metadata":{"name":"a","resourceVersion":"5"}})", R"({"metadata":{"name":"a")",
        R"({"metadata":{"name" : "a"}})", R"({"metadata":{"na\u006de":"a"}})"}) {
    EXPECT_FALSE(SpliceResourceVersion(stored, 7).has_value()) << stored;
  }
}

}  // namespace
}  // namespace kpp::apiserver::watchcache
