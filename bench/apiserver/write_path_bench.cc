// bench/apiserver/write_path_bench: the API server's CPU time per request on the writes a
// scheduled pod goes through: its create, its binding (as system:kube-scheduler), the kubelet's
// status patch and a Lease renewal (as system:node:bench-node). Requests go in process through
// ApiServer::HandleAs, so they are authenticated, authorized, audited, admitted (the default
// plugins), given managedFields, stored (SQLite) and fed to the watch cache as over HTTPS, but
// skip TLS and HTTP. Each figure is the CPU time per request, which the end-to-end scheduler
// bench (three processes sharing two cores) cannot show below ~10%. Requests come from
// --clients threads at once (8 by default), as a busy server gets them: its store commits
// writes in groups, so one fsync is shared as it is there.
// Baseline, in the same run: the store's own create and update of the same stored bytes, from
// as many threads.
//
//   write_path_bench [--quick] [--pods N] [--clients N]
//
// CPU time is the whole process's (user + system, all threads: the store's commits and the
// watch cache's feeder included), per request. --quick runs 50 pods (the smoke test).
#include <fmt/format.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "apiserver/admission/admission.h"
#include "apiserver/apiserver.h"
#include "apiserver/encryption/encrypted_store.h"
#include "base/files.h"
#include "pki/certificates.h"
#include "storage/sqlite/sqlite_store.h"
#include "support/subprocess.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;

[[noreturn]] void Fail(const std::string& what) {
  std::cerr << "write_path_bench: " << what << std::endl;
  std::exit(1);
}

struct Cost {
  double cpu_us = 0;   // per operation
  double wall_us = 0;  // per operation
};

// Runs `operation(i)` for i in [0, count) from `threads` threads and answers its cost per call.
Cost Measure(int count, int threads, const std::function<void(int)>& operation) {
  const double cpu_before = testing::OwnCpuSeconds();
  const auto wall_before = std::chrono::steady_clock::now();
  std::atomic<int> next = 0;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = next++; i < count; i = next++)
        operation(i);
    });
  }
  for (auto& worker : workers)
    worker.join();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  return {(testing::OwnCpuSeconds() - cpu_before) * 1e6 / count, wall * 1e6 / count};
}

const http::ClientCertificate kAdmin{"bench-admin", {"system:masters"}};
const http::ClientCertificate kScheduler{"system:kube-scheduler", {}};

// The nodes pods are bound to: one per client thread, each with its Lease.
std::string NodeName(int node) {
  return fmt::format("bench-node-{}", node);
}
http::ClientCertificate NodeUser(int node) {
  return {"system:node:" + NodeName(node), {"system:nodes"}};
}

// A pod as the scheduler bench creates it: one container with requests, labels, a toleration.
std::string PodJson(int i) {
  return fmt::format(
      R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"pod-{}","namespace":"default",)"
      R"("labels":{{"app":"bench","group":"g{}"}}}},"spec":{{"containers":[{{"name":"app",)"
      R"("image":"registry.k8s.io/pause:3.9","resources":{{"requests":{{"cpu":"100m",)"
      R"("memory":"128Mi"}},"limits":{{"cpu":"200m","memory":"256Mi"}}}},"ports":[{{)"
      R"("containerPort":8080,"protocol":"TCP"}}]}}],"tolerations":[{{"key":"bench",)"
      R"("operator":"Exists","effect":"NoSchedule"}}]}}}})",
      i, i % 10);
}

// The status a hollow node (as a kubelet) reports for a pod it started: a merge patch.
std::string StatusPatch(std::string_view now) {
  return fmt::format(
      R"({{"status":{{"phase":"Running","hostIP":"10.0.0.1","hostIPs":[{{"ip":"10.0.0.1"}}],)"
      R"("podIP":"10.244.0.9","podIPs":[{{"ip":"10.244.0.9"}}],"startTime":"{0}",)"
      R"("conditions":[{{"type":"PodReadyToStartContainers","status":"True",)"
      R"("lastProbeTime":null,"lastTransitionTime":"{0}"}},{{"type":"Initialized",)"
      R"("status":"True","lastProbeTime":null,"lastTransitionTime":"{0}"}},{{"type":"Ready",)"
      R"("status":"True","lastProbeTime":null,"lastTransitionTime":"{0}"}},)"
      R"({{"type":"ContainersReady","status":"True","lastProbeTime":null,)"
      R"("lastTransitionTime":"{0}"}},{{"type":"PodScheduled","status":"True",)"
      R"("lastProbeTime":null,"lastTransitionTime":"{0}"}}],"containerStatuses":[{{)"
      R"("name":"app","state":{{"running":{{"startedAt":"{0}"}}}},"lastState":{{}},"ready":true,)"
      R"("restartCount":0,"image":"registry.k8s.io/pause:3.9","imageID":"sha256:e6f1816883972d)"
      R"(4be47bd48879a08919b96afcd344132622e4d444987919323c","containerID":"containerd://0001",)"
      R"("started":true}}],"qosClass":"Burstable"}}}})",
      now);
}

std::string LeaseJson(const std::string& node, std::string_view resource_version, int renewal) {
  return fmt::format(
      R"({{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{{"name":"{}",)"
      R"("namespace":"kube-node-lease"{}}},"spec":{{"holderIdentity":"{}",)"
      R"("leaseDurationSeconds":40,"renewTime":"2026-01-01T00:00:{:02}.{:06}Z"}}}})",
      node,
      resource_version.empty() ? "" : fmt::format(R"(,"resourceVersion":"{}")", resource_version),
      node, renewal / 1000000 % 60, renewal % 1000000);
}

std::string BindingJson(int pod, const std::string& node) {
  return fmt::format(R"({{"apiVersion":"v1","kind":"Binding","metadata":{{"name":"pod-{}"}},)"
                     R"("target":{{"kind":"Node","name":"{}"}}}})",
                     pod, node);
}

constexpr char kPods[] = "/api/v1/namespaces/default/pods";
constexpr char kLeases[] = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";
constexpr char kNow[] = "2026-01-01T00:00:00Z";
constexpr int kLeaseHolders = 256;

class Bench {
 public:
  Bench(int pods, int clients) : pods_(pods), clients_(clients) {}

  void Run() {
    Start();
    for (int node = 0; node < clients_; ++node) {
      Expect(Send(kAdmin, "POST", "/api/v1/nodes",
                  fmt::format(R"({{"apiVersion":"v1","kind":"Node","metadata":{{"name":"{}"}}}})",
                              NodeName(node))),
             201, "node create");
    }
    // What the service account controller of `kpp server` makes.
    Expect(Send(kAdmin, "POST", "/api/v1/namespaces/default/serviceaccounts",
                R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}})"),
           201, "service account create");
    // Warm the paths (first requests fill caches and the authorizer's views).
    for (int i = 0; i < 20; ++i)
      PodWrites(1000000 + i);

    const Cost create = Measure(pods_, clients_, [&](int i) {
      Expect(Send(kAdmin, "POST", kPods, PodJson(i)), 201, "pod create");
    });
    const Cost bind = Measure(pods_, clients_, [&](int i) {
      Expect(Send(kScheduler, "POST", fmt::format("{}/pod-{}/binding", kPods, i),
                  BindingJson(i, NodeName(i % clients_))),
             201, "binding");
    });
    const Cost status = Measure(pods_, clients_, [&](int i) {
      Expect(Send(NodeUser(i % clients_), "PATCH", fmt::format("{}/pod-{}/status", kPods, i),
                  StatusPatch(kNow), "application/merge-patch+json"),
             200, "status patch");
    });
    // Each of kLeaseHolders nodes renews its own Lease in turn, as kubelets do, far apart
    // enough that the watch cache has each Lease's last renewal when the next comes.
    std::vector<std::string> lease_versions(kLeaseHolders);
    std::vector<std::mutex> lease_mutexes(kLeaseHolders);
    for (int node = 0; node < kLeaseHolders; ++node) {
      auto created = Send(NodeUser(node), "POST", kLeases, LeaseJson(NodeName(node), "", 0));
      Expect(created, 201, "lease create");
      lease_versions[node] = ResourceVersionOf(created.body);
    }
    const Cost lease = Measure(pods_, clients_, [&](int i) {
      const int node = i % kLeaseHolders;
      std::lock_guard lock(lease_mutexes[node]);
      auto renewed = Send(NodeUser(node), "PUT", fmt::format("{}/{}", kLeases, NodeName(node)),
                          LeaseJson(NodeName(node), lease_versions[node], i + 1));
      Expect(renewed, 200, "lease renewal");
      lease_versions[node] = ResourceVersionOf(renewed.body);
    });

    // The baseline: the store alone writing the bytes a running pod is stored as.
    auto stored = raw_store_->Range({.key = "/registry/core/pods/default/pod-0"});
    if (!stored.ok() || stored->kvs.empty()) Fail("cannot read the stored pod back");
    const std::string value = stored->kvs.front().value;
    std::vector<int64_t> revisions(pods_);
    const Cost store_create = Measure(pods_, clients_, [&](int i) {
      auto written = store_->Create(fmt::format("/registry/bench/pod-{}", i), value, 0);
      if (!written.ok()) Fail("store create: " + written.error().message());
      revisions[i] = written->mod_revision;
    });
    const Cost store_update = Measure(pods_, clients_, [&](int i) {
      auto written =
          store_->Update(fmt::format("/registry/bench/pod-{}", i), value, revisions[i], 0);
      if (!written.ok()) Fail("store update: " + written.error().message());
    });

    std::cout << fmt::format(
        "write_path_bench: {} pods from {} client threads, in process (no TLS/HTTP); a running "
        "pod is stored in {} bytes\n",
        pods_, clients_, value.size());
    Print("pod create", create, store_create, "store create");
    Print("pods/binding", bind, store_update, "store update");
    Print("pods/status merge patch", status, store_update, "store update");
    Print("Lease renewal (PUT)", lease, store_update, "store update");
    const double total = create.cpu_us + bind.cpu_us + status.cpu_us;
    const double store_total = store_create.cpu_us + 2 * store_update.cpu_us;
    std::cout << fmt::format(
        "  a pod's three writes: {:.0f} us of CPU (create + binding + status patch), against "
        "{:.0f} us for the store's own three writes: {:.1f}x\n",
        total, store_total, total / store_total);
    server_->Stop();
    server_.reset();
    store_.reset();
    RemoveAll(dir_);
  }

 private:
  void Start() {
    auto dir = MakeTempDirectory("kpp-write-path-bench-");
    if (!dir.ok()) Fail(dir.error().message());
    dir_ = *dir;
    auto ca = pki::GenerateCa("bench-ca", 24h);
    if (!ca.ok()) Fail(ca.error().message());
    auto serving =
        pki::IssueCertificate(*ca, {.common_name = "server", .ip_addresses = {"127.0.0.1"}});
    if (!serving.ok()) Fail(serving.error().message());
    auto opened = storage::OpenSqliteStore({.dir = dir_ + "/db"});
    if (!opened.ok()) Fail(opened.error().message());
    raw_store_ = opened->get();
    auto store = apiserver::encryption::WrapWithEncryption(std::move(opened).value(), "", dir_);
    if (!store.ok()) Fail(store.error().message());
    store_ = std::move(store).value();
    apiserver::ApiServerOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.tls = {serving->certificate_pem, serving->private_key_pem, ca->certificate_pem};
    options.store = store_.get();
    options.service_account_key_file = dir_ + "/sa.key";
    options.admission_plugins = apiserver::admission::DefaultEnabledPlugins();
    auto server = apiserver::ApiServer::Start(options);
    if (!server.ok()) Fail(server.error().message());
    server_ = std::move(server).value();
  }

  // One pod through its three writes, outside the measured phases.
  void PodWrites(int i) {
    Expect(Send(kAdmin, "POST", kPods, PodJson(i)), 201, "warm-up create");
    Expect(Send(kScheduler, "POST", fmt::format("{}/pod-{}/binding", kPods, i),
                BindingJson(i, NodeName(0))),
           201, "warm-up binding");
    Expect(Send(NodeUser(0), "PATCH", fmt::format("{}/pod-{}/status", kPods, i), StatusPatch(kNow),
                "application/merge-patch+json"),
           200, "warm-up status patch");
  }

  http::Response Send(const http::ClientCertificate& user, std::string method, std::string path,
                      std::string body, std::string content_type = "application/json") {
    http::Request request =
        http::Request::LocalJson(std::move(method), std::move(path), std::move(body));
    request.headers.front().value = std::move(content_type);
    return server_->HandleAs(user, std::move(request));
  }

  static void Expect(const http::Response& response, int status, std::string_view what) {
    if (response.status != status) {
      Fail(fmt::format("{}: status {} (expected {}): {}", what, response.status, status,
                       response.body));
    }
  }

  static std::string ResourceVersionOf(const std::string& body) {
    auto parsed = boost::json::parse(body);
    return std::string(parsed.at("metadata").at("resourceVersion").as_string());
  }

  static void Print(std::string_view name, const Cost& cost, const Cost& baseline,
                    std::string_view baseline_name) {
    std::cout << fmt::format(
        "  {}: {:.0f} us of CPU per request (wall {:.0f} us); {:.1f}x the {} of the same bytes "
        "({:.0f} us)\n",
        name, cost.cpu_us, cost.wall_us, cost.cpu_us / baseline.cpu_us, baseline_name,
        baseline.cpu_us);
  }

  const int pods_;
  const int clients_;
  std::string dir_;
  storage::Store* raw_store_ = nullptr;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<apiserver::ApiServer> server_;
};

}  // namespace
}  // namespace kpp

int main(int argc, char** argv) {
  int pods = 4000;
  int clients = 8;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      pods = 50;
    } else if (arg == "--pods" && i + 1 < argc) {
      pods = std::atoi(argv[++i]);
    } else if (arg == "--clients" && i + 1 < argc) {
      clients = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: write_path_bench [--quick] [--pods N] [--clients N]\n";
      return 2;
    }
  }
  if (pods <= 0 || clients <= 0) {
    std::cerr << "write_path_bench: --pods and --clients must be positive\n";
    return 2;
  }
  kpp::Bench(pods, clients).Run();
  return 0;
}
