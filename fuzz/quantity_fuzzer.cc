// resource.Quantity text (resource requests and limits, quota): parsing must fail with an error
// or succeed, and the canonical form must be a fixed point: parse(format(q)) == q with the same
// canonical form. Arithmetic and conversions on what parses must not overflow or crash.
#include <cstdint>
#include <string>
#include <string_view>

#include "apimachinery/resource/quantity.h"
#include "check.h"

using kpp::fuzz::Check;
using kpp::resource::Quantity;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = Quantity::Parse(text);
  // The decoder's shortcut must agree with parsing.
  Check(!Quantity::IsCanonicalText(text) || (parsed.ok() && parsed->String() == text),
        "IsCanonicalText accepted text that does not parse to itself", text);
  if (!parsed.ok()) return 0;
  const Quantity& q = *parsed;

  const std::string canonical = q.String();
  auto reparsed = Quantity::Parse(canonical);
  Check(reparsed.ok(), "the canonical form does not parse", canonical);
  Check(*reparsed == q, "parse(format(q)) != q", std::string(text) + " -> " + canonical);
  // The text need not settle at once: as upstream, a BinarySI value that is no multiple of 1024
  // is written without a suffix and parses back as DecimalSI ("62.5Ki" -> "64000" -> "64k").
  // One more round trip must settle it.
  const std::string second = reparsed->String();
  auto third = Quantity::Parse(second);
  Check(third.ok() && *third == q && third->String() == second,
        "format(parse(format(parse(format(q))))) != format(parse(format(q)))",
        std::string(text) + " -> " + canonical + " -> " + second);

  // Everything below saturates or is exact; it must neither crash nor trip UBSan.
  (void)q.Value();
  (void)q.MilliValue();
  (void)q.ScaledValue(kpp::resource::kNano);
  (void)q.ScaledValue(kpp::resource::kExa);
  (void)q.AsInt64();
  (void)q.AsApproximateDouble();
  (void)q.CmpInt64(INT64_MIN);
  Quantity sum = q;
  sum.Add(q);
  sum.Sub(q);
  Check(sum == q, "q + q - q != q", canonical);
  Quantity negated = q;
  negated.Neg();
  Check(negated.Cmp(q) == -q.Sign(), "-q compares wrongly with q", canonical);
  Quantity tripled = q;
  tripled.Mul(3);
  (void)tripled.String();
  Quantity rounded = q;
  rounded.RoundUp(kpp::resource::kMilli);
  Check(rounded.Cmp(q) * q.Sign() >= 0, "rounding up moved towards zero", canonical);
  (void)rounded.String();
  // Outside the int64 range a BinarySI quantity is capped when parsed (as upstream), so only
  // quantities within it keep their value in every format.
  const bool within_int64 = q.CmpInt64(INT64_MAX) <= 0 && q.CmpInt64(-INT64_MAX) >= 0;
  for (auto format : {Quantity::Format::kBinarySI, Quantity::Format::kDecimalSI,
                      Quantity::Format::kDecimalExponent}) {
    Quantity converted = q;
    converted.set_format(format);
    const std::string text_in_format = converted.String();
    auto back = Quantity::Parse(text_in_format);
    Check(back.ok(), "a quantity in another format does not parse", text_in_format);
    if (!within_int64) continue;
    Check(*back == q, "a quantity in another format changes its value",
          canonical + " -> " + text_in_format + " -> " + back->String());
    auto again = Quantity::Parse(back->String());
    Check(again.ok() && again->String() == back->String(),
          "a quantity in another format has no canonical fixed point", text_in_format);
  }
  return 0;
}
