// How the process uses glibc's allocator: few arenas, and free memory given back to the system
// in the background, so that RSS follows what the process holds rather than its peak.
#pragma once

#include <chrono>

namespace kpp {

// Limits glibc's malloc arenas to the number of CPUs (at least 2) unless MALLOC_ARENA_MAX is
// set. Call first thing in main, before any thread starts: glibc's default (8 per CPU) gives
// every busy thread an arena of its own whose free space is never shared, which at 50,000 pods
// was a third of the API server's RSS.
void LimitMallocArenas();

// Starts a background thread that returns free heap pages to the system (malloc_trim) every
// `interval`, as Go's scavenger does for upstream's components: after a large list or a burst
// of watch events the freed chunks otherwise stay resident. Idempotent; the thread lives until
// the process exits.
void StartMemoryReleaser(std::chrono::seconds interval = std::chrono::seconds(30));

// Returns free heap pages to the system now; the bytes of RSS it gave back (an estimate from
// /proc/self/statm, 0 when unknown).
long ReleaseFreeMemory();

}  // namespace kpp
