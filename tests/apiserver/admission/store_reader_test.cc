#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/admission/store_reader_fixture.h"

namespace kpp::apiserver::admission {
namespace {

// A StoreReader whose cache hooks know nothing, over a real store.
class StoreReaderTest : public StoreReaderFixture {
 protected:
  void SetUp() override {
    StoreReaderFixture::SetUp();
    reader_->SetCachedReads({
        .get = [](auto, auto, auto, auto) { return std::shared_ptr<const std::string>(); },
        .list = [](auto, auto, auto) { return std::vector<std::shared_ptr<const std::string>>(); },
    });
  }
  void PutLimitRange() {
    Put("/registry/core/limitranges/ns/limits", R"({"metadata":{"name":"limits"}})");
  }
  size_t Listed(std::chrono::seconds live_ttl) {
    auto listed = reader_->ListTrustingEmpty("", "limitranges", "ns", live_ttl);
    EXPECT_TRUE(listed.ok());
    return listed.ok() ? listed->size() : 0;
  }
};

TEST_F(StoreReaderTest, AnEmptyLiveLookupStandsForItsTtlOnlyForWhoAsksSo) {
  EXPECT_EQ(Listed(std::chrono::seconds(30)), 0u);
  PutLimitRange();
  // Within the TTL the empty answer stands (the cache has not seen the write either).
  EXPECT_EQ(Listed(std::chrono::seconds(30)), 0u);
  // Plain lists and other TTLs' callers go to the store.
  auto listed = reader_->List("", "limitranges", "ns");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
  EXPECT_EQ(Listed(std::chrono::seconds(0)), 1u);
}

TEST_F(StoreReaderTest, AnEmptyAnswerIsNotRememberedPastItsTtl) {
  EXPECT_EQ(Listed(std::chrono::seconds(1)), 0u);
  PutLimitRange();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(Listed(std::chrono::seconds(1)), 1u);
}

}  // namespace
}  // namespace kpp::apiserver::admission
