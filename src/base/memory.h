// How the process uses its allocator. The `kpp` binary links tcmalloc (gperftools'
// tcmalloc_minimal): its per-thread caches make the API server's many small allocations far
// cheaper than glibc's arenas (SchedulingBasic went from ~290 to ~600 pods/s). Tests and
// sanitizer builds run on glibc's malloc, so every function here works with either: free memory
// goes back to the system in the background, so that RSS follows what the process holds rather
// than its peak.
#pragma once

#include <chrono>

namespace kpp {

// Whether malloc is tcmalloc's (the `kpp` binary) rather than glibc's.
bool UsingTcmalloc();

// Under glibc, limits malloc's arenas to the number of CPUs (at least 2) unless
// MALLOC_ARENA_MAX is set. Call first thing in main, before any thread starts: glibc's default
// (8 per CPU) gives every busy thread an arena of its own whose free space is never shared,
// which at 50,000 pods was a third of the API server's RSS. Nothing to do under tcmalloc.
void LimitMallocArenas();

// Starts a background thread that returns free heap pages to the system every `interval`, as
// Go's scavenger does for upstream's components: after a large list or a burst of watch events
// the freed memory otherwise stays resident. Idempotent; the thread lives until the process
// exits.
void StartMemoryReleaser(std::chrono::seconds interval = std::chrono::seconds(30));

// Returns free heap pages to the system now; the bytes of RSS it gave back (an estimate from
// /proc/self/statm, 0 when unknown).
long ReleaseFreeMemory();

}  // namespace kpp
