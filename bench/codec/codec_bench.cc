// bench/codec: what the API server does with a request body, against the cheapest thing that
// could be done with it. For a realistic Pod and Deployment (pod.json, deployment.json) it
// measures, in the same run and taking turns:
//   - typed: decode with the kind's generated codec (unknown and duplicate fields collected, as
//     for the default fieldValidation=Warn), SetDefaults, ValidateFields, encode to JSON;
//   - plain: boost::json::parse + boost::json::serialize of the same bytes;
// and prints ns/op and MB/s (of input) for each and the ratio typed/plain. Target: at most 3x.
//
//   codec_bench [--quick]
//
// --quick runs a few iterations only (the smoke test uses it to keep the program working).
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "base/files.h"

namespace kpp::bench {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "codec_bench: " << message << "\n";
  std::exit(1);
}

const api::KindInfo& FindKind(std::string_view group, std::string_view version,
                              std::string_view kind) {
  for (const auto& info : api::AllKinds()) {
    if (info.group == group && info.version == version && info.kind == kind) return info;
  }
  Fail(fmt::format("no kind {}/{} {}", group, version, kind));
}

// Keeps the optimizer from dropping work whose result is otherwise unused.
size_t sink = 0;

size_t Typed(const api::KindCodec& codec, std::string_view json, api::UnknownFields unknown) {
  auto decoded = codec.Decode(json, {.unknown_fields = unknown});
  if (!decoded.ok()) Fail("decoding: " + decoded.error().message());
  decoded->object->SetDefaults();
  const auto errors = decoded->object->ValidateFields();
  if (!errors.empty()) Fail("the object is invalid: " + errors.front().ToString());
  return decoded->object->ToJson().size();
}

size_t Plain(std::string_view json) {
  boost::json::value value = boost::json::parse(json);
  return boost::json::serialize(value).size();
}

// Nanoseconds per call of `run`: the best of `rounds` batches of `batch` calls each (the least
// disturbed by other work on the machine).
template <typename Run>
double NanosPerOp(int batch, Run&& run) {
  const auto start = Clock::now();
  for (int i = 0; i < batch; ++i)
    sink += run();
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / batch;
}

struct Case {
  std::string name;
  const api::KindInfo* kind;
  std::string json;
};

struct Figures {
  double plain_ns = 1e300;
  double typed_ns = 1e300;
  double ignore_ns = 1e300;
};

}  // namespace

int Main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--quick") {
      quick = true;
    } else {
      std::cerr << "usage: codec_bench [--quick]\n";
      return 2;
    }
  }
  std::vector<Case> cases = {
      {"Pod", &FindKind("", "v1", "Pod"), ""},
      {"Deployment", &FindKind("apps", "v1", "Deployment"), ""},
  };
  for (auto& c : cases) {
    const std::string path =
        fmt::format("{}/{}.json", KPP_BENCH_CODEC_DIR, c.name == "Pod" ? "pod" : "deployment");
    auto content = ReadFile(path);
    if (!content.ok()) Fail(content.error().message());
    c.json = std::move(*content);
  }
  const int rounds = quick ? 2 : 15;
  const int batch = quick ? 5 : 400;

  std::cout << fmt::format("\n{:<11} {:>6} {:<38} {:>9} {:>8} {:>7}\n", "object", "bytes", "path",
                           "ns/op", "MB/s", "ratio");
  bool met = true;
  for (const Case& c : cases) {
    const api::KindCodec& codec = *c.kind->codec;
    Figures figures;
    // Warm up, then take turns so that both see the same machine.
    Typed(codec, c.json, api::UnknownFields::kCollect);
    Plain(c.json);
    for (int round = 0; round < rounds; ++round) {
      figures.plain_ns =
          std::min(figures.plain_ns, NanosPerOp(batch, [&] { return Plain(c.json); }));
      figures.typed_ns = std::min(figures.typed_ns, NanosPerOp(batch, [&] {
                                    return Typed(codec, c.json, api::UnknownFields::kCollect);
                                  }));
      figures.ignore_ns = std::min(figures.ignore_ns, NanosPerOp(batch, [&] {
                                     return Typed(codec, c.json, api::UnknownFields::kIgnore);
                                   }));
    }
    auto line = [&](std::string_view path, double ns) {
      const double mb_per_s = static_cast<double>(c.json.size()) / ns * 1e3;
      std::cout << fmt::format("{:<11} {:>6} {:<38} {:>9.0f} {:>8.1f} {:>6.2f}x\n", c.name,
                               c.json.size(), path, ns, mb_per_s, ns / figures.plain_ns);
    };
    line("plain: Boost.JSON parse + serialize", figures.plain_ns);
    line("typed (fieldValidation=Warn)", figures.typed_ns);
    line("typed (fieldValidation=Ignore)", figures.ignore_ns);
    met = met && figures.typed_ns <= 3 * figures.plain_ns;
  }
  std::cout << "(typed: decode + SetDefaults + ValidateFields + encode to JSON; best of " << rounds
            << " batches of " << batch << ")\n";
  std::cout << fmt::format("\nTarget: [{}] typed path at most 3x the plain parse + serialize\n",
                           met ? "met" : "MISSED");
  return sink == 0 ? 1 : 0;
}

}  // namespace kpp::bench

int main(int argc, char** argv) {
  return kpp::bench::Main(argc, argv);
}
