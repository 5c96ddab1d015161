#include "base/random.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace kpp {
namespace {

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

TEST(RandomTest, UuidsAreVersion4WithTheRfcVariant) {
  for (int i = 0; i < 1000; ++i) {
    const std::string uuid = NewUuid();
    ASSERT_EQ(uuid.size(), 36u) << uuid;
    for (size_t j = 0; j < uuid.size(); ++j) {
      if (j == 8 || j == 13 || j == 18 || j == 23) {
        ASSERT_EQ(uuid[j], '-') << uuid;
      } else {
        ASSERT_TRUE(IsLowerHex(uuid[j])) << uuid;
      }
    }
    EXPECT_EQ(uuid[14], '4') << uuid;
    EXPECT_NE(std::string("89ab").find(uuid[19]), std::string::npos) << uuid;
  }
}

// The bytes come from a per-thread buffer: no two threads, and no two calls, may get the same.
TEST(RandomTest, UuidsAreUniqueAcrossThreadsAndBufferRefills) {
  std::mutex mutex;
  std::set<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < 2000; ++i) {
        mine.push_back(NewUuid());
        if (i % 7 == 0) RandomString(5, "abc");  // refills at other offsets
      }
      std::lock_guard lock(mutex);
      seen.insert(mine.begin(), mine.end());
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(seen.size(), 8000u);
}

TEST(RandomTest, RandomStringsUseTheWholeAlphabetOnly) {
  const std::string alphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::set<char> used;
  for (int i = 0; i < 200; ++i) {
    const std::string text = RandomString(5, alphabet);
    ASSERT_EQ(text.size(), 5u);
    for (char c : text) {
      ASSERT_NE(alphabet.find(c), std::string::npos) << text;
      used.insert(c);
    }
  }
  EXPECT_EQ(used.size(), alphabet.size());
  EXPECT_EQ(RandomString(300, "xy").size(), 300u);  // longer than the buffer's share
}

}  // namespace
}  // namespace kpp
