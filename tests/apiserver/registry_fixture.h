// A resource handler over a fresh SQLite store in a temporary directory, with the request
// helpers the registry tests share: requests go straight to ResourceHandler::Serve, in-process.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/runtime/kinds.h"
#include "apiserver/registry/resource_handler.h"
#include "base/clock.h"
#include "base/files.h"
#include "storage/sqlite/sqlite_store.h"

namespace kpp::apiserver {

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override {
    handler_.reset();
    store_.reset();
    if (!dir_.empty()) RemoveAll(dir_);
  }

  // Opens the store and the handler (SetUp does, with the defaults; a test may call TearDown
  // and Start again with its own options). `clock` must outlive the test.
  void Start(ResourceOptions options = {}, Clock* clock = &RealClock()) {
    auto dir = MakeTempDirectory("kpp-registry-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    auto store = storage::OpenSqliteStore(
        {.dir = dir_, .clock = clock, .maintenance_period = std::chrono::milliseconds(20)});
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(store).value();
    if (options.admission == nullptr) {
      // Namespaces refuse new content while they terminate, as a server's do.
      auto chain = admission::NewChain({"NamespaceLifecycle"},
                                       std::make_unique<admission::StoreReader>(*store_), *clock);
      ASSERT_TRUE(chain.ok()) << chain.error().message();
      options.admission = std::move(chain).value();
    }
    handler_ =
        std::make_unique<ResourceHandler>(*store_, *clock, api::AllKinds(), nullptr, options);
    ASSERT_TRUE(handler_->Bootstrap().ok());
  }

  http::Response Send(std::string method, std::string path, std::string body = "",
                      std::string content_type = "application/json",
                      std::vector<std::pair<std::string, std::string>> query = {}) {
    http::Request request = http::Request::LocalJson(std::move(method), std::move(path),
                                                     std::move(body), std::move(query));
    request.headers.front().value = std::move(content_type);
    auto response = handler_->Serve(request);
    EXPECT_TRUE(response.has_value());
    return response ? *std::move(response) : http::Response{};
  }

  // The body of a response expected to have `status`, parsed; null when it has another.
  boost::json::value Ok(const http::Response& response, int status = 200) {
    EXPECT_EQ(response.status, status) << response.body;
    return response.status == status ? boost::json::parse(response.body) : boost::json::value();
  }

  // The Status body of a response expected to fail with `status`.
  boost::json::value Failed(const http::Response& response, int status) {
    EXPECT_EQ(response.status, status) << response.body;
    return boost::json::parse(response.body);
  }

  std::string dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ResourceHandler> handler_;
};

}  // namespace kpp::apiserver
