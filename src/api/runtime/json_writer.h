// A streaming JSON writer that produces what Go's encoding/json produces for the same values, so
// that objects kpp serves are byte-for-byte what an upstream API server would send.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace boost::json {
class value;
}  // namespace boost::json

namespace kpp::api::runtime {

class JsonWriter {
 public:
  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // The key of the next value in the current object.
  void Key(std::string_view key);
  // A key that needs no escaping, given with its quotes and colon ("\"name\":"): the generated
  // encoders write their field names so, without scanning them for characters to escape.
  void QuotedKey(std::string_view quoted_key_and_colon) {
    if (need_comma_) out_ += ',';
    out_ += quoted_key_and_colon;
    need_comma_ = false;
    after_key_ = true;
  }

  void String(std::string_view value);
  void Bool(bool value);
  void Int(int64_t value);
  // Shortest representation that reads back to the same double, as Go's 'g'-like float format.
  void Double(double value);
  void Null();
  // Already-encoded JSON, inserted as one value.
  void Raw(std::string_view json);

  const std::string& str() const& { return out_; }
  std::string str() && { return std::move(out_); }

 private:
  void BeforeValue();
  void WriteEscaped(std::string_view text);

  std::string out_;
  bool need_comma_ = false;
  bool after_key_ = false;
};

// Writes a JSON value as Go writes the raw JSON it was sent: members in their order, strings with
// Go's escapes (<, >, & and U+2028/9 as \u sequences), numbers in Go's shortest form.
void WriteJsonValue(const boost::json::value& value, JsonWriter& out);

}  // namespace kpp::api::runtime
