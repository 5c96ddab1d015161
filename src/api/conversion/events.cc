#include "api/conversion/events.h"

namespace kpp::api::conversion {

core::v1::Event ConvertToCoreEvent(const events_k8s_io::v1::Event& in) {
  core::v1::Event out;
  out.api_version = "v1";
  out.kind = "Event";
  out.metadata = in.metadata;
  out.involved_object = in.regarding;
  out.reason = in.reason;
  out.message = in.note;
  out.source = in.deprecated_source;
  out.first_timestamp = in.deprecated_first_timestamp;
  out.last_timestamp = in.deprecated_last_timestamp;
  out.count = in.deprecated_count;
  out.type = in.type;
  out.event_time = in.event_time;
  if (in.series) {
    out.series.emplace();
    out.series->count = in.series->count;
    out.series->last_observed_time = in.series->last_observed_time;
  }
  out.action = in.action;
  out.related = in.related;
  out.reporting_component = in.reporting_controller;
  out.reporting_instance = in.reporting_instance;
  return out;
}

events_k8s_io::v1::Event ConvertToEventsV1(const core::v1::Event& in) {
  events_k8s_io::v1::Event out;
  out.api_version = "events.k8s.io/v1";
  out.kind = "Event";
  out.metadata = in.metadata;
  out.event_time = in.event_time;
  if (in.series) {
    out.series.emplace();
    out.series->count = in.series->count;
    out.series->last_observed_time = in.series->last_observed_time;
  }
  out.reporting_controller = in.reporting_component;
  out.reporting_instance = in.reporting_instance;
  out.action = in.action;
  out.reason = in.reason;
  out.regarding = in.involved_object;
  out.related = in.related;
  out.note = in.message;
  out.type = in.type;
  out.deprecated_source = in.source;
  out.deprecated_first_timestamp = in.first_timestamp;
  out.deprecated_last_timestamp = in.last_timestamp;
  out.deprecated_count = in.count;
  return out;
}

}  // namespace kpp::api::conversion
