// Box<T>: an optional value held on the heap, for a Go pointer to a type that contains itself
// (JSONSchemaProps.not, .items, ...). std::optional cannot hold such a type, because the type is
// incomplete where its own members are declared. Box behaves like std::optional: copies copy the
// value, == compares values (two empty boxes are equal).
#pragma once

#include <memory>
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
  ~Box() = default;

  Box& operator=(const Box& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  Box& operator=(Box&& other) noexcept = default;

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return has_value(); }

  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }

  // Fills the box with a default-constructed value, replacing any value it had.
  T& emplace() {
    value_ = std::make_unique<T>();
    return *value_;
  }
  void reset() { value_.reset(); }

  friend bool operator==(const Box& a, const Box& b) {
    if (!a.value_ || !b.value_) return !a.value_ && !b.value_;
    return *a.value_ == *b.value_;
  }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace kpp::api
