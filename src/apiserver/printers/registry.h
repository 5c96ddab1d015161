// How the per-group printer files register their printers (internal to printers/).
#pragma once

#include <map>
#include <string_view>
#include <utility>

#include "api/core/v1/types.h"
#include "apiserver/printers/format.h"
#include "apiserver/printers/printers.h"

namespace kpp::apiserver::printers {

// Printers by the group and kind their objects are stored as.
using PrinterMap = std::map<std::pair<std::string_view, std::string_view>, Printer>;

// One per file, each adding the printers of its API groups.
void AddCorePrinters(PrinterMap& printers);
void AddAppsPrinters(PrinterMap& printers);
void AddBatchPrinters(PrinterMap& printers);
void AddNetworkingPrinters(PrinterMap& printers);
void AddStoragePrinters(PrinterMap& printers);
void AddClusterPrinters(PrinterMap& printers);

// The core Event printer, which events.k8s.io Events share (upstream prints both from one type).
void PrintEvent(const api::core::v1::Event& event, const PrintContext& context, Row& row);
Printer EventPrinter();

// Adapts a printer of the typed object T to Printer::print.
template <typename T, void (*kPrint)(const T&, const PrintContext&, Row&)>
void PrintAs(const api::Object& object, const PrintContext& context, Row& row) {
  const auto* typed = dynamic_cast<const api::TypedObject<T>*>(&object);
  if (typed == nullptr) {
    // A kind registered under the wrong type: show at least the name.
    row.cells.push_back(Cell(object.metadata().name));
    return;
  }
  kPrint(typed->value(), context, row);
}

// The description upstream's Name and Age columns carry.
inline constexpr std::string_view kNameDescription =
    "Name must be unique within a namespace; it identifies the object.";
inline constexpr std::string_view kAgeDescription =
    "How long ago the object was created (its creationTimestamp).";

inline Column NameColumn() {
  return {"Name", "string", "name", kNameDescription, 0};
}
inline Column AgeColumn() {
  return {"Age", "string", "", kAgeDescription, 0};
}

}  // namespace kpp::apiserver::printers
