#include "api/runtime/box.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

}  // namespace
}  // namespace kpp::api
