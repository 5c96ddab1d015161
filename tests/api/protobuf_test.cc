#include "api/runtime/protobuf.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

namespace kpp::api::protobuf {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int byte : bytes)
    out.push_back(static_cast<char>(byte));
  return out;
}

TEST(ProtobufWriterTest, EncodesScalarsAsTheWireFormatSpecifies) {
  Writer writer;
  writer.Int(1, 150);
  writer.Int(2, -1);  // an int32 -1 is sign-extended to ten bytes
  writer.Bool(3, true);
  writer.String(4, "hi");
  EXPECT_EQ(writer.data(), Bytes({0x08, 0x96, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0x01, 0x18, 0x01, 0x22, 0x02, 'h',  'i'}));
}

TEST(ProtobufWriterTest, NestedMessagesOfAnyLengthGetTheirLengthPrefix) {
  for (size_t size : {0, 1, 127, 128, 300, 20000}) {
    Writer writer;
    const size_t begin = writer.BeginMessage(5);
    writer.String(1, std::string(size, 'x'));
    writer.EndMessage(begin);
    writer.Int(6, 7);

    Reader reader(writer.data());
    ASSERT_TRUE(reader.Next());
    ASSERT_EQ(reader.field(), 5);
    auto message = reader.Message();
    ASSERT_TRUE(message.has_value());
    ASSERT_TRUE(message->Next());
    std::string text;
    message->ReadString(text);
    EXPECT_EQ(text.size(), size);
    EXPECT_FALSE(message->Next());
    ASSERT_TRUE(reader.Next());
    int32_t after = 0;
    reader.ReadInt32(after);
    EXPECT_EQ(after, 7) << size;
    EXPECT_FALSE(reader.Next());
    EXPECT_FALSE(reader.failed());
  }
}

TEST(ProtobufReaderTest, ReadsRepeatedVarintsPackedAndUnpacked) {
  // Field 1 unpacked twice, then packed [3, 270, -1].
  std::string data = Bytes({0x08, 0x01, 0x08, 0x02, 0x0a, 0x0d, 0x03, 0x8e, 0x02});
  data += Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  Reader reader(data);
  std::vector<int32_t> values;
  while (reader.Next())
    reader.ReadRepeatedInt32(values);
  EXPECT_FALSE(reader.failed());
  EXPECT_EQ(values, (std::vector<int32_t>{1, 2, 3, 270, -1}));
}

TEST(ProtobufReaderTest, SkipsUnknownFieldsOfEveryWireType) {
  std::string data = Bytes({0x08, 0x05,                           // varint
                            0x11, 1,    2,   3,   4, 5, 6, 7, 8,  // fixed64
                            0x1a, 0x02, 'a', 'b',                 // bytes
                            0x25, 1,    2,   3,   4,              // fixed32
                            0x28, 0x09});
  Reader reader(data);
  int32_t last = 0;
  while (reader.Next()) {
    if (reader.field() == 5) {
      reader.ReadInt32(last);
    } else {
      reader.Skip();
    }
  }
  EXPECT_FALSE(reader.failed());
  EXPECT_EQ(last, 9);
}

TEST(ProtobufReaderTest, MalformedInputFailsWithABadRequest) {
  const std::vector<std::string> bad = {
      Bytes({0x0a, 0x05, 'a'}),  // length beyond the end
      Bytes({0x08}),             // varint cut off
      Bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),
      Bytes({0x0b}),        // group wire types are not used
      Bytes({0x00, 0x01}),  // field number zero
  };
  for (const auto& data : bad) {
    Reader reader(data);
    std::string text;
    while (reader.Next())
      reader.ReadString(text);
    ASSERT_TRUE(reader.failed());
    EXPECT_EQ(reader.error()->code(), ErrorCode::kBadRequest);
  }
  Reader wrong_type(Bytes({0x08, 0x01}));
  std::string text;
  ASSERT_TRUE(wrong_type.Next());
  wrong_type.ReadString(text);
  ASSERT_TRUE(wrong_type.failed());
  EXPECT_EQ(wrong_type.error()->message(), "proto: wrong wireType = 0 for field 1");
}

TEST(ProtobufReaderTest, BoundsNesting) {
  std::string data;
  for (int i = 0; i < 200; ++i) {
    Writer wrapper;
    wrapper.String(1, data);
    data = wrapper.data();
  }
  Reader reader(data, 50);
  std::optional<Reader> current = reader;
  while (current && current->Next())
    current = current->Message();
  ASSERT_TRUE(reader.failed());
  EXPECT_EQ(reader.error()->message(), "proto: messages nest deeper than 50 levels");
}

TEST(ProtobufScalarsTest, RoundTripTheApiScalars) {
  Writer writer;
  writer.Time(1, Time::FromUnixSeconds(1704164645));
  writer.Time(2, Time{});
  writer.MicroTime(3, MicroTime::FromUnixMicros(-1));  // just before 1970
  writer.Quantity(4, Quantity{"100Mi"});
  writer.IntOrString(5, IntOrString::FromString("25%"));
  writer.IntOrString(6, IntOrString::FromInt(-8080));
  writer.Duration(7, "1m30s");
  writer.RawJson(8, RawJson(boost::json::parse(R"({"a":[1,"b"]})")));
  writer.RawJson(9, RawJson());
  writer.Double(10, 0.25);

  Reader reader(writer.data());
  Time time, zero_time = Time::FromUnixSeconds(5);
  MicroTime micro;
  Quantity quantity;
  IntOrString percent, port;
  std::string duration;
  RawJson raw, empty_raw(boost::json::parse("1"));
  double ratio = 0;
  while (reader.Next()) {
    switch (reader.field()) {
      case 1: reader.ReadTime(time); break;
      case 2: reader.ReadTime(zero_time); break;
      case 3: reader.ReadMicroTime(micro); break;
      case 4: reader.ReadQuantity(quantity); break;
      case 5: reader.ReadIntOrString(percent); break;
      case 6: reader.ReadIntOrString(port); break;
      case 7: reader.ReadDuration(duration); break;
      case 8: reader.ReadRawJson(raw); break;
      case 9: reader.ReadRawJson(empty_raw); break;
      case 10: reader.ReadDouble(ratio); break;
      default: reader.Skip();
    }
  }
  ASSERT_FALSE(reader.failed()) << reader.error()->message();
  EXPECT_EQ(time, Time::FromUnixSeconds(1704164645));
  EXPECT_TRUE(zero_time.IsZero());
  EXPECT_EQ(micro, MicroTime::FromUnixMicros(-1));
  EXPECT_EQ(quantity.text, "100Mi");
  EXPECT_EQ(percent, IntOrString::FromString("25%"));
  EXPECT_EQ(port, IntOrString::FromInt(-8080));
  EXPECT_EQ(duration, "1m30s");
  EXPECT_EQ(raw.Serialize(), R"({"a":[1,"b"]})");
  EXPECT_TRUE(empty_raw.IsZero());
  EXPECT_EQ(ratio, 0.25);
}

TEST(ProtobufScalarsTest, TimesOutsideTheYearsRfc3339CanWriteAreRejected) {
  // Found while writing the fuzz targets: seconds near the int64 limits overflowed while formatting
  // (and, for MicroTime, while converting to microseconds).
  for (int64_t seconds : {INT64_MIN, INT64_MAX, kMaxRfc3339Seconds + 1, kMinRfc3339Seconds - 1}) {
    for (bool micro : {false, true}) {
      Writer writer;
      const size_t begin = writer.BeginMessage(1);
      writer.Int(1, seconds);
      writer.EndMessage(begin);
      Reader reader(writer.data());
      Time time;
      MicroTime micro_time;
      while (reader.Next())
        micro ? reader.ReadMicroTime(micro_time) : reader.ReadTime(time);
      ASSERT_TRUE(reader.failed()) << seconds;
      EXPECT_EQ(reader.error()->code(), ErrorCode::kBadRequest);
      EXPECT_EQ(reader.error()->message(),
                "proto: time out of range: " + std::to_string(seconds) +
                    " seconds since 1970 is outside the years 0000 to 9999");
    }
  }
  Writer edge;
  const size_t begin = edge.BeginMessage(1);
  edge.Int(1, kMaxRfc3339Seconds);
  edge.Int(2, 999'999'000);
  edge.EndMessage(begin);
  Reader reader(edge.data());
  MicroTime last;
  while (reader.Next())
    reader.ReadMicroTime(last);
  ASSERT_FALSE(reader.failed()) << reader.error()->message();
  EXPECT_EQ(last.ToString(), "9999-12-31T23:59:59.999999Z");
}

TEST(ProtobufEnvelopeTest, WrapsAndUnwrapsOneObject) {
  const std::string body = Wrap("apps/v1", "Deployment", Bytes({0x0a, 0x00}));
  EXPECT_TRUE(body.starts_with(std::string_view("k8s\0", 4)));
  auto envelope = Unwrap(body);
  ASSERT_TRUE(envelope.ok()) << envelope.error().message();
  EXPECT_EQ(envelope->api_version, "apps/v1");
  EXPECT_EQ(envelope->kind, "Deployment");
  EXPECT_EQ(envelope->message, Bytes({0x0a, 0x00}));
}

TEST(ProtobufEnvelopeTest, RejectsBodiesWithoutTheMagic) {
  auto envelope = Unwrap(R"({"kind":"Pod"})");
  ASSERT_FALSE(envelope.ok());
  EXPECT_EQ(envelope.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(envelope.error().message(),
            "provided data does not appear to be a protobuf message, expected prefix [107 56 115 "
            "0]");
}

}  // namespace
}  // namespace kpp::api::protobuf
