// An API server as in-process controllers see it through their loopback: lists answered from
// canned JSON, watches that stream the events a test sends, writes answered with a status the
// test picks, and a record of every request ("GET /api/v1/pods", "GET /api/v1/pods watch",
// "POST /api/v1/namespaces/a/configmaps" with its body kept apart).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/server.h"

namespace kpp::testing {

// A watch's body: the events the test sends, until the client cancels.
class EventStream final : public http::BodyStream {
 public:
  void Send(std::string event) {
    std::lock_guard lock(mutex_);
    pieces_.push_back(std::move(event) + "\n");
    changed_.notify_all();
  }
  std::optional<std::string> Next() override {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::milliseconds(100),
                      [this] { return cancelled_ || !pieces_.empty(); });
    if (cancelled_) return std::nullopt;
    if (pieces_.empty()) return std::string();
    std::string piece = std::move(pieces_.front());
    pieces_.pop_front();
    return piece;
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> pieces_;
  bool cancelled_ = false;
};

class FakeWatchServer {
 public:
  // The list answer for `path` (other paths list nothing).
  void SetList(const std::string& path, std::string items) {
    std::lock_guard lock(mutex_);
    lists_[path] = std::move(items);
  }
  void set_write_status(int status) {
    std::lock_guard lock(mutex_);
    write_status_ = status;
  }

  http::Response operator()(const http::Request& request) {
    std::lock_guard lock(mutex_);
    const bool watch = request.QueryFlag("watch");
    requests_.push_back(request.method + " " + request.path + (watch ? " watch" : ""));
    changed_.notify_all();
    if (request.method != "GET") {
      writes_.push_back(request.method + " " + request.path + " " + request.body);
      return http::Response{write_status_, {}, "{}"};
    }
    if (watch) {
      auto stream = std::make_shared<EventStream>();
      watches_[request.path].push_back(stream);
      http::Response response;
      response.stream = stream;
      return response;
    }
    auto found = lists_.find(request.path);
    return http::Response{200,
                          {},
                          R"({"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":"5"},)"
                          R"("items":[)" +
                              (found == lists_.end() ? "" : found->second) + "]}"};
  }

  // Waits (up to 30 s) until `count` requests are `wanted`.
  bool WaitFor(const std::string& wanted, size_t count = 1) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(30),
                             [&] { return Count(wanted) >= count; });
  }
  size_t Requests(const std::string& wanted) {
    std::lock_guard lock(mutex_);
    return Count(wanted);
  }
  // Every write so far ("<method> <path> <body>"), sorted.
  std::vector<std::string> Writes() {
    std::lock_guard lock(mutex_);
    auto writes = writes_;
    std::sort(writes.begin(), writes.end());
    return writes;
  }
  // Sends `type` of `object` to every watch of `path`.
  void Send(const std::string& path, const std::string& type, const std::string& object) {
    std::lock_guard lock(mutex_);
    for (auto& stream : watches_[path])
      stream->Send(R"({"type":")" + type + R"(","object":)" + object + "}");
  }

 private:
  size_t Count(const std::string& wanted) const {
    return std::count(requests_.begin(), requests_.end(), wanted);
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::string> lists_;
  int write_status_ = 200;
  std::vector<std::string> requests_;
  std::vector<std::string> writes_;
  std::map<std::string, std::vector<std::shared_ptr<EventStream>>> watches_;
};

}  // namespace kpp::testing
