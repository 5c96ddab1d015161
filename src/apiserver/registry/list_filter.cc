#include "apiserver/registry/list_filter.h"

namespace kpp::apiserver {

Result<ListFilter> ListFilter::FromRequest(const api::KindInfo& kind,
                                           const http::Request& request) {
  ListFilter filter;
  KPP_ASSIGN_OR_RETURN(filter.labels_,
                       labels::Selector::Parse(request.FindQuery("labelSelector").value_or("")));
  KPP_ASSIGN_OR_RETURN(filter.fields_,
                       fields::Selector::Parse(request.FindQuery("fieldSelector").value_or("")));
  filter.field_labels_ = FieldLabelsOf(kind.group, kind.kind);
  KPP_RETURN_IF_ERROR(CheckFieldLabels(filter.field_labels_, filter.fields_));
  filter.field_names_ = filter.fields_.FieldNames();
  return filter;
}

bool ListFilter::Matches(const api::Object& object) const {
  if (!labels_.Matches(object.metadata().labels)) return false;
  if (fields_.Empty()) return true;
  return fields_.Matches(SelectableFields(field_labels_, field_names_, object));
}

bool ListFilter::Matches(const labels::Set& labels, const FieldLookup& field) const {
  if (!labels_.Matches(labels)) return false;
  if (fields_.MatchesNothing()) return false;
  for (const auto& requirement : fields_.requirements()) {
    const bool equal = field(requirement.field) == requirement.value;
    if (equal != (requirement.op == fields::Requirement::Operator::kEquals)) return false;
  }
  return true;
}

}  // namespace kpp::apiserver
