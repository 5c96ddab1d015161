// PriorityClasses (api/scheduling.k8s.io/v1) against JSON as an upstream API server writes it.
#include <gtest/gtest.h>

#include <string>

#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/scheduling.k8s.io/v1/codec.h"

namespace kpp::api {
namespace {

using scheduling_k8s_io::v1::PriorityClass;

template <typename T>
void ExpectRoundTrip(const std::string& json) {
  auto decoded = FromJson<T>(json, {.unknown_fields = UnknownFields::kReject});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(ToJson(decoded->object), json);
}

template <typename T>
std::string Defaulted(const std::string& json) {
  auto decoded = FromJson<T>(json, {.unknown_fields = UnknownFields::kReject});
  EXPECT_TRUE(decoded.ok()) << decoded.error().message();
  if (!decoded.ok()) return "";
  SetDefaults(decoded->object);
  return ToJson(decoded->object);
}

const KindInfo* FindKind(std::string_view group, std::string_view kind) {
  for (const auto& info : AllKinds()) {
    if (info.group == group && info.kind == kind) return &info;
  }
  return nullptr;
}

TEST(PriorityClassSchemaTest, RoundTripsAndDefaultsPreemptionPolicy) {
  ExpectRoundTrip<PriorityClass>(
      R"({"kind":"PriorityClass","apiVersion":"scheduling.k8s.io/v1","metadata":{)"
      R"("name":"system-node-critical","uid":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",)"
      R"("resourceVersion":"80","generation":1,"creationTimestamp":"2024-03-01T10:00:00Z"},)"
      R"("value":2000001000,"description":"For pods that must stay on their node.",)"
      R"("preemptionPolicy":"PreemptLowerPriority"})");
  ExpectRoundTrip<PriorityClass>(
      R"({"metadata":{"name":"batch-low","creationTimestamp":null},"value":0,)"
      R"("globalDefault":true,"preemptionPolicy":"Never"})");
  EXPECT_EQ(Defaulted<PriorityClass>(R"({"metadata":{"name":"high"},"value":1000})"),
            R"({"metadata":{"name":"high","creationTimestamp":null},"value":1000,)"
            R"("preemptionPolicy":"PreemptLowerPriority"})");
}

TEST(PriorityClassSchemaTest, KindTableHasPriorityClasses) {
  const KindInfo* pc = FindKind("scheduling.k8s.io", "PriorityClass");
  ASSERT_NE(pc, nullptr);
  EXPECT_EQ(pc->plural, "priorityclasses");
  EXPECT_EQ(pc->short_names, "pc");
  EXPECT_FALSE(pc->namespaced);
}

}  // namespace
}  // namespace kpp::api
