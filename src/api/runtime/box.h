// Box<T>: an optional value held on the heap, for a Go pointer to a type that contains itself
// (JSONSchemaProps.not, .items, ...) and for large types that are usually absent (schema option
// `optional=box`: a container's probes, lifecycle and security context, most volume sources).
// std::optional cannot hold a type that contains itself, because the type is incomplete where its
// own members are declared; and it costs the whole size of the type even when empty, which for a
// Container was 2.3 of its 2.9 KB. Box behaves like std::optional: copies copy the value, ==
// compares values (two empty boxes are equal).
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace kpp::api {

template <typename T>
class Box {
 public:
  Box() = default;
  Box(const Box& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  Box(Box&& other) noexcept = default;
  // Implicit, as for std::optional: assigning a value fills the box.
  Box(T value) : value_(std::make_unique<T>(std::move(value))) {}
  Box(std::nullopt_t) {}
  ~Box() = default;

  Box& operator=(const Box& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  Box& operator=(Box&& other) noexcept = default;
  Box& operator=(std::nullopt_t) {
    value_.reset();
    return *this;
  }

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return has_value(); }

  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }

  // Fills the box with a value made of `args`, replacing any value it had.
  template <typename... Args>
  T& emplace(Args&&... args) {
    value_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *value_;
  }
  void reset() { value_.reset(); }

  friend bool operator==(const Box& a, const Box& b) {
    if (!a.value_ || !b.value_) return !a.value_ && !b.value_;
    return *a.value_ == *b.value_;
  }
  friend bool operator==(const Box& a, std::nullopt_t) { return !a.value_; }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace kpp::api
