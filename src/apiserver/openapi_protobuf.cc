#include "apiserver/openapi_protobuf.h"

#include <boost/json/serialize.hpp>
#include <string>

#include "api/runtime/protobuf.h"

namespace kpp::apiserver {
namespace {

using api::protobuf::Writer;

// Field numbers of gnostic's openapi.v2 messages (github.com/google/gnostic-models).
namespace document {
constexpr int kSwagger = 1, kInfo = 2, kPaths = 8, kDefinitions = 9, kVendorExtension = 16;
}
namespace info {
constexpr int kTitle = 1, kVersion = 2;
}
namespace paths {
constexpr int kVendorExtension = 1, kPath = 2;
}
namespace path_item {
constexpr int kGet = 2, kPut = 3, kPost = 4, kDelete = 5, kOptions = 6, kHead = 7, kPatch = 8,
              kParameters = 9, kVendorExtension = 10;
}
namespace operation {
constexpr int kTags = 1, kSummary = 2, kDescription = 3, kOperationId = 5, kProduces = 6,
              kConsumes = 7, kParameters = 8, kResponses = 9, kSchemes = 10, kDeprecated = 11,
              kVendorExtension = 13;
}
namespace schema {
constexpr int kRef = 1, kFormat = 2, kTitle = 3, kDescription = 4, kDefault = 5, kMultipleOf = 6,
              kMaximum = 7, kExclusiveMaximum = 8, kMinimum = 9, kExclusiveMinimum = 10,
              kMaxLength = 11, kMinLength = 12, kPattern = 13, kMaxItems = 14, kMinItems = 15,
              kUniqueItems = 16, kMaxProperties = 17, kMinProperties = 18, kRequired = 19,
              kEnum = 20, kAdditionalProperties = 21, kType = 22, kItems = 23, kAllOf = 24,
              kProperties = 25, kDiscriminator = 26, kReadOnly = 27, kExample = 30,
              kVendorExtension = 31;
}
// QueryParameterSubSchema, PathParameterSubSchema and HeaderParameterSubSchema number their
// common fields alike after `name`, except that query parameters have allowEmptyValue at 5.
namespace query_parameter {
constexpr int kRequired = 1, kIn = 2, kDescription = 3, kName = 4, kType = 6, kFormat = 7,
              kUniqueItems = 20, kVendorExtension = 23;
}
namespace path_parameter {
constexpr int kRequired = 1, kIn = 2, kDescription = 3, kName = 4, kType = 5, kFormat = 6,
              kUniqueItems = 19, kVendorExtension = 22;
}
namespace body_parameter {
constexpr int kDescription = 1, kName = 2, kIn = 3, kRequired = 4, kSchema = 5,
              kVendorExtension = 6;
}

std::string_view Text(const boost::json::value& value) {
  if (!value.is_string()) return {};
  return {value.get_string().data(), value.get_string().size()};
}

double Number(const boost::json::value& value) {
  if (value.is_double()) return value.get_double();
  if (value.is_int64()) return static_cast<double>(value.get_int64());
  if (value.is_uint64()) return static_cast<double>(value.get_uint64());
  return 0;
}

int64_t Integer(const boost::json::value& value) {
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64()) return static_cast<int64_t>(value.get_uint64());
  if (value.is_double()) return static_cast<int64_t>(value.get_double());
  return 0;
}

// gnostic's Any carries arbitrary values as YAML text; JSON is YAML.
void AnyValue(Writer& out, int field, const boost::json::value& value) {
  const size_t any = out.BeginMessage(field);
  out.String(2, boost::json::serialize(value));
  out.EndMessage(any);
}

void NamedAny(Writer& out, int field, std::string_view name, const boost::json::value& value) {
  const size_t named = out.BeginMessage(field);
  out.String(1, name);
  AnyValue(out, 2, value);
  out.EndMessage(named);
}

void VendorExtensions(Writer& out, int field, const boost::json::object& object) {
  for (const auto& [key, value] : object) {
    if (key.starts_with("x-")) NamedAny(out, field, key, value);
  }
}

void Strings(Writer& out, int field, const boost::json::value& value) {
  if (value.is_string()) {
    out.String(field, Text(value));
    return;
  }
  if (!value.is_array()) return;
  for (const auto& item : value.get_array())
    out.String(field, Text(item));
}

void Schema(Writer& out, const boost::json::object& object);

void SchemaMessage(Writer& out, int field, const boost::json::value& value) {
  const size_t begin = out.BeginMessage(field);
  if (value.is_object()) Schema(out, value.get_object());
  out.EndMessage(begin);
}

void Schema(Writer& out, const boost::json::object& object) {
  for (const auto& [key, value] : object) {
    if (key == "$ref") {
      out.String(schema::kRef, Text(value));
    } else if (key == "format") {
      out.String(schema::kFormat, Text(value));
    } else if (key == "title") {
      out.String(schema::kTitle, Text(value));
    } else if (key == "description") {
      out.String(schema::kDescription, Text(value));
    } else if (key == "default") {
      AnyValue(out, schema::kDefault, value);
    } else if (key == "example") {
      AnyValue(out, schema::kExample, value);
    } else if (key == "multipleOf") {
      out.Double(schema::kMultipleOf, Number(value));
    } else if (key == "maximum") {
      out.Double(schema::kMaximum, Number(value));
    } else if (key == "minimum") {
      out.Double(schema::kMinimum, Number(value));
    } else if (key == "exclusiveMaximum") {
      out.Bool(schema::kExclusiveMaximum, value.is_bool() && value.get_bool());
    } else if (key == "exclusiveMinimum") {
      out.Bool(schema::kExclusiveMinimum, value.is_bool() && value.get_bool());
    } else if (key == "maxLength") {
      out.Int(schema::kMaxLength, Integer(value));
    } else if (key == "minLength") {
      out.Int(schema::kMinLength, Integer(value));
    } else if (key == "pattern") {
      out.String(schema::kPattern, Text(value));
    } else if (key == "maxItems") {
      out.Int(schema::kMaxItems, Integer(value));
    } else if (key == "minItems") {
      out.Int(schema::kMinItems, Integer(value));
    } else if (key == "uniqueItems") {
      out.Bool(schema::kUniqueItems, value.is_bool() && value.get_bool());
    } else if (key == "maxProperties") {
      out.Int(schema::kMaxProperties, Integer(value));
    } else if (key == "minProperties") {
      out.Int(schema::kMinProperties, Integer(value));
    } else if (key == "required") {
      Strings(out, schema::kRequired, value);
    } else if (key == "enum" && value.is_array()) {
      for (const auto& item : value.get_array())
        AnyValue(out, schema::kEnum, item);
    } else if (key == "additionalProperties") {
      // AdditionalPropertiesItem: a schema (1) or a boolean (2).
      const size_t item = out.BeginMessage(schema::kAdditionalProperties);
      if (value.is_bool()) {
        out.Bool(2, value.get_bool());
      } else {
        SchemaMessage(out, 1, value);
      }
      out.EndMessage(item);
    } else if (key == "type") {
      const size_t item = out.BeginMessage(schema::kType);  // TypeItem: repeated value = 1
      Strings(out, 1, value);
      out.EndMessage(item);
    } else if (key == "items") {
      const size_t item = out.BeginMessage(schema::kItems);  // ItemsItem: repeated schema = 1
      if (value.is_array()) {
        for (const auto& each : value.get_array())
          SchemaMessage(out, 1, each);
      } else {
        SchemaMessage(out, 1, value);
      }
      out.EndMessage(item);
    } else if (key == "allOf" && value.is_array()) {
      for (const auto& each : value.get_array())
        SchemaMessage(out, schema::kAllOf, each);
    } else if (key == "properties" && value.is_object()) {
      // Properties: repeated NamedSchema additional_properties = 1.
      const size_t properties = out.BeginMessage(schema::kProperties);
      for (const auto& [name, property] : value.get_object()) {
        const size_t named = out.BeginMessage(1);
        out.String(1, name);
        SchemaMessage(out, 2, property);
        out.EndMessage(named);
      }
      out.EndMessage(properties);
    } else if (key == "discriminator") {
      out.String(schema::kDiscriminator, Text(value));
    } else if (key == "readOnly") {
      out.Bool(schema::kReadOnly, value.is_bool() && value.get_bool());
    } else if (key.starts_with("x-")) {
      NamedAny(out, schema::kVendorExtension, key, value);
    }
  }
}

// One entry of an operation's parameters: ParametersItem{parameter = 1: Parameter{
// body_parameter = 1 | non_body_parameter = 2: NonBodyParameter{query = 3 | path = 4}}}.
void Parameter(Writer& out, int field, const boost::json::object& parameter) {
  const std::string_view in = parameter.contains("in") ? Text(parameter.at("in")) : "";
  const size_t item = out.BeginMessage(field);
  const size_t wrapper = out.BeginMessage(1);
  auto text = [&](std::string_view key) {
    const auto* value = parameter.if_contains(key);
    return value == nullptr ? std::string_view() : Text(*value);
  };
  auto flag = [&](std::string_view key) {
    const auto* value = parameter.if_contains(key);
    return value != nullptr && value->is_bool() && value->get_bool();
  };
  if (in == "body") {
    const size_t body = out.BeginMessage(1);
    out.String(body_parameter::kDescription, text("description"));
    out.String(body_parameter::kName, text("name"));
    out.String(body_parameter::kIn, in);
    out.Bool(body_parameter::kRequired, flag("required"));
    if (const auto* schema = parameter.if_contains("schema")) {
      SchemaMessage(out, body_parameter::kSchema, *schema);
    }
    VendorExtensions(out, body_parameter::kVendorExtension, parameter);
    out.EndMessage(body);
  } else {
    const size_t non_body = out.BeginMessage(2);
    if (in == "path") {
      const size_t sub = out.BeginMessage(4);
      out.Bool(path_parameter::kRequired, flag("required"));
      out.String(path_parameter::kIn, in);
      out.String(path_parameter::kDescription, text("description"));
      out.String(path_parameter::kName, text("name"));
      out.String(path_parameter::kType, text("type"));
      out.String(path_parameter::kFormat, text("format"));
      out.Bool(path_parameter::kUniqueItems, flag("uniqueItems"));
      VendorExtensions(out, path_parameter::kVendorExtension, parameter);
      out.EndMessage(sub);
    } else {
      const size_t sub = out.BeginMessage(3);
      out.Bool(query_parameter::kRequired, flag("required"));
      out.String(query_parameter::kIn, in);
      out.String(query_parameter::kDescription, text("description"));
      out.String(query_parameter::kName, text("name"));
      out.String(query_parameter::kType, text("type"));
      out.String(query_parameter::kFormat, text("format"));
      out.Bool(query_parameter::kUniqueItems, flag("uniqueItems"));
      VendorExtensions(out, query_parameter::kVendorExtension, parameter);
      out.EndMessage(sub);
    }
    out.EndMessage(non_body);
  }
  out.EndMessage(wrapper);
  out.EndMessage(item);
}

void Parameters(Writer& out, int field, const boost::json::value& parameters) {
  if (!parameters.is_array()) return;
  for (const auto& parameter : parameters.get_array()) {
    if (parameter.is_object()) Parameter(out, field, parameter.get_object());
  }
}

// Responses{response_code = 1: NamedResponseValue{name, value: ResponseValue{response = 1:
// Response{description = 1, schema = 2: SchemaItem{schema = 1}}}}}.
void Responses(Writer& out, int field, const boost::json::object& responses) {
  const size_t begin = out.BeginMessage(field);
  for (const auto& [code, response] : responses) {
    if (!response.is_object()) continue;
    const size_t named = out.BeginMessage(1);
    out.String(1, code);
    const size_t value = out.BeginMessage(2);
    const size_t message = out.BeginMessage(1);
    const auto& object = response.get_object();
    if (const auto* description = object.if_contains("description")) {
      out.String(1, Text(*description));
    }
    if (const auto* schema = object.if_contains("schema")) {
      const size_t item = out.BeginMessage(2);
      SchemaMessage(out, 1, *schema);
      out.EndMessage(item);
    }
    out.EndMessage(message);
    out.EndMessage(value);
    out.EndMessage(named);
  }
  out.EndMessage(begin);
}

void Operation(Writer& out, int field, const boost::json::object& object) {
  const size_t begin = out.BeginMessage(field);
  for (const auto& [key, value] : object) {
    if (key == "tags") {
      Strings(out, operation::kTags, value);
    } else if (key == "summary") {
      out.String(operation::kSummary, Text(value));
    } else if (key == "description") {
      out.String(operation::kDescription, Text(value));
    } else if (key == "operationId") {
      out.String(operation::kOperationId, Text(value));
    } else if (key == "produces") {
      Strings(out, operation::kProduces, value);
    } else if (key == "consumes") {
      Strings(out, operation::kConsumes, value);
    } else if (key == "schemes") {
      Strings(out, operation::kSchemes, value);
    } else if (key == "parameters") {
      Parameters(out, operation::kParameters, value);
    } else if (key == "responses" && value.is_object()) {
      Responses(out, operation::kResponses, value.get_object());
    } else if (key == "deprecated") {
      out.Bool(operation::kDeprecated, value.is_bool() && value.get_bool());
    } else if (key.starts_with("x-")) {
      NamedAny(out, operation::kVendorExtension, key, value);
    }
  }
  out.EndMessage(begin);
}

void PathItem(Writer& out, const boost::json::object& object) {
  for (const auto& [key, value] : object) {
    if (key.starts_with("x-")) {
      NamedAny(out, path_item::kVendorExtension, key, value);
    } else if (key == "parameters") {
      Parameters(out, path_item::kParameters, value);
    } else if (value.is_object()) {
      int field = 0;
      if (key == "get") field = path_item::kGet;
      if (key == "put") field = path_item::kPut;
      if (key == "post") field = path_item::kPost;
      if (key == "delete") field = path_item::kDelete;
      if (key == "options") field = path_item::kOptions;
      if (key == "head") field = path_item::kHead;
      if (key == "patch") field = path_item::kPatch;
      if (field != 0) Operation(out, field, value.get_object());
    }
  }
}

}  // namespace

std::string OpenApiV2ToProtobuf(const boost::json::object& doc) {
  Writer out;
  for (const auto& [key, value] : doc) {
    if (key == "swagger") {
      out.String(document::kSwagger, Text(value));
    } else if (key == "info" && value.is_object()) {
      const size_t info = out.BeginMessage(document::kInfo);
      const auto& object = value.get_object();
      if (const auto* title = object.if_contains("title")) out.String(info::kTitle, Text(*title));
      if (const auto* version = object.if_contains("version")) {
        out.String(info::kVersion, Text(*version));
      }
      out.EndMessage(info);
    } else if (key == "paths" && value.is_object()) {
      const size_t paths = out.BeginMessage(document::kPaths);
      for (const auto& [path, item] : value.get_object()) {
        if (path.starts_with("x-")) {
          NamedAny(out, paths::kVendorExtension, path, item);
          continue;
        }
        if (!item.is_object()) continue;
        const size_t named = out.BeginMessage(paths::kPath);
        out.String(1, path);
        const size_t path_item = out.BeginMessage(2);
        PathItem(out, item.get_object());
        out.EndMessage(path_item);
        out.EndMessage(named);
      }
      out.EndMessage(paths);
    } else if (key == "definitions" && value.is_object()) {
      // Definitions: repeated NamedSchema additional_properties = 1.
      const size_t definitions = out.BeginMessage(document::kDefinitions);
      for (const auto& [name, schema] : value.get_object()) {
        const size_t named = out.BeginMessage(1);
        out.String(1, name);
        SchemaMessage(out, 2, schema);
        out.EndMessage(named);
      }
      out.EndMessage(definitions);
    } else if (key.starts_with("x-")) {
      NamedAny(out, document::kVendorExtension, key, value);
    }
  }
  return std::move(out).Take();
}

}  // namespace kpp::apiserver
