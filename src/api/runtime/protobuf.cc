#include "api/runtime/protobuf.h"

#include <fmt/format.h>

#include <bit>
#include <boost/json/parse.hpp>
#include <cstring>

#include "api/runtime/json_document.h"
#include "apimachinery/intstr/duration.h"

namespace kpp::api::protobuf {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
// As deep as the JSON decoder allows (DecodeOptions::max_depth).
constexpr unsigned kMaxEmbeddedJsonDepth = 200;

std::string TimeOutOfRange(int64_t seconds) {
  return fmt::format(
      "proto: time out of range: {} seconds since 1970 is outside the years "
      "0000 to 9999",
      seconds);
}

// Floor division, so that times before 1970 get a negative second and a positive nano part.
int64_t FloorDiv(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

}  // namespace

// ---- Writer -------------------------------------------------------------------------------

void Writer::Tag(int field, WireType type) {
  Varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(type));
}

void Writer::Varint(uint64_t value) {
  while (value >= 0x80) {
    data_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  data_.push_back(static_cast<char>(value));
}

void Writer::Int(int field, int64_t value) {
  Tag(field, WireType::kVarint);
  Varint(static_cast<uint64_t>(value));
}

void Writer::Bool(int field, bool value) {
  Tag(field, WireType::kVarint);
  Varint(value ? 1 : 0);
}

void Writer::Double(int field, double value) {
  Tag(field, WireType::kFixed64);
  const auto bits = std::bit_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i)
    data_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

void Writer::String(int field, std::string_view value) {
  Tag(field, WireType::kLengthDelimited);
  Varint(value.size());
  data_.append(value);
}

size_t Writer::BeginMessage(int field) {
  Tag(field, WireType::kLengthDelimited);
  // One byte holds the length of most messages; End makes room when it does not.
  data_.push_back('\0');
  return data_.size();
}

void Writer::EndMessage(size_t begin) {
  const uint64_t length = data_.size() - begin;
  if (length < 0x80) {
    data_[begin - 1] = static_cast<char>(length);
    return;
  }
  std::string prefix;
  for (uint64_t rest = length; rest != 0; rest >>= 7) {
    prefix.push_back(static_cast<char>((rest & 0x7f) | (rest >= 0x80 ? 0x80 : 0)));
  }
  data_.replace(begin - 1, 1, prefix);
}

void Writer::Time(int field, const api::Time& value) {
  const size_t begin = BeginMessage(field);
  if (!value.IsZero()) {
    Int(1, value.unix_seconds);
    Int(2, 0);
  }
  EndMessage(begin);
}

void Writer::MicroTime(int field, const api::MicroTime& value) {
  const size_t begin = BeginMessage(field);
  if (!value.IsZero()) {
    const int64_t seconds = FloorDiv(value.unix_micros, kMicrosPerSecond);
    Int(1, seconds);
    Int(2, (value.unix_micros - seconds * kMicrosPerSecond) * 1000);
  }
  EndMessage(begin);
}

void Writer::Quantity(int field, const api::Quantity& value) {
  const size_t begin = BeginMessage(field);
  String(1, value.text);
  EndMessage(begin);
}

void Writer::IntOrString(int field, const api::IntOrString& value) {
  const size_t begin = BeginMessage(field);
  Int(1, value.is_string ? 1 : 0);
  Int(2, value.int_value);
  String(3, value.string_value);
  EndMessage(begin);
}

void Writer::Duration(int field, std::string_view go_duration) {
  // The JSON codec accepted the text, so it parses; an empty one is zero.
  auto parsed = go_duration.empty() ? Result<intstr::Duration>(intstr::Duration(0))
                                    : intstr::ParseDuration(go_duration);
  const size_t begin = BeginMessage(field);
  Int(1, parsed.ok() ? parsed->count() : 0);
  EndMessage(begin);
}

void Writer::RawJson(int field, const api::RawJson& value) {
  const size_t begin = BeginMessage(field);
  if (!value.IsZero()) String(1, value.Text());
  EndMessage(begin);
}

// ---- Reader -------------------------------------------------------------------------------

Reader::Reader(std::string_view data, unsigned max_depth)
    : data_(data), state_(std::make_shared<State>()) {
  state_->max_depth = max_depth;
}

Reader::Reader(std::string_view data, std::shared_ptr<State> state, unsigned depth)
    : data_(data), state_(std::move(state)), depth_(depth) {}

void Reader::Fail(std::string message) {
  if (!state_->error) state_->error = Error(ErrorCode::kBadRequest, std::move(message));
}

bool Reader::ReadVarint(uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (position_ >= data_.size()) {
      Fail("proto: unexpected end of data");
      return false;
    }
    const auto byte = static_cast<uint8_t>(data_[position_++]);
    out |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  Fail("proto: integer overflow");
  return false;
}

bool Reader::Next() {
  if (failed() || position_ >= data_.size()) return false;
  uint64_t tag = 0;
  if (!ReadVarint(tag)) return false;
  field_ = static_cast<int>(tag >> 3);
  const auto type = static_cast<uint8_t>(tag & 7);
  if (field_ <= 0 || (tag >> 3) > 0x1fffffff) {
    Fail(fmt::format("proto: illegal tag {} (wire type {})", tag >> 3, type));
    return false;
  }
  if (type != 0 && type != 1 && type != 2 && type != 5) {
    Fail(fmt::format("proto: illegal wireType {}", type));
    return false;
  }
  wire_type_ = static_cast<WireType>(type);
  return true;
}

bool Reader::Expect(WireType type) {
  if (wire_type_ == type) return true;
  Fail(
      fmt::format("proto: wrong wireType = {} for field {}", static_cast<int>(wire_type_), field_));
  return false;
}

std::optional<std::string_view> Reader::LengthDelimited() {
  if (!Expect(WireType::kLengthDelimited)) return std::nullopt;
  uint64_t length = 0;
  if (!ReadVarint(length)) return std::nullopt;
  if (length > data_.size() - position_) {
    Fail("proto: unexpected end of data");
    return std::nullopt;
  }
  const std::string_view bytes = data_.substr(position_, length);
  position_ += length;
  return bytes;
}

void Reader::Skip() {
  uint64_t ignored = 0;
  switch (wire_type_) {
    case WireType::kVarint: ReadVarint(ignored); return;
    case WireType::kLengthDelimited: LengthDelimited(); return;
    case WireType::kFixed64:
    case WireType::kFixed32: {
      const size_t size = wire_type_ == WireType::kFixed64 ? 8 : 4;
      if (data_.size() - position_ < size) {
        Fail("proto: unexpected end of data");
        return;
      }
      position_ += size;
      return;
    }
  }
}

void Reader::ReadInt64(int64_t& out) {
  uint64_t value = 0;
  if (Expect(WireType::kVarint) && ReadVarint(value)) out = static_cast<int64_t>(value);
}

void Reader::ReadInt32(int32_t& out) {
  int64_t value = 0;
  ReadInt64(value);
  out = static_cast<int32_t>(value);
}

void Reader::ReadBool(bool& out) {
  uint64_t value = 0;
  if (Expect(WireType::kVarint) && ReadVarint(value)) out = value != 0;
}

void Reader::ReadDouble(double& out) {
  if (!Expect(WireType::kFixed64)) return;
  if (data_.size() - position_ < 8) {
    Fail("proto: unexpected end of data");
    return;
  }
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) {
    bits |= static_cast<uint64_t>(static_cast<uint8_t>(data_[position_ + i])) << (8 * i);
  }
  position_ += 8;
  out = std::bit_cast<double>(bits);
}

void Reader::ReadString(std::string& out) {
  if (auto bytes = LengthDelimited()) out.assign(*bytes);
}

void Reader::ReadRepeatedInt64(std::vector<int64_t>& out) {
  if (wire_type_ != WireType::kLengthDelimited) {
    int64_t value = 0;
    ReadInt64(value);
    if (!failed()) out.push_back(value);
    return;
  }
  auto bytes = LengthDelimited();
  if (!bytes) return;
  Reader packed(*bytes, state_, depth_);
  while (packed.position_ < packed.data_.size()) {
    uint64_t value = 0;
    if (!packed.ReadVarint(value)) return;
    out.push_back(static_cast<int64_t>(value));
  }
}

void Reader::ReadRepeatedInt32(std::vector<int32_t>& out) {
  std::vector<int64_t> values;
  ReadRepeatedInt64(values);
  for (int64_t value : values)
    out.push_back(static_cast<int32_t>(value));
}

std::optional<Reader> Reader::Message() {
  auto bytes = LengthDelimited();
  if (!bytes) return std::nullopt;
  if (depth_ + 1 > state_->max_depth) {
    Fail(fmt::format("proto: messages nest deeper than {} levels", state_->max_depth));
    return std::nullopt;
  }
  return Reader(*bytes, state_, depth_ + 1);
}

void Reader::ReadTime(api::Time& out) {
  auto message = Message();
  if (!message) return;
  int64_t seconds = 0;
  bool any = false;
  while (message->Next()) {
    if (message->field() == 1) {
      message->ReadInt64(seconds);
      any = true;
    } else {
      message->Skip();  // nanos: metav1.Time has whole seconds
    }
  }
  if (!api::InRfc3339Range(seconds)) return Fail(TimeOutOfRange(seconds));
  out = any ? api::Time::FromUnixSeconds(seconds) : api::Time{};
}

void Reader::ReadMicroTime(api::MicroTime& out) {
  auto message = Message();
  if (!message) return;
  int64_t seconds = 0;
  int32_t nanos = 0;
  bool any = false;
  while (message->Next()) {
    if (message->field() == 1) {
      message->ReadInt64(seconds);
      any = true;
    } else if (message->field() == 2) {
      message->ReadInt32(nanos);
      any = true;
    } else {
      message->Skip();
    }
  }
  if (!api::InRfc3339Range(seconds)) return Fail(TimeOutOfRange(seconds));
  const int64_t micros = seconds * kMicrosPerSecond + nanos / 1000;
  if (!api::InRfc3339Range(FloorDiv(micros, kMicrosPerSecond))) {
    return Fail(TimeOutOfRange(FloorDiv(micros, kMicrosPerSecond)));
  }
  out = any ? api::MicroTime::FromUnixMicros(micros) : api::MicroTime{};
}

void Reader::ReadQuantity(api::Quantity& out) {
  auto message = Message();
  if (!message) return;
  std::string text;
  while (message->Next()) {
    if (message->field() == 1) {
      message->ReadString(text);
    } else {
      message->Skip();
    }
  }
  if (text.empty()) {
    out = api::Quantity{};
    return;
  }
  auto canonical = api::CanonicalQuantity(text);
  if (!canonical.ok()) return Fail(canonical.error().message());
  out.text = *std::move(canonical);
}

void Reader::ReadIntOrString(api::IntOrString& out) {
  auto message = Message();
  if (!message) return;
  int64_t type = 0;
  out = api::IntOrString{};
  while (message->Next()) {
    switch (message->field()) {
      case 1: message->ReadInt64(type); break;
      case 2: message->ReadInt32(out.int_value); break;
      case 3: message->ReadString(out.string_value); break;
      default: message->Skip();
    }
  }
  out.is_string = type == 1;
  if (out.is_string) {
    out.int_value = 0;
  } else {
    out.string_value.clear();
  }
}

void Reader::ReadDuration(std::string& go_duration) {
  auto message = Message();
  if (!message) return;
  int64_t nanos = 0;
  while (message->Next()) {
    if (message->field() == 1) {
      message->ReadInt64(nanos);
    } else {
      message->Skip();
    }
  }
  go_duration = intstr::FormatDuration(intstr::Duration(nanos));
}

void Reader::ReadRawJson(api::RawJson& out) {
  auto message = Message();
  if (!message) return;
  std::string raw;
  while (message->Next()) {
    if (message->field() == 1) {
      message->ReadString(raw);
    } else {
      message->Skip();
    }
  }
  if (raw.empty()) {
    out = api::RawJson();
    return;
  }
  auto document = runtime::ParseJsonDocument(raw, kMaxEmbeddedJsonDepth);
  if (!document.ok()) {
    Fail("proto: an embedded object is not JSON: " + document.error().message());
    return;
  }
  out = api::RawJson(document->value);
}

// ---- Envelope -----------------------------------------------------------------------------

std::string Wrap(std::string_view api_version, std::string_view kind, std::string_view message) {
  Writer writer;
  const size_t type_meta = writer.BeginMessage(1);
  writer.String(1, api_version);
  writer.String(2, kind);
  writer.EndMessage(type_meta);
  writer.String(2, message);
  writer.String(3, "");
  writer.String(4, "");
  std::string out(kMagic);
  out += writer.data();
  return out;
}

Result<Envelope> Unwrap(std::string_view body) {
  if (!body.starts_with(kMagic)) {
    return Error(ErrorCode::kBadRequest,
                 "provided data does not appear to be a protobuf message, expected prefix "
                 "[107 56 115 0]");
  }
  Reader reader(body.substr(kMagic.size()));
  Envelope envelope;
  std::string content_encoding;
  while (reader.Next()) {
    switch (reader.field()) {
      case 1: {
        auto type_meta = reader.Message();
        while (type_meta && type_meta->Next()) {
          if (type_meta->field() == 1) {
            type_meta->ReadString(envelope.api_version);
          } else if (type_meta->field() == 2) {
            type_meta->ReadString(envelope.kind);
          } else {
            type_meta->Skip();
          }
        }
        break;
      }
      case 2: reader.ReadString(envelope.message); break;
      case 3: reader.ReadString(content_encoding); break;
      default: reader.Skip();
    }
  }
  if (reader.failed()) return *reader.error();
  if (!content_encoding.empty()) {
    return Error(ErrorCode::kBadRequest,
                 fmt::format("unsupported protobuf content encoding \"{}\"", content_encoding));
  }
  return envelope;
}

}  // namespace kpp::api::protobuf
