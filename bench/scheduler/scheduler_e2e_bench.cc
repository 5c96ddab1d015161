// bench/scheduler end to end: issue 7's SchedulingBasic and Density cases through a real
// `kpp server --disable-agent` (its embedded scheduler) and a real `kpp hollow-nodes` process,
// both started from this build in a temp dir.
//
// SchedulingBasic: N hollow nodes, P0 pods created and placed first, then P pods created by
// parallel creators while the scheduler places them. A pod counts from the moment its create was
// sent to the moment a watch on pods sees its spec.nodeName (creation to bound); the figures are
// pods scheduled per second over the measured pods and the p50/p99 of that latency, printed with
// the ratio to upstream's figures, to the 2,000 pods/s target and to the scheduler core alone
// (bench/scheduler's scheduler_core_bench, run in the same run as the baseline).
// Density: more pods until D are placed and Running on the hollow nodes; then the RSS of the
// server and of the hollow-node process.
//
// The embedded scheduler's client keeps upstream's 50 QPS / 100 burst unless configured: the
// bench passes --scheduler-config with clientConnection qps/burst raised.
//
//   scheduler_e2e_bench [--quick] [--kpp PATH] [--nodes 5000] [--placed 1000] [--pods 10000]
//                       [--density-pods 50000] [--creators 16] [--server-arg ARG]...
//                       [--hollow-arg ARG]... [--keep] [--separate-scheduler [--queued N]]
//                       [--controller-manager]
//
// --quick is the smoke test (ctest SchedulerE2EBenchSmoke): 50 nodes, 20 + 200 pods, density 400.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "api/core/v1/codec.h"
#include "base/files.h"
#include "client/rest/config.h"
#include "client/rest/resource.h"
#include "client/rest/rest_client.h"
#include "support/subprocess.h"

namespace kpp::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::ProcessCpuSeconds;

// Upstream's figures for SchedulingBasic 5000 nodes / 10,000 pods (issue 7): the CI floor and
// what was reported on a developer machine; and issue 7's target on this 2-core machine.
constexpr double kUpstreamCiFloor = 270;
constexpr double kUpstreamDeveloperMachine = 1300;
constexpr double kTarget = 2000;
constexpr double kServerRssTargetMiB = 1024;

[[noreturn]] void Fail(const std::string& what) {
  std::cerr << "scheduler_e2e_bench: " << what << std::endl;
  std::exit(1);
}

// A memory figure of /proc/<pid>/status in MiB: "VmRSS:" now, "VmHWM:" its peak.
double StatusMiB(pid_t pid, std::string_view field) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field)) return std::stod(line.substr(field.size())) / 1024;
  }
  return 0;
}

double RssMiB(pid_t pid) {
  return StatusMiB(pid, "VmRSS:");
}

double PeakRssMiB(pid_t pid) {
  return StatusMiB(pid, "VmHWM:");
}

double LoadAverage() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : 0;
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto at = static_cast<size_t>(static_cast<double>(values.size() - 1) * p);
  return values[at];
}

struct Options {
  std::string kpp = KPP_BINARY;
  std::string core_bench = CORE_BENCH_BINARY;
  int nodes = 5000;
  int placed = 1000;
  int pods = 10000;
  int density_pods = 50000;
  int creators = 16;
  // With a separate `kpp scheduler` (the server's own is off): this many pods created while no
  // scheduler runs, then one started; how fast it drains them (the scheduler and binding path
  // without the creators competing).
  bool separate_scheduler = false;
  // Off by default, as in upstream's scheduler_perf (API server and scheduler only): on a
  // saturated machine the node lifecycle controller would find leases late and evict pods.
  bool controller_manager = false;
  int queued = 0;
  bool quick = false;
  bool keep = false;
  std::vector<std::string> server_args;
  std::vector<std::string> hollow_args;
};

// What a watch on the bench namespace's pods saw: when each pod was first bound, and when it
// first ran.
class PodTracker {
 public:
  void Seen(const std::string& name, bool bound, bool running) {
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    if (bound && bound_at_.emplace(name, now).second) ++bound_;
    if (running && running_.insert(name).second) ++running_count_;
    changed_.notify_all();
  }
  // Waits until `bound` pods are bound (or `running` run), up to `timeout`; false on timeout.
  bool WaitBound(size_t bound, Clock::duration timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return bound_ >= bound; });
  }
  bool WaitRunning(size_t running, Clock::duration timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return running_count_ >= running; });
  }
  std::optional<Clock::time_point> BoundAt(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = bound_at_.find(name);
    if (it == bound_at_.end()) return std::nullopt;
    return it->second;
  }
  size_t bound() {
    std::lock_guard lock(mutex_);
    return bound_;
  }
  size_t running() {
    std::lock_guard lock(mutex_);
    return running_count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<std::string, Clock::time_point> bound_at_;
  std::unordered_set<std::string> running_;
  size_t bound_ = 0;
  size_t running_count_ = 0;
};

// Watches the pods of `ns` from `resource_version` on, resuming after the server ends a watch,
// until stopped.
class PodWatcher {
 public:
  PodWatcher(std::shared_ptr<client::rest::RestClient> client, std::string ns,
             std::string resource_version, PodTracker& tracker)
      : pods_(std::move(client), client::KindFor<api::core::v1::Pod>(), std::move(ns)),
        resource_version_(std::move(resource_version)),
        tracker_(tracker) {
    thread_ = std::thread([this] { Run(); });
  }
  ~PodWatcher() {
    stopping_ = true;
    canceller_.Cancel();
    thread_.join();
  }

 private:
  void Run() {
    while (!stopping_) {
      client::ListOptions options;
      options.resource_version = resource_version_;
      options.allow_watch_bookmarks = true;
      options.timeout_seconds = 300;
      auto watched = pods_.Watch(
          options,
          [&](client::WatchEvent&& event) {
            if (event.type == "ERROR") return false;
            const auto& object = event.object.as_object();
            const auto& metadata = object.at("metadata").as_object();
            if (auto rv = metadata.if_contains("resourceVersion"); rv && rv->is_string()) {
              resource_version_ = std::string(rv->as_string());
            }
            if (event.type == "BOOKMARK" || event.type == "DELETED") return !stopping_;
            const auto* spec = object.if_contains("spec");
            const auto* node =
                spec != nullptr ? spec->as_object().if_contains("nodeName") : nullptr;
            const auto* status = object.if_contains("status");
            const auto* phase =
                status != nullptr ? status->as_object().if_contains("phase") : nullptr;
            tracker_.Seen(
                std::string(metadata.at("name").as_string()),
                node != nullptr && node->is_string() && !node->as_string().empty(),
                phase != nullptr && phase->is_string() && phase->as_string() == "Running");
            return !stopping_;
          },
          &canceller_);
      if (!watched.ok() && !stopping_) {
        std::cerr << "scheduler_e2e_bench: pod watch ended: " << watched.error().message()
                  << "; resuming\n";
        std::this_thread::sleep_for(200ms);
      }
    }
  }

  client::DynamicResource pods_;
  std::string resource_version_;
  PodTracker& tracker_;
  client::rest::StreamCanceller canceller_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

std::string PodJson(const std::string& name) {
  // upstream's scheduler_perf pod-default: one pause container asking 100m cpu and 500Mi.
  return fmt::format(
      R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{}","labels":{{"app":"sched-bench"}}}},)"
      R"("spec":{{"containers":[{{"name":"pause","image":"registry.k8s.io/pause:3.10",)"
      R"("resources":{{"requests":{{"cpu":"100m","memory":"500Mi"}},)"
      R"("limits":{{"cpu":"100m","memory":"500Mi"}}}}}}]}}}})",
      name);
}

// Creates pods `prefix`<first..first+count-1> with `threads` creators; returns when each create
// was sent, by index.
std::vector<Clock::time_point> CreatePods(const std::shared_ptr<client::rest::RestClient>& client,
                                          const std::string& ns, const std::string& prefix,
                                          int first, int count, int threads) {
  std::vector<Clock::time_point> sent(static_cast<size_t>(count));
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  client::DynamicResource pods(client, client::KindFor<api::core::v1::Pod>(), ns);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        const std::string name = fmt::format("{}{}", prefix, first + i);
        sent[static_cast<size_t>(i)] = Clock::now();
        auto created = pods.WriteJson("POST", "", "", PodJson(name), {});
        if (!created.ok() && failures++ < 5) {
          std::cerr << "scheduler_e2e_bench: creating " << name << ": " << created.error().message()
                    << "\n";
        }
      }
    });
  }
  for (auto& thread : pool)
    thread.join();
  if (failures > 0) Fail(fmt::format("{} pod creates failed", failures.load()));
  return sent;
}

// The scheduler core alone on the same shapes (the baseline measured in this run): its pods/s.
double CoreBaseline(const Options& options) {
  std::vector<std::string> argv = {options.core_bench};
  if (options.quick) argv.push_back("--quick");
  auto result = testing::RunProcess(argv, 600s);
  std::smatch match;
  static const std::regex rate(R"(([0-9]+) pods/s)");
  if (result.exit_code != 0 || !std::regex_search(result.out, match, rate)) {
    std::cerr << "scheduler_e2e_bench: the core bench failed: " << result.out << result.err;
    return 0;
  }
  std::cout << "  baseline (same run): " << result.out;
  return std::stod(match[1]);
}

int Run(const Options& options) {
  std::cout << std::unitbuf;  // figures as they come, also into a file
  const std::string root = MakeTempDirectory("kpp-bench-scheduler-").value();
  const std::string data = root + "/data";
  const std::string kubeconfig = data + "/kubeconfig.yaml";
  const std::string scheduler_config = root + "/scheduler.yaml";
  {
    // Upstream's kube-scheduler clientConnection defaults (50/100) would cap binding at 50/s.
    std::ofstream out(scheduler_config);
    out << "apiVersion: kubescheduler.config.k8s.io/v1\n"
           "kind: KubeSchedulerConfiguration\n"
           "clientConnection:\n"
           "  qps: 100000\n"
           "  burst: 100000\n";
  }
  std::cout << fmt::format(
      "scheduler_e2e_bench: {} hollow nodes, {} pods placed first, {} pods measured, density {} "
      "pods, {} creators; {} cpus, load average {:.1f} at start\n",
      options.nodes, options.placed, options.pods, options.density_pods, options.creators,
      std::thread::hardware_concurrency(), LoadAverage());

  testing::Process server;
  std::vector<std::string> server_argv = {
      options.kpp,           "server", "--disable-agent",    "--data-dir",    data,
      "--https-listen-port", "0",      "--scheduler-config", scheduler_config};
  if (options.separate_scheduler) server_argv.push_back("--disable-scheduler");
  // Without the whole manager, still the controllers pods need (the default service account).
  if (!options.controller_manager) {
    server_argv.insert(
        server_argv.end(),
        {"--controllers",
         "serviceaccount,root-ca-cert-publisher,serviceaccount-token,resourcequota"});
  }
  server_argv.insert(server_argv.end(), options.server_args.begin(), options.server_args.end());
  std::string error;
  std::filesystem::create_directories(root + "/server");
  if (!server.Start(server_argv, root + "/server", &error)) Fail(error);
  const auto server_started = Clock::now();
  while (!std::filesystem::exists(kubeconfig)) {
    if (Clock::now() - server_started > 60s || server.Wait(0ms)) {
      Fail("kpp server did not start:\n" + server.Stderr());
    }
    std::this_thread::sleep_for(100ms);
  }
  auto config = client::rest::LoadKubeconfig(kubeconfig);
  if (!config.ok()) Fail(config.error().message());
  config->qps = 0;  // no client-side limit: the creators are the load
  config->user_agent = "kpp-scheduler-e2e-bench";
  auto client = client::rest::RestClient::Create(*config);
  if (!client.ok()) Fail(client.error().message());
  const double server_idle_rss = RssMiB(server.pid());
  std::cout << fmt::format("  kpp server pid {}\n", server.pid()) << std::flush;

  testing::Process hollow;
  std::vector<std::string> hollow_argv = {options.kpp,    "hollow-nodes",
                                          "--kubeconfig", kubeconfig,
                                          "--count",      std::to_string(options.nodes),
                                          "--events",     "false"};
  hollow_argv.insert(hollow_argv.end(), options.hollow_args.begin(), options.hollow_args.end());
  std::filesystem::create_directories(root + "/hollow");
  if (!hollow.Start(hollow_argv, root + "/hollow", &error)) Fail(error);
  const auto hollow_started = Clock::now();
  static const std::regex registered(R"(All \d+ hollow nodes registered in ([0-9.]+)s)");
  std::smatch match;
  while (true) {
    const std::string log = hollow.Stderr() + hollow.Stdout();
    if (std::regex_search(log, match, registered)) break;
    if (hollow.Wait(0ms)) Fail("kpp hollow-nodes exited:\n" + log);
    if (Clock::now() - hollow_started > 900s) Fail("hollow nodes not registered in 15 minutes");
    std::this_thread::sleep_for(200ms);
  }
  std::cout << fmt::format("  {} hollow nodes registered in {} s\n", options.nodes, match[1].str());

  std::unique_ptr<testing::Process> scheduler;
  int scheduler_starts = 0;
  auto start_scheduler = [&] {
    scheduler = std::make_unique<testing::Process>();
    const std::string dir = fmt::format("{}/scheduler-{}", root, ++scheduler_starts);
    std::filesystem::create_directories(dir);
    if (!scheduler->Start({options.kpp, "scheduler", "--kubeconfig", kubeconfig, "--config",
                           scheduler_config, "--leader-elect=false", "--secure-port", "0"},
                          dir, &error)) {
      Fail(error);
    }
  };
  auto stop_scheduler = [&] {
    scheduler->Signal(SIGTERM);
    if (!scheduler->Wait(30s)) scheduler->Signal(SIGKILL);
  };
  if (options.separate_scheduler) start_scheduler();

  const std::string ns = "default";
  client::DynamicResource pods(*client, client::KindFor<api::core::v1::Pod>(), ns);
  auto list = pods.List();
  if (!list.ok()) Fail(list.error().message());
  PodTracker tracker;
  auto watcher = std::make_unique<PodWatcher>(
      *client, ns, std::string(list->at("metadata").at("resourceVersion").as_string()), tracker);

  // The pods placed before: created, then all bound before the measured ones start.
  const auto placed_start = Clock::now();
  CreatePods(*client, ns, "placed-", 0, options.placed, options.creators);
  if (!tracker.WaitBound(static_cast<size_t>(options.placed), 300s)) {
    Fail(fmt::format("only {} of the {} first pods bound in 5 minutes", tracker.bound(),
                     options.placed));
  }
  std::cout << fmt::format("  {} pods placed first in {:.1f} s\n", options.placed,
                           Seconds(Clock::now() - placed_start))
            << std::flush;

  // SchedulingBasic, measured (skipped by --density-only).
  if (options.pods > 0) {
    const double server_cpu0 = ProcessCpuSeconds(server.pid());
    const double hollow_cpu0 = ProcessCpuSeconds(hollow.pid());
    const double bench_cpu0 = ProcessCpuSeconds(getpid());
    const auto start = Clock::now();
    const auto sent = CreatePods(*client, ns, "pod-", 0, options.pods, options.creators);
    const auto created = Clock::now();
    const size_t wanted = static_cast<size_t>(options.placed + options.pods);
    if (!tracker.WaitBound(wanted, 600s)) {
      Fail(fmt::format("only {} of the {} measured pods bound in 10 minutes",
                       tracker.bound() - static_cast<size_t>(options.placed), options.pods));
    }
    std::vector<double> latencies;
    Clock::time_point last_bound = start;
    for (int i = 0; i < options.pods; ++i) {
      auto bound = tracker.BoundAt(fmt::format("pod-{}", i));
      if (!bound) Fail(fmt::format("pod-{} not seen bound", i));
      last_bound = std::max(last_bound, *bound);
      latencies.push_back(Seconds(*bound - sent[static_cast<size_t>(i)]));
    }
    const double elapsed = Seconds(last_bound - start);
    const double server_cpu = ProcessCpuSeconds(server.pid()) - server_cpu0;
    const double hollow_cpu = ProcessCpuSeconds(hollow.pid()) - hollow_cpu0;
    const double bench_cpu = ProcessCpuSeconds(getpid()) - bench_cpu0;
    const double rate = options.pods / elapsed;
    std::cout << fmt::format(
        "SchedulingBasic: {} nodes, {} pods placed first, {} pods created ({:.0f}/s by {} "
        "creators) and scheduled in {:.2f} s (load average {:.1f})\n",
        options.nodes, options.placed, options.pods, options.pods / Seconds(created - start),
        options.creators, elapsed, LoadAverage());
    std::cout << fmt::format(
        "  throughput: {:.0f} pods/s (creation to bound); latency p50 {:.0f} ms, p90 {:.0f} ms, "
        "p99 {:.0f} ms, max {:.0f} ms\n",
        rate, Percentile(latencies, 0.5) * 1000, Percentile(latencies, 0.9) * 1000,
        Percentile(latencies, 0.99) * 1000, Percentile(latencies, 1.0) * 1000);
    std::cout << fmt::format(
        "  CPU during it: server {:.1f} s ({:.0f} us/pod), hollow-nodes {:.1f} s, bench {:.1f} s, "
        "over {:.1f} s of wall time\n",
        server_cpu, server_cpu / options.pods * 1e6, hollow_cpu, bench_cpu, elapsed);
    std::cout << fmt::format(
        "  against: target {:.0f} pods/s: {:.2f}x ({}); upstream CI floor {:.0f}: {:.2f}x; "
        "upstream on a developer machine ~{:.0f}: {:.2f}x\n",
        kTarget, rate / kTarget, rate >= kTarget ? "PASS" : "MISS", kUpstreamCiFloor,
        rate / kUpstreamCiFloor, kUpstreamDeveloperMachine, rate / kUpstreamDeveloperMachine);
    const double baseline = CoreBaseline(options);
    if (baseline > 0) {
      std::cout << fmt::format("  end to end / core alone: {:.2f}x ({:.0f} of {:.0f} pods/s)\n",
                               rate / baseline, rate, baseline);
    }
  }

  if (options.separate_scheduler && options.queued > 0) {
    stop_scheduler();
    const auto queued_start = Clock::now();
    CreatePods(*client, ns, "queued-", 0, options.queued, options.creators);
    const double create_seconds = Seconds(Clock::now() - queued_start);
    const size_t before = tracker.bound();
    const double server_cpu1 = ProcessCpuSeconds(server.pid());
    const auto drain_start = Clock::now();
    start_scheduler();
    if (!tracker.WaitBound(before + static_cast<size_t>(options.queued), 600s)) {
      Fail(fmt::format("only {} of {} queued pods bound in 10 minutes", tracker.bound() - before,
                       options.queued));
    }
    Clock::time_point first = Clock::time_point::max(), last = drain_start;
    for (int i = 0; i < options.queued; ++i) {
      auto bound = tracker.BoundAt(fmt::format("queued-{}", i));
      if (!bound) Fail(fmt::format("queued-{} not seen bound", i));
      first = std::min(first, *bound);
      last = std::max(last, *bound);
    }
    const double drain = Seconds(last - first);
    std::cout << fmt::format(
        "Queued: {} pods created with no scheduler running ({:.0f}/s), then `kpp scheduler` "
        "started: first bound {:.2f} s after its start (informers listed), all {} in {:.2f} s "
        "more: {:.0f} pods/s ({:.2f}x the target; server CPU {:.0f} us/pod; load average "
        "{:.1f})\n",
        options.queued, options.queued / create_seconds, Seconds(first - drain_start),
        options.queued, drain, options.queued / drain, options.queued / drain / kTarget,
        (ProcessCpuSeconds(server.pid()) - server_cpu1) / options.queued * 1e6, LoadAverage());
  }

  // Density: more pods until `density_pods` run on the nodes, then the memory of both processes.
  const int more = options.density_pods - options.placed - options.pods -
                   (options.separate_scheduler ? options.queued : 0);
  if (more > 0) {
    const auto density_start = Clock::now();
    CreatePods(*client, ns, "density-", 0, more, options.creators);
    const double create_seconds = Seconds(Clock::now() - density_start);
    const auto total = static_cast<size_t>(options.density_pods);
    if (!tracker.WaitRunning(total, 1800s)) {
      Fail(fmt::format("only {} of {} pods Running after 30 minutes", tracker.running(), total));
    }
    const double running_seconds = Seconds(Clock::now() - density_start);
    std::this_thread::sleep_for(options.quick ? 2s : 20s);
    const double server_rss = RssMiB(server.pid());
    std::cout << fmt::format(
        "Density: {} nodes, {} pods Running ({} more created at {:.0f}/s, all Running {:.1f} s "
        "after the first; load average {:.1f})\n",
        options.nodes, total, more, more / create_seconds, running_seconds, LoadAverage());
    std::cout << fmt::format(
        "  RSS: kpp server {:.0f} MiB ({:.0f} idle before, {:.0f} at its peak; target < {:.0f}: "
        "{}), kpp hollow-nodes {:.0f} MiB\n",
        server_rss, server_idle_rss, PeakRssMiB(server.pid()), kServerRssTargetMiB,
        server_rss < kServerRssTargetMiB ? "PASS" : "MISS", RssMiB(hollow.pid()));
    // File pages (the SQLite database is read through mmap) count in RSS too.
    std::cout << fmt::format(
        "  kpp server RSS: heap and other anonymous {:.0f} MiB, files {:.0f} MiB\n",
        StatusMiB(server.pid(), "RssAnon:"), StatusMiB(server.pid(), "RssFile:"));
    if (scheduler) {
      std::cout << fmt::format(
          "  RSS of the separate kpp scheduler: {:.0f} MiB ({:.0f} at its peak)\n",
          RssMiB(scheduler->pid()), PeakRssMiB(scheduler->pid()));
    }
  }

  watcher.reset();
  if (scheduler) stop_scheduler();
  hollow.Signal(SIGTERM);
  if (!hollow.Wait(30s)) hollow.Signal(SIGKILL);
  server.Signal(SIGTERM);
  if (!server.Wait(60s)) server.Signal(SIGKILL);
  if (options.keep) {
    std::cout << "logs and data in " << root << "\n";
  } else {
    std::filesystem::remove_all(root);
  }
  return 0;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) Fail(fmt::format("{} needs a value", argv[i]));
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      options.quick = true;
      options.nodes = 50;
      options.placed = 20;
      options.pods = 200;
      options.density_pods = 400;
      options.creators = 4;
    } else if (arg == "--kpp") {
      options.kpp = value(i);
    } else if (arg == "--core-bench") {
      options.core_bench = value(i);
    } else if (arg == "--nodes") {
      options.nodes = std::stoi(value(i));
    } else if (arg == "--placed") {
      options.placed = std::stoi(value(i));
    } else if (arg == "--pods") {
      options.pods = std::stoi(value(i));
    } else if (arg == "--density-pods") {
      options.density_pods = std::stoi(value(i));
    } else if (arg == "--creators") {
      options.creators = std::stoi(value(i));
    } else if (arg == "--server-arg") {
      options.server_args.push_back(value(i));
    } else if (arg == "--hollow-arg") {
      options.hollow_args.push_back(value(i));
    } else if (arg == "--controller-manager") {
      options.controller_manager = true;
    } else if (arg == "--separate-scheduler") {
      options.separate_scheduler = true;
    } else if (arg == "--queued") {
      options.queued = std::stoi(value(i));
    } else if (arg == "--density-only") {
      // Density alone: no SchedulingBasic (nor the core bench), the same 50,000 pods in the end.
      options.pods = 0;
    } else if (arg == "--keep") {
      options.keep = true;
    } else {
      Fail("unknown argument " + arg);
    }
  }
  return options;
}

}  // namespace
}  // namespace kpp::bench

int main(int argc, char** argv) {
  return kpp::bench::Run(kpp::bench::ParseOptions(argc, argv));
}
