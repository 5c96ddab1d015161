#include "apiserver/encryption/encryption_config.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apimachinery/validation/field_errors.h"
#include "apimachinery/yaml/yaml_to_json.h"
#include "base/encoding.h"
#include "base/files.h"

namespace kpp::apiserver::encryption {
namespace {

namespace json = boost::json;
using validation::FieldError;
using validation::FieldErrors;
using validation::FieldErrorType;
using validation::FieldPath;

constexpr std::string_view kApiVersion = "apiserver.config.k8s.io/v1";
constexpr std::string_view kKind = "EncryptionConfiguration";

// Go's %v of an int slice, as upstream's messages print the allowed key sizes.
std::string GoIntList(const std::vector<int>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i != 0) text += ' ';
    text += std::to_string(values[i]);
  }
  return text + "]";
}

// Go's %#v of a string slice, as upstream's field errors print a resources list.
std::string GoStringSlice(const std::vector<std::string>& values) {
  std::string text = "[]string{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i != 0) text += ", ";
    text += json::serialize(json::value(values[i]));
  }
  return text + "}";
}

FieldError InvalidRaw(const FieldPath& path, std::string raw_value, std::string detail) {
  return FieldError{FieldErrorType::kInvalid, path.str(), std::move(raw_value), std::move(detail)};
}

std::string AtLeastOneRequired(std::string_view what) {
  return fmt::format("at least one {} is required", what);
}

// schema.ParseGroupResource: "deployments.apps" -> {apps, deployments}; "secrets" -> {"", secrets}.
std::pair<std::string, std::string> ParseGroupResource(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return {"", std::string(text)};
  return {std::string(text.substr(dot + 1)), std::string(text.substr(0, dot))};
}

void ValidateResourceOverlap(const std::vector<std::string>& resources, const FieldPath& path,
                             FieldErrors& errors) {
  if (resources.size() < 2) return;
  std::vector<std::pair<std::string, std::string>> parsed;
  for (const auto& resource : resources)
    parsed.push_back(ParseGroupResource(resource));
  bool overlap = false;
  bool duplicate = false;
  for (size_t i = 0; i < parsed.size(); ++i) {
    for (size_t j = 0; j < parsed.size(); ++j) {
      if (i == j) continue;
      const auto& [group1, resource1] = parsed[i];
      const auto& [group2, resource2] = parsed[j];
      if (parsed[i] == parsed[j] && !duplicate) {
        duplicate = true;
        continue;
      }
      if (overlap) continue;
      if (group1 == "*" && resource1 == "*") {
        overlap = true;
        continue;
      }
      if (group1 != group2) continue;
      if (resource1 == "*" || resource2 == "*") overlap = true;
    }
  }
  if (duplicate) {
    errors.push_back(InvalidRaw(path, GoStringSlice(resources),
                                "the same resource cannot be specified multiple times"));
  }
  if (overlap) {
    errors.push_back(InvalidRaw(path, GoStringSlice(resources),
                                "using overlapping resources such as 'secrets' and '*.' in the "
                                "same resource list is not allowed as they will be masked"));
  }
}

void ValidateResourceNames(const std::vector<std::string>& resources, const FieldPath& path,
                           FieldErrors& errors) {
  for (size_t j = 0; j < resources.size(); ++j) {
    const std::string& resource = resources[j];
    const FieldPath item = path.Index(j);
    const bool capital =
        std::any_of(resource.begin(), resource.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    std::string detail;
    const auto [group, name] = ParseGroupResource(resource);
    if (capital) {
      detail = "resource name should not contain capital letters";
    } else if (resource == "*") {
      detail =
          "use '*.' to encrypt all the resources from core API group or *.* to encrypt all "
          "resources";
    } else if (resource == "apiserveripinfo" || resource == "serviceipallocations" ||
               resource == "servicenodeportallocations") {
      detail = "resources which do not have REST API/s cannot be encrypted";
    } else if (group == "events.k8s.io") {
      detail =
          "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use "
          "'events' instead in the config file";
    } else if (group == "extensions") {
      detail = "'extensions' group has been removed and cannot be used for encryption";
    } else if (group == "*" && name != "*") {
      detail = "encrypting the same resource across groups is not supported";
    }
    if (!detail.empty()) errors.push_back(validation::Invalid(item, resource, detail));
  }
}

void ValidateKeys(const std::vector<EncryptionKey>& keys, const std::vector<std::string>& encoded,
                  const FieldPath& path, const std::vector<int>& sizes, FieldErrors& errors) {
  if (keys.empty()) {
    errors.push_back(validation::Required(path, AtLeastOneRequired("keys")));
    return;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const FieldPath item = path.Index(i);
    if (keys[i].name.empty()) {
      errors.push_back(
          validation::Required(item.Child("name"), "name is a mandatory field for a key"));
    }
    if (encoded[i].empty()) {
      errors.push_back(
          validation::Required(item.Child("secret"), "secret is a mandatory field for a key"));
      continue;
    }
    auto secret = Base64Decode(encoded[i]);
    if (!secret.ok()) {
      errors.push_back(
          validation::Invalid(item.Child("secret"), "REDACTED", "secrets must be base64 encoded"));
      continue;
    }
    const int size = static_cast<int>(secret->size());
    if (std::find(sizes.begin(), sizes.end(), size) == sizes.end()) {
      errors.push_back(validation::Invalid(
          item.Child("secret"), "REDACTED",
          fmt::format("secret is not of the expected length, got {}, expected one of {}", size,
                      GoIntList(sizes))));
    }
  }
}

std::string StringField(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_string()) return {};
  return std::string(value->get_string());
}

// upstream's aggregate: one error as it is, several in brackets.
std::string Aggregate(const FieldErrors& errors) {
  if (errors.size() == 1) return errors.front().ToString();
  std::string text = "[";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i != 0) text += ", ";
    text += errors[i].ToString();
  }
  return text + "]";
}

Error ParseError(std::string message) {
  return InvalidError("error while parsing file: " + std::move(message));
}

}  // namespace

Result<EncryptionConfiguration> ParseEncryptionConfiguration(std::string_view text) {
  auto json_text = yaml::ToJson(text);
  if (!json_text.ok()) return ParseError(json_text.error().message());
  boost::system::error_code parse_error;
  json::value document = json::parse(*json_text, parse_error);
  if (parse_error || !document.is_object()) {
    return ParseError("couldn't get version/kind; json parse error: the file is not an object");
  }
  const json::object& root = document.get_object();
  const std::string kind = StringField(root, "kind");
  const std::string api_version = StringField(root, "apiVersion");
  if (kind.empty()) {
    return ParseError(fmt::format("Object 'Kind' is missing in '{}'", *json_text));
  }
  if (kind != kKind || api_version != kApiVersion) {
    return ParseError(
        fmt::format("no kind \"{}\" is registered for version \"{}\"", kind, api_version));
  }

  EncryptionConfiguration config;
  FieldErrors errors;
  const FieldPath root_path("resources");
  const json::value* resources = root.if_contains("resources");
  if (resources == nullptr || !resources->is_array() || resources->get_array().empty()) {
    errors.push_back(validation::Required(root_path, AtLeastOneRequired("resources")));
    return ParseError(Aggregate(errors));
  }
  const json::array& entries = resources->get_array();
  for (size_t i = 0; i < entries.size(); ++i) {
    const FieldPath resources_path = root_path.Index(i).Child("resources");
    const FieldPath providers_path = root_path.Index(i).Child("providers");
    ResourceConfig entry;
    const json::object empty;
    const json::object& object = entries[i].is_object() ? entries[i].get_object() : empty;
    if (const json::value* names = object.if_contains("resources"); names && names->is_array()) {
      for (const json::value& name : names->get_array()) {
        entry.resources.push_back(name.is_string() ? std::string(name.get_string()) : "");
      }
    }
    if (entry.resources.empty()) {
      errors.push_back(
          validation::Required(resources_path, AtLeastOneRequired(resources_path.str())));
    }
    ValidateResourceOverlap(entry.resources, resources_path, errors);
    ValidateResourceNames(entry.resources, resources_path, errors);

    const json::value* providers = object.if_contains("providers");
    if (providers == nullptr || !providers->is_array() || providers->get_array().empty()) {
      errors.push_back(
          validation::Required(providers_path, AtLeastOneRequired(providers_path.str())));
    } else {
      const json::array& list = providers->get_array();
      for (size_t j = 0; j < list.size(); ++j) {
        const FieldPath path = providers_path.Index(j);
        const json::object& provider = list[j].is_object() ? list[j].get_object() : empty;
        static constexpr std::pair<std::string_view, ProviderType> kTypes[] = {
            {"kms", ProviderType::kKms},
            {"aesgcm", ProviderType::kAesGcm},
            {"aescbc", ProviderType::kAesCbc},
            {"secretbox", ProviderType::kSecretbox},
            {"identity", ProviderType::kIdentity}};
        int found = 0;
        ProviderConfig config_entry;
        std::string_view field;
        for (const auto& [name, type] : kTypes) {
          const json::value* value = provider.if_contains(name);
          if (value == nullptr || value->is_null()) continue;
          ++found;
          config_entry.type = type;
          field = name;
        }
        if (found == 0) {
          errors.push_back(InvalidRaw(path, json::serialize(list[j]),
                                      "provider does not contain any of the expected providers: "
                                      "KMS, AESGCM, AESCBC, Secretbox, Identity"));
          continue;
        }
        if (found > 1) {
          errors.push_back(InvalidRaw(path, json::serialize(list[j]),
                                      "more than one provider specified in a single element, "
                                      "should split into different list elements"));
          continue;
        }
        if (config_entry.type == ProviderType::kIdentity ||
            config_entry.type == ProviderType::kKms) {
          entry.providers.push_back(std::move(config_entry));
          continue;
        }
        std::vector<std::string> encoded;
        const json::value& settings = provider.at(field);
        if (const json::value* keys =
                settings.is_object() ? settings.get_object().if_contains("keys") : nullptr;
            keys != nullptr && keys->is_array()) {
          for (const json::value& key : keys->get_array()) {
            const json::object& key_object = key.is_object() ? key.get_object() : empty;
            EncryptionKey parsed_key;
            parsed_key.name = StringField(key_object, "name");
            encoded.push_back(StringField(key_object, "secret"));
            if (auto secret = Base64Decode(encoded.back()); secret.ok()) {
              parsed_key.secret = std::move(secret).value();
            }
            config_entry.keys.push_back(std::move(parsed_key));
          }
        }
        const std::vector<int> sizes = config_entry.type == ProviderType::kSecretbox
                                           ? std::vector<int>{32}
                                           : std::vector<int>{16, 24, 32};
        ValidateKeys(config_entry.keys, encoded, path.Child(field).Child("keys"), sizes, errors);
        entry.providers.push_back(std::move(config_entry));
      }
    }
    config.resources.push_back(std::move(entry));
  }
  if (!errors.empty()) return ParseError(Aggregate(errors));

  // What upstream accepts but kpp cannot serve: refused here, clearly, rather than at first use.
  for (const ResourceConfig& entry : config.resources) {
    for (const ProviderConfig& provider : entry.providers) {
      if (provider.type == ProviderType::kSecretbox) {
        return InvalidError(
            "error while building transformers: the secretbox provider is not supported by kpp "
            "(no XSalsa20-Poly1305 implementation is available); use aesgcm or aescbc");
      }
      if (provider.type == ProviderType::kKms) {
        return InvalidError(
            "error while building transformers: the kms provider is not supported by kpp; use "
            "aesgcm or aescbc");
      }
    }
  }
  return config;
}

Result<EncryptionConfiguration> LoadEncryptionConfiguration(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return InvalidError(fmt::format(
        "error while parsing file: error opening encryption provider configuration file \"{}\": {}",
        path, text.error().message()));
  }
  if (text->empty()) {
    return InvalidError(fmt::format(
        "error while parsing file: encryption provider configuration file \"{}\" is empty", path));
  }
  auto config = ParseEncryptionConfiguration(*text);
  if (!config.ok()) return std::move(config).error().WithContext(path);
  return config;
}

std::string DefaultEncryptionConfigJson(std::string_view key) {
  json::object aesgcm_key{{"name", "key1"}, {"secret", Base64Encode(key)}};
  json::object aesgcm{{"keys", json::array{aesgcm_key}}};
  json::array providers{json::object{{"aesgcm", aesgcm}},
                        json::object{{"identity", json::object()}}};
  json::object resource{{"resources", json::array{"secrets"}}, {"providers", providers}};
  json::object config{
      {"kind", kKind}, {"apiVersion", kApiVersion}, {"resources", json::array{resource}}};
  return json::serialize(config) + "\n";
}

Result<std::string> EnsureDefaultEncryptionConfig(const std::string& data_dir) {
  const std::string dir = data_dir + "/cred";
  KPP_RETURN_IF_ERROR(EnsureWritableDirectory(dir, 0700));
  const std::string path = dir + "/encryption-config.json";
  if (PathExists(path)) return path;
  std::string key(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return InternalError("generating the encryption key: the random generator failed");
  }
  KPP_RETURN_IF_ERROR(WriteFileAtomic(path, DefaultEncryptionConfigJson(key), 0600));
  return path;
}

}  // namespace kpp::apiserver::encryption
