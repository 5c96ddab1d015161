// bench/store: the embedded SQLite store against a local single-member etcd started in the same
// run, both durable (an acknowledged write is fsynced: the SQLite store syncs its WAL, etcd its
// own, as deployed), both in temp dirs on the same disk, taking each phase in turn. It measures,
// with 1 KiB values:
//   - creates and compare-and-swap updates, by one writer and by 16 concurrent writers
//     (writes/s, and the latency of each write: p50, p99);
//   - a range read of 10,000 keys (latency);
//   - watch latency: 100 watchers of one prefix, one writer; the time from the start of a write
//     to its event arriving at each watcher (p50, p99);
// then prints one table with the ratio SQLite/etcd and whether kpp's targets are met.
//
//   store_bench [--quick] [--backend sqlite|etcd|both]
//
// --quick runs every phase with a few operations only (the smoke test uses it, to keep the
// program building and running); its numbers mean little.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/files.h"
#include "base/log.h"
#include "etcd_process.h"
#include "storage/etcd/etcd_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"

namespace kpp::storage::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kValueBytes = 1024;
constexpr int kConcurrentWriters = 16;

struct Sizes {
  int sequential_writes;
  int writes_per_concurrent_writer;
  int range_keys;
  int range_repeats;
  int watchers;
  int watched_writes;
  // The writer of the watch phase writes at this pace, so that the figure is the delivery
  // latency, not the length of a queue behind a saturated writer.
  int watched_writes_per_second;
};

constexpr Sizes kFullSizes{.sequential_writes = 2000,
                           .writes_per_concurrent_writer = 1000,
                           .range_keys = 10000,
                           .range_repeats = 20,
                           .watchers = 100,
                           .watched_writes = 1000,
                           .watched_writes_per_second = 200};
constexpr Sizes kQuickSizes{.sequential_writes = 50,
                            .writes_per_concurrent_writer = 20,
                            .range_keys = 500,
                            .range_repeats = 3,
                            .watchers = 10,
                            .watched_writes = 50,
                            .watched_writes_per_second = 200};

// Latencies of one phase and its throughput.
struct Figures {
  double per_second = 0;  // operations per second of wall time
  double p50_ms = 0;
  double p99_ms = 0;
};

double Milliseconds(Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

Figures Summarize(std::vector<Clock::duration> latencies, Clock::duration wall) {
  Figures figures;
  if (latencies.empty()) return figures;
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) {
    const std::size_t index =
        std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()));
    return Milliseconds(latencies[index]);
  };
  figures.p50_ms = percentile(0.50);
  figures.p99_ms = percentile(0.99);
  figures.per_second = latencies.size() / std::chrono::duration<double>(wall).count();
  return figures;
}

// A 1 KiB value; its first bytes carry `number` (which write of the watch phase it is).
std::string Value(int number = 0) {
  std::string value(kValueBytes, 'v');
  const std::string head = fmt::format("{:010}", number);
  std::memcpy(value.data(), head.data(), head.size());
  return value;
}

int NumberOf(const std::string& value) {
  return std::stoi(value.substr(0, 10));
}

[[noreturn]] void Fail(std::string_view what, const Error& error) {
  std::cerr << "store_bench: " << what << ": " << error.message() << "\n";
  std::exit(1);
}

// Latencies and wall time of a phase, gathered over its slices.
struct Sample {
  std::vector<Clock::duration> latencies;
  Clock::duration wall{0};

  Figures Summary() const { return Summarize(latencies, wall); }
};

// Runs `op(thread, i)` for i in [from, to) on each of `thread_count` threads, all starting
// together; adds the latency of every call and the wall time of the whole to `sample`.
template <typename Op>
void RunThreads(int thread_count, int from, int to, Sample& sample, const Op& op) {
  std::vector<std::vector<Clock::duration>> latencies(thread_count);
  std::barrier start(thread_count + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      latencies[t].reserve(to - from);
      start.arrive_and_wait();
      for (int i = from; i < to; ++i) {
        const auto began = Clock::now();
        op(t, i);
        latencies[t].push_back(Clock::now() - began);
      }
    });
  }
  start.arrive_and_wait();
  const auto began = Clock::now();
  for (std::thread& thread : threads)
    thread.join();
  sample.wall += Clock::now() - began;
  for (const auto& some : latencies)
    sample.latencies.insert(sample.latencies.end(), some.begin(), some.end());
}

struct Results {
  Figures sequential_create, sequential_update, concurrent_create, concurrent_update, range, watch,
      watch_after_ack;
};

// One backend's runs of the phases. The throughput phases run in slices, [from, to) of the
// phase's operations, so that the backends can take turns slice by slice.
class Workload {
 public:
  Workload(Store& store, const Sizes& sizes)
      : store_(store),
        sizes_(sizes),
        revisions_(sizes.sequential_writes),
        concurrent_revisions_(kConcurrentWriters * sizes.writes_per_concurrent_writer) {}

  Results results() const {
    return Results{.sequential_create = sequential_create_.Summary(),
                   .sequential_update = sequential_update_.Summary(),
                   .concurrent_create = concurrent_create_.Summary(),
                   .concurrent_update = concurrent_update_.Summary(),
                   .range = range_.Summary(),
                   .watch = watch_.Summary(),
                   .watch_after_ack = watch_after_ack_.Summary()};
  }

  // One writer: creates, then compare-and-swap updates of the same keys.
  void SequentialCreate(int from, int to) {
    RunThreads(1, from, to, sequential_create_, [&](int, int i) {
      auto kv = store_.Create(fmt::format("/bench/seq/{:06}", i), Value());
      if (!kv.ok()) Fail("sequential create", kv.error());
      revisions_[i] = kv->mod_revision;
    });
  }

  void SequentialUpdate(int from, int to) {
    RunThreads(1, from, to, sequential_update_, [&](int, int i) {
      auto kv = store_.Update(fmt::format("/bench/seq/{:06}", i), Value(), revisions_[i]);
      if (!kv.ok()) Fail("sequential update", kv.error());
    });
  }

  // 16 writers, each on keys of its own.
  void ConcurrentCreate(int from, int to) {
    const int per_writer = sizes_.writes_per_concurrent_writer;
    RunThreads(kConcurrentWriters, from, to, concurrent_create_, [&](int w, int i) {
      auto kv = store_.Create(fmt::format("/bench/par/{:02}/{:06}", w, i), Value());
      if (!kv.ok()) Fail("concurrent create", kv.error());
      concurrent_revisions_[w * per_writer + i] = kv->mod_revision;
    });
  }

  void ConcurrentUpdate(int from, int to) {
    const int per_writer = sizes_.writes_per_concurrent_writer;
    RunThreads(kConcurrentWriters, from, to, concurrent_update_, [&](int w, int i) {
      auto kv = store_.Update(fmt::format("/bench/par/{:02}/{:06}", w, i), Value(),
                              concurrent_revisions_[w * per_writer + i]);
      if (!kv.ok()) Fail("concurrent update", kv.error());
    });
  }

  // A range of exactly range_keys keys, written in transactions of 100 (etcd allows 128 ops).
  void FillRange() {
    for (int first = 0; first < sizes_.range_keys; first += 100) {
      TxnRequest txn;
      for (int i = first; i < std::min(first + 100, sizes_.range_keys); ++i)
        txn.success.push_back(TxnOp::Put(fmt::format("/bench/range/{:06}", i), Value()));
      auto written = store_.Txn(txn);
      if (!written.ok()) Fail("filling the range", written.error());
    }
  }

  void Range(int from, int to) {
    RunThreads(1, from, to, range_, [&](int, int) {
      auto range = store_.Range(RangeRequest::Prefix("/bench/range/"));
      if (!range.ok()) Fail("range", range.error());
      if (static_cast<int>(range->kvs.size()) != sizes_.range_keys) {
        std::cerr << "store_bench: range returned " << range->kvs.size() << " keys\n";
        std::exit(1);
      }
    });
  }

  // Watchers of one prefix and one writer. Each event's latency is taken from the start of its
  // write (what a client waits for a change to reach watchers, fsync included) and from the
  // write's acknowledgement (the delivery alone; 0 when the event came first).
  void Watch() {
    std::vector<std::unique_ptr<Watcher>> watchers;
    for (int w = 0; w < sizes_.watchers; ++w) {
      auto watcher = store_.Watch(WatchRequest::Prefix("/bench/watch/"));
      if (!watcher.ok()) Fail("watch", watcher.error());
      watchers.push_back(std::move(*watcher));
    }
    // Per watcher, when each write's event arrived.
    std::vector<std::vector<Clock::time_point>> arrivals(
        watchers.size(), std::vector<Clock::time_point>(sizes_.watched_writes));
    std::vector<std::thread> readers;
    for (std::size_t w = 0; w < watchers.size(); ++w) {
      readers.emplace_back([&, w] {
        for (int received = 0; received < sizes_.watched_writes;) {
          auto events = watchers[w]->Next(10s);
          if (!events.ok()) Fail("watch", events.error());
          if (events->empty()) Fail("watch", Error(ErrorCode::kTimeout, "no event for 10 s"));
          const auto now = Clock::now();
          for (const Event& event : *events) {
            arrivals[w][NumberOf(event.kv.value)] = now;
            ++received;
          }
        }
      });
    }
    std::vector<Clock::time_point> starts(sizes_.watched_writes);
    std::vector<Clock::time_point> acknowledged(sizes_.watched_writes);
    const auto interval = std::chrono::nanoseconds(1s) / sizes_.watched_writes_per_second;
    const auto began = Clock::now();
    for (int i = 0; i < sizes_.watched_writes; ++i) {
      std::this_thread::sleep_until(began + i * interval);
      starts[i] = Clock::now();
      auto kv = store_.Put(fmt::format("/bench/watch/{:03}", i % 100), Value(i));
      if (!kv.ok()) Fail("watched write", kv.error());
      acknowledged[i] = Clock::now();
    }
    for (std::thread& reader : readers)
      reader.join();
    watch_.wall = watch_after_ack_.wall = Clock::now() - began;
    for (const auto& mine : arrivals) {
      for (int i = 0; i < sizes_.watched_writes; ++i) {
        watch_.latencies.push_back(mine[i] - starts[i]);
        watch_after_ack_.latencies.push_back(
            std::max(Clock::duration::zero(), mine[i] - acknowledged[i]));
      }
    }
  }

 private:
  Store& store_;
  const Sizes& sizes_;
  std::vector<Revision> revisions_;
  std::vector<Revision> concurrent_revisions_;
  Sample sequential_create_, sequential_update_, concurrent_create_, concurrent_update_, range_,
      watch_, watch_after_ack_;
};

// The backends take turns, slice by slice, so that the disk's slow spells (other programs'
// writes make fsync several times slower for seconds at a time) fall on all of them alike.
void RunInTurns(std::vector<Workload>& workloads, const Sizes& sizes) {
  constexpr int kSlices = 10;
  auto in_slices = [&](void (Workload::*phase)(int, int), int count) {
    for (int slice = 0; slice < kSlices; ++slice) {
      for (Workload& workload : workloads)
        (workload.*phase)(count * slice / kSlices, count * (slice + 1) / kSlices);
    }
  };
  in_slices(&Workload::SequentialCreate, sizes.sequential_writes);
  in_slices(&Workload::SequentialUpdate, sizes.sequential_writes);
  in_slices(&Workload::ConcurrentCreate, sizes.writes_per_concurrent_writer);
  in_slices(&Workload::ConcurrentUpdate, sizes.writes_per_concurrent_writer);
  for (Workload& workload : workloads)
    workload.FillRange();
  in_slices(&Workload::Range, sizes.range_repeats);
  for (Workload& workload : workloads)
    workload.Watch();
}

std::string Cell(const std::optional<Results>& results, Figures Results::*phase,
                 double Figures::*figure, int precision) {
  if (!results) return "-";
  return fmt::format("{:.{}f}", (*results).*phase.*figure, precision);
}

std::string Ratio(const std::optional<Results>& sqlite, const std::optional<Results>& etcd,
                  Figures Results::*phase, double Figures::*figure) {
  if (!sqlite || !etcd) return "-";
  const double denominator = (*etcd).*phase.*figure;
  if (denominator == 0) return "-";
  return fmt::format("{:.2f}", (*sqlite).*phase.*figure / denominator);
}

void Print(const std::optional<Results>& sqlite, const std::optional<Results>& etcd,
           const Sizes& sizes) {
  struct Row {
    std::string name;
    Figures Results::*phase;
  };
  const std::vector<Row> rows = {
      {"sequential create", &Results::sequential_create},
      {"sequential update", &Results::sequential_update},
      {fmt::format("{}-way create", kConcurrentWriters), &Results::concurrent_create},
      {fmt::format("{}-way update", kConcurrentWriters), &Results::concurrent_update},
      {fmt::format("range of {} keys", sizes.range_keys), &Results::range},
      {fmt::format("watch, {} watchers", sizes.watchers), &Results::watch},
      {"  after the ack", &Results::watch_after_ack},
  };
  std::cout << fmt::format("\n{:<22} {:<9} {:>12} {:>12} {:>12}\n", "benchmark", "figure", "SQLite",
                           "etcd", "SQLite/etcd");
  for (const Row& row : rows) {
    struct Line {
      const char* label;
      double Figures::*figure;
      int precision;
    };
    std::vector<Line> lines;
    if (row.phase != &Results::watch && row.phase != &Results::watch_after_ack) {
      lines.push_back(
          {row.phase == &Results::range ? "ranges/s" : "writes/s", &Figures::per_second, 0});
    }
    lines.push_back({"p50 ms", &Figures::p50_ms, 2});
    lines.push_back({"p99 ms", &Figures::p99_ms, 2});
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::cout << fmt::format("{:<22} {:<9} {:>12} {:>12} {:>12}\n", i == 0 ? row.name : "",
                               lines[i].label,
                               Cell(sqlite, row.phase, lines[i].figure, lines[i].precision),
                               Cell(etcd, row.phase, lines[i].figure, lines[i].precision),
                               Ratio(sqlite, etcd, row.phase, lines[i].figure));
    }
  }
  std::cout << fmt::format(
      "(1 KiB values; latency of each call. Watch: one writer at {} writes/s; from the start of a "
      "write, fsync included, to its event at each watcher, and from the write's acknowledgement "
      "to the event)\n",
      sizes.watched_writes_per_second);

  if (!sqlite) return;
  std::cout << "\nTargets (SQLite, 16 writers, durable):\n";
  auto report = [](bool met, const std::string& text) {
    std::cout << fmt::format("  [{}] {}\n", met ? "met" : "MISSED", text);
  };
  for (const auto& [name, phase] : {std::pair{"create", &Results::concurrent_create},
                                    std::pair{"update", &Results::concurrent_update}}) {
    const double writes = ((*sqlite).*phase).per_second;
    report(writes >= 10000, fmt::format("{}: at least 10,000 writes/s: {:.0f}", name, writes));
    if (etcd) {
      const double ratio = writes / ((*etcd).*phase).per_second;
      report(ratio >= 2, fmt::format("{}: at least 2x etcd's writes/s: {:.2f}x", name, ratio));
    }
  }
  report(sqlite->watch.p99_ms < 10,
         fmt::format("watch p99 under 10 ms (from the start of the write): {:.2f} ms",
                     sqlite->watch.p99_ms));
}

// The machine's load average over the last minute, to judge how noisy the figures are.
std::string LoadAverage() {
  auto content = ReadFile("/proc/loadavg");
  if (!content.ok()) return "?";
  return content->substr(0, content->find(' '));
}

int Main(int argc, char** argv) {
  bool quick = false;
  bool run_sqlite = true;
  bool run_etcd = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--backend" && i + 1 < argc) {
      const std::string_view backend = argv[++i];
      run_sqlite = backend == "sqlite" || backend == "both";
      run_etcd = backend == "etcd" || backend == "both";
      if (!run_sqlite && !run_etcd) {
        std::cerr << "store_bench: --backend takes sqlite, etcd or both\n";
        return 2;
      }
    } else {
      std::cerr << "usage: store_bench [--quick] [--backend sqlite|etcd|both]\n";
      return 2;
    }
  }
  const Sizes& sizes = quick ? kQuickSizes : kFullSizes;
  const std::string load_before = LoadAverage();

  // Both stores are open for the whole run: they take turns (RunInTurns).
  const std::string sqlite_dir = MakeTempDirectory("kpp-bench-sqlite-").value();
  std::unique_ptr<Store> sqlite_store;
  if (run_sqlite) {
    SqliteStoreOptions options;
    options.dir = sqlite_dir + "/db";
    auto store = OpenSqliteStore(options);
    if (!store.ok()) Fail("opening the SQLite store", store.error());
    sqlite_store = std::move(*store);
    std::cout << "SQLite: " << SqliteDatabasePath(options.dir) << std::endl;
  }
  testing::EtcdProcess etcd_process;
  std::unique_ptr<Store> etcd_store;
  if (run_etcd) {
    etcd_process.set_fsync(true);
    auto started = etcd_process.Start();
    if (!started) {
      std::cerr << "store_bench: starting etcd: " << started.message() << "\n";
      return 1;
    }
    auto store = OpenEtcdStore(etcd_process.StoreOptions());
    if (!store.ok()) Fail("connecting to etcd", store.error());
    etcd_store = std::move(*store);
    std::cout << "etcd: " << etcd_process.client_url() << ", data in " << etcd_process.dir()
              << std::endl;
  }
  std::vector<Workload> workloads;
  if (sqlite_store) workloads.emplace_back(*sqlite_store, sizes);
  if (etcd_store) workloads.emplace_back(*etcd_store, sizes);
  RunInTurns(workloads, sizes);
  std::optional<Results> sqlite;
  std::optional<Results> etcd;
  if (sqlite_store) sqlite = workloads.front().results();
  if (etcd_store) etcd = workloads.back().results();
  sqlite_store.reset();
  RemoveAll(sqlite_dir);
  Print(sqlite, etcd, sizes);
  std::cout << fmt::format("\nLoad average (1 min) before: {}, after: {} ({} cores)\n", load_before,
                           LoadAverage(), std::thread::hardware_concurrency());
  return 0;
}

}  // namespace
}  // namespace kpp::storage::bench

int main(int argc, char** argv) {
  return kpp::storage::bench::Main(argc, argv);
}
