// Nilable<C>: a list or map for a Go slice or map field without omitempty. Go tells a nil slice
// (written as null) from an empty one (written as []), and clients see the difference, so such a
// field remembers whether it was given at all. Everything else is the container's: code that reads
// or fills the field treats it as a std::vector or std::map. A default-constructed one is nil, as
// in Go; decoding `[]` or `{}` makes it empty but present, and any element makes it present.
// == compares the elements only, as upstream's semantic equality treats nil and empty alike.
#pragma once

#include <utility>

namespace kpp::api {

template <typename Container>
class Nilable : public Container {
 public:
  using Container::Container;
  Nilable() = default;
  // Implicit, so that a container can be assigned to the field; an empty one stays nil.
  Nilable(const Container& items) : Container(items) {}
  Nilable(Container&& items) : Container(std::move(items)) {}

  // Whether the field is Go's nil: written as null without omitempty.
  bool is_nil() const { return this->empty() && !present_; }
  // Marks the field as given (an empty list encodes as []) or not (null).
  void set_nil(bool nil) {
    present_ = !nil;
    if (nil) this->clear();
  }

 private:
  bool present_ = false;
};

}  // namespace kpp::api
