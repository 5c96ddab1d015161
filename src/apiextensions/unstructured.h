// Objects of custom resources: any JSON object with apiVersion, kind and metadata, behind the
// same api::Object interface the REST pipeline uses for generated kinds. Metadata is decoded
// into the typed ObjectMeta (the server owns parts of it); everything else is kept as JSON.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "api/runtime/object.h"

namespace kpp::apiextensions {

struct ServedCustomResource;

// Where an unstructured kind's schema hooks in: pruning of unknown fields on decode, defaults,
// and validation. Null hooks leave objects as they are (schemaless custom resources).
class UnstructuredSchema {
 public:
  virtual ~UnstructuredSchema() = default;
  // Removes fields the schema does not know from `object` (without apiVersion/kind/metadata),
  // appending their paths ("spec.foo") to `pruned`.
  virtual void Prune(boost::json::object& object, std::vector<std::string>& pruned) const = 0;
  virtual void Default(boost::json::object& object) const = 0;
  // `object` is the whole object as JSON.
  virtual validation::FieldErrors Validate(const boost::json::object& object) const = 0;
};

class UnstructuredObject final : public api::Object {
 public:
  UnstructuredObject(const UnstructuredSchema* schema) : schema_(schema) {}
  api::meta::v1::ObjectMeta& metadata() override { return metadata_; }
  const api::meta::v1::ObjectMeta& metadata() const override { return metadata_; }
  std::string& kind() override { return kind_; }
  std::string& api_version() override { return api_version_; }
  // Keys sorted at every level, as upstream's unstructured objects are written.
  std::string ToJson() const override;
  // Custom resources have no protobuf form.
  std::string ToProtobufMessage() const override { return {}; }
  void SetDefaults() override;
  validation::FieldErrors ValidateFields() const override;
  std::unique_ptr<Object> Clone() const override {
    return std::make_unique<UnstructuredObject>(*this);
  }
  Status AssignJson(std::string_view json) override;

  // Fields other than apiVersion, kind and metadata.
  boost::json::object& content() { return content_; }
  const boost::json::object& content() const { return content_; }

  // Fills this object from a parsed JSON object; `unknown` collects pruned and unknown metadata
  // fields when not null.
  Status Assign(boost::json::object json, std::vector<std::string>* unknown,
                api::UnknownFields metadata_policy);

 private:
  const UnstructuredSchema* schema_;
  api::meta::v1::ObjectMeta metadata_;
  std::string kind_;
  std::string api_version_;
  boost::json::object content_;
};

class UnstructuredCodec final : public api::KindCodec {
 public:
  explicit UnstructuredCodec(const UnstructuredSchema* schema = nullptr,
                             const ServedCustomResource* custom = nullptr)
      : schema_(schema), custom_(custom) {}
  // The custom resource version this codec decodes, if any.
  const ServedCustomResource* custom() const { return custom_; }
  Result<api::Decoded<api::ObjectPtr>> Decode(std::string_view json,
                                              const api::DecodeOptions& options) const override;
  Result<api::ObjectPtr> DecodeProtobuf(std::string_view message) const override;
  Result<api::ObjectPtr> DecodeParsed(boost::json::value json) const override;

 private:
  const UnstructuredSchema* schema_;
  const ServedCustomResource* custom_;
};

// `value` with object keys sorted at every level, serialized.
std::string SortedJson(const boost::json::value& value);

}  // namespace kpp::apiextensions
