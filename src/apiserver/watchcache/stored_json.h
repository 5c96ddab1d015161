// The JSON the watch cache serves an object as, made from the stored value without decoding it
// into its type and encoding it again: every write of a typed kind stores the typed encoder's
// output without resourceVersion, so the cached form is that text with the revision spliced in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kpp::apiserver::watchcache {

// `stored` with metadata.resourceVersion set to `revision`, placed where the typed encoder puts
// it (after uid, before generation); nullopt unless `stored` is compact JSON that starts with
// {"metadata":{ and has no resourceVersion yet (the caller then decodes and encodes it).
std::optional<std::string> SpliceResourceVersion(std::string_view stored, int64_t revision);

}  // namespace kpp::apiserver::watchcache
