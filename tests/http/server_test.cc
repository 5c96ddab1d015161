#include "http/server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "base/files.h"
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
  std::this_thread::sleep_for(500ms);
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  idle_tls.join();
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
