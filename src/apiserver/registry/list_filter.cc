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

}  // namespace kpp::apiserver
