// JSON Patch (RFC 6902, application/json-patch+json): parsing and applying must fail with an
// error or succeed with a bounded, well-formed result.
#include <cstdint>

#include "apimachinery/patch/json_patch.h"
#include "patch_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = kpp::fuzz::SplitPatchInput(data, size);
  auto document = kpp::patch::ParseJson(input.document);
  if (!document.ok()) return 0;
  auto patch = kpp::patch::JsonPatch::Parse(input.patch);
  if (!patch.ok()) return 0;
  // A small copy budget keeps each run fast; the bound itself is what is under test.
  auto result = patch->Apply(std::move(*document), {.max_copied_values = 10'000});
  if (result.ok()) kpp::fuzz::CheckPatchResult(*result);
  return 0;
}
