#include "api/conversion/autoscaling.h"

#include <boost/json/parse.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/autoscaling/v1/codec.h"
#include "api/autoscaling/v2/codec.h"
#include "api/runtime/codec.h"
#include "api/runtime/json_writer.h"

namespace kpp::api::conversion {
namespace {

namespace v1 = autoscaling::v1;
namespace v2 = autoscaling::v2;

using runtime::DecodeContext;
using runtime::JsonWriter;

constexpr int32_t kDefaultCpuUtilization = 80;

bool IsCpuUtilizationTarget(const v2::MetricSpec& metric) {
  return metric.type == "Resource" && metric.resource && metric.resource->name == "cpu" &&
         metric.resource->target.average_utilization;
}

v2::MetricSpec CpuUtilizationMetric(int32_t percent) {
  v2::MetricSpec metric{.type = "Resource"};
  metric.resource.emplace();
  metric.resource->name = "cpu";
  metric.resource->target.type = "Utilization";
  metric.resource->target.average_utilization = percent;
  return metric;
}

void DropRoundTripAnnotations(std::map<std::string, std::string>& annotations) {
  for (const char* key : {kHpaMetricsAnnotation, kHpaCurrentMetricsAnnotation,
                          kHpaConditionsAnnotation, kHpaBehaviorAnnotation}) {
    annotations.erase(key);
  }
}

// ---- references and metric identifiers ----------------------------------------------------

v2::CrossVersionObjectReference ToV2(const v1::CrossVersionObjectReference& in) {
  return {.kind = in.kind, .name = in.name, .api_version = in.api_version};
}

v1::CrossVersionObjectReference ToV1(const v2::CrossVersionObjectReference& in) {
  return {.kind = in.kind, .name = in.name, .api_version = in.api_version};
}

v2::MetricIdentifier Identifier(const std::string& name,
                                const std::optional<meta::v1::LabelSelector>& selector) {
  return {.name = name, .selector = selector};
}

Quantity ValueOrZero(const std::optional<Quantity>& value) {
  return value.value_or(Quantity{});
}

// ---- metric specs ---------------------------------------------------------------------------

v2::MetricSpec ToV2(const v1::MetricSpec& in) {
  v2::MetricSpec out{.type = in.type};
  if (in.object) {
    const auto& source = *in.object;
    auto& object = out.object.emplace();
    object.described_object = ToV2(source.target);
    object.target.type = source.average_value ? "AverageValue" : "Value";
    object.target.value = source.target_value;
    object.target.average_value = source.average_value;
    object.metric = Identifier(source.metric_name, source.selector);
  }
  if (in.pods) {
    auto& pods = out.pods.emplace();
    pods.metric = Identifier(in.pods->metric_name, in.pods->selector);
    pods.target.type = "AverageValue";
    pods.target.average_value = in.pods->target_average_value;
  }
  if (in.resource) {
    const auto& source = *in.resource;
    auto& resource = out.resource.emplace();
    resource.name = source.name;
    resource.target.type = source.target_average_utilization ? "Utilization" : "AverageValue";
    resource.target.average_value = source.target_average_value;
    resource.target.average_utilization = source.target_average_utilization;
  }
  if (in.container_resource) {
    const auto& source = *in.container_resource;
    auto& resource = out.container_resource.emplace();
    resource.name = source.name;
    resource.container = source.container;
    resource.target.type = source.target_average_utilization ? "Utilization" : "AverageValue";
    resource.target.average_value = source.target_average_value;
    resource.target.average_utilization = source.target_average_utilization;
  }
  if (in.external) {
    const auto& source = *in.external;
    auto& external = out.external.emplace();
    external.metric = Identifier(source.metric_name, source.metric_selector);
    external.target.type = source.target_value ? "Value" : "AverageValue";
    external.target.value = source.target_value;
    external.target.average_value = source.target_average_value;
  }
  return out;
}

v1::MetricSpec ToV1(const v2::MetricSpec& in) {
  v1::MetricSpec out{.type = in.type};
  if (in.object) {
    const auto& source = *in.object;
    auto& object = out.object.emplace();
    object.target = ToV1(source.described_object);
    object.metric_name = source.metric.name;
    object.target_value = ValueOrZero(source.target.value);
    object.selector = source.metric.selector;
    object.average_value = source.target.average_value;
  }
  if (in.pods) {
    auto& pods = out.pods.emplace();
    pods.metric_name = in.pods->metric.name;
    pods.target_average_value = ValueOrZero(in.pods->target.average_value);
    pods.selector = in.pods->metric.selector;
  }
  if (in.resource) {
    auto& resource = out.resource.emplace();
    resource.name = in.resource->name;
    resource.target_average_utilization = in.resource->target.average_utilization;
    resource.target_average_value = in.resource->target.average_value;
  }
  if (in.container_resource) {
    const auto& source = *in.container_resource;
    auto& resource = out.container_resource.emplace();
    resource.name = source.name;
    resource.target_average_utilization = source.target.average_utilization;
    resource.target_average_value = source.target.average_value;
    resource.container = source.container;
  }
  if (in.external) {
    const auto& source = *in.external;
    auto& external = out.external.emplace();
    external.metric_name = source.metric.name;
    external.metric_selector = source.metric.selector;
    external.target_value = source.target.value;
    external.target_average_value = source.target.average_value;
  }
  return out;
}

// ---- metric statuses ------------------------------------------------------------------------

v2::MetricStatus ToV2(const v1::MetricStatus& in) {
  v2::MetricStatus out{.type = in.type};
  if (in.object) {
    const auto& source = *in.object;
    auto& object = out.object.emplace();
    object.metric = Identifier(source.metric_name, source.selector);
    object.current.value = source.current_value;
    object.current.average_value = source.average_value;
    object.described_object = ToV2(source.target);
  }
  if (in.pods) {
    auto& pods = out.pods.emplace();
    pods.metric = Identifier(in.pods->metric_name, in.pods->selector);
    pods.current.average_value = in.pods->current_average_value;
  }
  if (in.resource) {
    auto& resource = out.resource.emplace();
    resource.name = in.resource->name;
    resource.current.average_value = in.resource->current_average_value;
    resource.current.average_utilization = in.resource->current_average_utilization;
  }
  if (in.container_resource) {
    const auto& source = *in.container_resource;
    auto& resource = out.container_resource.emplace();
    resource.name = source.name;
    resource.current.average_value = source.current_average_value;
    resource.current.average_utilization = source.current_average_utilization;
    resource.container = source.container;
  }
  if (in.external) {
    const auto& source = *in.external;
    auto& external = out.external.emplace();
    external.metric = Identifier(source.metric_name, source.metric_selector);
    external.current.value = source.current_value;
    external.current.average_value = source.current_average_value;
  }
  return out;
}

v1::MetricStatus ToV1(const v2::MetricStatus& in) {
  v1::MetricStatus out{.type = in.type};
  if (in.object) {
    const auto& source = *in.object;
    auto& object = out.object.emplace();
    object.target = ToV1(source.described_object);
    object.metric_name = source.metric.name;
    object.current_value = ValueOrZero(source.current.value);
    object.selector = source.metric.selector;
    object.average_value = source.current.average_value;
  }
  if (in.pods) {
    auto& pods = out.pods.emplace();
    pods.metric_name = in.pods->metric.name;
    pods.current_average_value = ValueOrZero(in.pods->current.average_value);
    pods.selector = in.pods->metric.selector;
  }
  if (in.resource) {
    auto& resource = out.resource.emplace();
    resource.name = in.resource->name;
    resource.current_average_utilization = in.resource->current.average_utilization;
    resource.current_average_value = ValueOrZero(in.resource->current.average_value);
  }
  if (in.container_resource) {
    const auto& source = *in.container_resource;
    auto& resource = out.container_resource.emplace();
    resource.name = source.name;
    resource.current_average_utilization = source.current.average_utilization;
    resource.current_average_value = ValueOrZero(source.current.average_value);
    resource.container = source.container;
  }
  if (in.external) {
    const auto& source = *in.external;
    auto& external = out.external.emplace();
    external.metric_name = source.metric.name;
    external.metric_selector = source.metric.selector;
    external.current_value = ValueOrZero(source.current.value);
    external.current_average_value = source.current.average_value;
  }
  return out;
}

v2::HorizontalPodAutoscalerCondition ToV2(const v1::HorizontalPodAutoscalerCondition& in) {
  return {.type = in.type,
          .status = in.status,
          .last_transition_time = in.last_transition_time,
          .reason = in.reason,
          .message = in.message};
}

v1::HorizontalPodAutoscalerCondition ToV1(const v2::HorizontalPodAutoscalerCondition& in) {
  return {.type = in.type,
          .status = in.status,
          .last_transition_time = in.last_transition_time,
          .reason = in.reason,
          .message = in.message};
}

// ---- annotation JSON ------------------------------------------------------------------------

template <typename T>
std::string EncodeList(const std::vector<T>& items) {
  JsonWriter out;
  out.BeginArray();
  for (const auto& item : items)
    Encode(item, out);
  out.EndArray();
  return std::move(out).str();
}

// A JSON list of v1 annotation types, or nothing when the text is not one.
template <typename T>
std::optional<std::vector<T>> DecodeAnnotationList(const std::string& text) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec) return std::nullopt;
  DecodeContext ctx;
  std::vector<T> items;
  runtime::DecodeList(value, items, ctx, "[]v1.annotation",
                      [](const boost::json::value& v, T& o, DecodeContext& c) { Decode(v, o, c); });
  if (ctx.failed()) return std::nullopt;
  return items;
}

// The behavior annotation holds upstream's internal HorizontalPodAutoscalerBehavior, which has
// no JSON tags: keys are Go field names, pointers without omitempty.
void EncodeInternalRules(const std::optional<v2::HPAScalingRules>& rules, JsonWriter& out) {
  if (!rules) return out.Null();
  out.BeginObject();
  out.Key("StabilizationWindowSeconds");
  if (rules->stabilization_window_seconds) {
    out.Int(*rules->stabilization_window_seconds);
  } else {
    out.Null();
  }
  out.Key("SelectPolicy");
  if (rules->select_policy) {
    out.String(*rules->select_policy);
  } else {
    out.Null();
  }
  out.Key("Policies");
  if (rules->policies.empty()) {
    out.Null();
  } else {
    out.BeginArray();
    for (const auto& policy : rules->policies) {
      out.BeginObject();
      out.Key("Type");
      out.String(policy.type);
      out.Key("Value");
      out.Int(policy.value);
      out.Key("PeriodSeconds");
      out.Int(policy.period_seconds);
      out.EndObject();
    }
    out.EndArray();
  }
  out.EndObject();
}

std::string EncodeInternalBehavior(const v2::HorizontalPodAutoscalerBehavior& behavior) {
  JsonWriter out;
  out.BeginObject();
  out.Key("ScaleUp");
  EncodeInternalRules(behavior.scale_up, out);
  out.Key("ScaleDown");
  EncodeInternalRules(behavior.scale_down, out);
  out.EndObject();
  return std::move(out).str();
}

// Go matches JSON keys to field names exactly first, then ignoring case.
bool KeyNames(std::string_view key, std::string_view field) {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
  if (key.size() != field.size()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    if (lower(key[i]) != lower(field[i])) return false;
  }
  return true;
}

// Decodes a Go struct whose fields are handled by `field(key, value)`; unknown keys are ignored,
// null leaves the struct as it is, as encoding/json does.
template <typename Field>
void DecodeInternalStruct(const boost::json::value& in, DecodeContext& ctx, Field&& field) {
  if (in.is_null()) return;
  const auto* object = runtime::ExpectObject(in, ctx, "autoscaling.internal");
  if (object == nullptr) return;
  for (const auto& [key, value] : *object) {
    field(std::string_view(key), value);
    if (ctx.failed()) return;
  }
}

void DecodeInternalRules(const boost::json::value& in, std::optional<v2::HPAScalingRules>& rules,
                         DecodeContext& ctx) {
  if (in.is_null()) return rules.reset();
  auto& out = rules.emplace();
  DecodeInternalStruct(in, ctx, [&](std::string_view key, const boost::json::value& value) {
    const auto decode_string = [](const boost::json::value& v, std::string& o, DecodeContext& c) {
      runtime::DecodeString(v, o, c);
    };
    const auto decode_int32 = [](const boost::json::value& v, int32_t& o, DecodeContext& c) {
      runtime::DecodeInt32(v, o, c);
    };
    if (KeyNames(key, "StabilizationWindowSeconds")) {
      runtime::DecodeOptional(value, out.stabilization_window_seconds, ctx, decode_int32);
    } else if (KeyNames(key, "SelectPolicy")) {
      runtime::DecodeOptional(value, out.select_policy, ctx, decode_string);
    } else if (KeyNames(key, "Policies")) {
      runtime::DecodeList(
          value, out.policies, ctx, "[]autoscaling.HPAScalingPolicy",
          [&](const boost::json::value& v, v2::HPAScalingPolicy& policy, DecodeContext& c) {
            DecodeInternalStruct(v, c, [&](std::string_view k, const boost::json::value& x) {
              if (KeyNames(k, "Type")) decode_string(x, policy.type, c);
              if (KeyNames(k, "Value")) decode_int32(x, policy.value, c);
              if (KeyNames(k, "PeriodSeconds")) decode_int32(x, policy.period_seconds, c);
            });
          });
    }
  });
}

std::optional<v2::HorizontalPodAutoscalerBehavior> DecodeInternalBehavior(const std::string& text) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec) return std::nullopt;
  DecodeContext ctx;
  v2::HorizontalPodAutoscalerBehavior behavior;
  DecodeInternalStruct(value, ctx, [&](std::string_view key, const boost::json::value& field) {
    if (KeyNames(key, "ScaleUp")) DecodeInternalRules(field, behavior.scale_up, ctx);
    if (KeyNames(key, "ScaleDown")) DecodeInternalRules(field, behavior.scale_down, ctx);
  });
  if (ctx.failed()) return std::nullopt;
  return behavior;
}

const std::string* Annotation(const std::map<std::string, std::string>& annotations,
                              const char* key) {
  const auto it = annotations.find(key);
  return it == annotations.end() ? nullptr : &it->second;
}

}  // namespace

v2::HorizontalPodAutoscaler ConvertToV2(const v1::HorizontalPodAutoscaler& in) {
  v2::HorizontalPodAutoscaler out;
  out.kind = in.kind;
  if (!in.api_version.empty()) out.api_version = "autoscaling/v2";
  out.metadata = in.metadata;
  const auto& annotations = in.metadata.annotations;

  auto& spec = out.spec;
  spec.scale_target_ref = ToV2(in.spec.scale_target_ref);
  spec.min_replicas = in.spec.min_replicas;
  spec.max_replicas = in.spec.max_replicas;
  if (in.spec.target_cpu_utilization_percentage) {
    spec.metrics.push_back(CpuUtilizationMetric(*in.spec.target_cpu_utilization_percentage));
  }
  if (const auto* text = Annotation(annotations, kHpaMetricsAnnotation)) {
    if (auto others = DecodeAnnotationList<v1::MetricSpec>(*text)) {
      // The other metrics come first, the CPU target (if any) after them.
      std::vector<v2::MetricSpec> metrics;
      for (const auto& metric : *others)
        metrics.push_back(ToV2(metric));
      for (auto& metric : spec.metrics)
        metrics.push_back(std::move(metric));
      spec.metrics = std::move(metrics);
    }
  }
  if (const auto* text = Annotation(annotations, kHpaBehaviorAnnotation)) {
    auto behavior = DecodeInternalBehavior(*text);
    if (behavior && (behavior->scale_up || behavior->scale_down)) spec.behavior = *behavior;
  }
  if (spec.metrics.empty()) spec.metrics.push_back(CpuUtilizationMetric(kDefaultCpuUtilization));

  auto& status = out.status;
  status.observed_generation = in.status.observed_generation;
  status.last_scale_time = in.status.last_scale_time;
  status.current_replicas = in.status.current_replicas;
  status.desired_replicas = in.status.desired_replicas;
  if (in.status.current_cpu_utilization_percentage) {
    v2::MetricStatus cpu{.type = "Resource"};
    cpu.resource.emplace();
    cpu.resource->name = "cpu";
    cpu.resource->current.average_utilization = *in.status.current_cpu_utilization_percentage;
    status.current_metrics.emplace().push_back(std::move(cpu));
  }
  if (const auto* text = Annotation(annotations, kHpaCurrentMetricsAnnotation)) {
    // These carry more than currentCPUUtilizationPercentage, so they replace it.
    if (auto current = DecodeAnnotationList<v1::MetricStatus>(*text)) {
      auto& metrics = status.current_metrics.emplace();
      for (const auto& metric : *current)
        metrics.push_back(ToV2(metric));
    }
  }
  if (const auto* text = Annotation(annotations, kHpaConditionsAnnotation)) {
    if (auto conditions = DecodeAnnotationList<v1::HorizontalPodAutoscalerCondition>(*text)) {
      for (const auto& condition : *conditions)
        status.conditions.push_back(ToV2(condition));
    }
  }
  DropRoundTripAnnotations(out.metadata.annotations);
  return out;
}

v1::HorizontalPodAutoscaler ConvertToV1(const v2::HorizontalPodAutoscaler& in) {
  v1::HorizontalPodAutoscaler out;
  out.kind = in.kind;
  if (!in.api_version.empty()) out.api_version = "autoscaling/v1";
  out.metadata = in.metadata;
  // Only annotations this conversion produces may remain.
  auto& annotations = out.metadata.annotations;
  DropRoundTripAnnotations(annotations);

  out.spec.scale_target_ref = ToV1(in.spec.scale_target_ref);
  out.spec.min_replicas = in.spec.min_replicas;
  out.spec.max_replicas = in.spec.max_replicas;
  std::vector<v1::MetricSpec> other_metrics;
  bool have_cpu_target = false;
  for (const auto& metric : in.spec.metrics) {
    if (IsCpuUtilizationTarget(metric)) {
      if (!have_cpu_target) {
        out.spec.target_cpu_utilization_percentage = metric.resource->target.average_utilization;
        have_cpu_target = true;
      }
      continue;
    }
    other_metrics.push_back(ToV1(metric));
  }
  if (!other_metrics.empty()) annotations[kHpaMetricsAnnotation] = EncodeList(other_metrics);

  const auto& status = in.status;
  out.status.observed_generation = status.observed_generation;
  out.status.last_scale_time = status.last_scale_time;
  out.status.current_replicas = status.current_replicas;
  out.status.desired_replicas = status.desired_replicas;
  if (status.current_metrics && !status.current_metrics->empty()) {
    std::vector<v1::MetricStatus> current;
    for (const auto& metric : *status.current_metrics) {
      // The last CPU utilization wins, as upstream's loop leaves it.
      if (metric.type == "Resource" && metric.resource && metric.resource->name == "cpu" &&
          metric.resource->current.average_utilization) {
        out.status.current_cpu_utilization_percentage =
            metric.resource->current.average_utilization;
      }
      current.push_back(ToV1(metric));
    }
    annotations[kHpaCurrentMetricsAnnotation] = EncodeList(current);
  }
  if (in.spec.behavior) {
    annotations[kHpaBehaviorAnnotation] = EncodeInternalBehavior(*in.spec.behavior);
  }
  if (!status.conditions.empty()) {
    std::vector<v1::HorizontalPodAutoscalerCondition> conditions;
    for (const auto& condition : status.conditions)
      conditions.push_back(ToV1(condition));
    annotations[kHpaConditionsAnnotation] = EncodeList(conditions);
  }
  return out;
}

}  // namespace kpp::api::conversion
