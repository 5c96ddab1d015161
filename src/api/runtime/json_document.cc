#include "api/runtime/json_document.h"

#include <algorithm>
#include <bit>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace kpp::api::runtime {
namespace {

// Boost.JSON's own DOM handler (a value_stack fed by the parser's events), counting keys.
class CountingDomHandler {
 public:
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  using ec_t = boost::system::error_code;
  using sv_t = boost::json::string_view;

  // `temp` holds the values of the objects and arrays not yet closed, before it overflows to
  // the heap.
  CountingDomHandler(unsigned char* temp, std::size_t temp_size) : stack({}, temp, temp_size) {}

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t&) { return true; }
  bool on_object_end(std::size_t n, ec_t&) {
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(std::size_t n, ec_t&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(sv_t s, std::size_t, ec_t&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(sv_t s, std::size_t, ec_t&) {
    stack.push_key(s);
    ++keys;
    return true;
  }
  bool on_string_part(sv_t s, std::size_t, ec_t&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(sv_t s, std::size_t, ec_t&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(sv_t, ec_t&) { return true; }
  bool on_int64(std::int64_t i, sv_t, ec_t&) {
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, sv_t, ec_t&) {
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, sv_t text, ec_t& ec) {
    // Beyond the range of a double the parser gives infinity, which no JSON can carry back.
    if (!std::isfinite(d)) {
      out_of_range_number.assign(text.data(), text.size());
      ec = boost::json::error::exponent_overflow;
      return false;
    }
    stack.push_double(d);
    return true;
  }
  bool on_bool(bool b, ec_t&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(ec_t&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(sv_t, ec_t&) { return true; }
  bool on_comment(sv_t, ec_t&) { return true; }

  boost::json::value_stack stack;
  std::size_t keys = 0;
  std::string out_of_range_number;
};

// Keys of all objects in `root`, counted without recursion.
std::size_t CountKeys(const boost::json::value& root) {
  std::size_t keys = 0;
  std::vector<const boost::json::value*> pending = {&root};
  while (!pending.empty()) {
    const boost::json::value* value = pending.back();
    pending.pop_back();
    if (const auto* object = value->if_object()) {
      keys += object->size();
      for (const auto& member : *object) {
        if (member.value().is_structured()) pending.push_back(&member.value());
      }
    } else if (const auto* array = value->if_array()) {
      for (const auto& element : *array) {
        if (element.is_structured()) pending.push_back(&element);
      }
    }
  }
  return keys;
}

struct ThreadScratch {
  std::unique_ptr<unsigned char[]> data;
  std::size_t size = 0;
  bool in_use = false;
};
thread_local ThreadScratch thread_scratch;

// A document takes about three times the bytes of its text (values, members, long strings).
constexpr std::size_t kDocumentBytesPerTextByte = 4;
constexpr std::size_t kMinScratch = 16 * 1024;
// Bodies larger than this get an arena of their own rather than growing what every thread keeps.
constexpr std::size_t kMaxScratch = 1024 * 1024;

}  // namespace

ScratchArena::ScratchArena(std::size_t json_size) {
  const std::size_t wanted =
      std::bit_ceil(std::max(kMinScratch, json_size * kDocumentBytesPerTextByte));
  if (thread_scratch.in_use || wanted > kMaxScratch) {
    resource_.emplace(wanted);
    return;
  }
  if (thread_scratch.size < wanted) {
    thread_scratch.data = std::make_unique_for_overwrite<unsigned char[]>(wanted);
    thread_scratch.size = wanted;
  }
  thread_scratch.in_use = true;
  uses_thread_buffer_ = true;
  resource_.emplace(thread_scratch.data.get(), thread_scratch.size);
}

ScratchArena::~ScratchArena() {
  resource_.reset();
  if (uses_thread_buffer_) thread_scratch.in_use = false;
}

Result<JsonDocument> ParseJsonDocument(std::string_view json, unsigned max_depth,
                                       boost::json::storage_ptr storage) {
  boost::json::parse_options options;
  options.max_depth = max_depth;
  unsigned char temp[4096];
  boost::json::basic_parser<CountingDomHandler> parser(options, temp, sizeof temp);
  parser.handler().stack.reset(std::move(storage));
  boost::system::error_code ec;
  const std::size_t consumed = parser.write_some(false, json.data(), json.size(), ec);
  if (!ec && consumed < json.size()) ec = boost::json::error::extra_data;
  if (!parser.handler().out_of_range_number.empty()) {
    // Go's message for a number no float64 holds.
    return Error(ErrorCode::kBadRequest, "json: cannot unmarshal number " +
                                             parser.handler().out_of_range_number +
                                             " into Go value of type float64");
  }
  if (ec) return Error(ErrorCode::kBadRequest, "invalid JSON: " + ec.message());
  // Constructed, not assigned: assigning to a value of the default storage would copy the whole
  // document out of `storage` into the heap, one allocation per value.
  JsonDocument document{parser.handler().stack.release(), false};
  document.has_duplicate_keys = CountKeys(document.value) != parser.handler().keys;
  return document;
}

}  // namespace kpp::api::runtime
