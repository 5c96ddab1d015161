// The Store conformance suite: etcd v3 semantics checked through the Store interface only, so
// every backend runs the same tests. A backend runs it by defining a Backend class and
//   INSTANTIATE_TYPED_TEST_SUITE_P(MyBackend, StoreConformanceTest, MyBackend);
//
// A Backend is default-constructible (a fresh, empty store location that it cleans up when
// destroyed) and provides:
//   kpp::Result<std::unique_ptr<kpp::storage::Store>> Open();   // opens the store
//   void AdvanceTime(std::chrono::seconds duration);          // moves the store's clock on
//                                                              // (a real backend may sleep)
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/store.h"

namespace kpp::storage::testing {

using namespace std::chrono_literals;

inline std::string Describe(const Error& error) {
  return std::string(error.reason()) + ": " + error.message();
}

// The error code of a failed result; nullopt when it succeeded.
template <typename T>
std::optional<ErrorCode> CodeOf(const Result<T>& result) {
  if (result.ok()) return std::nullopt;
  return result.error().code();
}

// Reads events until `count` arrived or `timeout` passed (then fewer are returned). Fails the
// test on a watch error.
inline std::vector<Event> CollectEvents(Watcher& watcher, std::size_t count,
                                        std::chrono::milliseconds timeout = 20s) {
  std::vector<Event> events;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (events.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto batch = watcher.Next(100ms);
    if (!batch.ok()) {
      ADD_FAILURE() << "watch failed: " << Describe(batch.error());
      break;
    }
    for (Event& event : *batch)
      events.push_back(std::move(event));
  }
  return events;
}

// Asserts that no further event arrives within `wait`.
inline void ExpectNoMoreEvents(Watcher& watcher, std::chrono::milliseconds wait = 200ms) {
  auto batch = watcher.Next(wait);
  ASSERT_TRUE(batch.ok()) << Describe(batch.error());
  EXPECT_TRUE(batch->empty()) << "unexpected event for " << batch->front().kv.key;
}

template <typename Backend>
class StoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = backend_.Open();
    ASSERT_TRUE(opened.ok()) << Describe(opened.error());
    store_ = std::move(*opened);
  }

  Store& store() { return *store_; }

  Revision Current() {
    auto revision = store_->CurrentRevision();
    EXPECT_TRUE(revision.ok());
    return revision.ok() ? *revision : -1;
  }

  KeyValue MustPut(const std::string& key, const std::string& value, LeaseId lease = 0) {
    auto kv = store_->Put(key, value, lease);
    EXPECT_TRUE(kv.ok()) << Describe(kv.error());
    return kv.ok() ? *kv : KeyValue{};
  }

  std::unique_ptr<Watcher> MustWatch(const WatchRequest& request) {
    auto watcher = store_->Watch(request);
    EXPECT_TRUE(watcher.ok()) << Describe(watcher.error());
    return watcher.ok() ? std::move(*watcher) : nullptr;
  }

  Backend backend_;  // declared first: outlives the store
  std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE_P(StoreConformanceTest);

TYPED_TEST_P(StoreConformanceTest, EveryWriteAddsOneRevision) {
  Store& store = this->store();
  const Revision start = this->Current();

  auto a = store.Create("/r/a", "1");
  ASSERT_TRUE(a.ok()) << Describe(a.error());
  EXPECT_EQ(a->mod_revision, start + 1);
  EXPECT_EQ(a->create_revision, start + 1);
  EXPECT_EQ(a->version, 1);

  auto b = store.Put("/r/b", "x");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->mod_revision, start + 2);

  auto a2 = store.Update("/r/a", "2", a->mod_revision);
  ASSERT_TRUE(a2.ok()) << Describe(a2.error());
  EXPECT_EQ(a2->mod_revision, start + 3);
  EXPECT_EQ(a2->create_revision, start + 1);
  EXPECT_EQ(a2->version, 2);
  EXPECT_EQ(a2->value, "2");

  auto deleted = store.Delete("/r/b");
  ASSERT_TRUE(deleted.ok()) << Describe(deleted.error());
  EXPECT_EQ(deleted->revision, start + 4);
  EXPECT_EQ(deleted->prev_kv.value, "x");

  // Several writes in one transaction share one revision.
  TxnRequest txn;
  txn.success = {TxnOp::Put("/r/c", "c"), TxnOp::Put("/r/d", "d"), TxnOp::Delete("/r/a")};
  auto result = store.Txn(txn);
  ASSERT_TRUE(result.ok()) << Describe(result.error());
  EXPECT_TRUE(result->succeeded);
  EXPECT_EQ(result->revision, start + 5);
  EXPECT_EQ(result->results[0].kv->mod_revision, start + 5);
  EXPECT_EQ(result->results[1].kv->mod_revision, start + 5);
  EXPECT_EQ(result->results[2].prev_kv->value, "2");

  // Reads, and deletes of missing keys, do not move the revision.
  TxnRequest read_only;
  read_only.success = {TxnOp::Get("/r/c"), TxnOp::Delete("/r/missing")};
  auto read = store.Txn(read_only);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->revision, start + 5);
  EXPECT_EQ(read->results[0].kv->value, "c");
  EXPECT_FALSE(read->results[1].prev_kv.has_value());
  EXPECT_EQ(this->Current(), start + 5);

  auto range = store.Range(RangeRequest::Prefix("/r/"));
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->revision, start + 5);
  ASSERT_EQ(range->kvs.size(), 2u);
  EXPECT_EQ(range->kvs[0].key, "/r/c");
  EXPECT_EQ(range->kvs[1].key, "/r/d");
}

TYPED_TEST_P(StoreConformanceTest, CreateOnlyWhenAbsent) {
  Store& store = this->store();
  auto first = store.Create("/c/a", "1");
  ASSERT_TRUE(first.ok());
  auto again = store.Create("/c/a", "2");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(store.Get("/c/a")->value, "1");

  ASSERT_TRUE(store.Delete("/c/a").ok());
  auto recreated = store.Create("/c/a", "3");
  ASSERT_TRUE(recreated.ok());
  EXPECT_EQ(recreated->version, 1);
  EXPECT_GT(recreated->create_revision, first->create_revision);

  auto empty_key = store.Create("", "x");
  ASSERT_FALSE(empty_key.ok());
  EXPECT_EQ(empty_key.error().code(), ErrorCode::kBadRequest);
}

TYPED_TEST_P(StoreConformanceTest, UpdateAndDeleteCompareModRevision) {
  Store& store = this->store();
  const KeyValue v1 = this->MustPut("/u/a", "1");
  const KeyValue v2 = this->MustPut("/u/a", "2");

  std::optional<KeyValue> current;
  auto stale = store.Update("/u/a", "3", v1.mod_revision, 0, &current);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), ErrorCode::kConflict);
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(*current, v2);

  auto missing = store.Update("/u/missing", "x", 5);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  auto unconditional = store.Update("/u/a", "4", 0);
  ASSERT_TRUE(unconditional.ok());
  EXPECT_EQ(unconditional->version, 3);

  current.reset();
  auto stale_delete = store.Delete("/u/a", v2.mod_revision, &current);
  ASSERT_FALSE(stale_delete.ok());
  EXPECT_EQ(stale_delete.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(current->value, "4");

  auto deleted = store.Delete("/u/a", unconditional->mod_revision);
  ASSERT_TRUE(deleted.ok()) << Describe(deleted.error());
  EXPECT_EQ(deleted->prev_kv, *unconditional);
  EXPECT_EQ(deleted->revision, unconditional->mod_revision + 1);

  auto gone = store.Delete("/u/a");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf(store.Get("/u/a")), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, TxnRunsTheBranchItsComparesSelect) {
  Store& store = this->store();
  const KeyValue a = this->MustPut("/t/a", "alpha");

  TxnRequest txn;
  txn.compares = {Compare::ModRevision("/t/a", Compare::Relation::kEqual, a.mod_revision),
                  Compare::Version("/t/a", Compare::Relation::kEqual, 1),
                  Compare::Value("/t/a", Compare::Relation::kEqual, "alpha"),
                  Compare::CreateRevision("/t/b", Compare::Relation::kEqual, 0)};
  txn.success = {TxnOp::Put("/t/b", "beta"), TxnOp::Get("/t/b")};
  txn.failure = {TxnOp::Get("/t/a")};
  auto first = store.Txn(txn);
  ASSERT_TRUE(first.ok()) << Describe(first.error());
  EXPECT_TRUE(first->succeeded);
  ASSERT_EQ(first->results.size(), 2u);
  EXPECT_FALSE(first->results[0].prev_kv.has_value());
  ASSERT_TRUE(first->results[1].kv.has_value());  // a Get sees the earlier Put
  EXPECT_EQ(first->results[1].kv->value, "beta");

  // /t/b exists now: the same transaction takes the failure branch and writes nothing.
  auto second = store.Txn(txn);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->succeeded);
  EXPECT_EQ(second->revision, first->revision);
  ASSERT_EQ(second->results.size(), 1u);
  EXPECT_EQ(second->results[0].kv->value, "alpha");

  TxnRequest ordering;
  ordering.compares = {Compare::Value("/t/a", Compare::Relation::kGreater, "aaa"),
                       Compare::Version("/t/a", Compare::Relation::kLess, 2),
                       Compare::ModRevision("/t/a", Compare::Relation::kNotEqual, 0)};
  auto ordered = store.Txn(ordering);
  ASSERT_TRUE(ordered.ok());
  EXPECT_TRUE(ordered->succeeded);

  // A value compare on a missing key fails.
  TxnRequest missing;
  missing.compares = {Compare::Value("/t/none", Compare::Relation::kNotEqual, "x")};
  auto missing_result = store.Txn(missing);
  ASSERT_TRUE(missing_result.ok());
  EXPECT_FALSE(missing_result->succeeded);

  TxnRequest duplicate;
  duplicate.success = {TxnOp::Put("/t/x", "1"), TxnOp::Delete("/t/x")};
  auto rejected = store.Txn(duplicate);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code(), ErrorCode::kBadRequest);

  // A failing operation undoes the whole transaction.
  const Revision before = this->Current();
  TxnRequest bad_lease;
  bad_lease.success = {TxnOp::Put("/t/y", "1"), TxnOp::Put("/t/z", "1", /*lease=*/987654321)};
  auto failed = store.Txn(bad_lease);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->Current(), before);
  EXPECT_EQ(CodeOf(store.Get("/t/y")), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, ReadsAtPastRevisionsSeeSnapshots) {
  Store& store = this->store();
  const KeyValue a1 = this->MustPut("/s/a", "1");
  const KeyValue a2 = this->MustPut("/s/a", "2");
  const KeyValue b = this->MustPut("/s/b", "b");
  auto deleted = store.Delete("/s/a");
  ASSERT_TRUE(deleted.ok());

  EXPECT_EQ(store.Get("/s/a", a1.mod_revision)->value, "1");
  EXPECT_EQ(store.Get("/s/a", a2.mod_revision)->value, "2");
  EXPECT_EQ(store.Get("/s/a", b.mod_revision)->value, "2");
  EXPECT_EQ(CodeOf(store.Get("/s/a", deleted->revision)), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf(store.Get("/s/a")), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf(store.Get("/s/b", a1.mod_revision)), ErrorCode::kNotFound);

  auto at_b = store.Range(RangeRequest::Prefix("/s/", 0, b.mod_revision));
  ASSERT_TRUE(at_b.ok());
  EXPECT_EQ(at_b->revision, b.mod_revision);
  ASSERT_EQ(at_b->kvs.size(), 2u);
  EXPECT_EQ(at_b->kvs[0], a2);
  EXPECT_EQ(at_b->kvs[1], b);

  auto now = store.Range(RangeRequest::Prefix("/s/"));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->revision, deleted->revision);
  ASSERT_EQ(now->kvs.size(), 1u);
  EXPECT_EQ(now->kvs[0].key, "/s/b");

  // Explicit [start, end) and open-ended ranges.
  auto explicit_range = store.Range(
      RangeRequest{.key = "/s/a", .range_end = "/s/b", .limit = 0, .revision = b.mod_revision});
  ASSERT_TRUE(explicit_range.ok());
  ASSERT_EQ(explicit_range->kvs.size(), 1u);
  EXPECT_EQ(explicit_range->kvs[0].key, "/s/a");
  auto open_ended = store.Range(RangeRequest{
      .key = "/s/", .range_end = std::string(kRangeEndAll), .limit = 0, .revision = 0});
  ASSERT_TRUE(open_ended.ok());
  ASSERT_FALSE(open_ended->kvs.empty());
  EXPECT_EQ(open_ended->kvs[0].key, "/s/b");

  auto future = store.Range(RangeRequest::Prefix("/s/", 0, this->Current() + 10));
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code(), ErrorCode::kTimeout);
}

TYPED_TEST_P(StoreConformanceTest, PagesAtOneRevisionAreConsistentDuringWrites) {
  Store& store = this->store();
  TxnRequest fill;
  for (int i = 0; i < 100; ++i)
    fill.success.push_back(TxnOp::Put(fmt::format("/p/{:03}", i), "v0"));
  ASSERT_TRUE(store.Txn(fill).ok());

  std::atomic<bool> stop = false;
  std::thread writer([&] {
    for (int i = 0; !stop; i = (i + 1) % 120) {
      const std::string key = fmt::format("/p/{:03}", i);
      if (i % 3 == 0)
        IgnoreError(store.Delete(key));
      else
        IgnoreError(store.Put(key, fmt::format("v{}", i)));
    }
  });

  std::vector<KeyValue> paged;
  RangeRequest request = RangeRequest::Prefix("/p/", 7);
  Revision snapshot = 0;
  std::int64_t first_count = -1;
  for (int page = 0; page < 100; ++page) {
    auto result = store.Range(request);
    ASSERT_TRUE(result.ok()) << Describe(result.error());
    if (page == 0) {
      snapshot = result->revision;
      first_count = result->count;
      request.revision = snapshot;
    }
    EXPECT_EQ(result->revision, snapshot);
    EXPECT_LE(result->kvs.size(), 7u);
    for (auto& kv : result->kvs)
      paged.push_back(kv);
    if (!result->more) break;
    request.key = result->kvs.back().key + '\0';
    // Let the writer commit something between pages, however busy the machine is.
    const Revision before = this->Current();
    for (auto deadline = std::chrono::steady_clock::now() + 5s;
         this->Current() == before && std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(1ms);
    }
  }
  stop = true;
  writer.join();

  auto whole = store.Range(RangeRequest::Prefix("/p/", 0, snapshot));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(paged, whole->kvs);
  EXPECT_EQ(first_count, static_cast<std::int64_t>(whole->kvs.size()));
  EXPECT_GT(this->Current(), snapshot) << "the writer made no progress during paging";
}

TYPED_TEST_P(StoreConformanceTest, CompactedRevisionsAreGone) {
  Store& store = this->store();
  const KeyValue a1 = this->MustPut("/g/a", "1");
  this->MustPut("/g/b", "1");
  const KeyValue a2 = this->MustPut("/g/a", "2");
  ASSERT_TRUE(store.Delete("/g/b").ok());
  const KeyValue c = this->MustPut("/g/c", "1");

  ASSERT_TRUE(store.Compact(a2.mod_revision).ok());
  EXPECT_EQ(*store.CompactedRevision(), a2.mod_revision);

  auto old_read = store.Range(RangeRequest::Prefix("/g/", 0, a1.mod_revision));
  ASSERT_FALSE(old_read.ok());
  EXPECT_EQ(old_read.error().code(), ErrorCode::kGone);
  EXPECT_EQ(CodeOf(store.Get("/g/a", a2.mod_revision - 1)), ErrorCode::kGone);

  // The compaction revision itself and everything after it still read correctly.
  auto at_compaction = store.Range(RangeRequest::Prefix("/g/", 0, a2.mod_revision));
  ASSERT_TRUE(at_compaction.ok()) << Describe(at_compaction.error());
  ASSERT_EQ(at_compaction->kvs.size(), 2u);
  EXPECT_EQ(at_compaction->kvs[0], a2);
  EXPECT_EQ(at_compaction->kvs[1].key, "/g/b");
  auto latest = store.Range(RangeRequest::Prefix("/g/"));
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->kvs.size(), 2u);
  EXPECT_EQ(latest->kvs[1], c);

  auto old_watch = store.Watch(WatchRequest::Prefix("/g/", a1.mod_revision));
  ASSERT_FALSE(old_watch.ok());
  EXPECT_EQ(old_watch.error().code(), ErrorCode::kGone);

  auto watch = this->MustWatch(WatchRequest::Prefix("/g/", a2.mod_revision));
  ASSERT_NE(watch, nullptr);
  auto events = CollectEvents(*watch, 3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kv, a2);
  EXPECT_EQ(events[1].type, Event::Type::kDelete);
  EXPECT_EQ(events[1].kv.key, "/g/b");
  EXPECT_EQ(events[2].kv, c);

  auto again = store.Compact(a1.mod_revision);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kGone);
  auto future = store.Compact(this->Current() + 5);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code(), ErrorCode::kTimeout);
}

TYPED_TEST_P(StoreConformanceTest, WatchReplaysHistoryThenLiveChanges) {
  Store& store = this->store();
  const KeyValue a1 = this->MustPut("/w/a", "1");
  const KeyValue a2 = this->MustPut("/w/a", "2");
  const KeyValue b = this->MustPut("/w/b", "1");

  auto watch = this->MustWatch(WatchRequest::Prefix("/w/", a1.mod_revision));
  ASSERT_NE(watch, nullptr);
  auto history = CollectEvents(*watch, 3);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].type, Event::Type::kPut);
  EXPECT_EQ(history[0].kv, a1);
  EXPECT_FALSE(history[0].prev_kv.has_value());
  EXPECT_EQ(history[1].kv, a2);
  ASSERT_TRUE(history[1].prev_kv.has_value());
  EXPECT_EQ(*history[1].prev_kv, a1);
  EXPECT_EQ(history[2].kv, b);

  auto deleted = store.Delete("/w/a");
  ASSERT_TRUE(deleted.ok());
  const KeyValue c = this->MustPut("/w/c", "1");
  auto live = CollectEvents(*watch, 2);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].type, Event::Type::kDelete);
  EXPECT_EQ(live[0].kv.key, "/w/a");
  EXPECT_EQ(live[0].kv.mod_revision, deleted->revision);
  ASSERT_TRUE(live[0].prev_kv.has_value());
  EXPECT_EQ(*live[0].prev_kv, a2);
  EXPECT_EQ(live[1].kv, c);
  ExpectNoMoreEvents(*watch);

  // Without a start revision, a watch sees only what comes next.
  auto from_now = this->MustWatch(WatchRequest::Prefix("/w/"));
  ASSERT_NE(from_now, nullptr);
  ExpectNoMoreEvents(*from_now);
  const KeyValue d = this->MustPut("/w/d", "1");
  auto next = CollectEvents(*from_now, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].kv, d);
}

TYPED_TEST_P(StoreConformanceTest, WatchSelectsKeyOrPrefix) {
  Store& store = this->store();
  const Revision start = this->Current() + 1;
  auto prefix = this->MustWatch(WatchRequest::Prefix("/x/a/", start));
  WatchRequest single_request;
  single_request.key = "/x/a/1";
  single_request.start_revision = start;
  single_request.prev_kv = false;
  auto single = this->MustWatch(single_request);
  ASSERT_NE(prefix, nullptr);
  ASSERT_NE(single, nullptr);

  this->MustPut("/x/a/1", "1");
  this->MustPut("/x/b/1", "1");
  this->MustPut("/x/a/2", "1");
  this->MustPut("/x/a", "1");  // not under "/x/a/"
  this->MustPut("/x/a/1", "2");
  ASSERT_TRUE(store.Delete("/x/a/2").ok());

  auto prefixed = CollectEvents(*prefix, 4);
  ASSERT_EQ(prefixed.size(), 4u);
  EXPECT_EQ(prefixed[0].kv.key, "/x/a/1");
  EXPECT_EQ(prefixed[1].kv.key, "/x/a/2");
  EXPECT_EQ(prefixed[2].kv.key, "/x/a/1");
  EXPECT_EQ(prefixed[3].kv.key, "/x/a/2");
  EXPECT_EQ(prefixed[3].type, Event::Type::kDelete);
  ExpectNoMoreEvents(*prefix);

  auto exact = CollectEvents(*single, 2);
  ASSERT_EQ(exact.size(), 2u);
  EXPECT_EQ(exact[0].kv.value, "1");
  EXPECT_EQ(exact[1].kv.value, "2");
  EXPECT_FALSE(exact[1].prev_kv.has_value());  // not asked for
  ExpectNoMoreEvents(*single);
}

TYPED_TEST_P(StoreConformanceTest, WatchFromAFutureRevisionWaitsForIt) {
  const Revision start = this->Current() + 3;
  auto watch = this->MustWatch(WatchRequest::Prefix("/f/", start));
  ASSERT_NE(watch, nullptr);
  ExpectNoMoreEvents(*watch, 50ms);
  for (int i = 0; i < 4; ++i)
    this->MustPut(fmt::format("/f/{}", i), "v");
  auto events = CollectEvents(*watch, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kv.mod_revision, start);
  EXPECT_EQ(events[0].kv.key, "/f/2");
  EXPECT_EQ(events[1].kv.key, "/f/3");
  ExpectNoMoreEvents(*watch);
}

TYPED_TEST_P(StoreConformanceTest, WatchReplaysLongHistoryInOrder) {
  Store& store = this->store();
  const Revision start = this->Current() + 1;
  constexpr int kThreads = 4;
  constexpr int kWrites = 1200;  // more than one catch-up chunk of the SQLite backend
  // Concurrent writers keep this quick on slow disks (their writes share commits).
  std::mutex mutex;
  std::map<Revision, std::string> written;  // revision -> value of the /h/ key
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < kWrites; i += kThreads) {
        TxnRequest txn;
        txn.success = {TxnOp::Put(fmt::format("/h/{}", i % 50), fmt::format("{}", i))};
        if (i % 10 == 0) txn.success.push_back(TxnOp::Put(fmt::format("/other/{}", i), "x"));
        auto result = store.Txn(txn);
        ASSERT_TRUE(result.ok()) << Describe(result.error());
        std::lock_guard lock(mutex);
        written[result->revision] = fmt::format("{}", i);
      }
    });
  }
  for (auto& writer : writers)
    writer.join();
  ASSERT_EQ(written.size(), static_cast<std::size_t>(kWrites));

  auto watch = this->MustWatch(WatchRequest::Prefix("/h/", start));
  ASSERT_NE(watch, nullptr);
  auto events = CollectEvents(*watch, kWrites);
  ASSERT_EQ(events.size(), static_cast<std::size_t>(kWrites));
  for (int i = 0; i < kWrites; ++i) {
    EXPECT_EQ(events[i].kv.mod_revision, start + i);
    EXPECT_EQ(events[i].kv.value, written[start + i]);
  }
}

TYPED_TEST_P(StoreConformanceTest, ExpiredLeaseDeletesItsKeys) {
  Store& store = this->store();
  auto lease = store.GrantLease(2s);
  ASSERT_TRUE(lease.ok()) << Describe(lease.error());
  auto info = store.GetLease(*lease);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->granted_ttl, 2s);

  const KeyValue a = this->MustPut("/l/a", "1", *lease);
  EXPECT_EQ(a.lease, *lease);
  this->MustPut("/l/b", "1", *lease);
  this->MustPut("/l/c", "1");
  auto watch = this->MustWatch(WatchRequest::Prefix("/l/", this->Current() + 1));
  ASSERT_NE(watch, nullptr);

  this->backend_.AdvanceTime(3s);
  auto events = CollectEvents(*watch, 2);
  ASSERT_EQ(events.size(), 2u);
  for (const Event& event : events)
    EXPECT_EQ(event.type, Event::Type::kDelete);
  EXPECT_EQ(events[0].kv.mod_revision, events[1].kv.mod_revision);
  std::set<std::string> keys{events[0].kv.key, events[1].kv.key};
  EXPECT_EQ(keys, (std::set<std::string>{"/l/a", "/l/b"}));
  EXPECT_EQ(CodeOf(store.Get("/l/a")), ErrorCode::kNotFound);
  EXPECT_TRUE(store.Get("/l/c").ok());
  EXPECT_EQ(CodeOf(store.KeepAliveLease(*lease)), ErrorCode::kNotFound);
  auto put_on_expired = store.Put("/l/d", "1", *lease);
  ASSERT_FALSE(put_on_expired.ok());
  EXPECT_EQ(put_on_expired.error().code(), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, KeepAliveAndRevoke) {
  Store& store = this->store();
  auto lease = store.GrantLease(10s);
  ASSERT_TRUE(lease.ok());
  this->MustPut("/k/a", "1", *lease);
  this->MustPut("/k/b", "1", *lease);
  this->MustPut("/k/b", "2");  // re-put without the lease: detached

  this->backend_.AdvanceTime(6s);
  auto ttl = store.KeepAliveLease(*lease);
  ASSERT_TRUE(ttl.ok()) << Describe(ttl.error());
  EXPECT_EQ(*ttl, 10s);
  this->backend_.AdvanceTime(6s);
  std::this_thread::sleep_for(500ms);  // give expiry a chance to (wrongly) run
  EXPECT_TRUE(store.Get("/k/a").ok());

  const Revision before = this->Current();
  ASSERT_TRUE(store.RevokeLease(*lease).ok());
  EXPECT_EQ(this->Current(), before + 1);
  EXPECT_EQ(CodeOf(store.Get("/k/a")), ErrorCode::kNotFound);
  EXPECT_EQ(store.Get("/k/b")->value, "2");
  EXPECT_EQ(CodeOf(store.RevokeLease(*lease)), ErrorCode::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, ConcurrentWritersAndWatchersSeeEveryRevisionOnce) {
  Store& store = this->store();
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 200;
  constexpr int kTotal = kThreads * kWritesPerThread;
  const Revision start = this->Current() + 1;

  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < 3; ++i)
    watchers.push_back(this->MustWatch(WatchRequest::Prefix("/cw/", start)));
  std::vector<std::vector<Event>> seen(watchers.size());
  std::vector<std::thread> readers;
  for (std::size_t i = 0; i < watchers.size(); ++i) {
    ASSERT_NE(watchers[i], nullptr);
    readers.emplace_back([&, i] { seen[i] = CollectEvents(*watchers[i], kTotal, 60s); });
  }

  std::vector<std::vector<Revision>> revisions(kThreads);
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        // Half create new keys, half update a key of this thread, to mix the write paths.
        auto kv = i % 2 == 0 ? store.Create(fmt::format("/cw/{}/{}", t, i), "v")
                             : store.Put(fmt::format("/cw/{}/shared", t), fmt::format("{}", i));
        if (kv.ok())
          revisions[t].push_back(kv->mod_revision);
        else
          ADD_FAILURE() << Describe(kv.error());
      }
    });
  }
  for (auto& writer : writers)
    writer.join();
  for (auto& reader : readers)
    reader.join();

  std::vector<Revision> all;
  for (const auto& per_thread : revisions) {
    EXPECT_TRUE(std::is_sorted(per_thread.begin(), per_thread.end()));
    all.insert(all.end(), per_thread.begin(), per_thread.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kTotal));
  for (int i = 0; i < kTotal; ++i)
    ASSERT_EQ(all[i], start + i) << "revisions are not dense";

  for (const auto& events : seen) {
    ASSERT_EQ(events.size(), static_cast<std::size_t>(kTotal));
    for (int i = 0; i < kTotal; ++i)
      ASSERT_EQ(events[i].kv.mod_revision, start + i);
  }
}

TYPED_TEST_P(StoreConformanceTest, SlowWatcherDoesNotBlockWriters) {
  Store& store = this->store();
  constexpr int kWrites = 600;
  const Revision start = this->Current() + 1;
  WatchRequest slow_request = WatchRequest::Prefix("/sw/", start);
  slow_request.max_buffered_events = 16;
  auto slow = this->MustWatch(slow_request);
  auto fast = this->MustWatch(WatchRequest::Prefix("/sw/", start));
  ASSERT_NE(slow, nullptr);
  ASSERT_NE(fast, nullptr);
  // Both watchers go live now; the slow one then never reads while the writes happen.
  ExpectNoMoreEvents(*slow, 50ms);
  ExpectNoMoreEvents(*fast, 50ms);

  std::vector<Event> fast_events;
  std::thread fast_reader([&] { fast_events = CollectEvents(*fast, kWrites, 60s); });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWrites / 4; ++i)
        EXPECT_TRUE(store.Put(fmt::format("/sw/{}/{}", t, i), "v").ok());
    });
  }
  for (auto& writer : writers)
    writer.join();
  fast_reader.join();
  ASSERT_EQ(fast_events.size(), static_cast<std::size_t>(kWrites));

  // The slow watcher gets a gap-free prefix of the events, then possibly an error telling it to
  // re-watch.
  Revision expected = start;
  while (true) {
    auto batch = slow->Next(200ms);
    if (!batch.ok()) {
      EXPECT_EQ(batch.error().code(), ErrorCode::kTooManyRequests) << Describe(batch.error());
      break;
    }
    if (batch->empty()) break;
    for (const Event& event : *batch)
      EXPECT_EQ(event.kv.mod_revision, expected++);
  }
  EXPECT_LE(expected, start + kWrites);
}

TYPED_TEST_P(StoreConformanceTest, HealthAndRevisions) {
  Store& store = this->store();
  EXPECT_TRUE(store.Health().ok());
  const Revision before = this->Current();
  const KeyValue kv = this->MustPut("/hr/a", "1");
  EXPECT_EQ(kv.mod_revision, before + 1);
  EXPECT_EQ(this->Current(), before + 1);
  auto compacted = store.CompactedRevision();
  ASSERT_TRUE(compacted.ok());
  EXPECT_LE(*compacted, before + 1);
}

REGISTER_TYPED_TEST_SUITE_P(StoreConformanceTest, EveryWriteAddsOneRevision, CreateOnlyWhenAbsent,
                            UpdateAndDeleteCompareModRevision, TxnRunsTheBranchItsComparesSelect,
                            ReadsAtPastRevisionsSeeSnapshots,
                            PagesAtOneRevisionAreConsistentDuringWrites, CompactedRevisionsAreGone,
                            WatchReplaysHistoryThenLiveChanges, WatchSelectsKeyOrPrefix,
                            WatchFromAFutureRevisionWaitsForIt, WatchReplaysLongHistoryInOrder,
                            ExpiredLeaseDeletesItsKeys, KeepAliveAndRevoke,
                            ConcurrentWritersAndWatchersSeeEveryRevisionOnce,
                            SlowWatcherDoesNotBlockWriters, HealthAndRevisions);

}  // namespace kpp::storage::testing
