// The etcd backend while a three-member cluster loses members: writers and watches run while a
// follower and then the leader are killed. The test checks what the Store promises in failover:
// - every acknowledged write is in etcd's history at its revision, with its value, and readable
//   at that revision; the keys end with the values the history says;
// - no write is applied twice (every attempt writes a value of its own), and a write that failed
//   with an error saying it was not applied is indeed nowhere in the history;
// - a write fails only with kServiceUnavailable, and a precondition failure (kConflict, ...) only
//   follows a write that may have been applied: a write retried after it was applied would
//   report its own first attempt as a conflict;
// - each watch delivers exactly the history, every event once and in order, across the breaks
//   of its stream;
// - the members agree on the data afterwards.
#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "etcd_process.h"
#include "storage/etcd/etcd_store.h"

namespace kpp::storage::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kPrefix = "/failover/";
constexpr std::size_t kWritersPerStore = 2;

std::string Describe(const Error& error) {
  return std::string(error.reason()) + ": " + error.message();
}

struct AcknowledgedWrite {
  std::string key;
  std::optional<std::string> value;  // nullopt: a deletion
  Revision revision = 0;
};

// What the writers saw. The test reads it after the writers stopped, and only counts before.
class WriteLog {
 public:
  void Acknowledge(std::string key, std::optional<std::string> value, Revision revision) {
    std::lock_guard lock(mutex_);
    acknowledged_.push_back(
        AcknowledgedWrite{.key = std::move(key), .value = std::move(value), .revision = revision});
    acknowledged_count_.fetch_add(1);
  }

  // A write of `key` (with `value`, for puts) failed with `error`.
  void Fail(const std::string& key, const std::optional<std::string>& value, const Error& error) {
    std::lock_guard lock(mutex_);
    std::string kind;
    switch (error.code()) {
      case ErrorCode::kServiceUnavailable:
        if (error.message().find("may or may not have been applied") != std::string::npos) {
          uncertain_keys_.insert(key);
          kind = "may have been applied";
        } else {
          // Every other failure of a write says it was not applied (refused or never sent).
          if (value) unapplied_values_.insert(*value);
          unapplied_count_.fetch_add(1);
          kind = "not applied";
        }
        break;
      case ErrorCode::kConflict:
      case ErrorCode::kNotFound:
      case ErrorCode::kAlreadyExists:
        if (uncertain_keys_.contains(key)) {
          kind = "precondition failed after an uncertain write";
          break;
        }
        [[fallthrough]];
      default:
        kind = "unexpectedly";
        unexpected_.push_back(fmt::format("{}: {}", key, Describe(error)));
    }
    ++failures_[kind];
    std::vector<std::string>& examples = examples_[kind];
    if (examples.size() < 3) examples.push_back(fmt::format("{}: {}", key, Describe(error)));
  }

  int acknowledged_count() const { return acknowledged_count_.load(); }
  int unapplied_count() const { return unapplied_count_.load(); }

  const std::vector<AcknowledgedWrite>& acknowledged() const { return acknowledged_; }
  const std::set<std::string>& uncertain_keys() const { return uncertain_keys_; }
  const std::set<std::string>& unapplied_values() const { return unapplied_values_; }
  const std::vector<std::string>& unexpected() const { return unexpected_; }

  std::string Summary() const {
    std::string summary = fmt::format("{} writes acknowledged", acknowledged_.size());
    for (const auto& [kind, count] : failures_)
      summary += fmt::format("; {} failed, {}", count, kind);
    for (const auto& [kind, examples] : examples_) {
      for (const std::string& example : examples)
        summary += "\n  e.g. " + example;
    }
    return summary;
  }

 private:
  std::mutex mutex_;
  std::vector<AcknowledgedWrite> acknowledged_;
  std::atomic<int> acknowledged_count_{0};
  std::atomic<int> unapplied_count_{0};
  std::set<std::string> uncertain_keys_;
  std::set<std::string> unapplied_values_;
  std::map<std::string, int> failures_;
  std::vector<std::string> unexpected_;
  std::map<std::string, std::vector<std::string>> examples_;
};

// One writer: creates keys under its own prefix, updates them with compare-and-swap on their
// mod revision, deletes some. A key whose write failed is read again before it is used again, as
// a client would; meanwhile the writer goes on with other keys.
class Writer {
 public:
  Writer(Store& store, int id, WriteLog& log) : store_(store), id_(id), log_(log), random_(id) {}

  void Run(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      if (!stale_.empty()) Reread(*stale_.begin());
      const std::string value = fmt::format("w{}-v{}", id_, next_value_++);
      const int dice = static_cast<int>(random_() % 10);
      if (live_.size() < 5 || dice < 3) {
        const std::string key = fmt::format("{}w{}/k{}", kPrefix, id_, next_key_++);
        auto created = store_.Create(key, value);
        if (created.ok()) {
          live_[key] = created->mod_revision;
          log_.Acknowledge(key, value, created->mod_revision);
        } else {
          log_.Fail(key, value, created.error());
          stale_.insert(key);
        }
        continue;
      }
      auto it = std::next(live_.begin(), static_cast<long>(random_() % live_.size()));
      const std::string key = it->first;
      if (dice < 9) {
        auto updated = store_.Update(key, value, it->second);
        if (updated.ok()) {
          it->second = updated->mod_revision;
          log_.Acknowledge(key, value, updated->mod_revision);
          continue;
        }
        log_.Fail(key, value, updated.error());
      } else {
        auto deleted = store_.Delete(key, it->second);
        if (deleted.ok()) {
          live_.erase(it);
          log_.Acknowledge(key, std::nullopt, deleted->revision);
          continue;
        }
        log_.Fail(key, std::nullopt, deleted.error());
      }
      live_.erase(key);
      stale_.insert(key);
    }
  }

 private:
  // Learns a key's current state after a failed write; the key stays stale if the read fails.
  void Reread(const std::string& key) {
    auto current = store_.Get(key);
    if (current.ok()) {
      live_[key] = current->mod_revision;
    } else if (current.error().code() != ErrorCode::kNotFound) {
      return;
    }
    stale_.erase(key);
  }

  Store& store_;
  const int id_;
  WriteLog& log_;
  std::mt19937 random_;
  std::map<std::string, Revision> live_;  // the keys this writer owns → their mod revision
  std::set<std::string> stale_;           // keys whose state is unknown after a failed write
  int next_key_ = 0;
  int next_value_ = 0;
};

// Collects a watch's events on a thread of its own until told to stop.
class WatchLog {
 public:
  explicit WatchLog(std::unique_ptr<Watcher> watcher)
      : watcher_(std::move(watcher)), thread_([this] { Run(); }) {}
  ~WatchLog() {
    stop_.store(true);
    thread_.join();
  }

  // Waits until the watch delivered `revision`; false after `timeout` or a watch error.
  bool AwaitRevision(Revision revision, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      return error_.has_value() || (!events_.empty() && events_.back().kv.mod_revision >= revision);
    }) && !error_;
  }

  std::vector<Event> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  // Why AwaitRevision failed.
  std::string Problem() {
    std::lock_guard lock(mutex_);
    if (error_) return "the watch failed: " + Describe(*error_);
    return fmt::format("the watch got only up to revision {}",
                       events_.empty() ? 0 : events_.back().kv.mod_revision);
  }

 private:
  void Run() {
    while (!stop_.load()) {
      auto batch = watcher_->Next(100ms);
      std::lock_guard lock(mutex_);
      if (!batch.ok()) {
        error_ = batch.error();
        changed_.notify_all();
        return;
      }
      for (Event& event : *batch)
        events_.push_back(std::move(event));
      changed_.notify_all();
    }
  }

  std::unique_ptr<Watcher> watcher_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Event> events_;
  std::optional<Error> error_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Runs writers on threads of their own; stops them at the latest when it goes away.
class WriterPool {
 public:
  ~WriterPool() { Stop(); }

  void Start(Store& store, int id, WriteLog& log) {
    writers_.push_back(std::make_unique<Writer>(store, id, log));
    threads_.emplace_back([this, &writer = *writers_.back()] { writer.Run(stop_); });
  }

  void Stop() {
    stop_.store(true);
    for (std::thread& thread : threads_)
      thread.join();
    threads_.clear();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Writer>> writers_;
  std::vector<std::thread> threads_;
};

std::string Show(const Event& event) {
  if (event.type == Event::Type::kDelete)
    return fmt::format("DELETE {} @{}", event.kv.key, event.kv.mod_revision);
  return fmt::format("PUT {}={} @{} (version {})", event.kv.key, event.kv.value,
                     event.kv.mod_revision, event.kv.version);
}

// Expects `got` to be exactly `want`; reports the first difference.
void ExpectSameEvents(const std::vector<Event>& got, const std::vector<Event>& want,
                      std::string_view what) {
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    const bool same =
        got[i].type == want[i].type && got[i].kv == want[i].kv && got[i].prev_kv == want[i].prev_kv;
    if (!same) {
      ADD_FAILURE() << what << ": event " << i << " is " << Show(got[i]) << ", history has "
                    << Show(want[i]);
      return;
    }
  }
  EXPECT_EQ(got.size(), want.size()) << what << ": event counts differ";
}

class EtcdFailoverTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "etcd logs:\n" << cluster_.Logs();
  }

  // Waits until `count` more writes than now were acknowledged.
  void AwaitAcknowledged(int count, std::string_view phase) {
    const int target = log_.acknowledged_count() + count;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + 60s;
    while (log_.acknowledged_count() < target && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    EXPECT_GE(log_.acknowledged_count(), target) << "writes stalled " << phase;
    std::cout << fmt::format("{}: {} writes acknowledged in {} ms\n", phase, count, took.count());
  }

  EtcdCluster cluster_{3};
  WriteLog log_;
};

TEST_F(EtcdFailoverTest, NoAcknowledgedWriteIsLostAndWatchesSeeEveryEventOnce) {
  ASSERT_TRUE(cluster_.Start());
  auto first_leader = cluster_.AwaitLeader(10s);
  ASSERT_TRUE(first_leader.ok()) << first_leader.error().message();
  const std::size_t leader = *first_leader;
  const std::size_t follower = (leader + 1) % 3;
  const std::size_t other = (leader + 2) % 3;

  // Store A starts on the follower that is killed first, store B on the leader: each loses the
  // member it talks to, with writes and a watch in flight. Store C talks to the other follower,
  // which forwards its writes to the leader: those are in flight inside etcd when it dies.
  std::vector<std::unique_ptr<Store>> stores;
  std::vector<std::unique_ptr<WatchLog>> watches;
  Revision start = 0;
  for (const auto& order : std::vector<std::vector<std::size_t>>{
           {follower, leader, other}, {leader, other, follower}, {other, follower, leader}}) {
    EtcdStoreOptions options = cluster_.StoreOptions(order);
    // Shorter than etcd's own request timeout (5 s + two election timeouts), so that writes also
    // fail on the client's deadline while etcd may still apply them.
    options.request_timeout = 3s;
    auto store = OpenEtcdStore(options);
    ASSERT_TRUE(store.ok()) << Describe(store.error());
    stores.push_back(std::move(*store));
    if (start == 0) start = stores.back()->CurrentRevision().value() + 1;
    auto watch = stores.back()->Watch(WatchRequest::Prefix(kPrefix, start));
    ASSERT_TRUE(watch.ok()) << Describe(watch.error());
    watches.push_back(std::make_unique<WatchLog>(std::move(*watch)));
  }
  WriterPool writers;
  for (std::size_t i = 0; i < stores.size() * kWritersPerStore; ++i)
    writers.Start(*stores[i / kWritersPerStore], static_cast<int>(i), log_);

  AwaitAcknowledged(200, "before any failure");
  cluster_.Kill({follower});
  AwaitAcknowledged(200, "after killing a follower");
  ASSERT_TRUE(cluster_.Restart(follower)) << "restarting the follower";
  AwaitAcknowledged(100, "after restarting the follower");
  // Elections can happen on a loaded machine: stop whoever leads at the time. A leader stopped
  // with SIGTERM hands its leadership over and refuses proposals meanwhile; one killed leaves
  // the followers to notice and elect another.
  auto stopped_leader = cluster_.AwaitLeader(10s);
  ASSERT_TRUE(stopped_leader.ok()) << stopped_leader.error().message();
  cluster_.Stop(*stopped_leader);
  AwaitAcknowledged(200, "after stopping the leader");
  ASSERT_TRUE(cluster_.Restart(*stopped_leader)) << "restarting the stopped leader";
  AwaitAcknowledged(100, "after restarting the stopped leader");
  auto killed_leader = cluster_.AwaitLeader(10s);
  ASSERT_TRUE(killed_leader.ok()) << killed_leader.error().message();
  cluster_.Kill({*killed_leader});
  AwaitAcknowledged(200, "after killing the leader");
  ASSERT_TRUE(cluster_.Restart(*killed_leader)) << "restarting the killed leader";
  AwaitAcknowledged(100, "after restarting the killed leader");

  // Both followers down at once: the leader takes writes into its log but cannot commit them,
  // then steps down, and the members left refuse writes. Every write fails meanwhile and must
  // say truthfully whether it may have been applied. The first follower back elects the old
  // leader (its log is longer), which then commits the writes it had taken.
  auto lonely_leader = cluster_.AwaitLeader(10s);
  ASSERT_TRUE(lonely_leader.ok()) << lonely_leader.error().message();
  const std::size_t first_back = (*lonely_leader + 1) % 3;
  const std::size_t second_back = (*lonely_leader + 2) % 3;
  const int unapplied_before = log_.unapplied_count();
  cluster_.Kill({first_back, second_back});
  // Counted once both followers are dead: writes acknowledged before that were committed with a
  // quorum, and from here on each writer can see at most its one write in flight, committed just
  // before the kill, acknowledged.
  const int acknowledged_before = log_.acknowledged_count();
  const auto quorum_lost = std::chrono::steady_clock::now();
  while (log_.unapplied_count() < unapplied_before + 3 &&
         std::chrono::steady_clock::now() < quorum_lost + 30s)
    std::this_thread::sleep_for(20ms);
  EXPECT_GE(log_.unapplied_count(), unapplied_before + 3)
      << "writes without a quorum did not fail as not applied";
  const int acknowledged_without_quorum = log_.acknowledged_count() - acknowledged_before;
  EXPECT_LE(acknowledged_without_quorum, static_cast<int>(kWritersPerStore * stores.size()))
      << "writes were acknowledged without a quorum";
  ASSERT_TRUE(cluster_.Restart(first_back)) << "restarting a follower to regain quorum";
  ASSERT_TRUE(cluster_.Restart(second_back)) << "restarting the other follower";
  AwaitAcknowledged(200, "after the quorum returned");

  writers.Stop();
  std::cout << log_.Summary() << "\n";
  EXPECT_TRUE(log_.unexpected().empty()) << fmt::format("{}", fmt::join(log_.unexpected(), "\n"));

  Store& store = *stores.front();
  const Revision end = store.CurrentRevision().value();
  ASSERT_GT(end, start);

  // etcd's history of the prefix, read afresh: the truth everything is checked against.
  auto history_watch = store.Watch(WatchRequest::Prefix(kPrefix, start));
  ASSERT_TRUE(history_watch.ok()) << Describe(history_watch.error());
  std::vector<Event> history;
  while (history.empty() || history.back().kv.mod_revision < end) {
    auto batch = (*history_watch)->Next(10s);
    ASSERT_TRUE(batch.ok()) << Describe(batch.error());
    ASSERT_FALSE(batch->empty()) << "the history ends before revision " << end;
    history.insert(history.end(), batch->begin(), batch->end());
  }
  std::erase_if(history, [end](const Event& event) { return event.kv.mod_revision > end; });

  // Acknowledged writes: in the history at their revision, and readable there.
  std::map<Revision, const Event*> history_by_revision;
  std::map<std::string, int> times_written;
  for (const Event& event : history) {
    EXPECT_TRUE(history_by_revision.emplace(event.kv.mod_revision, &event).second)
        << "two events at revision " << event.kv.mod_revision;
    if (event.type == Event::Type::kPut) ++times_written[event.kv.value];
  }
  for (const AcknowledgedWrite& write : log_.acknowledged()) {
    auto found = history_by_revision.find(write.revision);
    ASSERT_NE(found, history_by_revision.end())
        << "acknowledged write of " << write.key << " at " << write.revision << " is lost";
    const Event& event = *found->second;
    EXPECT_EQ(event.kv.key, write.key) << "at revision " << write.revision;
    EXPECT_EQ(event.type == Event::Type::kPut, write.value.has_value()) << Show(event);
    if (write.value) {
      EXPECT_EQ(event.kv.value, *write.value) << Show(event);
    }
    auto read = store.Get(write.key, write.revision);
    if (write.value) {
      ASSERT_TRUE(read.ok()) << write.key << " @" << write.revision << ": "
                             << Describe(read.error());
      EXPECT_EQ(read->value, *write.value);
      EXPECT_EQ(read->mod_revision, write.revision);
    } else {
      EXPECT_TRUE(!read.ok() && read.error().code() == ErrorCode::kNotFound)
          << write.key << " @" << write.revision;
    }
  }
  for (const auto& [value, count] : times_written)
    EXPECT_EQ(count, 1) << "value " << value << " was written " << count << " times";
  for (const std::string& value : log_.unapplied_values())
    EXPECT_FALSE(times_written.contains(value))
        << "a write of " << value << " failed as not applied, but it was";

  // The keys hold what the history says last; for keys without an uncertain write, that is
  // the last acknowledged write.
  std::map<std::string, std::optional<std::string>> expected;
  for (const Event& event : history)
    expected[event.kv.key] =
        event.type == Event::Type::kPut ? std::optional<std::string>(event.kv.value) : std::nullopt;
  std::map<std::string, std::optional<std::string>> last_acknowledged;
  for (const AcknowledgedWrite& write : log_.acknowledged())
    last_acknowledged[write.key] = write.value;
  for (const auto& [key, value] : last_acknowledged) {
    if (!log_.uncertain_keys().contains(key)) {
      EXPECT_EQ(expected[key], value) << key;
    }
  }
  auto now = store.Range(RangeRequest::Prefix(kPrefix, 0, end));
  ASSERT_TRUE(now.ok()) << Describe(now.error());
  std::map<std::string, std::optional<std::string>> actual;
  for (const auto& [key, value] : expected)
    actual[key] = std::nullopt;
  for (const KeyValue& kv : now->kvs)
    actual[kv.key] = kv.value;
  EXPECT_EQ(actual, expected);

  // Each watch saw exactly the history, across the failures.
  for (std::size_t i = 0; i < watches.size(); ++i) {
    const std::string what = fmt::format("the watch on store {}", static_cast<char>('A' + i));
    EXPECT_TRUE(watches[i]->AwaitRevision(end, 30s)) << what << ": " << watches[i]->Problem();
    std::vector<Event> events = watches[i]->events();
    std::erase_if(events, [end](const Event& event) { return event.kv.mod_revision > end; });
    ExpectSameEvents(events, history, what);
  }

  // Every member, the restarted ones included, serves the same data.
  for (std::size_t member = 0; member < cluster_.size(); ++member) {
    auto alone = OpenEtcdStore(cluster_.StoreOptions({member}));
    ASSERT_TRUE(alone.ok()) << Describe(alone.error());
    auto range = (*alone)->Range(RangeRequest::Prefix(kPrefix, 0, end));
    ASSERT_TRUE(range.ok()) << "member " << member << ": " << Describe(range.error());
    EXPECT_EQ(range->kvs, now->kvs) << "member " << member;
  }
}

}  // namespace
}  // namespace kpp::storage::testing
