// Giving free heap memory back to the system.
#include "base/memory.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define KPP_OWN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KPP_OWN_ALLOCATOR 1
#endif
#endif

namespace kpp {
namespace {

TEST(AllocatorTest, IsTheOneTheBinaryLinks) {
#ifdef KPP_OWN_ALLOCATOR
  GTEST_SKIP() << "AddressSanitizer brings its own allocator";
#endif
  EXPECT_EQ(UsingTcmalloc(), KPP_EXPECT_TCMALLOC == 1);
}

TEST(ReleaseFreeMemoryTest, GivesBackTheFreedChunksBelowALiveOne) {
#ifdef KPP_OWN_ALLOCATOR
  GTEST_SKIP() << "AddressSanitizer's allocator keeps freed memory in quarantine";
#endif
  // 64 MiB in small chunks (below glibc's mmap threshold, so they come from the heap), then one
  // kept above them: freeing the others leaves a hole glibc does not return by itself, and
  // free spans tcmalloc keeps until asked.
  constexpr size_t kChunk = 1024;
  constexpr size_t kCount = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> chunks;
  chunks.reserve(kCount);
  for (size_t i = 0; i < kCount; ++i) {
    chunks.push_back(std::make_unique<char[]>(kChunk));
    chunks.back()[0] = 1;  // touched, so resident
  }
  auto pinned = std::make_unique<char[]>(kChunk);
  pinned[0] = 1;
  chunks.clear();
  chunks.shrink_to_fit();
  EXPECT_GT(ReleaseFreeMemory(), 32L * 1024 * 1024);
}

}  // namespace
}  // namespace kpp
