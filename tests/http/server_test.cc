#include "http/server.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "base/files.h"
#include "http/worker_pool.h"
#include "support/test_pki.h"

namespace kpp::http {
namespace {

using namespace std::chrono_literals;
using testing::ProcessResult;
using testing::RunProcess;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()); }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  ServerOptions Options(uint16_t port = 0) const {
    ServerOptions options;
    options.bind_address = "127.0.0.1";
    options.port = port;
    options.tls = {pki_.serving().certificate_pem, pki_.serving().private_key_pem,
                   pki_.ca().certificate_pem};
    options.max_request_body_bytes = 1024;
    return options;
  }

  void StartEcho() {
    auto server = StartServer(Options(), [this](const Request& request) {
      ++requests_;
      Response response;
      std::string user = request.client_certificate ? request.client_certificate->common_name
                                                    : std::string("anonymous");
      if (request.client_certificate) {
        for (const auto& org : request.client_certificate->organizations)
          user += "," + org;
      }
      response.body = request.method + " " + request.path +
                      " q=" + std::string(request.FindQuery("q").value_or("-")) + " user=" + user +
                      " body=" + request.body;
      response.SetHeader("X-Test", "yes");
      response.status = request.path == "/missing" ? 404 : 200;
      return response;
    });
    ASSERT_TRUE(server.ok()) << server.error().message();
    server_ = std::move(server).value();
  }

  ProcessResult Curl(const std::string& path, const std::string& identity = "",
                     const std::vector<std::string>& extra = {}) {
    return pki_.Curl(server_->port(), path, identity, extra);
  }

  testing::TestPki pki_;
  ServerPtr server_;
  std::atomic<int> requests_{0};
};

TEST_F(HttpServerTest, ServesHttpsWithDecodedPathAndQuery) {
  StartEcho();
  auto result = Curl("/a%20b?q=x%2Fy&other=1");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "GET /a b q=x/y user=anonymous body=\n200");
}

TEST_F(HttpServerTest, PassesVerifiedClientCertificate) {
  StartEcho();
  auto result = Curl("/", "client");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "GET / q=- user=alice,devs,ops body=\n200");
}

TEST_F(HttpServerTest, IgnoresCertificateFromAnotherCa) {
  StartEcho();
  auto result = Curl("/", "intruder");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "GET / q=- user=anonymous body=\n200");
}

TEST_F(HttpServerTest, PassesBodyStatusAndHeaders) {
  StartEcho();
  auto result = Curl("/missing", "", {"-X", "POST", "--data-binary", "hello", "-D", "-"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("HTTP/1.1 404"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("X-Test: yes"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("POST /missing q=- user=anonymous body=hello"), std::string::npos);
}

TEST_F(HttpServerTest, RejectsOversizedBody) {
  StartEcho();
  auto result = Curl("/", "", {"--data-binary", std::string(4096, 'x')});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.ends_with("\n413")) << result.out;
  EXPECT_EQ(requests_, 0);
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartEcho();
  const std::string url = "https://127.0.0.1:" + std::to_string(server_->port());
  auto result = RunProcess(
      {"curl", "-sS", "-v", "--cacert", pki_.dir() + "/ca.crt", url + "/one", url + "/two"}, 20s);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("Re-using existing connection"), std::string::npos) << result.err;
  EXPECT_EQ(requests_, 2);
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsPromptly) {
  StartEcho();
  const std::string address = "127.0.0.1:" + std::to_string(server_->port());
  // One peer completes the TLS handshake and then idles; another connects and never starts one.
  std::thread idle_tls([&] {
    RunProcess({"openssl", "s_client", "-quiet", "-ign_eof", "-connect", address}, 30s);
  });
  const int silent = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(server_->port());
  target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(silent, reinterpret_cast<sockaddr*>(&target), sizeof target), 0);
  // A third completes its handshake and is then frozen, so it never answers the server's
  // close_notify (as a client's pooled keep-alive connection that nobody reads).
  const std::string frozen_pid = pki_.dir() + "/frozen.pid";
  std::thread frozen_tls([&] {
    RunProcess({"sh", "-c",
                "openssl s_client -quiet -ign_eof -connect " + address + " & echo $! > " +
                    frozen_pid + "; wait"},
               30s);
  });
  std::this_thread::sleep_for(500ms);
  auto pid = ReadFile(frozen_pid);
  ASSERT_TRUE(pid.ok());
  const std::string kill_frozen = "kill -KILL " + *pid;
  ASSERT_EQ(RunProcess({"sh", "-c", "kill -STOP " + *pid}, 10s).exit_code, 0);
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  // Not the 2 s a closing connection otherwise gives its peer to answer.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  RunProcess({"sh", "-c", kill_frozen}, 10s);
  idle_tls.join();
  frozen_tls.join();
  close(silent);
}

TEST_F(HttpServerTest, PortInUseNamesTheAddress) {
  StartEcho();
  auto second = StartServer(Options(server_->port()), [](const Request&) { return Response{}; });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(
      second.error().message(),
      "cannot listen on 127.0.0.1:" + std::to_string(server_->port()) + ": Address already in use");
}

TEST_F(HttpServerTest, InvalidBindAddressIsRejected) {
  ServerOptions options = Options();
  options.bind_address = "not-an-ip";
  auto server = StartServer(options, [](const Request&) { return Response{}; });
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().message(), "invalid bind address not-an-ip");
}

size_t OpenFdCount() {
  size_t count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
  }
  return count;
}

size_t ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Threads:")) return std::stoul(line.substr(8));
  }
  return 0;
}

// Waits (up to a generous bound, not a timing assertion) for `done`.
template <typename Predicate>
bool Eventually(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

TEST_F(HttpServerTest, HandlersRunOffTheIoThreadSoBlockedOnesDoNotStallOthers) {
  // One I/O thread, and a handler that waits for a second request to arrive: with handlers on
  // the I/O thread the second request could never be read.
  std::mutex mutex;
  std::condition_variable arrived;
  int waiting = 0;
  ServerOptions options = Options();
  options.threads = 1;
  auto server = StartServer(options, [&](const Request& request) {
    if (request.path != "/wait") return Response{200, {}, "quick"};
    std::unique_lock lock(mutex);
    ++waiting;
    arrived.notify_all();
    const bool together = arrived.wait_for(lock, 20s, [&] { return waiting >= 2; });
    return Response{200, {}, together ? "together" : "alone"};
  });
  ASSERT_TRUE(server.ok()) << server.error().message();
  server_ = std::move(server).value();
  ProcessResult first, second;
  std::thread a([&] { first = Curl("/wait"); });
  std::thread b([&] { second = Curl("/wait"); });
  a.join();
  b.join();
  EXPECT_EQ(first.out, "together\n200");
  EXPECT_EQ(second.out, "together\n200");
}

TEST_F(HttpServerTest, HandlerOverrunningItsTimeoutGets504AndKeepsRunning) {
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  ServerOptions options = Options();
  options.request_timeout = [](const Request& request) {
    return request.path == "/slow" ? std::chrono::milliseconds(100) : std::chrono::milliseconds(0);
  };
  options.request_timeout_message = "too slow";
  options.error_response = [](int status, const std::string& message) {
    return Response{status, {}, "error: " + message};
  };
  std::vector<int> observed;
  std::mutex observed_mutex;
  options.observer = [&](const Request&, const Response& response, double) {
    std::lock_guard lock(observed_mutex);
    observed.push_back(response.status);
  };
  auto server = StartServer(options, [&](const Request& request) {
    if (request.path == "/slow") {
      while (!release)
        std::this_thread::sleep_for(5ms);
      finished = true;
    }
    return Response{200, {}, "done"};
  });
  ASSERT_TRUE(server.ok()) << server.error().message();
  server_ = std::move(server).value();
  EXPECT_EQ(Curl("/slow").out, "error: too slow\n504");
  EXPECT_FALSE(finished);
  release = true;
  EXPECT_TRUE(Eventually([&] { return finished.load(); }));
  EXPECT_EQ(Curl("/fast").out, "done\n200");
  std::lock_guard lock(observed_mutex);
  EXPECT_EQ(observed, (std::vector<int>{504, 200}));
}

TEST_F(HttpServerTest, OversizedBodyGetsTheConfiguredMessage) {
  ServerOptions options = Options();
  options.body_too_large_message = "Request entity too large: limit is 1024";
  options.error_response = [](int status, const std::string& message) {
    return Response{status, {}, "status: " + message};
  };
  auto server = StartServer(options, [](const Request&) { return Response{}; });
  ASSERT_TRUE(server.ok()) << server.error().message();
  server_ = std::move(server).value();
  // With and without the Content-Length known up front (chunked upload).
  EXPECT_EQ(Curl("/", "", {"--data-binary", std::string(4096, 'x')}).out,
            "status: Request entity too large: limit is 1024\n413");
  EXPECT_EQ(
      Curl("/", "", {"-H", "Transfer-Encoding: chunked", "--data-binary", std::string(4096, 'x')})
          .out,
      "status: Request entity too large: limit is 1024\n413");
  // A client that sends its whole body without waiting (as Go's does) still reads the answer:
  // the server drops the rest of the body instead of resetting the connection.
  const std::string big = pki_.dir() + "/big-body";
  ASSERT_TRUE(WriteFileAtomic(big, std::string(8 << 20, 'x'), 0600).ok());
  EXPECT_EQ(Curl("/", "", {"-H", "Expect:", "--data-binary", "@" + big}).out,
            "status: Request entity too large: limit is 1024\n413");
}

TEST_F(HttpServerTest, AbandonedAndHalfSentConnectionsAreClosedWithoutLeaks) {
  ServerOptions options = Options();
  options.handshake_timeout = 300ms;
  options.header_timeout = 300ms;
  options.idle_timeout = 300ms;
  auto server = StartServer(options, [](const Request&) { return Response{200, {}, "ok"}; });
  ASSERT_TRUE(server.ok()) << server.error().message();
  server_ = std::move(server).value();
  ASSERT_EQ(Curl("/").out, "ok\n200");  // the worker pool is warm
  const size_t fds_before = OpenFdCount();
  const size_t threads_before = ThreadCount();
  // Peers that never start TLS, and peers that finish it and then send half a request head or
  // nothing at all: the server must close every one of them by itself.
  const std::string script = R"(
import socket, ssl, sys
port = int(sys.argv[1])
context = ssl.create_default_context(cafile=sys.argv[2])
peers = []
for i in range(30):
    raw = socket.create_connection(("127.0.0.1", port))
    if i % 3 == 0:
        peers.append(raw)
        continue
    tls = context.wrap_socket(raw, server_hostname="127.0.0.1")
    if i % 3 == 1:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Half: ")
    peers.append(tls)
closed = 0
for peer in peers:
    peer.settimeout(20)
    try:
        closed += peer.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError, OSError):
        closed += 1
print(closed)
)";
  const auto result = RunProcess(
      {"python3", "-c", script, std::to_string(server_->port()), pki_.dir() + "/ca.crt"}, 60s);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "30\n");
  EXPECT_TRUE(Eventually([&] { return OpenFdCount() <= fds_before; }))
      << OpenFdCount() << " fds open, " << fds_before << " before";
  EXPECT_TRUE(Eventually([&] { return ThreadCount() <= threads_before; }))
      << ThreadCount() << " threads, " << threads_before << " before";
  EXPECT_EQ(Curl("/").out, "ok\n200");
}

// Hands out fixed pieces, then ends.
class PiecesStream final : public BodyStream {
 public:
  explicit PiecesStream(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}
  std::optional<std::string> Next() override {
    if (cancelled_ || next_ == pieces_.size()) return std::nullopt;
    return pieces_[next_++];
  }
  void Cancel() override { cancelled_ = true; }

 private:
  std::vector<std::string> pieces_;
  size_t next_ = 0;
  std::atomic<bool> cancelled_{false};
};

TEST_F(HttpServerTest, StreamsToWebSocketUpgradeRequestsOneMessagePerEvent) {
  std::atomic<int> streams{0};
  auto server = StartServer(Options(), [&](const Request& request) {
    if (request.path != "/watch") return Response{404, {}, "not here"};
    ++streams;
    Response response{200, {{"Content-Type", "application/json"}}, ""};
    // Two events in one piece, one split across pieces, and one larger than Beast's buffers.
    response.stream = std::make_shared<PiecesStream>(std::vector<std::string>{
        "{\"n\":1}\n{\"n\":2}\n", "{\"n\":", "3}\n", "\"" + std::string(100'000, 'x') + "\"\n"});
    return response;
  });
  ASSERT_TRUE(server.ok()) << server.error().message();
  server_ = std::move(server).value();
  const std::string script = R"(
import ssl, struct, sys, websocket
base = "wss://127.0.0.1:%s" % sys.argv[1]
sslopt = {"ca_certs": sys.argv[2]}
ws = websocket.create_connection(base + "/watch", sslopt=sslopt,
                                 subprotocols=["base64.binary.k8s.io", "v4.channel.k8s.io"])
print("protocol", ws.getsubprotocol())
while True:
    frame = ws.recv_frame()
    if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
        print("close", struct.unpack("!H", frame.data[:2])[0])
        break
    kind = "text" if frame.opcode == websocket.ABNF.OPCODE_TEXT else "other"
    data = frame.data.decode()
    print(kind, frame.fin, repr(data) if len(data) < 100 else len(data))
try:
    websocket.create_connection(base + "/missing", sslopt=sslopt)
except websocket.WebSocketBadStatusException as e:
    print("refused", e.status_code)
)";
  const auto result = RunProcess(
      {"/usr/bin/python3", "-c", script, std::to_string(server_->port()), pki_.dir() + "/ca.crt"},
      60s);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "protocol base64.binary.k8s.io\n"
            "text 1 '{\"n\":1}\\n'\ntext 1 '{\"n\":2}\\n'\ntext 1 '{\"n\":3}\\n'\n"
            "text 1 100003\n"
            "close 1000\n"
            "refused 404\n");
  EXPECT_EQ(streams, 1);
  // The connection was a plain HTTPS one before the upgrade; others still work.
  EXPECT_EQ(Curl("/missing").out, "not here\n404");
}

// Sends one piece, then waits for Cancel, as a quiet watch does.
class QuietStream final : public BodyStream {
 public:
  std::optional<std::string> Next() override {
    if (!sent_first_) {
      sent_first_ = true;
      return std::string("{\"n\":1}\n");
    }
    waiting_ = true;
    std::unique_lock lock(mutex_);
    if (changed_.wait_for(lock, 1s, [&] { return cancelled_; })) {
      ended_ = true;
      return std::nullopt;
    }
    return std::string();
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }
  bool cancelled() {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }
  // The first piece has been handed over.
  bool waiting() const { return waiting_; }
  // Next returned nullopt.
  bool ended() const { return ended_; }

 private:
  bool sent_first_ = false;
  std::atomic<bool> waiting_{false};
  std::atomic<bool> ended_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  bool cancelled_ = false;
};

TEST_F(HttpServerTest, AWebSocketClientThatLeavesCancelsItsStream) {
  auto stream = std::make_shared<QuietStream>();
  auto server = StartServer(Options(), [&](const Request&) {
    Response response{200, {{"Content-Type", "application/json"}}, ""};
    response.stream = stream;
    return response;
  });
  ASSERT_TRUE(server.ok()) << server.error().message();
  server_ = std::move(server).value();
  const std::string script = R"(
import sys, websocket
ws = websocket.create_connection("wss://127.0.0.1:%s/watch" % sys.argv[1],
                                 sslopt={"ca_certs": sys.argv[2]}, timeout=30)
print(repr(ws.recv()))
ws.close()
)";
  const auto result = RunProcess(
      {"/usr/bin/python3", "-c", script, std::to_string(server_->port()), pki_.dir() + "/ca.crt"},
      60s);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "'{\"n\":1}\\n'\n");
  EXPECT_TRUE(Eventually([&] { return stream->cancelled(); }));
}

TEST_F(HttpServerTest, AFailedWebSocketHandshakeStillEndsTheStream) {
  auto stream = std::make_shared<QuietStream>();
  auto server = StartServer(Options(), [&](const Request&) {
    Response response{200, {{"Content-Type", "application/json"}}, ""};
    response.stream = stream;
    return response;
  });
  ASSERT_TRUE(server.ok()) << server.error().message();
  server_ = std::move(server).value();
  // An upgrade request without Sec-WebSocket-Key is refused by the WebSocket layer.
  const auto result = Curl("/watch", "", {"-H", "Connection: Upgrade", "-H", "Upgrade: websocket"});
  EXPECT_TRUE(result.out.ends_with("\n400")) << result.out;
  EXPECT_TRUE(Eventually([&] { return stream->cancelled() && stream->ended(); }));
}

TEST_F(HttpServerTest, StopEndsAnOpenWebSocketStreamWithANormalClose) {
  auto stream = std::make_shared<QuietStream>();
  auto server = StartServer(Options(), [&](const Request&) {
    Response response{200, {{"Content-Type", "application/json"}}, ""};
    response.stream = stream;
    return response;
  });
  ASSERT_TRUE(server.ok()) << server.error().message();
  server_ = std::move(server).value();
  const std::string script = R"(
import struct, sys, websocket
ws = websocket.create_connection("wss://127.0.0.1:%s/watch" % sys.argv[1],
                                 sslopt={"ca_certs": sys.argv[2]}, timeout=30)
print(repr(ws.recv()))
opcode, data = ws.recv_data(control_frame=True)
print(opcode == websocket.ABNF.OPCODE_CLOSE, struct.unpack("!H", data[:2])[0])
)";
  ProcessResult result;
  std::thread client([&] {
    result = RunProcess(
        {"/usr/bin/python3", "-c", script, std::to_string(server_->port()), pki_.dir() + "/ca.crt"},
        60s);
  });
  // Once the stream waits, its first piece is on its way, ahead of the close.
  EXPECT_TRUE(Eventually([&] { return stream->waiting(); }));
  server_->Stop();
  client.join();
  EXPECT_TRUE(stream->cancelled());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "'{\"n\":1}\\n'\nTrue 1000\n");
}

TEST(WorkerPoolTest, GrowsForBlockedTasksAndShrinksBackWhenIdle) {
  WorkerPool pool({.min_threads = 1, .max_threads = 8, .idle_exit = 50ms});
  std::mutex mutex;
  std::condition_variable changed;
  int started = 0;
  bool release = false;
  for (int i = 0; i < 6; ++i) {
    pool.Submit([&] {
      std::unique_lock lock(mutex);
      ++started;
      changed.notify_all();
      changed.wait(lock, [&] { return release; });
    });
  }
  {
    std::unique_lock lock(mutex);
    // Six blocked tasks can only all start if the pool grew to six threads.
    ASSERT_TRUE(changed.wait_for(lock, 20s, [&] { return started == 6; }));
    release = true;
    changed.notify_all();
  }
  EXPECT_GE(pool.threads(), 6u);
  EXPECT_TRUE(Eventually([&] { return pool.threads() == 1 && pool.busy() == 0; }))
      << pool.threads();
  pool.Submit([] {});  // joins the threads that ended
  pool.Stop();
  EXPECT_EQ(pool.threads(), 0u);
}

TEST(RequestTest, ReadsBooleanQueryParametersAsUpstream) {
  Request request;
  request.query = {{"a", "true"}, {"b", "True"}, {"c", "1"}, {"d", "0"}, {"e", "FALSE"}, {"f", ""}};
  EXPECT_TRUE(request.QueryFlag("a"));
  EXPECT_TRUE(request.QueryFlag("b"));
  EXPECT_TRUE(request.QueryFlag("c"));
  EXPECT_FALSE(request.QueryFlag("d"));
  EXPECT_FALSE(request.QueryFlag("e"));
  EXPECT_TRUE(request.QueryFlag("f"));
  EXPECT_FALSE(request.QueryFlag("missing"));
}

}  // namespace
}  // namespace kpp::http
