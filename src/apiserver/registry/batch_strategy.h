// The registry strategies of batch/v1 Jobs and CronJobs (upstream's pkg/registry/batch): a new
// job gets its generated selector and pod labels; a cron job's schedule and time zone are
// checked.
#pragma once

#include "apiserver/registry/strategy.h"

namespace kpp::apiserver {

// The strategy of a batch kind, or null for other kinds.
const Strategy* BatchStrategyFor(const api::KindInfo& kind);

}  // namespace kpp::apiserver
