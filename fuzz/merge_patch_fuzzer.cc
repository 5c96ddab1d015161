// JSON Merge Patch (RFC 7386, application/merge-patch+json): applying must fail with an error or
// succeed with a bounded, well-formed result; a patch computed between two documents must turn
// the first into the second.
#include <cstdint>

#include "apimachinery/patch/merge_patch.h"
#include "patch_input.h"

using kpp::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = kpp::fuzz::SplitPatchInput(data, size);
  auto document = kpp::patch::ParseJson(input.document);
  if (!document.ok()) return 0;
  auto patch = kpp::patch::ParseObjectPatch(input.patch);
  if (!patch.ok()) return 0;
  auto result = kpp::patch::ApplyMergePatch(*document, *patch);
  if (!result.ok()) return 0;
  kpp::fuzz::CheckPatchResult(*result);
  auto computed = kpp::patch::CreateMergePatch(*document, *result);
  if (!computed.ok()) return 0;
  auto replayed = kpp::patch::ApplyMergePatch(*document, *computed);
  Check(replayed.ok() && kpp::patch::JsonEqual(*replayed, *result),
        "apply(original, create(original, modified)) != modified",
        boost::json::serialize(*computed));
  return 0;
}
