#include "api/runtime/box.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "api/core/v1/codec.h"
#include "api/runtime/object_codec.h"

namespace kpp::api {
namespace {

// A type that holds itself, as JSONSchemaProps does.
struct Node {
  std::string name;
  Box<Node> next;
  std::vector<Node> children;
  bool operator==(const Node&) const = default;
};

TEST(BoxTest, StartsEmptyAndFillsLikeOptional) {
  Box<Node> box;
  EXPECT_FALSE(box);
  EXPECT_FALSE(box.has_value());
  box.emplace().name = "a";
  ASSERT_TRUE(box);
  EXPECT_EQ(box->name, "a");
  box = Node{.name = "b"};
  EXPECT_EQ((*box).name, "b");
  box.reset();
  EXPECT_FALSE(box);
}

TEST(BoxTest, CopiesAreDeepAndCompareByValue) {
  Node list{.name = "1"};
  list.next.emplace().name = "2";
  list.next->next.emplace().name = "3";
  Node copy = list;
  EXPECT_EQ(copy, list);
  copy.next->next->name = "three";
  EXPECT_NE(copy, list);
  EXPECT_EQ(list.next->next->name, "3");

  Node assigned;
  assigned = list;
  EXPECT_EQ(assigned, list);
  Node moved = std::move(assigned);
  EXPECT_EQ(moved, list);
}

TEST(BoxTest, EmptyBoxesAreEqualAndDifferFromFullOnes) {
  EXPECT_EQ(Box<Node>(), Box<Node>());
  EXPECT_NE(Box<Node>(Node{}), Box<Node>());
  EXPECT_EQ(Box<Node>(Node{}), Box<Node>(Node{}));
}

TEST(BoxTest, TakesNulloptAndConstructorArgumentsLikeOptional) {
  Box<std::string> box(std::nullopt);
  EXPECT_TRUE(box == std::nullopt);
  box.emplace(3, 'x');
  EXPECT_EQ(*box, "xxx");
  EXPECT_FALSE(box == std::nullopt);
  box = std::nullopt;
  EXPECT_FALSE(box);
}

// The large, usually absent members of a pod (schema `optional=box`): an unset probe or volume
// source costs a pointer, not its whole struct, which at 50,000 cached pods was hundreds of MiB.
TEST(BoxedSchemaTypesTest, UnsetProbesAndVolumeSourcesCostAPointer) {
  EXPECT_LT(sizeof(core::v1::Container), 1024u);
  EXPECT_LT(sizeof(core::v1::VolumeSource), 512u);
  EXPECT_EQ(sizeof(core::v1::Container::liveness_probe), sizeof(void*));
  EXPECT_EQ(sizeof(core::v1::VolumeSource::secret), sizeof(void*));
}

TEST(BoxedSchemaTypesTest, RoundTripThroughJsonAndCopyDeeply) {
  // In Go's encoding, so that the encode gives back the same text.
  const std::string json =
      R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","creationTimestamp":null},)"
      R"("spec":{"volumes":[{"name":"s","secret":{"secretName":"token"}},{"name":"e",)"
      R"("emptyDir":{}}],"containers":[{"name":"c","image":"nginx","resources":{},)"
      R"("livenessProbe":{"httpGet":{"path":"/","port":80}},"lifecycle":{"preStop":{"exec":)"
      R"({"command":["sleep","1"]}}},"securityContext":{"privileged":false}}]},"status":{}})";
  auto decoded = FromJson<core::v1::Pod>(json);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  const core::v1::Pod& pod = decoded->object;
  ASSERT_TRUE(pod.spec.containers[0].liveness_probe);
  EXPECT_EQ(pod.spec.containers[0].liveness_probe->probe_handler.http_get->path, "/");
  EXPECT_FALSE(pod.spec.containers[0].readiness_probe);
  ASSERT_TRUE(pod.spec.volumes[0].volume_source.secret);
  EXPECT_EQ(pod.spec.volumes[0].volume_source.secret->secret_name, "token");
  EXPECT_TRUE(pod.spec.volumes[1].volume_source.empty_dir);
  EXPECT_EQ(ToJson(pod), json);

  core::v1::Pod copy = pod;
  copy.spec.volumes[0].volume_source.secret->secret_name = "other";
  EXPECT_EQ(pod.spec.volumes[0].volume_source.secret->secret_name, "token");
  EXPECT_NE(copy, pod);
}

}  // namespace
}  // namespace kpp::api
