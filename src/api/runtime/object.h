// API objects behind a kind-independent interface: what generic request handling (REST, storage)
// needs from any resource kind. Every resource kind of the schema gets a KindCodec (generated,
// see kinds.h), built on the templates below.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/meta/v1/codec.h"
#include "api/runtime/lazy_field_path.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/protobuf.h"
#include "apimachinery/validation/field_errors.h"

namespace kpp::api {

// One object of some kind. Not thread-safe; owned by one request at a time.
class Object {
 public:
  virtual ~Object() = default;
  virtual meta::v1::ObjectMeta& metadata() = 0;
  virtual const meta::v1::ObjectMeta& metadata() const = 0;
  virtual std::string& kind() = 0;
  virtual std::string& api_version() = 0;
  virtual std::string ToJson() const = 0;
  // The object's protobuf message, without the envelope (see api/runtime/protobuf.h).
  virtual std::string ToProtobufMessage() const = 0;
  virtual void SetDefaults() = 0;
  // The checks the schema implies (required fields, enums, bounds), with full field paths.
  virtual validation::FieldErrors ValidateFields() const = 0;
  virtual std::unique_ptr<Object> Clone() const = 0;
  // Replaces the whole value with `json` decoded as this kind (unknown fields dropped); used by
  // generic code that edits objects of any kind through their JSON form.
  virtual Status AssignJson(std::string_view json) = 0;
};
using ObjectPtr = std::unique_ptr<Object>;

// Decoding for one kind. Stateless and thread-safe.
class KindCodec {
 public:
  virtual ~KindCodec() = default;
  virtual Result<Decoded<ObjectPtr>> Decode(std::string_view json,
                                            const DecodeOptions& options) const = 0;
  // Decodes the protobuf message of one object (the envelope already removed). Protobuf cannot
  // carry unknown fields by name, so there is nothing to report about them.
  virtual Result<ObjectPtr> DecodeProtobuf(std::string_view message) const = 0;
  // Decodes an object already parsed, as Decode with the default options (unknown fields
  // ignored): the object of a watch event, which the client parsed to read the event's type.
  virtual Result<ObjectPtr> DecodeParsed(boost::json::value json) const = 0;
};

namespace object_detail {
// Unqualified calls, so that argument-dependent lookup finds the generated functions in the
// kind's own namespace.
template <typename T>
void SetDefaultsOf(T& value) {
  SetDefaults(value);
}
template <typename T>
void ValidateFieldsOf(const T& value, validation::FieldErrors& errors) {
  ValidateFields(value, runtime::LazyFieldPath(), errors);
}
template <typename T>
std::string ToProtobufMessageOf(const T& value) {
  protobuf::Writer writer;
  EncodeProto(value, writer);
  return std::move(writer).Take();
}
template <typename T>
Result<T> FromProtobufMessageOf(std::string_view message) {
  protobuf::Reader reader(message);
  T value;
  DecodeProto(reader, value);
  if (reader.failed()) return *reader.error();
  return value;
}
}  // namespace object_detail

template <typename T>
class TypedObject final : public Object {
 public:
  explicit TypedObject(T value) : value_(std::move(value)) {}
  meta::v1::ObjectMeta& metadata() override { return value_.metadata; }
  const meta::v1::ObjectMeta& metadata() const override { return value_.metadata; }
  std::string& kind() override { return value_.kind; }
  std::string& api_version() override { return value_.api_version; }
  std::string ToJson() const override { return api::ToJson(value_); }
  std::string ToProtobufMessage() const override {
    return object_detail::ToProtobufMessageOf(value_);
  }
  void SetDefaults() override { object_detail::SetDefaultsOf(value_); }
  validation::FieldErrors ValidateFields() const override {
    validation::FieldErrors errors;
    object_detail::ValidateFieldsOf(value_, errors);
    return errors;
  }
  std::unique_ptr<Object> Clone() const override { return std::make_unique<TypedObject>(value_); }
  Status AssignJson(std::string_view json) override {
    KPP_ASSIGN_OR_RETURN(Decoded<T> decoded, FromJson<T>(json, {}));
    value_ = std::move(decoded.object);
    return Ok();
  }
  T& value() { return value_; }
  const T& value() const { return value_; }

 private:
  T value_;
};

template <typename T>
class TypedKindCodec final : public KindCodec {
 public:
  Result<Decoded<ObjectPtr>> Decode(std::string_view json,
                                    const DecodeOptions& options) const override {
    KPP_ASSIGN_OR_RETURN(Decoded<T> decoded, FromJson<T>(json, options));
    return Decoded<ObjectPtr>{std::make_unique<TypedObject<T>>(std::move(decoded.object)),
                              std::move(decoded.unknown_fields),
                              std::move(decoded.duplicate_fields)};
  }
  Result<ObjectPtr> DecodeProtobuf(std::string_view message) const override {
    KPP_ASSIGN_OR_RETURN(T decoded, object_detail::FromProtobufMessageOf<T>(message));
    return ObjectPtr(std::make_unique<TypedObject<T>>(std::move(decoded)));
  }
  Result<ObjectPtr> DecodeParsed(boost::json::value json) const override {
    KPP_ASSIGN_OR_RETURN(T decoded, FromParsedJson<T>(json));
    return ObjectPtr(std::make_unique<TypedObject<T>>(std::move(decoded)));
  }
};

}  // namespace kpp::api
