// The distributed Store: etcd v3 (Debian's etcd-server, 3.4+) over gRPC, for
// `kpp server --datastore-endpoint https://host:2379,...`.
//
// Every Store operation maps onto one etcd request, so etcd's own revision, compaction, lease
// and watch semantics are what callers see: Range → KV.Range, Txn → KV.Txn (compares and
// put/delete/range operations), Compact → KV.Compact, leases → the Lease service, watches → one
// Watch stream per Watcher. Values written by etcdctl or another kpp are visible as they are.
//
// Endpoints are tried in order, starting with the one that answered last: a request goes to the
// next endpoint when no connection can be made (refused, or none within `dial_timeout`) or when
// the member cannot serve it. Requests ask the member to refuse them at once when it has no
// leader (etcd's "hasleader" metadata, as etcd's own client sends), so during an election the
// store goes round the endpoints with short pauses until a leader answers or `request_timeout`
// has passed. A write (transaction that puts or deletes, compaction, lease revocation) is sent
// again only when it certainly was not applied: no connection, or etcd refused it before
// proposing it ("no leader", "raft proposal dropped", ...). Once sent, a write that breaks off
// (lost connection, a member stopping, etcd's or the client's deadline) fails with
// kServiceUnavailable saying that it may or may not have been applied: etcd may still commit
// it, and sending it again could apply it twice or report its own first attempt as a conflict.
// etcd's own client draws the same line. Every other failed write was not applied. (Lease
// grants are the exception: they are sent again, as a second grant only leaves an unused lease
// to expire.)
//
// Watches survive broken streams: they reconnect (to any endpoint) and resume from the revision
// after the last event delivered, until `watch_reconnect_timeout` has passed without a stream.
// They ask for etcd's progress notifications, so a watch of a quiet range resumes from a recent
// revision rather than from its last event's, which a compaction may have removed meanwhile.
//
// Where etcd's API differs from the Store contract, and how this backend bridges it:
// - CompactedRevision: etcd exposes no "compacted revision" read. The store finds it by reading
//   at chosen revisions (a read below the compacted revision fails), a binary search of a few
//   cheap count-only reads, starting from the highest compaction this process has seen.
// - A watch from a compacted revision: etcd says so only on the stream, later; Watch reads at
//   the start revision first so that it fails with kGone at once, as the contract asks.
//
// etcd's own limits apply: at most --max-txn-ops (default 128) operations per transaction, and
// requests up to --max-request-bytes (default 1.5 MiB); leases shorter than etcd's minimum TTL
// (1.5 election timeouts, rounded up to whole seconds) are granted with the minimum.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "storage/store.h"

namespace kpp::storage {

struct EtcdStoreOptions {
  // Client URLs of etcd members: "https://host:2379", "http://127.0.0.1:2379", or "host:2379"
  // (https when any TLS file below is given, http otherwise). At least one.
  std::vector<std::string> endpoints;
  // PEM files for https endpoints: the CA that signed the members' serving certificates (empty:
  // the system's trusted roots), and the client certificate and key etcd asks for with
  // --client-cert-auth (both or neither).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // How long to wait for a connection to one endpoint before trying the next.
  std::chrono::milliseconds dial_timeout{5000};
  // Deadline of one request to one endpoint.
  std::chrono::milliseconds request_timeout{15000};
  // Default WatchRequest::max_buffered_events.
  std::size_t watch_buffer_events = 10000;
  // A watch whose stream broke gives up with kServiceUnavailable after this long without
  // getting a new one.
  std::chrono::milliseconds watch_reconnect_timeout{30000};
};

// Connects to the cluster. Fails with kBadRequest for malformed options (the error names the
// endpoint or file), and with kServiceUnavailable, naming every endpoint, when none answers a
// status request within `dial_timeout`.
Result<std::unique_ptr<Store>> OpenEtcdStore(const EtcdStoreOptions& options);

}  // namespace kpp::storage
