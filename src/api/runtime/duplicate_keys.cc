#include "api/runtime/duplicate_keys.h"

#include <boost/json/basic_parser_impl.hpp>
#include <set>

namespace kpp::api::runtime {
namespace {

// One open object or array: the keys seen so far (objects) or the next index (arrays), and the
// path that leads to it.
struct Level {
  bool is_array = false;
  std::set<std::string, std::less<>> keys;
  size_t next_index = 0;
  std::string path;
};

class DuplicateKeyHandler {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  explicit DuplicateKeyHandler(unsigned max_depth) : max_depth_(max_depth) {}

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code& ec) { return Open(true, ec); }
  bool on_array_end(std::size_t, boost::system::error_code&) { return Close(); }
  bool on_object_begin(boost::system::error_code& ec) { return Open(false, ec); }
  bool on_object_end(std::size_t, boost::system::error_code&) { return Close(); }
  bool on_string_part(boost::json::string_view, std::size_t, boost::system::error_code&) {
    return true;
  }
  bool on_string(boost::json::string_view, std::size_t, boost::system::error_code&) {
    return Scalar();
  }
  bool on_key_part(boost::json::string_view part, std::size_t, boost::system::error_code&) {
    key_.append(part.data(), part.size());
    return true;
  }
  bool on_key(boost::json::string_view part, std::size_t, boost::system::error_code&) {
    key_.append(part.data(), part.size());
    Level& level = levels_.back();
    const std::string path = level.path.empty() ? key_ : level.path + "." + key_;
    if (!level.keys.insert(key_).second) duplicates_.push_back(path);
    pending_path_ = path;
    key_.clear();
    return true;
  }
  bool on_number_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t, boost::json::string_view, boost::system::error_code&) { return Scalar(); }
  bool on_uint64(uint64_t, boost::json::string_view, boost::system::error_code&) {
    return Scalar();
  }
  bool on_double(double, boost::json::string_view, boost::system::error_code&) { return Scalar(); }
  bool on_bool(bool, boost::system::error_code&) { return Scalar(); }
  bool on_null(boost::system::error_code&) { return Scalar(); }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

  std::vector<std::string> Take() { return std::move(duplicates_); }

 private:
  // The path of the value that starts now: the pending key in an object, the next index in an
  // array.
  std::string ValuePath() {
    if (levels_.empty()) return {};
    Level& level = levels_.back();
    if (!level.is_array) return pending_path_;
    return level.path + "[" + std::to_string(level.next_index++) + "]";
  }

  bool Open(bool is_array, boost::system::error_code& ec) {
    if (levels_.size() >= max_depth_) {
      ec = boost::json::error::too_deep;
      return false;
    }
    Level level;
    level.is_array = is_array;
    level.path = ValuePath();
    levels_.push_back(std::move(level));
    return true;
  }

  bool Close() {
    levels_.pop_back();
    return true;
  }

  bool Scalar() {
    if (!levels_.empty() && levels_.back().is_array) ++levels_.back().next_index;
    return true;
  }

  unsigned max_depth_;
  std::vector<Level> levels_;
  std::string key_;
  std::string pending_path_;
  std::vector<std::string> duplicates_;
};

}  // namespace

std::vector<std::string> FindDuplicateKeys(std::string_view json, unsigned max_depth) {
  boost::json::basic_parser<DuplicateKeyHandler> parser(boost::json::parse_options{}, max_depth);
  boost::system::error_code ec;
  parser.write_some(false, json.data(), json.size(), ec);
  if (ec) return {};
  return parser.handler().Take();
}

}  // namespace kpp::api::runtime
