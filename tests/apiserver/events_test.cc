// Events: the core/v1 and events.k8s.io/v1 views of one stored object, and their time to live.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <thread>

#include "apiserver/registry_fixture.h"

namespace kpp::apiserver {
namespace {

constexpr char kCoreEvents[] = "/api/v1/namespaces/default/events";
constexpr char kEventsV1[] = "/apis/events.k8s.io/v1/namespaces/default/events";

const std::string kCoreEvent =
    R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"web.1"},)"
    R"("involvedObject":{"kind":"Pod","namespace":"default","name":"web","uid":"u-1"},)"
    R"("reason":"Scheduled","message":"Successfully assigned default/web to n1",)"
    R"("source":{"component":"default-scheduler"},"firstTimestamp":"2026-01-01T00:00:00Z",)"
    R"("lastTimestamp":"2026-01-01T00:00:05Z","count":3,"type":"Normal",)"
    R"("reportingComponent":"default-scheduler","reportingInstance":"sched-1"})";

const std::string kNewEvent =
    R"({"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"db.1"},)"
    R"("eventTime":"2026-01-01T00:00:00.123456Z","reportingController":"kpp/controller",)"
    R"("reportingInstance":"cm-1","action":"Created","reason":"SuccessfulCreate",)"
    R"("regarding":{"kind":"ReplicaSet","namespace":"default","name":"db"},)"
    R"("note":"Created pod: db-x","type":"Normal","series":{"count":2,)"
    R"("lastObservedTime":"2026-01-01T00:01:00.000000Z"}})";

class EventsTest : public RegistryTest {
 protected:
  FakeClock clock_;
};

TEST_F(EventsTest, ACoreEventReadsAsEventsV1WithItsRenamedFields) {
  Ok(Send("POST", kCoreEvents, kCoreEvent), 201);
  const auto event = Ok(Send("GET", std::string(kEventsV1) + "/web.1"));
  EXPECT_EQ(event.at("apiVersion"), "events.k8s.io/v1");
  EXPECT_EQ(event.at("regarding").at("name"), "web");
  EXPECT_EQ(event.at("note"), "Successfully assigned default/web to n1");
  EXPECT_EQ(event.at("deprecatedSource").at("component"), "default-scheduler");
  EXPECT_EQ(event.at("deprecatedFirstTimestamp"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(event.at("deprecatedLastTimestamp"), "2026-01-01T00:00:05Z");
  EXPECT_EQ(event.at("deprecatedCount"), 3);
  EXPECT_EQ(event.at("reportingController"), "default-scheduler");
  EXPECT_EQ(event.at("reportingInstance"), "sched-1");
  EXPECT_FALSE(event.as_object().contains("involvedObject"));
  EXPECT_FALSE(event.as_object().contains("message"));
}

TEST_F(EventsTest, AnEventsV1EventReadsAsCoreAndListsInBothViews) {
  const auto created = Ok(Send("POST", kEventsV1, kNewEvent), 201);
  EXPECT_EQ(created.at("regarding").at("name"), "db");
  const auto core = Ok(Send("GET", std::string(kCoreEvents) + "/db.1"));
  EXPECT_EQ(core.at("apiVersion"), "v1");
  EXPECT_EQ(core.at("involvedObject").at("kind"), "ReplicaSet");
  EXPECT_EQ(core.at("message"), "Created pod: db-x");
  EXPECT_EQ(core.at("reportingComponent"), "kpp/controller");
  EXPECT_EQ(core.at("series").at("count"), 2);
  EXPECT_EQ(core.at("eventTime"), "2026-01-01T00:00:00.123456Z");
  EXPECT_EQ(core.at("metadata").at("uid"), created.at("metadata").at("uid"));

  Ok(Send("POST", kCoreEvents, kCoreEvent), 201);
  EXPECT_EQ(Ok(Send("GET", kCoreEvents)).at("items").as_array().size(), 2u);
  const auto list = Ok(Send("GET", kEventsV1));
  EXPECT_EQ(list.at("kind"), "EventList");
  EXPECT_EQ(list.at("apiVersion"), "events.k8s.io/v1");
  ASSERT_EQ(list.at("items").as_array().size(), 2u);
  EXPECT_EQ(list.at("items").at(0).at("note"), "Created pod: db-x");
  EXPECT_EQ(list.at("items").at(1).at("note"), "Successfully assigned default/web to n1");
}

TEST_F(EventsTest, FieldSelectorsUseEachViewsNames) {
  Ok(Send("POST", kCoreEvents, kCoreEvent), 201);
  Ok(Send("POST", kEventsV1, kNewEvent), 201);
  // From the store (the default list) and from the watch cache (resourceVersion=0).
  for (const std::string rv : {"", "0"}) {
    std::vector<std::pair<std::string, std::string>> query = {
        {"fieldSelector", "regarding.name=db,reportingController=kpp/controller"}};
    if (!rv.empty()) query.emplace_back("resourceVersion", rv);
    auto items = Ok(Send("GET", kEventsV1, "", "application/json", query)).at("items").as_array();
    ASSERT_EQ(items.size(), 1u) << "resourceVersion=" << rv;
    EXPECT_EQ(items.at(0).at("metadata").at("name"), "db.1");

    query = {{"fieldSelector", "involvedObject.name=web,reportingComponent=default-scheduler"}};
    if (!rv.empty()) query.emplace_back("resourceVersion", rv);
    items = Ok(Send("GET", kCoreEvents, "", "application/json", query)).at("items").as_array();
    ASSERT_EQ(items.size(), 1u) << "resourceVersion=" << rv;
    EXPECT_EQ(items.at(0).at("metadata").at("name"), "web.1");
  }
  const auto refused = Failed(Send("GET", kEventsV1, "", "application/json",
                                   {{"fieldSelector", "involvedObject.name=web"}}),
                              400);
  EXPECT_EQ(refused.at("message"), "field label not supported: involvedObject.name");
}

TEST_F(EventsTest, EventsExpireAfterTheirTimeToLiveFromTheLastWrite) {
  TearDown();
  Start({.event_ttl = std::chrono::seconds(600)}, &clock_);
  Ok(Send("POST", kCoreEvents, kCoreEvent), 201);
  auto kv = store_->Get("/registry/core/events/default/web.1");
  ASSERT_TRUE(kv.ok());
  ASSERT_NE(kv->lease, 0);
  auto lease = store_->GetLease(kv->lease);
  ASSERT_TRUE(lease.ok());
  // 600 s and upstream's reuse window of 5% (30 s).
  EXPECT_EQ(lease->granted_ttl, std::chrono::seconds(630));
  // A second event within the window shares the lease.
  Ok(Send("POST", kEventsV1, kNewEvent), 201);
  EXPECT_EQ(store_->Get("/registry/core/events/default/db.1")->lease, kv->lease);

  // An update after 500 s renews the first event's lease; the second event expires.
  clock_.Advance(std::chrono::seconds(500));
  auto current = Ok(Send("GET", std::string(kCoreEvents) + "/web.1"));
  current.as_object()["count"] = 4;
  Ok(Send("PUT", std::string(kCoreEvents) + "/web.1", boost::json::serialize(current)));
  EXPECT_NE(store_->Get("/registry/core/events/default/web.1")->lease, kv->lease);
  clock_.Advance(std::chrono::seconds(200));
  // The store's maintenance thread deletes what expired; poll for it.
  for (int i = 0; i < 500 && store_->Get("/registry/core/events/default/db.1").ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Failed(Send("GET", std::string(kEventsV1) + "/db.1"), 404);
  Ok(Send("GET", std::string(kCoreEvents) + "/web.1"));
  clock_.Advance(std::chrono::seconds(500));
  for (int i = 0; i < 500 && store_->Get("/registry/core/events/default/web.1").ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Failed(Send("GET", std::string(kCoreEvents) + "/web.1"), 404);
}

TEST_F(EventsTest, OtherKindsGetNoLease) {
  Ok(Send("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"c"}})"), 201);
  auto kv = store_->Get("/registry/core/configmaps/default/c");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->lease, 0);
}

}  // namespace
}  // namespace kpp::apiserver
