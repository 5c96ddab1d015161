// Internal to the etcd backend: a Watcher fed by one etcd Watch stream per watch.
#pragma once

#include <memory>

#include "storage/etcd/etcd_connection.h"
#include "storage/store.h"

namespace kpp::storage::etcd {

// Starts a watch of `request` from `start_revision` (already resolved: > 0). A reader thread
// keeps a stream open, reconnecting after breaks from the revision after the last event it
// received, and buffers up to `max_buffered_events` for the consumer.
std::unique_ptr<Watcher> StartWatch(std::shared_ptr<Connection> connection,
                                    const WatchRequest& request, Revision start_revision,
                                    std::size_t max_buffered_events);

}  // namespace kpp::storage::etcd
