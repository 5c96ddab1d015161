// Server-side printing: the Table (meta.k8s.io/v1) that `kubectl get` asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. Each built-in kind has upstream's
// columns (pkg/printers/internalversion) and cells computed the same way; other kinds get the
// generic Name / Created At table. Cells are always computed for every column, wide ones
// included: kubectl hides the columns with priority > 0 unless asked for `-o wide`.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/meta/v1/types.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "base/result.h"

namespace kpp::apiserver::printers {

// What each row carries besides its cells (upstream's TableOptions.includeObject).
enum class IncludeObject {
  kNone,      // no object
  kMetadata,  // a PartialObjectMetadata (the default)
  kObject,    // the whole object, in the version of the request
};

struct TableOptions {
  IncludeObject include_object = IncludeObject::kMetadata;
  // Leaves out the column definitions (every watch event after the first).
  bool no_headers = false;
};

// The `includeObject` query parameter ("", Metadata, Object, None); any other value is a
// BadRequest with upstream's message.
Result<IncludeObject> ParseIncludeObject(std::string_view value);

// One column: upstream's name (kubectl upper-cases it), OpenAPI type and format, and priority
// (0: always shown; 1: only with `-o wide`).
struct Column {
  std::string_view name;
  std::string_view type;
  std::string_view format;
  std::string_view description;
  int32_t priority = 0;
};

// What a printer needs besides the object: the time ages are measured against.
struct PrintContext {
  std::chrono::system_clock::time_point now;
};

// One row before it becomes JSON.
struct Row {
  std::vector<boost::json::value> cells;
  std::vector<api::meta::v1::TableRowCondition> conditions;
};

// The columns of one kind and how to fill a row for one of its objects. `print` receives the
// object in the kind's storage version.
struct Printer {
  std::vector<Column> columns;
  void (*print)(const api::Object& object, const PrintContext& context, Row& row) = nullptr;
};

// The printer for objects stored as `group`/`kind`, or null when the kind has none (then the
// generic table applies).
const Printer* FindPrinter(std::string_view group, std::string_view kind);

// The Table for `objects` of `kind` (each in `kind`'s version, as served), with `list_meta` as
// its metadata (resourceVersion, continue, remainingItemCount), as JSON.
Result<std::string> TableJson(const api::KindInfo& kind, std::span<const api::ObjectPtr> objects,
                              api::meta::v1::ListMeta list_meta, const TableOptions& options,
                              std::chrono::system_clock::time_point now);

}  // namespace kpp::apiserver::printers
