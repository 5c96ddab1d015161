#include "base/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

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

}  // namespace

void LimitMallocArenas() {
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) return;
  const unsigned cpus = std::max(2u, std::thread::hardware_concurrency());
  mallopt(M_ARENA_MAX, static_cast<int>(cpus));
}

long ReleaseFreeMemory() {
  const long before = ResidentBytes();
  malloc_trim(0);
  return std::max(0L, before - ResidentBytes());
}

void StartMemoryReleaser(std::chrono::seconds interval) {
  static std::once_flag started;
  std::call_once(started, [interval] {
    std::thread([interval] {
      while (true) {
        std::this_thread::sleep_for(interval);
        malloc_trim(0);
      }
    }).detach();
  });
}

}  // namespace kpp
