// The reflector and informer against a scripted server: bookmarks move the resourceVersion, an
// ERROR 410 leads to a list from the last synced version, a relist turns a vanished object into
// a tombstone, and a refused connection is retried from where the watch was.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <deque>
#include <mutex>
#include <thread>

#include "api/core/v1/codec.h"
#include "client/informers/shared_informer.h"
#include "client/leaderelection/leader_elector.h"
#include "client/record/event_recorder.h"
#include "client/rest/errors.h"

namespace kpp::client::informers {
namespace {

using namespace std::chrono_literals;

template <typename F>
bool Eventually(F condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return condition();
}

std::string ConfigMapJson(const std::string& name, const std::string& rv) {
  return R"({"metadata":{"name":")" + name + R"(","namespace":"ns","resourceVersion":")" + rv +
         R"("}})";
}

// Answers requests from a script, in order; records the targets it was asked for.
class ScriptedTransport : public rest::Transport {
 public:
  struct Answer {
    int status = 200;
    std::string body;
    bool refuse = false;  // a connection refused: certainly not sent
    bool hang = false;    // a watch that stays open until cancelled
    std::vector<std::pair<std::string, std::string>> headers = {};
    bool broken = false;  // a connection that broke after sending
  };

  void Push(Answer answer) {
    std::lock_guard lock(mutex_);
    answers_.push_back(std::move(answer));
  }
  std::vector<std::string> targets() const {
    std::lock_guard lock(mutex_);
    return targets_;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
  }

  rest::TransportResult<rest::HttpResponse> RoundTrip(const rest::HttpRequest& request,
                                                      std::chrono::milliseconds) override {
    Answer answer = Next(request);
    if (answer.refuse) return rest::TransportFailure{"connection refused", false};
    if (answer.broken) return rest::TransportFailure{"connection reset by peer", true};
    return rest::HttpResponse{answer.status, answer.headers, answer.body};
  }

  rest::TransportResult<rest::HttpResponse> Stream(
      const rest::HttpRequest& request, const std::function<bool(std::string_view)>& on_body,
      rest::StreamCanceller* canceller, std::chrono::milliseconds) override {
    Answer answer = Next(request);
    if (answer.refuse) return rest::TransportFailure{"connection refused", false};
    if (answer.status != 200) return rest::HttpResponse{answer.status, {}, answer.body};
    // Cut into small pieces, as chunks arrive.
    for (size_t at = 0; at < answer.body.size(); at += 7) {
      if (!on_body(std::string_view(answer.body).substr(at, 7))) break;
    }
    while (answer.hang && !canceller->cancelled())
      std::this_thread::sleep_for(1ms);
    return rest::HttpResponse{200, {}, ""};
  }

 private:
  Answer Next(const rest::HttpRequest& request) {
    while (true) {
      {
        std::lock_guard lock(mutex_);
        if (!answers_.empty()) {
          targets_.push_back(request.target);
          bodies_.push_back(request.body);
          Answer answer = std::move(answers_.front());
          answers_.pop_front();
          return answer;
        }
      }
      // Out of script: behave as a quiet watch until more is pushed.
      std::this_thread::sleep_for(1ms);
    }
  }

  mutable std::mutex mutex_;
  std::deque<Answer> answers_;
  std::vector<std::string> targets_;
  std::vector<std::string> bodies_;
};

class ClientInformerScriptTest : public ::testing::Test {
 protected:
  ClientInformerScriptTest() {
    auto transport = std::make_unique<ScriptedTransport>();
    transport_ = transport.get();
    rest::RestConfig config;
    config.qps = 0;
    client_ = std::make_shared<rest::RestClient>(config, std::move(transport));
  }
  ScriptedTransport* transport_;
  std::shared_ptr<rest::RestClient> client_;
};

TEST_F(ClientInformerScriptTest, BookmarksGoneAndTombstones) {
  auto& t = *transport_;
  t.Push({200, R"({"metadata":{"resourceVersion":"10"},"items":[)" + ConfigMapJson("a", "5") + "," +
                   ConfigMapJson("b", "6") + "]}"});
  t.Push({200, R"({"type":"ADDED","object":)" + ConfigMapJson("c", "11") + "}\n" +
                   R"({"type":"MODIFIED","object":)" + ConfigMapJson("b", "12") + "}\n" +
                   R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"15"}}})" + "\n"});
  // The watch from 15 is refused at the connection: watched again from 15, no list.
  t.Push({.refuse = true});
  t.Push(
      {200,
       std::string(
           R"x({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)x") +
           R"x("message":"too old resource version: 15 (18)","reason":"Expired","code":410}})x"
           "\n"});
  // The relist no longer has a: it was deleted while nobody watched.
  t.Push({200, R"({"metadata":{"resourceVersion":"20"},"items":[)" + ConfigMapJson("b", "12") +
                   "," + ConfigMapJson("c", "16") + "]}"});
  t.Push({.status = 200, .body = "", .hang = true});

  InformerOptions options;
  options.reflector.initial_backoff = 1ms;
  SharedInformer informer(DynamicResource(client_, *FindKind("v1", "ConfigMap"), "ns"), options);
  std::mutex mutex;
  std::vector<std::string> seen;
  auto push = [&](std::string what) {
    std::lock_guard lock(mutex);
    seen.push_back(std::move(what));
  };
  informer.AddEventHandler({
      [&](const ObjectRef& object, bool initial) {
        push(std::string(initial ? "initial " : "add ") + object->metadata().name);
      },
      [&](const ObjectRef& old_object, const ObjectRef& object) {
        push("update " + object->metadata().name + " " + old_object->metadata().resource_version +
             "->" + object->metadata().resource_version);
      },
      [&](const DeletedObject& deleted) {
        push(std::string(deleted.final_state_unknown ? "tombstone " : "delete ") + deleted.key);
      },
  });
  informer.Run();
  ASSERT_TRUE(Eventually([&] { return t.targets().size() == 6; }));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mutex);
    return seen.size() == 6;
  }));
  informer.Stop();
  EXPECT_EQ(seen, (std::vector<std::string>{"initial a", "initial b", "add c", "update b 6->12",
                                            "update c 11->16", "tombstone ns/a"}))
      << ::testing::PrintToString(seen);
  const auto targets = t.targets();
  EXPECT_EQ(targets[0], "/api/v1/namespaces/ns/configmaps?resourceVersion=0");
  EXPECT_EQ(targets[1].substr(0, targets[1].find("&timeoutSeconds")),
            "/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=10");
  EXPECT_NE(targets[1].find("allowWatchBookmarks=true"), std::string::npos);
  EXPECT_EQ(targets[2].substr(0, targets[2].find("&timeoutSeconds")),
            "/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=15");
  EXPECT_EQ(targets[3].substr(0, targets[3].find("&timeoutSeconds")),
            "/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=15");
  EXPECT_EQ(targets[4], "/api/v1/namespaces/ns/configmaps?resourceVersion=15");
  EXPECT_EQ(targets[5].substr(0, targets[5].find("&timeoutSeconds")),
            "/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=20");
  EXPECT_EQ(informer.store().Size(), 2u);
  EXPECT_EQ(informer.LastSyncResourceVersion(), "20");
}

TEST_F(ClientInformerScriptTest, ListGoneFallsBackToAConsistentPagedList) {
  auto& t = *transport_;
  t.Push({200, R"({"metadata":{"resourceVersion":"10"},"items":[]})"});
  t.Push({200, R"({"type":"ERROR","object":{"kind":"Status","reason":"Expired","code":410}})"});
  t.Push({410, R"({"kind":"Status","reason":"Expired","code":410,"message":"too old"})"});
  t.Push({200, R"({"metadata":{"resourceVersion":"30","continue":"next"},"items":[)" +
                   ConfigMapJson("a", "25") + "]}"});
  t.Push(
      {200, R"({"metadata":{"resourceVersion":"30"},"items":[)" + ConfigMapJson("b", "26") + "]}"});
  t.Push({.status = 200, .body = "", .hang = true});
  InformerOptions options;
  options.reflector.initial_backoff = 1ms;
  SharedInformer informer(DynamicResource(client_, *FindKind("v1", "ConfigMap"), "ns"), options);
  informer.Run();
  ASSERT_TRUE(Eventually([&] { return t.targets().size() == 6; }));
  ASSERT_TRUE(Eventually([&] { return informer.store().Size() == 2; }));
  informer.Stop();
  const auto targets = t.targets();
  EXPECT_EQ(targets[2], "/api/v1/namespaces/ns/configmaps?resourceVersion=10");
  EXPECT_EQ(targets[3], "/api/v1/namespaces/ns/configmaps?limit=500");
  EXPECT_EQ(targets[4], "/api/v1/namespaces/ns/configmaps?limit=500&continue=next");
  EXPECT_EQ(targets[5].substr(0, targets[5].find("&timeoutSeconds")),
            "/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=30");
}

TEST_F(ClientInformerScriptTest, TransformAppliesBeforeCacheAndHandlers) {
  auto& t = *transport_;
  t.Push(
      {200, R"({"metadata":{"resourceVersion":"10"},"items":[)" + ConfigMapJson("a", "5") + "]}"});
  t.Push({200, R"({"type":"ADDED","object":)" + ConfigMapJson("b", "11") + "}\n" +
                   R"({"type":"DELETED","object":)" + ConfigMapJson("a", "12") + "}\n"});
  t.Push({.status = 200, .body = "", .hang = true});
  InformerOptions options;
  options.reflector.initial_backoff = 1ms;
  // Marks every object it passes, as a component dropping fields would copy them.
  options.transform = [](ObjectRef object) -> ObjectRef {
    auto copy = *As<api::core::v1::ConfigMap>(object);
    copy.data["transformed"] = "yes";
    return std::make_shared<const api::TypedObject<api::core::v1::ConfigMap>>(std::move(copy));
  };
  SharedInformer informer(DynamicResource(client_, *FindKind("v1", "ConfigMap"), "ns"), options);
  std::atomic<int> transformed_seen = 0;
  auto check = [&](const ObjectRef& object) {
    if (As<api::core::v1::ConfigMap>(object)->data.count("transformed") == 1) ++transformed_seen;
  };
  informer.AddEventHandler({
      [&](const ObjectRef& object, bool) { check(object); },
      [&](const ObjectRef&, const ObjectRef& object) { check(object); },
      [&](const DeletedObject& deleted) { check(deleted.object); },
  });
  informer.Run();
  ASSERT_TRUE(Eventually([&] { return transformed_seen == 3; }));
  informer.Stop();
  ASSERT_EQ(informer.store().Size(), 1u);
  EXPECT_EQ(As<api::core::v1::ConfigMap>(informer.store().Get("ns/b"))->data.at("transformed"),
            "yes");
}

TEST(ClientRestClientRetryTest, RetryAfterAndIdempotence) {
  rest::RestConfig config;
  config.qps = 0;
  config.max_retries = 3;
  FakeClock clock;
  config.clock = &clock;
  auto transport = std::make_unique<ScriptedTransport>();
  auto& t = *transport;
  rest::RestClient client(config, std::move(transport));
  // Whoever sleeps on the fake clock is woken at once; the slept time is what counts.
  std::atomic<bool> done = false;
  std::thread driver([&] {
    while (!done) {
      if (clock.Sleepers() > 0) {
        clock.Advance(100ms);
      }
      std::this_thread::sleep_for(100us);
    }
  });
  const rest::Request get{.method = "GET", .path = "/api/v1/pods"};
  const rest::Request post{.method = "POST", .path = "/api/v1/pods", .body = "{}"};

  // 429 and 503 with Retry-After: retried after that long.
  t.Push({.status = 429, .body = "", .headers = {{"Retry-After", "1"}}});
  t.Push({.status = 503, .body = "", .headers = {{"retry-after", "2"}}});
  t.Push({200, "{}"});
  const auto began = clock.Monotonic();
  ASSERT_TRUE(client.Do(post).ok());
  EXPECT_EQ(t.targets().size(), 3u);
  EXPECT_GE(clock.Monotonic() - began, 3s);
  // Without Retry-After: the typed error at once.
  t.Push({500, R"({"kind":"Status","reason":"InternalError","message":"boom","code":500})"});
  auto failed = client.Do(get);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), ErrorCode::kInternalError);
  EXPECT_EQ(failed.error().message(), "boom");
  EXPECT_EQ(t.targets().size(), 4u);
  // Retry-After on a 4xx other than 429 is not a reason to retry.
  t.Push({.status = 409, .body = "", .headers = {{"Retry-After", "1"}}});
  EXPECT_TRUE(IsConflict(client.Do(get).error()));
  EXPECT_EQ(t.targets().size(), 5u);
  // A broken connection: a GET is retried, a POST that may have been sent is not.
  t.Push({.broken = true});
  t.Push({200, "{}"});
  ASSERT_TRUE(client.Do(get).ok());
  EXPECT_EQ(t.targets().size(), 7u);
  t.Push({.broken = true});
  auto post_failed = client.Do(post);
  ASSERT_FALSE(post_failed.ok());
  EXPECT_EQ(post_failed.error().code(), ErrorCode::kServiceUnavailable);
  EXPECT_EQ(t.targets().size(), 8u);
  // A refused connection was never sent: retried even for a POST, up to max_retries.
  t.Push({.refuse = true});
  t.Push({200, "{}"});
  ASSERT_TRUE(client.Do(post).ok());
  for (int i = 0; i < 4; ++i)
    t.Push({.refuse = true});
  EXPECT_FALSE(client.Do(get).ok());
  EXPECT_EQ(t.targets().size(), 14u);
  done = true;
  driver.join();
}

TEST(ClientRestClientRateLimitTest, QpsAndBurstPaceRequests) {
  rest::RestConfig config;
  config.qps = 5;
  config.burst = 2;
  FakeClock clock;
  config.clock = &clock;
  auto transport = std::make_unique<ScriptedTransport>();
  auto& t = *transport;
  rest::RestClient client(config, std::move(transport));
  for (int i = 0; i < 3; ++i)
    t.Push({200, "{}"});
  ASSERT_TRUE(client.Do({}).ok());
  ASSERT_TRUE(client.Do({}).ok());
  EXPECT_EQ(clock.Sleepers(), 0);
  std::thread third([&] { ASSERT_TRUE(client.Do({}).ok()); });
  ASSERT_TRUE(Eventually([&] { return clock.Sleepers() == 1; }));
  EXPECT_EQ(t.targets().size(), 2u);  // the third waits for a token
  clock.Advance(200ms);
  third.join();
  EXPECT_EQ(t.targets().size(), 3u);
}

TEST(ClientLeaderElectorTest, RejectsDurationsClientGoRejects) {
  rest::RestConfig config;
  auto client = std::make_shared<rest::RestClient>(config, std::make_unique<ScriptedTransport>());
  leaderelection::LeaderElectionConfig election;
  election.lease_name = "x";
  election.identity = "me";
  EXPECT_TRUE(leaderelection::LeaderElector::Create(client, election).ok());  // 15/10/2 s
  election.renew_deadline = election.lease_duration;
  EXPECT_EQ(leaderelection::LeaderElector::Create(client, election).error().message(),
            "leaseDuration must be greater than renewDeadline");
  election.renew_deadline = 2400ms;
  EXPECT_EQ(leaderelection::LeaderElector::Create(client, election).error().message(),
            "renewDeadline must be greater than retryPeriod*JitterFactor");
  election.renew_deadline = 10s;
  election.identity = "";
  EXPECT_FALSE(leaderelection::LeaderElector::Create(client, election).ok());
}

TEST_F(ClientInformerScriptTest, HandlersResyncOnTheirOwnPeriod) {
  FakeClock clock;
  auto& t = *transport_;
  t.Push(
      {200, R"({"metadata":{"resourceVersion":"10"},"items":[)" + ConfigMapJson("a", "5") + "]}"});
  t.Push({.status = 200, .body = "", .hang = true});
  InformerOptions options;
  options.clock = &clock;
  options.resync_period = 30s;
  SharedInformer informer(DynamicResource(client_, *FindKind("v1", "ConfigMap"), "ns"), options);
  std::atomic<int> often = 0;
  std::atomic<int> never = 0;
  auto count = [](std::atomic<int>& counter) {
    EventHandler handler;
    handler.on_update = [&counter](const ObjectRef& old_object, const ObjectRef& object) {
      if (old_object == object) ++counter;
    };
    return handler;
  };
  informer.AddEventHandler(count(often));       // the informer's 30 s
  informer.AddEventHandler(count(never), -1s);  // none
  informer.Run();
  ASSERT_TRUE(Eventually([&] { return informer.HasSynced(); }));
  clock.Advance(29s);
  clock.Advance(1s);
  ASSERT_TRUE(Eventually([&] { return often == 1; }));
  clock.Advance(30s);
  ASSERT_TRUE(Eventually([&] { return often == 2; }));
  informer.Stop();
  EXPECT_EQ(never, 0);
}

// The recorder against a server that accepts everything: what it sends is what is checked.
TEST(ClientEventRecorderTest, SpamFilterAndAggregation) {
  auto transport = std::make_unique<ScriptedTransport>();
  auto& t = *transport;
  rest::RestConfig config;
  config.qps = 0;
  FakeClock clock;
  config.clock = &clock;
  auto client = std::make_shared<rest::RestClient>(config, std::move(transport));
  record::RecorderOptions options;
  options.component = "c";
  options.spam_burst = 5;
  options.max_similar_events = 3;
  record::EventRecorder recorder(client, options);
  api::core::v1::ObjectReference pod;
  pod.kind = "Pod";
  pod.namespace_ = "ns";
  pod.name = "p";
  const std::string created =
      R"({"metadata":{"name":"p.1","namespace":"ns"},"involvedObject":{},"count":1})";
  // Three different messages: the third is combined; the same one again is a patch.
  for (int i = 0; i < 4; ++i)
    t.Push({201, created});
  recorder.Event(pod, "Warning", "Failed", "m1");
  recorder.Event(pod, "Warning", "Failed", "m2");
  recorder.Event(pod, "Warning", "Failed", "m3");
  recorder.Event(pod, "Warning", "Failed", "m3");
  recorder.Flush();
  EXPECT_EQ(recorder.created(), 3);
  EXPECT_EQ(recorder.patched(), 1);
  // The burst of 5 is spent after one more; later ones are dropped until time passes.
  t.Push({201, created});
  for (int i = 0; i < 3; ++i)
    recorder.Event(pod, "Normal", "Pulled", "x" + std::to_string(i));
  recorder.Flush();
  EXPECT_EQ(recorder.dropped(), 2);
  const auto targets = t.targets();
  ASSERT_EQ(targets.size(), 5u);
  const auto bodies = t.bodies();
  // The repeat patches the event created with that message, by the name the recorder gave it
  // (the server's answer to a create is not decoded).
  const std::string third_name(boost::json::parse(bodies[2]).at("metadata").at("name").as_string());
  EXPECT_EQ(targets[3], "/api/v1/namespaces/ns/events/" + third_name);
  EXPECT_NE(bodies[0].find(R"("message":"m1")"), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[0].find(R"("source":{"component":"c"})"), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[2].find(R"("message":"(combined from similar events): m3")"), std::string::npos)
      << bodies[2];
  EXPECT_NE(bodies[3].find(R"("count":2)"), std::string::npos) << bodies[3];
  clock.Advance(300s);
  t.Push({201, created});
  recorder.Event(pod, "Normal", "Pulled", "later");
  recorder.Flush();
  EXPECT_EQ(recorder.dropped(), 2);
  EXPECT_EQ(t.targets().size(), 6u);
}

}  // namespace
}  // namespace kpp::client::informers
