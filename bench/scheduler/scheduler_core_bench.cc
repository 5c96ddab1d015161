// How fast the scheduler core places pods: 5,000 nodes (4 cpu, 16Gi, 110 pods), 1,000 pods
// already placed, then 10,000 pods each taken through a full cycle (snapshot update, PreFilter,
// Filter on percentageOfNodesToScore's share of the nodes, Score, assume in the cache). No API
// server: this is the ceiling the end-to-end figure can reach. --quick: 200 nodes, 500 pods.
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <memory>

#include "scheduler/cache/cache.h"
#include "scheduler/plugins/registry.h"
#include "scheduler/schedule_one.h"

namespace kpp::scheduler {
namespace {

class BenchHandle : public Handle {
 public:
  const Snapshot& snapshot() const override { return snapshot_; }
  std::shared_ptr<client::rest::RestClient> client() const override { return nullptr; }
  Snapshot snapshot_;
};

NodePtr MakeNode(int i) {
  auto node = std::make_shared<Node>();
  node->metadata.name = fmt::format("hollow-{:05}", i);
  node->metadata.labels["kubernetes.io/hostname"] = node->metadata.name;
  node->metadata.labels["topology.kubernetes.io/zone"] = fmt::format("zone-{}", i % 3);
  node->status.allocatable = {{"cpu", {"4"}}, {"memory", {"16Gi"}}, {"pods", {"110"}}};
  node->status.capacity = node->status.allocatable;
  return node;
}

PodPtr MakePod(const std::string& name, const std::string& node = "") {
  auto pod = std::make_shared<Pod>();
  pod->metadata.name = name;
  pod->metadata.namespace_ = "default";
  pod->metadata.uid = "uid-" + name;
  api::core::v1::Container container;
  container.name = "c";
  container.image = "registry.k8s.io/pause:3.10";
  container.resources.requests = {{"cpu", {"100m"}}, {"memory", {"128Mi"}}};
  pod->spec.containers.push_back(container);
  pod->spec.node_name = node;
  return pod;
}

int Run(bool quick) {
  const int nodes = quick ? 200 : 5000;
  const int existing = quick ? 100 : 1000;
  const int pods = quick ? 500 : 10000;
  BenchHandle handle;
  auto framework = Framework::Create(ProfileConfig{}, plugins::InTreeRegistry(), &handle);
  if (!framework.ok()) {
    fmt::print(stderr, "{}\n", framework.error().message());
    return 1;
  }
  Cache cache;
  for (int i = 0; i < nodes; ++i)
    cache.AddNode(MakeNode(i));
  for (int i = 0; i < existing; ++i) {
    cache.AddPod(MakePod(fmt::format("existing-{}", i), fmt::format("hollow-{:05}", i % nodes)));
  }
  Parallelizer parallelizer;
  ScheduleAlgorithm algorithm(parallelizer);
  // Pods are built before the clock starts: the informer hands them over decoded.
  std::vector<PodPtr> pending;
  for (int i = 0; i < pods; ++i)
    pending.push_back(MakePod(fmt::format("pod-{}", i)));
  std::vector<double> latencies;
  latencies.reserve(pending.size());
  const auto start = std::chrono::steady_clock::now();
  int placed = 0;
  for (const auto& pod : pending) {
    const auto cycle_start = std::chrono::steady_clock::now();
    cache.UpdateSnapshot(handle.snapshot_);
    CycleState state;
    ScheduleResult result;
    FitError fit;
    std::string error;
    PodInfo info(pod);
    if (algorithm.SchedulePod(**framework, state, info, handle.snapshot_, result, fit, error) !=
        ScheduleOutcome::kScheduled) {
      fmt::print(stderr, "{} not placed: {}{}\n", pod->metadata.name, fit.Message(), error);
      return 1;
    }
    auto assumed = std::make_shared<Pod>(*pod);
    assumed->spec.node_name = result.suggested_host;
    if (!cache.AssumePod(std::make_shared<const PodInfo>(std::move(assumed))).ok()) return 1;
    ++placed;
    latencies.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - cycle_start).count());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  const double p99 = latencies[static_cast<size_t>(static_cast<double>(latencies.size()) * 0.99)];
  fmt::print(
      "scheduler core: {} nodes, {} pods placed before, {} pods scheduled in {:.2f} s: "
      "{:.0f} pods/s, cycle p50 {:.2f} ms, p99 {:.2f} ms ({} filter threads)\n",
      nodes, existing, placed, seconds, placed / seconds, latencies[latencies.size() / 2] * 1000,
      p99 * 1000, parallelizer.workers() + 1);
  return 0;
}

}  // namespace
}  // namespace kpp::scheduler

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  return kpp::scheduler::Run(quick);
}
