// Paging through one snapshot of the store: pages stay consistent while writes go on, expired
// snapshots and future revisions get upstream's answers.
#include "apiserver/registry/list_reader.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "base/files.h"
#include "storage/sqlite/sqlite_store.h"

namespace kpp::apiserver {
namespace {

constexpr std::string_view kPrefix = "/registry/core/configmaps/default/";

const api::KindInfo& ConfigMaps() {
  for (const auto& info : api::AllKinds()) {
    if (info.group.empty() && info.kind == "ConfigMap") return info;
  }
  std::abort();
}

class ListReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory("kpp-list-reader-");
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

  void Put(const std::string& name, const std::string& app = "web") {
    const std::string json = R"({"metadata":{"name":")" + name +
                             R"(","namespace":"default","labels":{"app":")" + app + R"("}}})";
    ASSERT_TRUE(store_->Put(std::string(kPrefix) + name, json).ok());
  }

  // The page for `query`, or the failure response's status and body.
  std::variant<ListPage, http::Response> Read(
      std::vector<std::pair<std::string, std::string>> query) {
    http::Request request;
    request.query = std::move(query);
    auto parsed = ParseListRequest(ConfigMaps(), request);
    if (auto* failure = std::get_if<http::Response>(&parsed)) return std::move(*failure);
    auto& list = std::get<ListRequest>(parsed);
    return ReadListPage(*store_, kPrefix, list.options, list.filter,
                        [](const storage::KeyValue& kv) -> Result<api::ObjectPtr> {
                          KPP_ASSIGN_OR_RETURN(auto decoded,
                                               ConfigMaps().codec->Decode(kv.value, {}));
                          return std::move(decoded.object);
                        });
  }

  static std::vector<std::string> Names(const ListPage& page) {
    std::vector<std::string> names;
    for (const auto& object : page.objects)
      names.push_back(object->metadata().name);
    return names;
  }

  std::string dir_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(ListReaderTest, PagesComeFromOneSnapshot) {
  for (const char* name : {"a", "b", "c", "d", "e", "f", "g"})
    Put(name);
  auto first = Read({{"limit", "3"}});
  ASSERT_TRUE(std::holds_alternative<ListPage>(first));
  const auto& page1 = std::get<ListPage>(first);
  EXPECT_EQ(Names(page1), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(page1.meta.remaining_item_count, 4);
  ASSERT_FALSE(page1.meta.continue_.empty());
  const std::string snapshot = page1.meta.resource_version;

  // Changes after the first page do not show in the next ones.
  Put("bb");
  Put("h");
  ASSERT_TRUE(store_->Delete(std::string(kPrefix) + "e").ok());

  auto second = Read({{"limit", "3"}, {"continue", page1.meta.continue_}});
  ASSERT_TRUE(std::holds_alternative<ListPage>(second));
  const auto& page2 = std::get<ListPage>(second);
  EXPECT_EQ(Names(page2), (std::vector<std::string>{"d", "e", "f"}));
  EXPECT_EQ(page2.meta.resource_version, snapshot);
  EXPECT_EQ(page2.meta.remaining_item_count, 1);

  auto third = Read({{"limit", "3"}, {"continue", page2.meta.continue_}});
  ASSERT_TRUE(std::holds_alternative<ListPage>(third));
  const auto& page3 = std::get<ListPage>(third);
  EXPECT_EQ(Names(page3), (std::vector<std::string>{"g"}));
  EXPECT_TRUE(page3.meta.continue_.empty());
  EXPECT_FALSE(page3.meta.remaining_item_count.has_value());
}

TEST_F(ListReaderTest, SelectorsRefillShortPagesAndLeaveTheCountOut) {
  for (const char* name : {"a", "b", "c", "d", "e", "f", "g"})
    Put(name, std::string(name) < "e" ? "db" : "web");
  auto page = Read({{"limit", "2"}, {"labelSelector", "app=web"}});
  ASSERT_TRUE(std::holds_alternative<ListPage>(page));
  const auto& first = std::get<ListPage>(page);
  EXPECT_EQ(Names(first), (std::vector<std::string>{"e", "f"}));
  EXPECT_FALSE(first.meta.continue_.empty());
  EXPECT_FALSE(first.meta.remaining_item_count.has_value());
  auto rest =
      Read({{"limit", "2"}, {"labelSelector", "app=web"}, {"continue", first.meta.continue_}});
  ASSERT_TRUE(std::holds_alternative<ListPage>(rest));
  EXPECT_EQ(Names(std::get<ListPage>(rest)), (std::vector<std::string>{"g"}));
  EXPECT_TRUE(std::get<ListPage>(rest).meta.continue_.empty());
}

TEST_F(ListReaderTest, ExactRevisionsReadThePast) {
  Put("a");
  auto revision = store_->CurrentRevision();
  ASSERT_TRUE(revision.ok());
  Put("b");
  auto exact =
      Read({{"resourceVersion", std::to_string(*revision)}, {"resourceVersionMatch", "Exact"}});
  ASSERT_TRUE(std::holds_alternative<ListPage>(exact));
  EXPECT_EQ(Names(std::get<ListPage>(exact)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(std::get<ListPage>(exact).meta.resource_version, std::to_string(*revision));
  auto latest = Read(
      {{"resourceVersion", std::to_string(*revision)}, {"resourceVersionMatch", "NotOlderThan"}});
  ASSERT_TRUE(std::holds_alternative<ListPage>(latest));
  EXPECT_EQ(Names(std::get<ListPage>(latest)), (std::vector<std::string>{"a", "b"}));
}

TEST_F(ListReaderTest, CompactedAndFutureRevisionsFailAsUpstream) {
  for (const char* name : {"a", "b", "c"})
    Put(name);
  auto first = Read({{"limit", "1"}});
  ASSERT_TRUE(std::holds_alternative<ListPage>(first));
  const auto token = std::get<ListPage>(first).meta.continue_;
  const auto old_revision = std::get<ListPage>(first).meta.resource_version;
  Put("d");
  auto current = store_->CurrentRevision();
  ASSERT_TRUE(current.ok());
  ASSERT_TRUE(store_->Compact(*current).ok());

  auto expired = Read({{"limit", "1"}, {"continue", token}});
  ASSERT_TRUE(std::holds_alternative<http::Response>(expired));
  const auto& response = std::get<http::Response>(expired);
  EXPECT_EQ(response.status, 410);
  const auto status = boost::json::parse(response.body);
  EXPECT_EQ(status.at("reason"), "Expired");
  EXPECT_TRUE(status.at("message").as_string().starts_with(
      "The provided continue parameter is too old to display a consistent list result."));
  // The token in the Status resumes after the same key at the latest revision.
  const std::string resume(status.at("metadata").at("continue").as_string());
  auto resumed = Read({{"limit", "5"}, {"continue", resume}});
  ASSERT_TRUE(std::holds_alternative<ListPage>(resumed));
  EXPECT_EQ(Names(std::get<ListPage>(resumed)), (std::vector<std::string>{"b", "c", "d"}));

  auto too_old = Read({{"resourceVersion", old_revision}, {"resourceVersionMatch", "Exact"}});
  ASSERT_TRUE(std::holds_alternative<http::Response>(too_old));
  EXPECT_EQ(std::get<http::Response>(too_old).status, 410);
  EXPECT_EQ(boost::json::parse(std::get<http::Response>(too_old).body).at("message"),
            "The resourceVersion for the provided list is too old.");

  const std::string future = std::to_string(*current + 100);
  for (const auto& match : {"Exact", "NotOlderThan"}) {
    auto too_new = Read({{"resourceVersion", future}, {"resourceVersionMatch", match}});
    ASSERT_TRUE(std::holds_alternative<http::Response>(too_new)) << match;
    EXPECT_EQ(std::get<http::Response>(too_new).status, 504);
    const auto timeout = boost::json::parse(std::get<http::Response>(too_new).body);
    EXPECT_EQ(std::string(timeout.at("message").as_string()),
              "Timeout: Too large resource version: " + future +
                  ", current: " + std::to_string(*current));
    EXPECT_EQ(timeout.at("details").at("causes").at(0).at("reason"), "ResourceVersionTooLarge");
  }
}

TEST_F(ListReaderTest, InvalidOptionsAre422ListOptions) {
  auto invalid = Read({{"resourceVersionMatch", "Exact"}});
  ASSERT_TRUE(std::holds_alternative<http::Response>(invalid));
  const auto& response = std::get<http::Response>(invalid);
  EXPECT_EQ(response.status, 422);
  const auto status = boost::json::parse(response.body);
  EXPECT_EQ(status.at("details").at("kind"), "ListOptions");
  EXPECT_EQ(status.at("details").at("group"), "meta.k8s.io");
  EXPECT_EQ(status.at("details").at("causes").at(0).at("field"), "resourceVersionMatch");
}

}  // namespace
}  // namespace kpp::apiserver
