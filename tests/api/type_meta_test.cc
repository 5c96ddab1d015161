#include "api/runtime/type_meta.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "api/core/v1/codec.h"
#include "api/runtime/object_codec.h"

namespace kpp::api {
namespace {

const KindInfo& PodKind() {
  for (const auto& kind : AllKinds()) {
    if (kind.group.empty() && kind.kind == "Pod") return kind;
  }
  ADD_FAILURE() << "no Pod kind";
  std::abort();
}

TEST(WithTypeMetaTest, GivesWhatEncodingTheObjectWithItsKindGives) {
  core::v1::Pod pod;
  pod.metadata.name = "p";
  pod.spec.containers.emplace_back().name = "c";
  const std::string spliced = WithTypeMeta(PodKind(), ToJson(pod));
  pod.kind = "Pod";
  pod.api_version = "v1";
  EXPECT_EQ(spliced, ToJson(pod));
}

TEST(WithTypeMetaTest, AnEmptyObjectGetsOnlyTheTypeMeta) {
  EXPECT_EQ(WithTypeMeta(PodKind(), "{}"), R"({"kind":"Pod","apiVersion":"v1"})");
}

}  // namespace
}  // namespace kpp::api
