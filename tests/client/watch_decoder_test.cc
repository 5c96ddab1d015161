#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/core/v1/codec.h"
#include "client/rest/resource.h"

namespace kpp::client {
namespace {

constexpr char kStream[] =
    R"({"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a b","resourceVersion":"5"}}}
{"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"6"},"data":{"k":"v \" }"}}}
{"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"9"}}}
{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}
)";

std::vector<std::string> Decode(const std::vector<std::string_view>& pieces) {
  WatchDecoder decoder;
  std::vector<std::string> events;
  for (auto piece : pieces) {
    auto status = decoder.Feed(piece, [&](WatchEvent&& event) {
      events.push_back(event.type + " " + boost::json::serialize(event.object));
      return true;
    });
    EXPECT_TRUE(status.ok()) << status.error().message();
  }
  return events;
}

TEST(ClientWatchDecoderTest, WholeStream) {
  const auto events = Decode({kStream});
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0],
            R"(ADDED {"kind":"ConfigMap","metadata":{"name":"a b","resourceVersion":"5"}})");
  EXPECT_EQ(events[1].substr(0, 9), "MODIFIED ");
  EXPECT_EQ(events[2].substr(0, 9), "BOOKMARK ");
  EXPECT_EQ(events[3], R"(ERROR {"kind":"Status","code":410,"reason":"Expired"})");
}

TEST(ClientWatchDecoderTest, EveryWayOfCuttingTheStreamGivesTheSameEvents) {
  const std::string_view stream = kStream;
  const auto whole = Decode({stream});
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    ASSERT_EQ(Decode({stream.substr(0, cut), stream.substr(cut)}), whole) << cut;
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < stream.size(); ++i)
    bytes.push_back(stream.substr(i, 1));
  EXPECT_EQ(Decode(bytes), whole);
}

TEST(ClientWatchDecoderTest, StopsWhenAsked) {
  WatchDecoder decoder;
  int seen = 0;
  ASSERT_TRUE(decoder.Feed(kStream, [&](WatchEvent&&) { return ++seen < 2; }).ok());
  EXPECT_EQ(seen, 2);
}

TEST(ClientWatchDecoderTest, RejectsWhatIsNotAnEventStream) {
  WatchDecoder decoder;
  auto ignore = [](WatchEvent&&) { return true; };
  EXPECT_FALSE(decoder.Feed("[1,2]", ignore).ok());
  WatchDecoder second;
  EXPECT_FALSE(second.Feed(R"({"object":{}})", ignore).ok());
  WatchDecoder third;
  EXPECT_FALSE(third.Feed("{\"type\": nope}", ignore).ok());
}

// Events outlive the decoder (their values keep the arena they were parsed into), and a
// deeply nested object (a custom resource's) is not refused for its depth.
TEST(ClientWatchDecoderTest, EventsOutliveTheDecoderAndMayNestDeeply) {
  std::string deep = R"({"kind":"Thing","spec":)";
  for (int i = 0; i < 60; ++i)
    deep += R"({"a":)";
  deep += "1";
  for (int i = 0; i < 60; ++i)
    deep += "}";
  deep += "}";
  std::vector<WatchEvent> kept;
  {
    WatchDecoder decoder;
    const std::string stream = std::string(kStream) + R"({"type":"ADDED","object":)" + deep + "}\n";
    ASSERT_TRUE(decoder
                    .Feed(stream,
                          [&](WatchEvent&& event) {
                            kept.push_back(std::move(event));
                            return true;
                          })
                    .ok());
  }
  ASSERT_EQ(kept.size(), 5u);
  EXPECT_EQ(boost::json::serialize(kept[0].object),
            R"({"kind":"ConfigMap","metadata":{"name":"a b","resourceVersion":"5"}})");
  EXPECT_EQ(boost::json::serialize(kept[4].object), deep);
}

// The typed decode of a parsed event object equals the decode of its text.
TEST(ClientWatchDecoderTest, ParsedObjectsDecodeAsTheirText) {
  const std::string text =
      R"({"metadata":{"name":"p","namespace":"ns","labels":{"app":"x"}},)"
      R"("spec":{"containers":[{"name":"c","image":"nginx","resources":{"requests":)"
      R"({"cpu":"100m"}}}],"nodeName":"n1"},"status":{"phase":"Running","unknownField":1}})";
  const auto& kind = KindFor<api::core::v1::Pod>();
  auto from_text = DecodeObject(kind, std::string_view(text));
  auto from_tree = DecodeObject(kind, boost::json::parse(text));
  ASSERT_TRUE(from_text.ok()) << from_text.error().message();
  ASSERT_TRUE(from_tree.ok()) << from_tree.error().message();
  EXPECT_EQ((*from_tree)->ToJson(), (*from_text)->ToJson());
  EXPECT_EQ((*from_tree)->kind(), "Pod");
  EXPECT_EQ((*from_tree)->api_version(), "v1");
  auto bad = DecodeObject(kind, boost::json::parse(R"({"spec":{"containers":"no"}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("spec.containers"), std::string::npos)
      << bad.error().message();
}

TEST(ClientResourcePathTest, NamespacedAndClusterScoped) {
  const auto* pods = FindResource("", "v1", "pods");
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ(ResourcePath(*pods, "ns", "p", "status"), "/api/v1/namespaces/ns/pods/p/status");
  EXPECT_EQ(ResourcePath(*pods, ""), "/api/v1/pods");
  const auto* deployments = FindKind("apps/v1", "Deployment");
  ASSERT_NE(deployments, nullptr);
  EXPECT_EQ(ResourcePath(*deployments, "ns"), "/apis/apps/v1/namespaces/ns/deployments");
  const auto* nodes = FindKind("v1", "Node");
  ASSERT_NE(nodes, nullptr);
  EXPECT_EQ(ResourcePath(*nodes, "ignored", "n1"), "/api/v1/nodes/n1");
}

TEST(ClientListQueryTest, WatchOptions) {
  ListOptions options;
  options.resource_version = "7";
  options.allow_watch_bookmarks = true;
  options.timeout_seconds = 300;
  options.label_selector = "a=b";
  const auto query = ListQuery(options, true);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"watch", "true"},
      {"labelSelector", "a=b"},
      {"resourceVersion", "7"},
      {"timeoutSeconds", "300"},
      {"allowWatchBookmarks", "true"}};
  EXPECT_EQ(query, expected);
}

}  // namespace
}  // namespace kpp::client
