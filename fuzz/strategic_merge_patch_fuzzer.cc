// Strategic merge patch (application/strategic-merge-patch+json) with the patch metadata of the
// kind the document names (Pod containers merge by name, ...), as the server applies it:
// applying must fail with an error or succeed with a bounded, well-formed result.
#include <cstdint>
#include <map>
#include <string>

#include "apimachinery/patch/strategic_merge_patch.h"
#include "kind_choice.h"
#include "patch_input.h"

namespace {

// The kind's patch metadata, as the server's resource handler builds it.
kpp::patch::PatchMetaTable PatchMetaOf(const kpp::api::KindInfo& kind) {
  std::map<std::string, kpp::patch::PatchMeta, std::less<>> by_path;
  for (const auto& field : kind.patch_fields) {
    auto meta = kpp::patch::ParsePatchMeta(field.strategy, field.merge_key);
    if (meta.ok()) by_path.emplace(std::string(field.path), *meta);
  }
  return kpp::patch::PatchMetaTable(std::move(by_path));
}

std::string_view StringMember(const boost::json::value& value, std::string_view key) {
  if (!value.is_object()) return {};
  const auto* member = value.get_object().if_contains(key);
  if (member == nullptr || !member->is_string()) return {};
  return member->get_string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* const tables = [] {
    auto* by_kind = new std::map<const kpp::api::KindInfo*, kpp::patch::PatchMetaTable>();
    for (const auto& kind : kpp::api::AllKinds())
      by_kind->emplace(&kind, PatchMetaOf(kind));
    return by_kind;
  }();
  const auto input = kpp::fuzz::SplitPatchInput(data, size);
  auto document = kpp::patch::ParseJson(input.document);
  if (!document.ok()) return 0;
  auto patch = kpp::patch::ParseObjectPatch(input.patch);
  if (!patch.ok()) return 0;
  const auto& kind =
      kpp::fuzz::ChooseKind(StringMember(*document, "apiVersion"), StringMember(*document, "kind"));
  auto result =
      kpp::patch::ApplyStrategicMergePatch(std::move(*document), *patch, tables->at(&kind));
  if (result.ok()) kpp::fuzz::CheckPatchResult(*result);
  return 0;
}
