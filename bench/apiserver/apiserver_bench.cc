// bench/apiserver: a load generator for one `kpp server --disable-agent` it starts itself (the
// kpp binary of the build, a temp data dir, a free loopback port). It speaks HTTPS/1.1 with the
// admin client certificate, many keep-alive connections on one event loop, and measures:
//   - start to /readyz 200 (first start, which makes the PKI, and a restart) and the idle RSS;
//   - GET of one ConfigMap by 50 clients against GET /version, in alternating rounds;
//   - ConfigMap creates by 50 clients (as fast as they go), then at a fixed 1,000/s;
//   - LIST of 10,000 pods, with resourceVersion=0 and without, and RSS growth per pod against
//     the pods' JSON size;
//   - 1,000 watchers of one resource: from the start of a write to its event at each watcher;
// then prints every figure with its target, PASS or MISS. Client and server share the machine:
// the CPU time of each and the load average are printed to judge the figures by.
//
//   apiserver_bench [--quick] [--kpp PATH] [--client-threads N] [--pods N] [--list-repeats N]
//                   [--watchers N] [--server-arg ARG]... [--auth-cost ROUNDS]
//
// --auth-cost ROUNDS measures only what authentication and authorization cost a GET: rounds
// alternate between the admin's client certificate and a ServiceAccount token (TokenRequest)
// granted the GET by a RoleBinding, on one server; the target is the median of the round pairs'
// rate ratios (one noisy spell of a shared machine moves one pair, not the median).
// --server-arg passes ARG on to `kpp server` (e.g. --audit-log-path to measure the audit log).
// --quick runs every phase with small counts (the smoke test uses it, to keep the program
// building and running); its numbers mean little.
//
// Beast/Asio are heavy to compile: keep this program in this one translation unit.
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/files.h"
#include "support/subprocess.h"

namespace kpp::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Stream = ssl::stream<beast::tcp_stream>;
using testing::OwnCpuSeconds;
using testing::ProcessCpuSeconds;

struct Sizes {
  int clients;                   // concurrent keep-alive connections of the load phases
  int get_rounds;                // rounds of (GET /version, GET configmap), alternating
  Clock::duration get_round;     // length of each half-round
  Clock::duration create_burst;  // creates as fast as the clients go
  int paced_create_rate;         // creates per second of the paced phase
  Clock::duration paced_create;  // its length
  int pods;
  int list_repeats;  // LISTs of each kind
  int watchers;
  int watched_writes;
  int watched_writes_per_second;
};

constexpr Sizes kFullSizes{.clients = 50,
                           .get_rounds = 3,
                           .get_round = 3s,
                           .create_burst = 10s,
                           .paced_create_rate = 1000,
                           .paced_create = 10s,
                           .pods = 10000,
                           .list_repeats = 20,
                           .watchers = 1000,
                           .watched_writes = 50,
                           .watched_writes_per_second = 5};
constexpr Sizes kQuickSizes{.clients = 5,
                            .get_rounds = 1,
                            .get_round = 200ms,
                            .create_burst = 300ms,
                            .paced_create_rate = 100,
                            .paced_create = 300ms,
                            .pods = 100,
                            .list_repeats = 2,
                            .watchers = 20,
                            .watched_writes = 5,
                            .watched_writes_per_second = 20};

double Milliseconds(Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}
double Seconds(Clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

[[noreturn]] void Fail(const std::string& what) {
  std::cerr << "apiserver_bench: " << what << std::endl;
  std::exit(1);
}

// Resident set size in MiB, from /proc/<pid>/status.
double RssMiB(pid_t pid) {
  auto status = ReadFile(fmt::format("/proc/{}/status", pid));
  if (!status.ok()) return 0;
  const auto at = status->find("VmRSS:");
  if (at == std::string::npos) return 0;
  return std::stod(status->substr(at + 6)) / 1024;
}

std::string LoadAverage() {
  auto content = ReadFile("/proc/loadavg");
  if (!content.ok()) return "?";
  return content->substr(0, content->find(' '));
}

uint16_t FreeLoopbackPort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

// ---------------------------------------------------------------------------------------------
// The server under test.

class ServerUnderTest {
 public:
  ServerUnderTest(std::string kpp, std::string root, std::vector<std::string> extra_args = {})
      : kpp_(std::move(kpp)),
        root_(std::move(root)),
        data_dir_(root_ + "/data"),
        extra_args_(std::move(extra_args)) {}

  // Starts the server and returns the time from spawning it to its first /readyz 200.
  Clock::duration Start() {
    port_ = FreeLoopbackPort();
    const std::string log_dir = fmt::format("{}/run-{}", root_, ++starts_);
    if (auto status = EnsureWritableDirectory(log_dir, 0755); !status.ok()) {
      Fail(status.error().message());
    }
    process_ = std::make_unique<testing::Process>();
    std::string error;
    const auto began = Clock::now();
    std::vector<std::string> args = {kpp_,
                                     "server",
                                     "--data-dir",
                                     data_dir_,
                                     "--bind-address",
                                     "127.0.0.1",
                                     "--https-listen-port",
                                     std::to_string(port_),
                                     "--disable-agent"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    if (!process_->Start(args, log_dir, &error)) {
      Fail(error);
    }
    // /readyz is public: ask it without a client certificate, and without verifying the serving
    // one, which the first start is still making.
    ssl::context tls(ssl::context::tls_client);
    tls.set_verify_mode(ssl::verify_none);
    while (Clock::now() - began < 30s) {
      if (ReadyzAnswersOk(tls)) return Clock::now() - began;
      if (process_->Wait(0ms)) {
        Fail(fmt::format("kpp server exited with status {} before ready:\n{}",
                         process_->exit_code(), process_->Stderr()));
      }
      std::this_thread::sleep_for(2ms);
    }
    Fail("kpp server not ready after 30 s:\n" + process_->Stderr());
  }

  void Stop() {
    process_->Signal(SIGTERM);
    if (!process_->Wait(15s)) Fail("kpp server did not stop within 15 s");
    if (process_->exit_code() != 0) {
      Fail(fmt::format("kpp server exited with status {}:\n{}", process_->exit_code(),
                       process_->Stderr()));
    }
  }

  pid_t pid() const { return process_->pid(); }
  uint16_t port() const { return port_; }
  std::string tls_dir() const { return data_dir_ + "/tls"; }

 private:
  bool ReadyzAnswersOk(ssl::context& tls) const {
    asio::io_context io;
    Stream stream(io, tls);
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).socket().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    if (ec) return false;
    if (stream.handshake(ssl::stream_base::client, ec); ec) return false;
    bhttp::request<bhttp::empty_body> request(bhttp::verb::get, "/readyz", 11);
    request.set(bhttp::field::host, "127.0.0.1");
    if (bhttp::write(stream, request, ec); ec) return false;
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    if (bhttp::read(stream, buffer, response, ec); ec) return false;
    return response.result_int() == 200;
  }

  std::string kpp_;
  std::string root_;
  std::string data_dir_;
  std::vector<std::string> extra_args_;  // --server-arg
  std::unique_ptr<testing::Process> process_;
  uint16_t port_ = 0;
  int starts_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Clients.

struct Call {
  bhttp::verb method = bhttp::verb::get;
  std::string target;
  std::string body;
  std::string bearer_token;  // sent as Authorization: Bearer (with a connection without a cert)
};

using Response = bhttp::response<bhttp::string_body>;

bhttp::request<bhttp::string_body> MakeRequest(const Call& call) {
  bhttp::request<bhttp::string_body> request(call.method, call.target, 11);
  request.set(bhttp::field::host, "127.0.0.1");
  request.set(bhttp::field::accept, "application/json");
  request.set(bhttp::field::user_agent, "kpp-apiserver-bench");
  if (!call.bearer_token.empty()) {
    request.set(bhttp::field::authorization, "Bearer " + call.bearer_token);
  }
  if (!call.body.empty()) {
    request.set(bhttp::field::content_type, "application/json");
    request.body() = call.body;
  }
  request.keep_alive(true);
  request.prepare_payload();
  return request;
}

// One keep-alive HTTPS connection with the admin certificate.
class Connection {
 public:
  Connection(asio::any_io_executor executor, ssl::context& tls) : stream_(executor, tls) {}

  asio::awaitable<void> Open(uint16_t port) {
    co_await beast::get_lowest_layer(stream_).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
    beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true));
    co_await stream_.async_handshake(ssl::stream_base::client, asio::use_awaitable);
  }

  asio::awaitable<Response> Exchange(const Call& call) {
    auto request = MakeRequest(call);
    co_await bhttp::async_write(stream_, request, asio::use_awaitable);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);  // LISTs of 10,000 pods are tens of MB
    co_await bhttp::async_read(stream_, buffer_, parser, asio::use_awaitable);
    co_return parser.release();
  }

  Stream& stream() { return stream_; }
  beast::flat_buffer& buffer() { return buffer_; }

 private:
  Stream stream_;
  beast::flat_buffer buffer_;
};

// With `certificate` false the connection shows no client certificate: its requests
// authenticate by their bearer token alone.
ssl::context AdminTls(const std::string& tls_dir, bool certificate = true) {
  ssl::context tls(ssl::context::tls_client);
  tls.load_verify_file(tls_dir + "/ca.crt");
  if (certificate) {
    tls.use_certificate_chain_file(tls_dir + "/admin.crt");
    tls.use_private_key_file(tls_dir + "/admin.key", ssl::context::pem);
  }
  tls.set_verify_mode(ssl::verify_peer);
  return tls;
}

// Figures of one phase.
struct Figures {
  int64_t requests = 0;
  int64_t failures = 0;  // answers with another status than expected
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double server_cpu_seconds = 0;
  double bench_cpu_seconds = 0;
  double wall_seconds = 0;
};

struct Sample {
  std::vector<Clock::duration> latencies;
  Clock::duration wall{0};
  int64_t failures = 0;
  double server_cpu_seconds = 0;
  double bench_cpu_seconds = 0;

  void Add(const Sample& other) {
    latencies.insert(latencies.end(), other.latencies.begin(), other.latencies.end());
    wall += other.wall;
    failures += other.failures;
    server_cpu_seconds += other.server_cpu_seconds;
    bench_cpu_seconds += other.bench_cpu_seconds;
  }

  Figures Summary() const {
    Figures figures;
    figures.requests = static_cast<int64_t>(latencies.size());
    figures.failures = failures;
    figures.server_cpu_seconds = server_cpu_seconds;
    figures.bench_cpu_seconds = bench_cpu_seconds;
    figures.wall_seconds = Seconds(wall);
    if (latencies.empty()) return figures;
    auto sorted = latencies;
    std::sort(sorted.begin(), sorted.end());
    auto percentile = [&](double p) {
      return Milliseconds(
          sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()))]);
    };
    figures.p50_ms = percentile(0.50);
    figures.p99_ms = percentile(0.99);
    figures.max_ms = Milliseconds(sorted.back());
    figures.per_second = sorted.size() / Seconds(wall);
    return figures;
  }
};

// Runs `threads` threads on `io` until it has no more work.
void RunOn(asio::io_context& io, int threads) {
  std::vector<std::thread> others;
  for (int i = 1; i < threads; ++i)
    others.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : others)
    thread.join();
}

class Client {
 public:
  Client(uint16_t port, const std::string& tls_dir, pid_t server_pid, int threads,
         bool certificate = true)
      : port_(port),
        tls_(AdminTls(tls_dir, certificate)),
        server_pid_(server_pid),
        threads_(threads) {}

  // One request on a connection of its own, for setting things up.
  Response Once(const Call& call) {
    asio::io_context io;
    Response response;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          Connection connection(co_await asio::this_coro::executor, tls_);
          co_await connection.Open(port_);
          response = co_await connection.Exchange(call);
        },
        [](std::exception_ptr error) {
          if (error) std::rethrow_exception(error);
        });
    io.run();
    return response;
  }

  // `connections` clients, each sending make(n) for the next request number n and waiting for
  // its answer, until `count` requests were sent or `duration` is over. With a `rate`, request n
  // is due at start + n/rate, and its latency counts from then (a late start is the server's).
  Sample Load(int connections, const std::function<Call(int64_t)>& make, int expected_status,
              std::optional<int64_t> count, std::optional<Clock::duration> duration,
              double rate = 0) {
    asio::io_context io(threads_);
    std::vector<std::unique_ptr<Connection>> pool;
    for (int i = 0; i < connections; ++i) {
      pool.push_back(std::make_unique<Connection>(io.get_executor(), tls_));
      asio::co_spawn(io, pool.back()->Open(port_), Rethrow);
    }
    RunOn(io, threads_);
    io.restart();

    std::atomic<int64_t> next{0};
    std::atomic<int64_t> failures{0};
    std::atomic<bool> reported{false};
    std::vector<std::vector<Clock::duration>> latencies(connections);
    const double server_cpu = ProcessCpuSeconds(server_pid_);
    const double bench_cpu = OwnCpuSeconds();
    const auto began = Clock::now();
    const auto end = duration ? began + *duration : Clock::time_point::max();
    for (int c = 0; c < connections; ++c) {
      asio::co_spawn(
          io,
          [&, c]() -> asio::awaitable<void> {
            asio::steady_timer timer(co_await asio::this_coro::executor);
            while (true) {
              const int64_t n = next.fetch_add(1);
              if (count && n >= *count) break;
              auto due = Clock::now();
              if (rate > 0) {
                due = began + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(n / rate));
                if (due >= end) break;
                timer.expires_at(due);
                co_await timer.async_wait(asio::use_awaitable);
              } else if (due >= end) {
                break;
              }
              const Call call = make(n);
              Response response = co_await pool[c]->Exchange(call);
              latencies[c].push_back(Clock::now() - due);
              if (static_cast<int>(response.result_int()) != expected_status) {
                ++failures;
                if (!reported.exchange(true)) {
                  std::cerr << fmt::format("apiserver_bench: {} {} answered {}: {}\n",
                                           std::string(bhttp::to_string(call.method)), call.target,
                                           response.result_int(), response.body().substr(0, 300));
                }
              }
            }
          },
          Rethrow);
    }
    RunOn(io, threads_);
    Sample sample;
    sample.wall = Clock::now() - began;
    sample.server_cpu_seconds = ProcessCpuSeconds(server_pid_) - server_cpu;
    sample.bench_cpu_seconds = OwnCpuSeconds() - bench_cpu;
    sample.failures = failures;
    for (const auto& some : latencies)
      sample.latencies.insert(sample.latencies.end(), some.begin(), some.end());
    return sample;
  }

  // `watchers` watch connections on `watch_target`; once all have their response head, `write`
  // is called for every one of `writes` writes at `writes_per_second`; each watcher looks in its
  // events for the marker "<name_prefix><6 digits>" that names the write. Returns the time from
  // the start of each write to its event at each watcher, and how many never arrived.
  struct WatchResult {
    Sample sample;
    int64_t missing = 0;
    Clock::duration connect_time{0};
  };
  WatchResult Watch(int watchers, const std::string& watch_target, const std::string& name_prefix,
                    int writes, int writes_per_second, const std::function<Call(int)>& write) {
    asio::io_context io(threads_);
    std::atomic<int> ready{0};
    std::atomic<bool> stop{false};
    std::vector<std::vector<Clock::time_point>> arrivals(
        watchers, std::vector<Clock::time_point>(writes, Clock::time_point::min()));
    std::vector<std::unique_ptr<Connection>> pool;
    const auto connect_began = Clock::now();
    for (int w = 0; w < watchers; ++w) {
      pool.push_back(std::make_unique<Connection>(io.get_executor(), tls_));
      asio::co_spawn(
          io,
          [&, w]() -> asio::awaitable<void> {
            Connection& connection = *pool[w];
            co_await connection.Open(port_);
            auto request = MakeRequest({.target = watch_target});
            co_await bhttp::async_write(connection.stream(), request, asio::use_awaitable);
            bhttp::response_parser<bhttp::string_body> parser;
            parser.body_limit(boost::none);
            std::string pending;
            int received = 0;
            auto on_chunk = [&](std::uint64_t, std::string_view piece,
                                boost::system::error_code&) -> std::size_t {
              const auto now = Clock::now();
              pending.append(piece);
              std::size_t line_end;
              while ((line_end = pending.find('\n')) != std::string::npos) {
                const std::string_view line(pending.data(), line_end);
                if (const auto at = line.find(name_prefix); at != std::string_view::npos) {
                  const int n = std::atoi(line.substr(at + name_prefix.size(), 6).data());
                  if (n >= 0 && n < writes && arrivals[w][n] == Clock::time_point::min()) {
                    arrivals[w][n] = now;
                    ++received;
                  }
                }
                pending.erase(0, line_end + 1);
              }
              return piece.size();
            };
            parser.on_chunk_body(on_chunk);
            co_await bhttp::async_read_header(connection.stream(), connection.buffer(), parser,
                                              asio::use_awaitable);
            if (parser.get().result_int() != 200) {
              Fail(fmt::format("watch answered {}", parser.get().result_int()));
            }
            ++ready;
            while (received < writes && !stop && !parser.is_done()) {
              boost::system::error_code ec;
              co_await bhttp::async_read_some(connection.stream(), connection.buffer(), parser,
                                              asio::redirect_error(asio::use_awaitable, ec));
              if (ec) break;
            }
            beast::get_lowest_layer(connection.stream()).close();
          },
          Rethrow);
    }
    std::vector<std::thread> loop;
    for (int i = 0; i < threads_; ++i)
      loop.emplace_back([&io] { io.run(); });
    while (ready < watchers) {
      if (Clock::now() - connect_began > 120s) Fail("watchers did not all connect in 120 s");
      std::this_thread::sleep_for(1ms);
    }
    WatchResult result;
    result.connect_time = Clock::now() - connect_began;
    std::this_thread::sleep_for(200ms);  // let the server's streams settle

    const double server_cpu = ProcessCpuSeconds(server_pid_);
    const double bench_cpu = OwnCpuSeconds();
    std::vector<Clock::time_point> starts(writes);
    asio::io_context writer_io;
    asio::co_spawn(
        writer_io,
        [&]() -> asio::awaitable<void> {
          Connection connection(co_await asio::this_coro::executor, tls_);
          co_await connection.Open(port_);
          asio::steady_timer timer(co_await asio::this_coro::executor);
          const auto interval = std::chrono::nanoseconds(1s) / writes_per_second;
          const auto began = Clock::now();
          for (int i = 0; i < writes; ++i) {
            timer.expires_at(began + i * interval);
            co_await timer.async_wait(asio::use_awaitable);
            starts[i] = Clock::now();
            const Call call = write(i);
            Response response = co_await connection.Exchange(call);
            if (response.result_int() / 100 != 2) {
              Fail(fmt::format("watched write answered {}: {}", response.result_int(),
                               response.body()));
            }
          }
        },
        Rethrow);
    const auto writes_began = Clock::now();
    writer_io.run();
    // Every event should be in soon after the last write; give stragglers 10 s.
    const auto deadline = Clock::now() + 10s;
    auto all_in = [&] {
      for (const auto& mine : arrivals) {
        if (mine.back() == Clock::time_point::min()) return false;
      }
      return true;
    };
    while (!all_in() && Clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    result.sample.wall = Clock::now() - writes_began;
    stop = true;
    for (auto& connection : pool) {
      asio::post(io, [&connection] { beast::get_lowest_layer(connection->stream()).cancel(); });
    }
    for (auto& thread : loop)
      thread.join();
    result.sample.server_cpu_seconds = ProcessCpuSeconds(server_pid_) - server_cpu;
    result.sample.bench_cpu_seconds = OwnCpuSeconds() - bench_cpu;
    for (const auto& mine : arrivals) {
      for (int i = 0; i < writes; ++i) {
        if (mine[i] == Clock::time_point::min()) {
          ++result.missing;
        } else {
          result.sample.latencies.push_back(mine[i] - starts[i]);
        }
      }
    }
    return result;
  }

 private:
  static void Rethrow(std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      Fail(std::string("client: ") + e.what());
    }
  }

  uint16_t port_;
  ssl::context tls_;
  pid_t server_pid_;
  int threads_;
};

// ---------------------------------------------------------------------------------------------
// The workload.

std::string ConfigMap(const std::string& ns, const std::string& name) {
  return fmt::format(
      R"({{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{}","namespace":"{}",)"
      R"("labels":{{"app":"bench"}}}},"data":{{"greeting":"hello, world","color":"blue",)"
      R"("settings.yaml":"replicas: 3\nlogLevel: info\n"}}}})",
      name, ns);
}

// A small pod as a Deployment would make it: labels, an owner-free spec with one container,
// a port, resources and a probe.
std::string Pod(const std::string& ns, const std::string& name) {
  return fmt::format(
      R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{}","namespace":"{}",)"
      R"("labels":{{"app":"web","pod-template-hash":"5d4f8c7b9d","tier":"frontend"}}}},)"
      R"("spec":{{"containers":[{{"name":"web","image":"registry.k8s.io/nginx:1.27.3",)"
      R"("ports":[{{"name":"http","containerPort":80,"protocol":"TCP"}}],)"
      R"("env":[{{"name":"LOG_LEVEL","value":"info"}}],)"
      R"("resources":{{"requests":{{"cpu":"100m","memory":"128Mi"}},"limits":{{"memory":"256Mi"}}}},)"
      R"("readinessProbe":{{"httpGet":{{"path":"/healthz","port":80}},"periodSeconds":10}}}}]}}}})",
      name, ns);
}

Call CreateNamespace(const std::string& name) {
  return {.method = bhttp::verb::post,
          .target = "/api/v1/namespaces",
          .body = fmt::format(
              R"({{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{}"}}}})", name)};
}

std::size_t CountOccurrences(std::string_view text, std::string_view what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1))
    ++count;
  return count;
}

struct Results {
  Clock::duration first_ready{0};
  Clock::duration restart_ready{0};
  double first_ready_cpu = 0;  // the server's CPU seconds until ready
  double restart_ready_cpu = 0;
  double idle_rss_first = 0;
  double idle_rss_restart = 0;
  Figures version, get, create_burst, create_paced, pod_create, list_cached, list_consistent, watch;
  double paced_rate = 0;
  int64_t watch_missing = 0;
  double watch_connect_seconds = 0;
  int pods = 0;
  double pod_json_bytes = 0;
  double rss_before_pods = 0;
  double rss_after_pods = 0;
  double rss_after_first_list = 0;
  double rss_after_lists = 0;
};

void Check(const Response& response, int expected, const std::string& what) {
  if (static_cast<int>(response.result_int()) != expected) {
    Fail(fmt::format("{}: answered {}: {}", what, response.result_int(), response.body()));
  }
}

Results Run(const std::string& kpp, const Sizes& sizes, int client_threads,
            const std::vector<std::string>& server_args) {
  Results results;
  const std::string root = MakeTempDirectory("kpp-bench-apiserver-").value();
  ServerUnderTest server(kpp, root, server_args);

  // Start: the first one makes the PKI and the database, the second finds them.
  results.first_ready = server.Start();
  results.first_ready_cpu = ProcessCpuSeconds(server.pid());
  std::this_thread::sleep_for(1s);
  results.idle_rss_first = RssMiB(server.pid());
  server.Stop();
  results.restart_ready = server.Start();
  results.restart_ready_cpu = ProcessCpuSeconds(server.pid());
  std::this_thread::sleep_for(1s);
  results.idle_rss_restart = RssMiB(server.pid());
  std::cout << fmt::format("kpp server pid {} on 127.0.0.1:{}, data in {}\n", server.pid(),
                           server.port(), root)
            << std::flush;

  Client client(server.port(), server.tls_dir(), server.pid(), client_threads);
  const std::string configmap = "/api/v1/namespaces/default/configmaps";
  Check(client.Once({.method = bhttp::verb::post,
                     .target = configmap,
                     .body = ConfigMap("default", "bench-get")}),
        201, "creating the ConfigMap to GET");
  for (const char* ns : {"bench-create", "bench-list", "bench-watch"})
    Check(client.Once(CreateNamespace(ns)), 201, std::string("creating namespace ") + ns);

  // GET: /version and one ConfigMap take turns, so that the machine's noisy spells fall on both.
  std::cout << "GET /version and GET configmap..." << std::endl;
  {
    Sample version, get;
    const Call version_call{.target = "/version"};
    const Call get_call{.target = configmap + "/bench-get"};
    client.Load(
        sizes.clients, [&](int64_t) { return version_call; }, 200, std::nullopt, 300ms);
    for (int round = 0; round < sizes.get_rounds; ++round) {
      version.Add(client.Load(
          sizes.clients, [&](int64_t) { return version_call; }, 200, std::nullopt,
          sizes.get_round));
      get.Add(client.Load(
          sizes.clients, [&](int64_t) { return get_call; }, 200, std::nullopt, sizes.get_round));
    }
    results.version = version.Summary();
    results.get = get.Summary();
  }

  std::cout << "creates..." << std::endl;
  const std::string create_target = "/api/v1/namespaces/bench-create/configmaps";
  results.create_burst =
      client
          .Load(
              sizes.clients,
              [&](int64_t n) {
                return Call{.method = bhttp::verb::post,
                            .target = create_target,
                            .body = ConfigMap("bench-create", fmt::format("burst-{:07}", n))};
              },
              201, std::nullopt, sizes.create_burst)
          .Summary();
  results.paced_rate = sizes.paced_create_rate;
  results.create_paced =
      client
          .Load(
              sizes.clients,
              [&](int64_t n) {
                return Call{.method = bhttp::verb::post,
                            .target = create_target,
                            .body = ConfigMap("bench-create", fmt::format("paced-{:07}", n))};
              },
              201, std::nullopt, sizes.paced_create, sizes.paced_create_rate)
          .Summary();

  std::cout << "creating " << sizes.pods << " pods..." << std::endl;
  const std::string pods = "/api/v1/namespaces/bench-list/pods";
  // A cache that starts with the first LIST of its resource holds nothing yet, so that its
  // growth falls into the creates below.
  Check(client.Once({.target = pods + "?resourceVersion=0"}), 200, "listing no pods");
  Check(client.Once({.target = pods}), 200, "listing no pods");
  std::this_thread::sleep_for(1s);
  results.rss_before_pods = RssMiB(server.pid());
  results.pods = sizes.pods;
  results.pod_create =
      client
          .Load(
              sizes.clients,
              [&](int64_t n) {
                return Call{.method = bhttp::verb::post,
                            .target = pods,
                            .body = Pod("bench-list", fmt::format("web-{:06}", n))};
              },
              201, sizes.pods, std::nullopt)
          .Summary();
  std::this_thread::sleep_for(1s);
  results.rss_after_pods = RssMiB(server.pid());

  std::cout << "LIST..." << std::endl;
  {
    {
      const Response list = client.Once({.target = pods + "?resourceVersion=0"});
      Check(list, 200, "listing pods");
      const std::size_t items = CountOccurrences(list.body(), "\"web-");
      if (items != static_cast<std::size_t>(sizes.pods)) {
        Fail(fmt::format("the list holds {} pods, not {}", items, sizes.pods));
      }
      results.pod_json_bytes = static_cast<double>(list.body().size()) / sizes.pods;
    }
    std::this_thread::sleep_for(1s);
    results.rss_after_first_list = RssMiB(server.pid());
    Sample cached, consistent;
    const Call cached_call{.target = pods + "?resourceVersion=0"};
    const Call consistent_call{.target = pods};
    for (int i = 0; i < sizes.list_repeats; ++i) {
      cached.Add(client.Load(
          1, [&](int64_t) { return cached_call; }, 200, 1, std::nullopt));
      consistent.Add(client.Load(
          1, [&](int64_t) { return consistent_call; }, 200, 1, std::nullopt));
    }
    results.list_cached = cached.Summary();
    results.list_consistent = consistent.Summary();
  }
  std::this_thread::sleep_for(1s);
  results.rss_after_lists = RssMiB(server.pid());

  std::cout << "watch with " << sizes.watchers << " watchers..." << std::endl;
  {
    auto watched = client.Watch(
        sizes.watchers, "/api/v1/namespaces/bench-watch/configmaps?watch=1", "\"watched-",
        sizes.watched_writes, sizes.watched_writes_per_second, [&](int i) {
          return Call{.method = bhttp::verb::post,
                      .target = "/api/v1/namespaces/bench-watch/configmaps",
                      .body = ConfigMap("bench-watch", fmt::format("watched-{:06}", i))};
        });
    results.watch = watched.sample.Summary();
    results.watch_missing = watched.missing;
    results.watch_connect_seconds = Seconds(watched.connect_time);
  }

  server.Stop();
  RemoveAll(root);
  return results;
}

// ---------------------------------------------------------------------------------------------
// --auth-cost: what authenticating and authorizing a ServiceAccount costs a GET. One server;
// rounds alternate between the admin's client certificate (system:masters: allowed by the first
// authorizer, as good as AlwaysAllow) and a ServiceAccount token from the TokenRequest API
// (a JWT signature check, the ServiceAccount looked up, then RBAC through a RoleBinding).

struct AuthCostResults {
  Figures admin, token;
  // token/certificate requests/s of each round pair: a noisy spell of the shared machine moves
  // one pair, not the median.
  std::vector<double> pair_ratios;
};

AuthCostResults RunAuthCost(const std::string& kpp, const Sizes& sizes, int client_threads,
                            const std::vector<std::string>& server_args, int rounds) {
  const std::string root = MakeTempDirectory("kpp-bench-apiserver-").value();
  ServerUnderTest server(kpp, root, server_args);
  server.Start();
  std::cout << fmt::format("kpp server pid {} on 127.0.0.1:{}, data in {}\n", server.pid(),
                           server.port(), root)
            << std::flush;
  Client admin(server.port(), server.tls_dir(), server.pid(), client_threads);
  const std::string ns = "/api/v1/namespaces/bench-auth";
  Check(admin.Once(CreateNamespace("bench-auth")), 201, "creating namespace bench-auth");
  Check(admin.Once({.method = bhttp::verb::post,
                    .target = ns + "/configmaps",
                    .body = ConfigMap("bench-auth", "bench-get")}),
        201, "creating the ConfigMap to GET");
  Check(admin.Once({.method = bhttp::verb::post,
                    .target = ns + "/serviceaccounts",
                    .body = R"({"apiVersion":"v1","kind":"ServiceAccount",)"
                            R"("metadata":{"name":"reader","namespace":"bench-auth"}})"}),
        201, "creating the ServiceAccount");
  const std::string rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/bench-auth";
  Check(admin.Once({.method = bhttp::verb::post,
                    .target = rbac + "/roles",
                    .body = R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role",)"
                            R"("metadata":{"name":"configmap-reader"},"rules":[{"verbs":)"
                            R"(["get","list","watch"],"apiGroups":[""],)"
                            R"("resources":["configmaps"]}]})"}),
        201, "creating the Role");
  Check(admin.Once({.method = bhttp::verb::post,
                    .target = rbac + "/rolebindings",
                    .body = R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",)"
                            R"("metadata":{"name":"reader"},"roleRef":{"apiGroup":)"
                            R"("rbac.authorization.k8s.io","kind":"Role","name":)"
                            R"("configmap-reader"},"subjects":[{"kind":"ServiceAccount",)"
                            R"("name":"reader","namespace":"bench-auth"}]})"}),
        201, "creating the RoleBinding");
  const Response issued =
      admin.Once({.method = bhttp::verb::post,
                  .target = ns + "/serviceaccounts/reader/token",
                  .body = R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest",)"
                          R"("spec":{"expirationSeconds":3600}})"});
  Check(issued, 201, "requesting a token");
  const auto token_at = issued.body().find("\"token\":\"");
  if (token_at == std::string::npos) Fail("no token in " + issued.body());
  const auto token_start = token_at + 9;
  const std::string token =
      issued.body().substr(token_start, issued.body().find('"', token_start) - token_start);

  Client bearer(server.port(), server.tls_dir(), server.pid(), client_threads,
                /*certificate=*/false);
  const Call admin_call{.target = ns + "/configmaps/bench-get"};
  const Call token_call{.target = ns + "/configmaps/bench-get", .bearer_token = token};
  Check(bearer.Once(token_call), 200, "GET with the ServiceAccount token");
  Check(bearer.Once({.target = ns + "/secrets", .bearer_token = token}), 403,
        "a list of secrets with the ServiceAccount token (the binding grants configmaps only)");
  // Warm both paths, then alternate so that the machine's noisy spells fall on both.
  admin.Load(
      sizes.clients, [&](int64_t) { return admin_call; }, 200, std::nullopt, 300ms);
  bearer.Load(
      sizes.clients, [&](int64_t) { return token_call; }, 200, std::nullopt, 300ms);
  Sample admin_sample, token_sample;
  std::vector<double> pair_ratios;
  for (int round = 0; round < rounds; ++round) {
    const Sample admin_round = admin.Load(
        sizes.clients, [&](int64_t) { return admin_call; }, 200, std::nullopt, sizes.get_round);
    const Sample token_round = bearer.Load(
        sizes.clients, [&](int64_t) { return token_call; }, 200, std::nullopt, sizes.get_round);
    const double admin_rate = admin_round.Summary().per_second;
    if (admin_rate > 0) pair_ratios.push_back(token_round.Summary().per_second / admin_rate);
    admin_sample.Add(admin_round);
    token_sample.Add(token_round);
  }
  server.Stop();
  RemoveAll(root);
  return {admin_sample.Summary(), token_sample.Summary(), pair_ratios};
}

void PrintAuthCost(const AuthCostResults& r, const Sizes& sizes, int rounds) {
  auto line = [](const std::string& figure, const std::string& value,
                 const std::string& target = "", std::optional<bool> met = std::nullopt) {
    std::cout << fmt::format("  {:<56} {:>14}  {:<12} {}\n", figure, value, target,
                             met ? (*met ? "PASS" : "MISS") : "");
  };
  auto load = [&](const std::string& name, const Figures& f) {
    line(fmt::format("{}: requests/s", name), fmt::format("{:.0f}", f.per_second));
    line("  p50 / p99 ms", fmt::format("{:.2f} / {:.2f}", f.p50_ms, f.p99_ms));
    if (f.requests > 0) {
      line("  server CPU per request, us",
           fmt::format("{:.0f}", 1e6 * f.server_cpu_seconds / f.requests));
      // The bench shares the cores: a token request costs it more too (a larger request).
      line("  bench CPU per request, us",
           fmt::format("{:.0f}", 1e6 * f.bench_cpu_seconds / f.requests));
    }
    if (f.failures > 0) line("  FAILED requests", std::to_string(f.failures));
  };
  std::cout << fmt::format(
      "\nGET one ConfigMap, {} keep-alive clients, {} alternating rounds of {:.1f} s:\n",
      sizes.clients, rounds, Seconds(sizes.get_round));
  load("admin client certificate (system:masters)", r.admin);
  load("ServiceAccount token + RoleBinding (RBAC)", r.token);
  const double ratio = r.admin.per_second > 0 ? r.token.per_second / r.admin.per_second : 0;
  line("token / certificate, requests/s, all rounds", fmt::format("{:.3f}", ratio));
  std::vector<double> sorted = r.pair_ratios;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.empty() ? 0
                        : sorted.size() % 2 == 1
                            ? sorted[sorted.size() / 2]
                            : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
  std::string each;
  for (double pair : r.pair_ratios)
    each += fmt::format("{}{:.3f}", each.empty() ? "" : " ", pair);
  line("token / certificate, requests/s, each round pair", each);
  line("token / certificate, requests/s, median pair", fmt::format("{:.3f}", median), ">= 0.90",
       median >= 0.9);
  if (r.admin.requests > 0 && r.token.requests > 0) {
    const double admin_cpu = 1e6 * r.admin.server_cpu_seconds / r.admin.requests;
    const double token_cpu = 1e6 * r.token.server_cpu_seconds / r.token.requests;
    line("token - certificate, server CPU per request, us",
         fmt::format("{:+.1f} ({:+.1f}%)", token_cpu - admin_cpu,
                     admin_cpu > 0 ? 100 * (token_cpu - admin_cpu) / admin_cpu : 0));
  }
}

// ---------------------------------------------------------------------------------------------
// The report.

void Print(const Results& r, const Sizes& sizes) {
  auto line = [](const std::string& figure, const std::string& value,
                 const std::string& target = "", std::optional<bool> met = std::nullopt) {
    std::cout << fmt::format("  {:<56} {:>14}  {:<12} {}\n", figure, value, target,
                             met ? (*met ? "PASS" : "MISS") : "");
  };
  auto load = [&](const std::string& name, const Figures& f, const std::string& unit) {
    line(fmt::format("{}: {}/s", name, unit), fmt::format("{:.0f}", f.per_second));
    line("  p50 / p99 ms", fmt::format("{:.2f} / {:.2f}", f.p50_ms, f.p99_ms));
    line("  server / bench CPU per wall second",
         fmt::format("{:.2f} / {:.2f}", f.server_cpu_seconds / f.wall_seconds,
                     f.bench_cpu_seconds / f.wall_seconds));
    // What the server spends per request does not depend on how much of the CPUs it got.
    if (f.requests > 0) {
      line("  server CPU per request, us",
           fmt::format("{:.0f}", 1e6 * f.server_cpu_seconds / f.requests));
    }
    if (f.failures > 0) line("  FAILED requests", std::to_string(f.failures));
  };

  std::cout << "\nStart and idle (kpp server --disable-agent):\n";
  line("first start to /readyz 200 (makes PKI and database), s",
       fmt::format("{:.3f}", Seconds(r.first_ready)), "< 0.5", Seconds(r.first_ready) < 0.5);
  line("restart to /readyz 200, s", fmt::format("{:.3f}", Seconds(r.restart_ready)), "< 0.5",
       Seconds(r.restart_ready) < 0.5);
  // On a busy machine the server waits for a CPU most of that time; its own CPU time shows the
  // work.
  line("  server CPU until ready (first start / restart), ms",
       fmt::format("{:.0f} / {:.0f}", 1000 * r.first_ready_cpu, 1000 * r.restart_ready_cpu));
  line("idle RSS after first start, MiB", fmt::format("{:.1f}", r.idle_rss_first), "< 50",
       r.idle_rss_first < 50);
  line("idle RSS after restart, MiB", fmt::format("{:.1f}", r.idle_rss_restart), "< 50",
       r.idle_rss_restart < 50);

  std::cout << fmt::format("\nGET, {} keep-alive clients, {} alternating rounds of {:.1f} s:\n",
                           sizes.clients, sizes.get_rounds, Seconds(sizes.get_round));
  load("GET /version", r.version, "requests");
  load("GET one ConfigMap", r.get, "requests");
  const double get_ratio = r.version.per_second > 0 ? r.get.per_second / r.version.per_second : 0;
  line("GET ConfigMap / GET /version, requests/s", fmt::format("{:.2f}", get_ratio), ">= 0.5",
       get_ratio >= 0.5);

  std::cout << fmt::format("\nCreates (ConfigMaps, durable SQLite), {} clients:\n", sizes.clients);
  load("as fast as they go", r.create_burst, "creates");
  line("creates/s", fmt::format("{:.0f}", r.create_burst.per_second), ">= 5000",
       r.create_burst.per_second >= 5000);
  load(fmt::format("paced at {:.0f}/s", r.paced_rate), r.create_paced, "creates");
  line(fmt::format("p99 latency at {:.0f}/s (from when due), ms", r.paced_rate),
       fmt::format("{:.2f}", r.create_paced.p99_ms), "< 50", r.create_paced.p99_ms < 50);

  std::cout << fmt::format("\nLIST of {} pods (one client, {} of each, alternating):\n", r.pods,
                           sizes.list_repeats);
  load(fmt::format("pod creates, {} clients", sizes.clients), r.pod_create, "creates");
  line("pod JSON size as listed, bytes", fmt::format("{:.0f}", r.pod_json_bytes));
  line("LIST ?resourceVersion=0: p50 ms", fmt::format("{:.1f}", r.list_cached.p50_ms));
  line("LIST ?resourceVersion=0: p99 ms", fmt::format("{:.1f}", r.list_cached.p99_ms), "< 200",
       r.list_cached.p99_ms < 200);
  line("LIST (consistent): p50 ms", fmt::format("{:.1f}", r.list_consistent.p50_ms));
  line("LIST (consistent): p99 ms", fmt::format("{:.1f}", r.list_consistent.p99_ms), "< 200",
       r.list_consistent.p99_ms < 200);
  line(
      "  server / bench CPU per LIST, ms",
      fmt::format("{:.1f} / {:.1f}",
                  1000 * (r.list_cached.server_cpu_seconds + r.list_consistent.server_cpu_seconds) /
                      (2.0 * sizes.list_repeats),
                  1000 * (r.list_cached.bench_cpu_seconds + r.list_consistent.bench_cpu_seconds) /
                      (2.0 * sizes.list_repeats)));
  line("RSS before pods / after creates / first LIST / all LISTs, MiB",
       fmt::format("{:.0f} / {:.0f} / {:.0f} / {:.0f}", r.rss_before_pods, r.rss_after_pods,
                   r.rss_after_first_list, r.rss_after_lists));
  // The cache is fed by the creates; what a LIST allocates and the allocator keeps comes on top.
  auto per_pod = [&](double rss) { return (rss - r.rss_before_pods) * 1048576 / r.pods; };
  const double cached = per_pod(r.rss_after_pods);
  line("RSS growth per pod after creates, bytes", fmt::format("{:.0f}", cached));
  line("  / pod JSON size", fmt::format("{:.2f}", cached / r.pod_json_bytes), "<= 2",
       cached / r.pod_json_bytes <= 2);
  line("RSS growth per pod after the first LIST, bytes",
       fmt::format("{:.0f} ({:.2f}x JSON)", per_pod(r.rss_after_first_list),
                   per_pod(r.rss_after_first_list) / r.pod_json_bytes));
  line("RSS growth per pod after all LISTs, bytes",
       fmt::format("{:.0f} ({:.2f}x JSON)", per_pod(r.rss_after_lists),
                   per_pod(r.rss_after_lists) / r.pod_json_bytes));

  std::cout << fmt::format("\nWatch: {} watchers of one resource, {} creates at {}/s:\n",
                           sizes.watchers, sizes.watched_writes, sizes.watched_writes_per_second);
  line("time to connect all watchers, s", fmt::format("{:.2f}", r.watch_connect_seconds));
  line("events received", fmt::format("{}", r.watch.requests));
  line("events missing", fmt::format("{}", r.watch_missing), "0", r.watch_missing == 0);
  line("write start to event: p50 ms", fmt::format("{:.2f}", r.watch.p50_ms));
  line("write start to event: p99 ms", fmt::format("{:.2f}", r.watch.p99_ms), "< 100",
       r.watch.p99_ms < 100 && r.watch.requests > 0);
  line("write start to event: max ms", fmt::format("{:.2f}", r.watch.max_ms));
  if (r.watch.requests > 0) {
    line("  server CPU per event delivered, us",
         fmt::format("{:.1f}", 1e6 * r.watch.server_cpu_seconds / r.watch.requests));
  }
  line("  server / bench CPU per wall second",
       fmt::format("{:.2f} / {:.2f}", r.watch.server_cpu_seconds / r.watch.wall_seconds,
                   r.watch.bench_cpu_seconds / r.watch.wall_seconds));
}

int Main(int argc, char** argv) {
  bool quick = false;
  std::string kpp = KPP_BINARY;
  int client_threads = 1;
  // Overrides of one phase's size, to look at it alone (with --quick for the others).
  std::optional<int> pods, list_repeats, watchers;
  // Passed on to `kpp server`, e.g. --server-arg --authorization-mode=AlwaysAllow to compare.
  std::vector<std::string> server_args;
  // --auth-cost N: only the GET comparison of a certificate and a ServiceAccount token, N rounds.
  std::optional<int> auth_cost_rounds;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--kpp" && i + 1 < argc) {
      kpp = argv[++i];
    } else if (arg == "--client-threads" && i + 1 < argc) {
      client_threads = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--pods" && i + 1 < argc) {
      pods = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--list-repeats" && i + 1 < argc) {
      list_repeats = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--watchers" && i + 1 < argc) {
      watchers = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--server-arg" && i + 1 < argc) {
      server_args.emplace_back(argv[++i]);
    } else if (arg == "--auth-cost" && i + 1 < argc) {
      auth_cost_rounds = std::max(1, std::atoi(argv[++i]));
    } else {
      std::cerr << "usage: apiserver_bench [--quick] [--kpp PATH] [--client-threads N] "
                   "[--pods N] [--list-repeats N] [--watchers N] [--server-arg ARG]... "
                   "[--auth-cost ROUNDS]\n";
      return 2;
    }
  }
  Sizes sizes = quick ? kQuickSizes : kFullSizes;
  if (pods) sizes.pods = *pods;
  if (list_repeats) sizes.list_repeats = *list_repeats;
  if (watchers) sizes.watchers = *watchers;
  // 1,000 watchers hold 1,000 sockets here and as many in the server, which inherits the limit.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  signal(SIGPIPE, SIG_IGN);
  const std::string load_before = LoadAverage();
  if (auth_cost_rounds) {
    PrintAuthCost(RunAuthCost(kpp, sizes, client_threads, server_args, *auth_cost_rounds), sizes,
                  *auth_cost_rounds);
    std::cout << fmt::format(
        "\nBench and server share {} cores ({} client thread(s)); load average (1 min) before: "
        "{}, after: {}\n",
        std::thread::hardware_concurrency(), client_threads, load_before, LoadAverage());
    return 0;
  }
  const Results results = Run(kpp, sizes, client_threads, server_args);
  Print(results, sizes);
  std::cout << fmt::format(
      "\nBench and server share {} cores ({} client thread(s)); load average (1 min) before: "
      "{}, after: {}\n",
      std::thread::hardware_concurrency(), client_threads, load_before, LoadAverage());
  return 0;
}

}  // namespace
}  // namespace kpp::bench

int main(int argc, char** argv) {
  return kpp::bench::Main(argc, argv);
}
