#include "base/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

// gperftools' C interface; weak, so that binaries without tcmalloc (tests, sanitizer builds)
// link and see null.
extern "C" void MallocExtension_ReleaseFreeMemory(void) __attribute__((weak));

namespace kpp {
namespace {

long ResidentBytes() {
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  long size = 0, resident = 0;
  const int read = std::fscanf(statm, "%ld %ld", &size, &resident);
  std::fclose(statm);
  return read == 2 ? resident * sysconf(_SC_PAGESIZE) : 0;
}

void ReleaseFreePages() {
  if (UsingTcmalloc()) {
    MallocExtension_ReleaseFreeMemory();
  } else {
    malloc_trim(0);
  }
}

}  // namespace

bool UsingTcmalloc() {
  return MallocExtension_ReleaseFreeMemory != nullptr;
}

void LimitMallocArenas() {
  if (UsingTcmalloc() || std::getenv("MALLOC_ARENA_MAX") != nullptr) return;
  const unsigned cpus = std::max(2u, std::thread::hardware_concurrency());
  mallopt(M_ARENA_MAX, static_cast<int>(cpus));
}

long ReleaseFreeMemory() {
  const long before = ResidentBytes();
  ReleaseFreePages();
  return std::max(0L, before - ResidentBytes());
}

void StartMemoryReleaser(std::chrono::seconds interval) {
  static std::once_flag started;
  std::call_once(started, [interval] {
    std::thread([interval] {
      while (true) {
        std::this_thread::sleep_for(interval);
        ReleaseFreePages();
      }
    }).detach();
  });
}

}  // namespace kpp
