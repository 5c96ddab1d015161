// What the scheduler keeps of each pod it caches: its informer drops the rest (as upstream's
// scheduler drops managedFields with an informer transform), which at tens of thousands of pods
// is most of the scheduler's memory.
#pragma once

#include "api/core/v1/types.h"

namespace kpp::scheduler {

// `pod` without what no plugin, queue, cache or status update reads: managedFields,
// annotations, container commands/env/probes/mounts, the node-local volumes (secret, configMap,
// downwardAPI, projected, emptyDir, hostPath; claims and attached disks stay), and status
// beyond phase, conditions, nominatedNodeName, startTime, qosClass, resize and resource claims.
// What it drops is freed, not just emptied: each of the 50,000 pods of Density is cached. Writes go
// by patch or by name, never by sending the cached pod back.
api::core::v1::Pod TrimPodForScheduling(api::core::v1::Pod pod);

}  // namespace kpp::scheduler
