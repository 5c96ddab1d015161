// Turns JSON objects into protobuf request bodies ("k8s\0" envelope + message) of their kind:
// make_protobuf_seeds <out-dir> <file.json>... writes <out-dir>/<file>.pb for each file that
// decodes. How corpus/api_protobuf/ was made from corpus/api_json/.
#include <boost/json/parse.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "api/runtime/object.h"
#include "api/runtime/protobuf.h"
#include "kind_choice.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <out-dir> <file.json>...\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out_dir = argv[1];
  int failures = 0;
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(json, ec);
    const auto* object = ec ? nullptr : value.if_object();
    const auto* api_version = object ? object->if_contains("apiVersion") : nullptr;
    const auto* kind_name = object ? object->if_contains("kind") : nullptr;
    if (!api_version || !kind_name || !api_version->is_string() || !kind_name->is_string()) {
      std::fprintf(stderr, "%s: not an object with apiVersion and kind\n", argv[i]);
      ++failures;
      continue;
    }
    const auto& kind = kpp::fuzz::ChooseKind(api_version->get_string(), kind_name->get_string());
    auto decoded = kind.codec->Decode(json, {});
    if (!decoded.ok()) {
      std::fprintf(stderr, "%s: %s\n", argv[i], decoded.error().message().c_str());
      ++failures;
      continue;
    }
    const std::string body = kpp::api::protobuf::Wrap(kpp::fuzz::ApiVersionOf(kind), kind.kind,
                                                      decoded->object->ToProtobufMessage());
    const auto out = out_dir / (std::filesystem::path(argv[i]).stem().string() + ".pb");
    std::ofstream(out, std::ios::binary) << body;
  }
  return failures == 0 ? 0 : 1;
}
