// Parsing a request body into a JSON document for the generated decoders, in one pass that also
// notices whether some object has a key twice (Boost.JSON keeps only the last), so that the
// slower search for the duplicates' paths runs only when there are some.
#pragma once

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string_view>

#include "base/result.h"

namespace kpp::api::runtime {

struct JsonDocument {
  boost::json::value value;
  bool has_duplicate_keys = false;
};

// As boost::json::parse with `max_depth` (same errors: BadRequest "invalid JSON: <reason>"), but
// a number beyond the range of a double is an error (Go's), not infinity; the values are
// allocated from `storage`.
Result<JsonDocument> ParseJsonDocument(std::string_view json, unsigned max_depth,
                                       boost::json::storage_ptr storage = {});

// Where the document of one decode is allocated: a per-thread buffer sized for the text and
// reused by the next decode, so a typical body costs no allocation for its document (the 8 KiB
// stack buffer before it overflowed for a 7 KB Pod). A nested decode on the same thread, or a
// very large body, gets an arena of its own. Keeps the document only as long as it lives.
class ScratchArena {
 public:
  explicit ScratchArena(std::size_t json_size);
  ~ScratchArena();
  ScratchArena(const ScratchArena&) = delete;
  ScratchArena& operator=(const ScratchArena&) = delete;

  boost::json::storage_ptr storage() { return boost::json::storage_ptr(&*resource_); }

 private:
  std::optional<boost::json::monotonic_resource> resource_;
  bool uses_thread_buffer_ = false;
};

}  // namespace kpp::api::runtime
