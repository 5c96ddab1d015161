// Random documents and patches: every outcome must be a value or a clean error, never a crash,
// a hang or an error code outside the documented set (run under the sanitizers in CI builds).
#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <random>
#include <string>
#include <vector>

#include "apimachinery/patch/json_patch.h"
#include "apimachinery/patch/merge_patch.h"
#include "apimachinery/patch/patch_meta.h"
#include "apimachinery/patch/strategic_merge_patch.h"

namespace kpp::patch {
namespace {

namespace json = boost::json;

class Generator {
 public:
  explicit Generator(unsigned seed) : random_(seed) {}

  json::value Value(int depth) {
    switch (Pick(depth <= 0 ? 4 : 7)) {
      case 0: return nullptr;
      case 1: return Pick(2) == 0;
      case 2: return Pick(3);
      case 3: return json::string(Key());
      case 4:
      case 5: {
        json::object object;
        for (int i = Pick(4); i > 0; --i)
          object[Key()] = Value(depth - 1);
        return object;
      }
      default: {
        json::array array;
        for (int i = Pick(4); i > 0; --i)
          array.push_back(Value(depth - 1));
        return array;
      }
    }
  }

  std::string Key() {
    static const std::vector<std::string> kKeys = {"a",
                                                   "b",
                                                   "c",
                                                   "name",
                                                   "$patch",
                                                   "$retainKeys",
                                                   "$setElementOrder/a",
                                                   "$deleteFromPrimitiveList/b",
                                                   "delete",
                                                   "replace",
                                                   "merge",
                                                   "",
                                                   "0",
                                                   "-"};
    return kKeys[static_cast<std::size_t>(Pick(static_cast<int>(kKeys.size())))];
  }

  std::string Pointer() {
    std::string pointer;
    for (int i = Pick(4); i > 0; --i)
      pointer += "/" + (Pick(3) == 0 ? std::to_string(Pick(3)) : Key());
    return pointer;
  }

  json::value JsonPatchDocument() {
    static const std::vector<std::string> kOps = {"add",  "remove", "replace", "move",
                                                  "copy", "test",   "bogus"};
    json::array operations;
    for (int i = Pick(5); i > 0; --i) {
      json::object operation;
      operation["op"] = kOps[static_cast<std::size_t>(Pick(static_cast<int>(kOps.size())))];
      operation["path"] = Pointer();
      if (Pick(2) == 0) operation["from"] = Pointer();
      if (Pick(4) != 0) operation["value"] = Value(2);
      operations.push_back(std::move(operation));
    }
    return operations;
  }

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }

 private:
  std::mt19937 random_;
};

bool IsDocumentedCode(ErrorCode code) {
  return code == ErrorCode::kBadRequest || code == ErrorCode::kInvalid ||
         code == ErrorCode::kInternalError;
}

TEST(RandomInputsTest, NeverCrashAndFailCleanly) {
  const PatchMetaTable schema({{"a", PatchMeta::Merge("name")},
                               {"b", PatchMeta::Merge()},
                               {"a.a", PatchMeta::Merge("name")},
                               {"c", PatchMeta::Replace()}});
  Generator generator(20261123);
  int succeeded = 0;
  for (int i = 0; i < 5000; ++i) {
    const json::value document = generator.Value(4);
    const json::value patch = generator.Value(4);

    Result<json::value> merged = ApplyMergePatch(document, patch);
    ASSERT_TRUE(merged.ok());
    Result<json::value> diff = CreateMergePatch(document, *merged);
    ASSERT_TRUE(diff.ok());

    if (document.is_object() && patch.is_object()) {
      for (const PatchMetaLookup* lookup :
           {static_cast<const PatchMetaLookup*>(&schema), &NoPatchMeta()}) {
        Result<json::value> strategic = ApplyStrategicMergePatch(document, patch, *lookup);
        if (strategic.ok()) {
          ++succeeded;
        } else {
          EXPECT_TRUE(IsDocumentedCode(strategic.error().code())) << strategic.error().message();
        }
      }
    }

    Result<JsonPatch> json_patch = JsonPatch::FromValue(generator.JsonPatchDocument());
    ASSERT_TRUE(json_patch.ok());
    Result<json::value> patched = json_patch->Apply(document);
    if (!patched.ok()) {
      EXPECT_EQ(patched.error().code(), ErrorCode::kInvalid) << patched.error().message();
    }
  }
  // The generator must reach the success paths too, not only the error ones.
  EXPECT_GT(succeeded, 100);
}

}  // namespace
}  // namespace kpp::patch
