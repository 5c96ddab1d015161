#include "apiserver/printers/printers.h"

#include <fmt/format.h>

#include "api/conversion/conversions.h"
#include "api/meta/v1/codec.h"
#include "api/runtime/object_codec.h"
#include "apiextensions/custom_resources.h"
#include "apiextensions/custom_tables.h"
#include "apiserver/printers/registry.h"

namespace kpp::apiserver::printers {
namespace {

const PrinterMap& AllPrinters() {
  static const PrinterMap printers = [] {
    PrinterMap map;
    AddCorePrinters(map);
    AddAppsPrinters(map);
    AddBatchPrinters(map);
    AddNetworkingPrinters(map);
    AddStoragePrinters(map);
    AddClusterPrinters(map);
    return map;
  }();
  return printers;
}

// Upstream's default table convertor, for kinds without a printer of their own (and custom
// resources without additionalPrinterColumns).
const Printer& GenericPrinter() {
  static const Printer printer{
      {NameColumn(),
       {"Created At", "date", "", "When the object was created (its creationTimestamp).", 0}},
      [](const api::Object& object, const PrintContext&, Row& row) {
        const auto& metadata = object.metadata();
        row.cells.push_back(Cell(metadata.name));
        // Go formats the zero time too.
        row.cells.push_back(Cell(metadata.creation_timestamp.IsZero()
                                     ? "0001-01-01T00:00:00Z"
                                     : metadata.creation_timestamp.ToString()));
      }};
  return printer;
}

// The object of a row: its metadata as a PartialObjectMetadata, the whole object, or nothing.
api::RawJson RowObject(const api::KindInfo& kind, const api::Object& object,
                       IncludeObject include) {
  switch (include) {
    case IncludeObject::kNone: return api::RawJson();
    case IncludeObject::kObject: {
      auto copy = object.Clone();
      copy->kind() = std::string(kind.kind);
      copy->api_version() = api::GroupVersionOf(kind);
      return api::RawJson::FromEncoded(copy->ToJson());
    }
    case IncludeObject::kMetadata: break;
  }
  api::meta::v1::PartialObjectMetadata partial;
  partial.kind = "PartialObjectMetadata";
  partial.api_version = "meta.k8s.io/v1";
  partial.metadata = object.metadata();
  return api::RawJson::FromEncoded(api::ToJson(partial));
}

}  // namespace

Result<IncludeObject> ParseIncludeObject(std::string_view value) {
  if (value.empty() || value == "Metadata") return IncludeObject::kMetadata;
  if (value == "Object") return IncludeObject::kObject;
  if (value == "None") return IncludeObject::kNone;
  return BadRequestError(fmt::format(
      "Unable to convert to Table as requested: includeObject: Invalid value: \"{}\": must be "
      "'Metadata', 'Object', 'None', or empty",
      value));
}

const Printer* FindPrinter(std::string_view group, std::string_view kind) {
  const auto& printers = AllPrinters();
  const auto found = printers.find({group, kind});
  return found == printers.end() ? nullptr : &found->second;
}

Result<std::string> TableJson(const api::KindInfo& kind, std::span<const api::ObjectPtr> objects,
                              api::meta::v1::ListMeta list_meta, const TableOptions& options,
                              std::chrono::system_clock::time_point now) {
  // Printers work on the version a kind is stored in, as upstream's work on internal types.
  const api::KindInfo& stored = api::StorageKind(kind);
  const Printer* printer = FindPrinter(stored.group, stored.kind);
  if (printer == nullptr) printer = &GenericPrinter();
  // Custom resources: their definition's columns, printed from the version served.
  Printer custom_printer;
  if (apiextensions::CustomResourceOf(kind) != nullptr) {
    custom_printer.columns = apiextensions::CustomColumns(kind);
    printer = &custom_printer;
  }

  api::meta::v1::Table table;
  table.kind = "Table";
  table.api_version = "meta.k8s.io/v1";
  table.metadata = std::move(list_meta);
  if (!options.no_headers) {
    for (const Column& column : printer->columns) {
      table.column_definitions.push_back({std::string(column.name), std::string(column.type),
                                          std::string(column.format),
                                          std::string(column.description), column.priority});
    }
  }
  const PrintContext context{now};
  for (const auto& object : objects) {
    Row row;
    if (apiextensions::CustomResourceOf(kind) != nullptr) {
      apiextensions::PrintCustomRow(kind, *object, context, row);
    } else if (&stored == &kind) {
      printer->print(*object, context, row);
    } else {
      KPP_ASSIGN_OR_RETURN(api::ObjectPtr converted,
                           api::conversion::ToStorageVersion(kind, object->Clone()));
      printer->print(*converted, context, row);
    }
    api::meta::v1::TableRow table_row;
    table_row.cells.reserve(row.cells.size());
    for (auto& cell : row.cells)
      table_row.cells.emplace_back(cell);
    table_row.conditions = std::move(row.conditions);
    table_row.object = RowObject(kind, *object, options.include_object);
    table.rows.push_back(std::move(table_row));
  }
  return api::ToJson(table);
}

}  // namespace kpp::apiserver::printers
