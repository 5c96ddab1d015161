#include "client/rest/loopback_transport.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace kpp::client::rest {
namespace {

// A watch body that has nothing to send until it is cancelled, and notes whether the cancel
// woke it (rather than its own wait running out).
class IdleStream final : public http::BodyStream {
 public:
  std::optional<std::string> Next() override {
    std::unique_lock lock(mutex_);
    woken_by_cancel_ =
        changed_.wait_for(lock, std::chrono::seconds(20), [&] { return cancelled_; });
    if (!woken_by_cancel_) return std::string();
    return std::nullopt;
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }
  bool woken_by_cancel() {
    std::lock_guard lock(mutex_);
    return woken_by_cancel_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool cancelled_ = false;
  bool woken_by_cancel_ = false;
};

http::Response Streaming(std::shared_ptr<IdleStream> stream) {
  http::Response response;
  response.stream = std::move(stream);
  return response;
}

TEST(LoopbackTransportTest, CancelWakesAWaitingWatchAtOnce) {
  auto stream = std::make_shared<IdleStream>();
  LoopbackTransport transport([&](const http::Request&) { return Streaming(stream); });
  StreamCanceller canceller;
  std::thread watcher([&] {
    auto result = transport.Stream(
        {"GET", "/api/v1/pods?watch=true", {}, ""}, [](std::string_view) { return true; },
        &canceller, std::chrono::milliseconds(0));
    EXPECT_TRUE(std::holds_alternative<HttpResponse>(result));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  canceller.Cancel();
  watcher.join();
  EXPECT_TRUE(stream->woken_by_cancel());
}

TEST(LoopbackTransportTest, CancelBeforeTheWatchStartsEndsItWithoutWaiting) {
  auto stream = std::make_shared<IdleStream>();
  LoopbackTransport transport([&](const http::Request&) { return Streaming(stream); });
  StreamCanceller canceller;
  canceller.Cancel();
  int pieces = 0;
  auto result = transport.Stream(
      {"GET", "/api/v1/pods?watch=true", {}, ""}, [&](std::string_view) { return ++pieces, true; },
      &canceller, std::chrono::milliseconds(0));
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(result));
  EXPECT_EQ(std::get<HttpResponse>(result).status, 200);
  EXPECT_EQ(pieces, 0);
}

}  // namespace
}  // namespace kpp::client::rest
