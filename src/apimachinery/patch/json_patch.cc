#include "apimachinery/patch/json_patch.h"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>

#include "apimachinery/patch/json_pointer.h"
#include "apimachinery/patch/json_util.h"

namespace kpp::patch {
namespace json = boost::json;

Result<JsonPatch> JsonPatch::Parse(std::string_view text) {
  KPP_ASSIGN_OR_RETURN(json::value document, ParseJson(text));
  return FromValue(std::move(document));
}

Result<JsonPatch> JsonPatch::FromValue(json::value document) {
  if (!document.is_array()) {
    return BadRequestError(fmt::format("a json patch must be a JSON array of operations, not {}",
                                       JsonForMessage(document)));
  }
  json::array& operations = document.get_array();
  if (operations.size() > kMaxJsonPatchOperations) {
    return Error(ErrorCode::kRequestEntityTooLarge,
                 fmt::format("The allowed maximum operations in a JSON patch is {}, got {}",
                             kMaxJsonPatchOperations, operations.size()));
  }
  for (std::size_t i = 0; i < operations.size(); ++i) {
    if (!operations[i].is_object()) {
      return BadRequestError(fmt::format("json patch operation {} is not a JSON object: {}", i,
                                         JsonForMessage(operations[i])));
    }
  }
  return JsonPatch(std::move(operations));
}

namespace {

enum class OpKind { kAdd, kRemove, kReplace, kMove, kCopy, kTest };

std::optional<OpKind> OpKindOf(std::string_view name) {
  if (name == "add") return OpKind::kAdd;
  if (name == "remove") return OpKind::kRemove;
  if (name == "replace") return OpKind::kReplace;
  if (name == "move") return OpKind::kMove;
  if (name == "copy") return OpKind::kCopy;
  if (name == "test") return OpKind::kTest;
  return std::nullopt;
}

// The parent container of `pointer`'s target; `pointer` must not be the root.
Result<json::value*> FindParent(json::value& document, const JsonPointer& pointer) {
  std::vector<std::string> parent_tokens(pointer.tokens().begin(), pointer.tokens().end() - 1);
  return FindValue(document, JsonPointer(std::move(parent_tokens)));
}

Error NotAContainer(const JsonPointer& pointer) {
  return InvalidError(
      fmt::format("{} cannot be used: its parent is not an object or array", pointer.ToString()));
}

Status CheckDepth(const JsonPointer& path, const json::value& value) {
  if (path.tokens().size() + JsonDepth(value) > kMaxJsonDepth) {
    return InvalidError(
        fmt::format("the result would be nested deeper than {} levels", kMaxJsonDepth));
  }
  return Ok();
}

Status AddValue(json::value& document, const JsonPointer& path, json::value value) {
  KPP_RETURN_IF_ERROR(CheckDepth(path, value));
  if (path.IsRoot()) {
    document = std::move(value);
    return Ok();
  }
  KPP_ASSIGN_OR_RETURN(json::value * parent, FindParent(document, path));
  const std::string& last = path.tokens().back();
  if (parent->is_object()) {
    parent->get_object().insert_or_assign(last, std::move(value));
    return Ok();
  }
  if (!parent->is_array()) return NotAContainer(path);
  json::array& array = parent->get_array();
  if (last == "-") {
    array.push_back(std::move(value));
    return Ok();
  }
  std::optional<std::size_t> index = ParseArrayIndex(last);
  if (!index) {
    return InvalidError(
        fmt::format("{}: \"{}\" is not a valid array index", path.ToString(), last));
  }
  if (*index > array.size()) {
    return InvalidError(fmt::format("{}: index {} is out of range (array has {} elements)",
                                    path.ToString(), *index, array.size()));
  }
  array.insert(array.begin() + static_cast<std::ptrdiff_t>(*index), std::move(value));
  return Ok();
}

Result<json::value> RemoveValue(json::value& document, const JsonPointer& path) {
  if (path.IsRoot()) return InvalidError("the whole document cannot be removed");
  KPP_ASSIGN_OR_RETURN(json::value * parent, FindParent(document, path));
  const std::string& last = path.tokens().back();
  if (parent->is_object()) {
    json::object& object = parent->get_object();
    auto it = object.find(last);
    if (it == object.end()) return InvalidError(fmt::format("{} does not exist", path.ToString()));
    json::value removed = std::move(it->value());
    object.stable_erase(it);
    return removed;
  }
  if (!parent->is_array()) return NotAContainer(path);
  json::array& array = parent->get_array();
  std::optional<std::size_t> index = ParseArrayIndex(last);
  if (!index) {
    return InvalidError(
        fmt::format("{}: \"{}\" is not a valid array index", path.ToString(), last));
  }
  if (*index >= array.size()) {
    return InvalidError(fmt::format("{}: index {} is out of range (array has {} elements)",
                                    path.ToString(), *index, array.size()));
  }
  json::value removed = std::move(array[*index]);
  array.erase(array.begin() + static_cast<std::ptrdiff_t>(*index));
  return removed;
}

Result<const json::value*> Member(const json::object& operation, std::string_view name) {
  const json::value* member = operation.if_contains(name);
  if (member == nullptr) return InvalidError(fmt::format("missing \"{}\"", name));
  return member;
}

Result<JsonPointer> PointerMember(const json::object& operation, std::string_view name) {
  KPP_ASSIGN_OR_RETURN(const json::value* member, Member(operation, name));
  if (!member->is_string()) {
    return InvalidError(
        fmt::format("\"{}\" must be a string, not {}", name, JsonForMessage(*member)));
  }
  const json::string& text = member->get_string();
  return JsonPointer::Parse(std::string_view(text.data(), text.size()));
}

class Applier {
 public:
  Applier(json::value& document, const JsonPatchOptions& options)
      : document_(document), options_(options) {}

  Status Apply(const json::object& operation) {
    KPP_ASSIGN_OR_RETURN(const json::value* op_member, Member(operation, "op"));
    if (!op_member->is_string()) {
      return InvalidError(
          fmt::format("\"op\" must be a string, not {}", JsonForMessage(*op_member)));
    }
    const json::string& name = op_member->get_string();
    std::optional<OpKind> kind = OpKindOf(std::string_view(name.data(), name.size()));
    if (!kind) return InvalidError(fmt::format("unknown op \"{}\"", std::string_view(name)));
    KPP_ASSIGN_OR_RETURN(JsonPointer path, PointerMember(operation, "path"));
    switch (*kind) {
      case OpKind::kAdd: {
        KPP_ASSIGN_OR_RETURN(const json::value* value, Member(operation, "value"));
        return AddValue(document_, path, *value);
      }
      case OpKind::kRemove: {
        Result<json::value> removed = RemoveValue(document_, path);
        if (!removed.ok()) return std::move(removed).error();
        return Ok();
      }
      case OpKind::kReplace: {
        KPP_ASSIGN_OR_RETURN(const json::value* value, Member(operation, "value"));
        KPP_RETURN_IF_ERROR(CheckDepth(path, *value));
        KPP_ASSIGN_OR_RETURN(json::value * target, FindValue(document_, path));
        *target = *value;
        return Ok();
      }
      case OpKind::kMove: {
        KPP_ASSIGN_OR_RETURN(JsonPointer from, PointerMember(operation, "from"));
        if (from == path) {
          Result<const json::value*> source = FindValue(std::as_const(document_), from);
          if (!source.ok()) return std::move(source).error();
          return Ok();
        }
        if (from.IsProperPrefixOf(path)) {
          return InvalidError(fmt::format("{} cannot be moved into its own child {}",
                                          from.ToString(), path.ToString()));
        }
        KPP_ASSIGN_OR_RETURN(json::value moved, RemoveValue(document_, from));
        return AddValue(document_, path, std::move(moved));
      }
      case OpKind::kCopy: {
        KPP_ASSIGN_OR_RETURN(JsonPointer from, PointerMember(operation, "from"));
        KPP_ASSIGN_OR_RETURN(const json::value* source, FindValue(std::as_const(document_), from));
        copied_values_ += JsonValueCount(*source);
        if (options_.max_copied_values != 0 && copied_values_ > options_.max_copied_values) {
          return InvalidError(
              fmt::format("the copy operations of this patch duplicate more than {} values",
                          options_.max_copied_values));
        }
        return AddValue(document_, path, *source);
      }
      case OpKind::kTest: {
        KPP_ASSIGN_OR_RETURN(const json::value* expected, Member(operation, "value"));
        KPP_ASSIGN_OR_RETURN(const json::value* actual, FindValue(std::as_const(document_), path));
        if (!JsonEqual(*actual, *expected)) {
          return InvalidError(fmt::format("test failed: the value is {}, not {}",
                                          JsonForMessage(*actual), JsonForMessage(*expected)));
        }
        return Ok();
      }
    }
    return InternalError("unhandled json patch op");
  }

 private:
  json::value& document_;
  const JsonPatchOptions& options_;
  std::size_t copied_values_ = 0;
};

// `"add" at "/a/b"`, or as much of it as the operation has, for error messages.
std::string DescribeOperation(const json::object& operation) {
  const json::value* op = operation.if_contains("op");
  const json::value* path = operation.if_contains("path");
  std::string description = op != nullptr ? JsonForMessage(*op, 40) : "no op";
  if (path != nullptr) description += " at " + JsonForMessage(*path, 200);
  return description;
}

}  // namespace

Result<json::value> JsonPatch::Apply(json::value document, const JsonPatchOptions& options) const {
  Applier applier(document, options);
  for (std::size_t i = 0; i < operations_.size(); ++i) {
    const json::object& operation = operations_[i].get_object();
    Status status = applier.Apply(operation);
    // Whatever went wrong (a lookup says NotFound, for one), the request is at fault: 422.
    if (!status.ok()) {
      return InvalidError(fmt::format("json patch operation {} ({}): {}", i,
                                      DescribeOperation(operation), status.error().message()));
    }
  }
  return document;
}

}  // namespace kpp::patch
