#include "apimachinery/patch/patch_meta.h"

#include <fmt/format.h>

#include <vector>

namespace kpp::patch {

Result<PatchMeta> ParsePatchMeta(std::string_view strategy, std::string_view merge_key) {
  PatchMeta meta{.merge_key = std::string(merge_key)};
  if (strategy.empty()) return meta;
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t comma = strategy.find(',', start);
    parts.push_back(
        strategy.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  auto unexpected = [&] {
    return InternalError(fmt::format("unexpected patch strategy \"{}\"", strategy));
  };
  if (parts.size() > 2) return unexpected();
  for (std::string_view part : parts) {
    if (part == "retainKeys" && !meta.retain_keys) {
      meta.retain_keys = true;
    } else if (part == "merge" && meta.strategy == PatchMeta::Strategy::kDefault) {
      meta.strategy = PatchMeta::Strategy::kMerge;
    } else if (part == "replace" && meta.strategy == PatchMeta::Strategy::kDefault) {
      meta.strategy = PatchMeta::Strategy::kReplace;
    } else {
      return unexpected();
    }
  }
  return meta;
}

namespace {

class NoSchema final : public PatchMetaLookup {
 public:
  Result<PatchMeta> Lookup(std::span<const std::string>) const override { return PatchMeta{}; }
};

}  // namespace

const PatchMetaLookup& NoPatchMeta() {
  static const NoSchema instance;
  return instance;
}

Result<PatchMeta> PatchMetaTable::Lookup(std::span<const std::string> path) const {
  std::string key;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (i != 0) key.push_back('.');
    key += path[i];
  }
  auto it = by_path_.find(key);
  if (it == by_path_.end()) return PatchMeta{};
  return it->second;
}

}  // namespace kpp::patch
