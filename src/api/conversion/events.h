// Conversion of events between events.k8s.io/v1 and core/v1, which are two views of the same
// stored objects (upstream stores both as core/v1 Events under one key). The newer view renames
// and marks as deprecated what the core view calls involvedObject (regarding), message (note),
// source, firstTimestamp, lastTimestamp and count (deprecated*), and reportingComponent
// (reportingController); everything else has the same name and meaning.
#pragma once

#include "api/core/v1/types.h"
#include "api/events.k8s.io/v1/types.h"

namespace kpp::api::conversion {

core::v1::Event ConvertToCoreEvent(const events_k8s_io::v1::Event& in);
events_k8s_io::v1::Event ConvertToEventsV1(const core::v1::Event& in);

}  // namespace kpp::api::conversion
