// The protobuf wire format of the Kubernetes API (application/vnd.kubernetes.protobuf): a writer
// and a reader of protobuf fields, the encodings of the API's special scalars (Time, Quantity,
// IntOrString, ...), and the "k8s\0" + runtime.Unknown envelope that carries one object.
// Generated code (proto_codec.cc of each package) is built on these; field numbers come from the
// schema (`proto=N`).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/runtime/scalars.h"
#include "base/result.h"

namespace kpp::api::protobuf {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Appends fields to a buffer. Scalars that are not pointers in Go are always written (as
// upstream's generated marshallers do); callers skip absent optional fields themselves.
class Writer {
 public:
  void Int(int field, int64_t value);  // int32, int64 and enums: varint, negatives sign-extended
  void Bool(int field, bool value);
  void Double(int field, double value);
  void String(int field, std::string_view value);

  // A nested message: Begin writes the tag and reserves room for the length, End fills it in.
  size_t BeginMessage(int field);
  void EndMessage(size_t begin);

  void Time(int field, const api::Time& value);
  void MicroTime(int field, const api::MicroTime& value);
  void Quantity(int field, const api::Quantity& value);
  void IntOrString(int field, const api::IntOrString& value);
  void Duration(int field, std::string_view go_duration);
  void RawJson(int field, const api::RawJson& value);

  const std::string& data() const { return data_; }
  std::string Take() && { return std::move(data_); }

 private:
  void Tag(int field, WireType type);
  void Varint(uint64_t value);

  std::string data_;
};

// Reads the fields of one message. Nested messages get their own Reader that shares the error
// state, so the first error anywhere stops the whole decode.
class Reader {
 public:
  explicit Reader(std::string_view data, unsigned max_depth = 100);

  // Moves to the next field; false at the end of the message or after an error.
  bool Next();
  int field() const { return field_; }

  void ReadInt32(int32_t& out);
  void ReadInt64(int64_t& out);
  void ReadBool(bool& out);
  void ReadDouble(double& out);
  void ReadString(std::string& out);
  // Repeated varints arrive packed or one per field; both append.
  void ReadRepeatedInt32(std::vector<int32_t>& out);
  void ReadRepeatedInt64(std::vector<int64_t>& out);

  void ReadTime(api::Time& out);
  void ReadMicroTime(api::MicroTime& out);
  void ReadQuantity(api::Quantity& out);
  void ReadIntOrString(api::IntOrString& out);
  void ReadDuration(std::string& go_duration);
  void ReadRawJson(api::RawJson& out);

  // The current field as a nested message; nullopt (with the error recorded) when it is not
  // length-delimited or nests too deep.
  std::optional<Reader> Message();
  // Skips the current field, whatever its type.
  void Skip();

  bool failed() const { return state_->error.has_value(); }
  const std::optional<Error>& error() const { return state_->error; }
  void Fail(std::string message);

 private:
  struct State {
    std::optional<Error> error;
    unsigned max_depth = 0;
  };
  Reader(std::string_view data, std::shared_ptr<State> state, unsigned depth);

  bool ReadVarint(uint64_t& out);
  bool Expect(WireType type);
  std::optional<std::string_view> LengthDelimited();

  std::string_view data_;
  size_t position_ = 0;
  int field_ = 0;
  WireType wire_type_ = WireType::kVarint;
  std::shared_ptr<State> state_;
  unsigned depth_ = 0;
};

// The envelope of one object: the 4-byte magic "k8s\0" and a runtime.Unknown message that names
// the object's apiVersion and kind and holds its encoded message.
inline constexpr std::string_view kMagic{"k8s\0", 4};
inline constexpr std::string_view kMediaType = "application/vnd.kubernetes.protobuf";

std::string Wrap(std::string_view api_version, std::string_view kind, std::string_view message);

struct Envelope {
  std::string api_version;
  std::string kind;
  std::string message;
};
// BadRequest when `body` is not an envelope.
Result<Envelope> Unwrap(std::string_view body);

}  // namespace kpp::api::protobuf
