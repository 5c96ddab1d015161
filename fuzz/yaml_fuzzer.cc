// YAML request bodies (application/yaml, apply configurations) turned into JSON: any input must
// give an error or JSON that parses, within the depth and alias-expansion bounds.
#include <boost/json/parse.hpp>
#include <cstdint>
#include <string_view>

#include "apimachinery/yaml/yaml_to_json.h"
#include "check.h"

using kpp::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = kpp::yaml::ToJson(text, {.max_depth = 64, .max_values = 100'000});
  if (!json.ok()) return 0;
  boost::system::error_code error;
  boost::json::parse_options options;
  options.max_depth = 128;
  boost::json::parse(*json, error, {}, options);
  Check(!error, "the JSON made of YAML does not parse", *json);
  return 0;
}
