#include "apiserver/openapi.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "apiserver/openapi_protobuf.h"

namespace kpp::apiserver {
namespace {

constexpr std::string_view kV2Prefix = "#/definitions/";
constexpr std::string_view kV3Prefix = "#/components/schemas/";

OpenApiDocument MakeDocument(std::string json) {
  unsigned char digest[SHA512_DIGEST_LENGTH];
  SHA512(reinterpret_cast<const unsigned char*>(json.data()), json.size(), digest);
  std::string hash;
  for (unsigned char byte : digest)
    hash += fmt::format("{:02X}", byte);
  return OpenApiDocument{std::move(json), "\"" + hash + "\"", hash};
}

// Names of the definitions `schema` refers to, directly.
void CollectRefs(const boost::json::value& schema, std::set<std::string>& refs) {
  if (schema.is_object()) {
    for (const auto& [key, value] : schema.get_object()) {
      if (key == "$ref" && value.is_string()) {
        std::string_view ref(value.get_string().data(), value.get_string().size());
        if (ref.starts_with(kV2Prefix)) refs.emplace(ref.substr(kV2Prefix.size()));
      } else {
        CollectRefs(value, refs);
      }
    }
  } else if (schema.is_array()) {
    for (const auto& item : schema.get_array())
      CollectRefs(item, refs);
  }
}

// Rewrites a v2 schema into v3 form: references point into components/schemas, and a
// reference with siblings (a description, a default) is wrapped in allOf, since OpenAPI 3.0
// ignores the siblings of $ref.
boost::json::value ToV3(const boost::json::value& schema) {
  if (schema.is_array()) {
    boost::json::array out;
    for (const auto& item : schema.get_array())
      out.push_back(ToV3(item));
    return out;
  }
  if (!schema.is_object()) return schema;
  boost::json::object out;
  const auto& object = schema.get_object();
  const auto* ref = object.if_contains("$ref");
  for (const auto& [key, value] : object) {
    if (key == "$ref") continue;
    out[key] = (key == "description" || key == "default") ? value : ToV3(value);
  }
  if (ref != nullptr && ref->is_string()) {
    std::string_view target(ref->get_string().data(), ref->get_string().size());
    if (target.starts_with(kV2Prefix)) target.remove_prefix(kV2Prefix.size());
    const std::string v3_ref = std::string(kV3Prefix) + std::string(target);
    if (out.empty()) {
      out["$ref"] = v3_ref;
    } else {
      out["allOf"] = boost::json::array{boost::json::object{{"$ref", v3_ref}}};
    }
  }
  return out;
}

// OpenAPI v2 and v3 spell schemas, responses and parameters differently.
enum class Flavour { kV2, kV3 };

boost::json::object SchemaRef(const std::string& schema_name, Flavour flavour) {
  return boost::json::object{
      {"$ref", std::string(flavour == Flavour::kV2 ? kV2Prefix : kV3Prefix) + schema_name}};
}

boost::json::object JsonResponseWith(const std::string& schema_name, Flavour flavour) {
  boost::json::object ok{{"description", "OK"}};
  if (flavour == Flavour::kV2) {
    ok["schema"] = SchemaRef(schema_name, flavour);
  } else {
    ok["content"] = boost::json::object{
        {"application/json", boost::json::object{{"schema", SchemaRef(schema_name, flavour)}}}};
  }
  return boost::json::object{{"200", std::move(ok)}};
}

boost::json::object QueryParameter(std::string_view name, std::string_view description,
                                   Flavour flavour) {
  boost::json::object parameter{{"name", name}, {"in", "query"}, {"description", description}};
  if (flavour == Flavour::kV2) {
    parameter["type"] = "string";
    parameter["uniqueItems"] = true;
  } else {
    parameter["schema"] = boost::json::object{{"type", "string"}, {"uniqueItems", true}};
  }
  return parameter;
}

// The operations of one resource, in the shape kubectl reads: each carries the kind
// (x-kubernetes-group-version-kind), which is how `kubectl explain` maps a resource to its schema,
// and PATCH lists fieldValidation, which is how kubectl learns that the server validates fields.
void AddResourcePaths(const api::KindInfo& kind, Flavour flavour, boost::json::object& paths) {
  const std::string prefix = kind.group.empty()
                                 ? fmt::format("/api/{}", kind.version)
                                 : fmt::format("/apis/{}/{}", kind.group, kind.version);
  const std::string collection =
      kind.namespaced ? fmt::format("{}/namespaces/{{namespace}}/{}", prefix, kind.plural)
                      : fmt::format("{}/{}", prefix, kind.plural);
  const boost::json::object gvk{
      {"group", kind.group}, {"version", kind.version}, {"kind", kind.kind}};
  const std::string object_schema(kind.openapi_name);
  auto operation = [&](std::string_view action, const std::string& schema_name) {
    return boost::json::object{{"x-kubernetes-action", action},
                               {"x-kubernetes-group-version-kind", gvk},
                               {"responses", JsonResponseWith(schema_name, flavour)}};
  };
  const std::string verbs(kind.verbs);
  auto has = [&](std::string_view verb) {
    return ("," + verbs + ",").find("," + std::string(verb) + ",") != std::string::npos;
  };
  boost::json::object collection_ops;
  if (has("list") && !kind.list_kind.empty()) {
    collection_ops["get"] = operation("list", object_schema + "List");
  }
  if (has("create")) collection_ops["post"] = operation("post", object_schema);
  if (!collection_ops.empty()) paths[collection] = std::move(collection_ops);

  boost::json::object item_ops;
  if (has("get")) item_ops["get"] = operation("get", object_schema);
  if (has("update")) item_ops["put"] = operation("put", object_schema);
  if (has("patch")) {
    boost::json::object patch = operation("patch", object_schema);
    patch["parameters"] = boost::json::array{
        QueryParameter("dryRun", "When present, changes are checked but not persisted.", flavour),
        QueryParameter("fieldManager", "Name of the actor making the change.", flavour),
        QueryParameter("fieldValidation",
                       "How to treat unknown or duplicate fields: Ignore, Warn or Strict.",
                       flavour),
        QueryParameter("force", "Force an apply that conflicts with other managers.", flavour),
    };
    item_ops["patch"] = std::move(patch);
  }
  if (has("delete"))
    item_ops["delete"] = operation("delete", "io.k8s.apimachinery.pkg.apis.meta.v1.Status");
  if (!item_ops.empty()) paths[collection + "/{name}"] = std::move(item_ops);
}

}  // namespace

OpenApiDocuments::OpenApiDocuments(std::string_view definitions_v2,
                                   std::span<const api::KindInfo> kinds, std::string_view version) {
  const boost::json::object definitions = boost::json::parse(definitions_v2).as_object();
  const boost::json::object info{{"title", "Kubernetes"}, {"version", version}};

  boost::json::object v2_paths;
  for (const auto& kind : kinds)
    AddResourcePaths(kind, Flavour::kV2, v2_paths);
  boost::json::object v2{{"swagger", "2.0"}, {"info", info}, {"paths", std::move(v2_paths)}};
  v2["definitions"] = definitions;
  v2_ = MakeDocument(boost::json::serialize(v2));
  v2_protobuf_ = MakeDocument(OpenApiV2ToProtobuf(v2));

  // Each group/version document holds its kinds and everything they reference.
  std::map<std::string, std::set<std::string>> roots;
  std::map<std::string, boost::json::object> paths_by_group_version;
  for (const auto& kind : kinds) {
    const std::string path = kind.group.empty()
                                 ? "api/" + std::string(kind.version)
                                 : fmt::format("apis/{}/{}", kind.group, kind.version);
    roots[path].emplace(kind.openapi_name);
    roots[path].emplace("io.k8s.apimachinery.pkg.apis.meta.v1.Status");
    AddResourcePaths(kind, Flavour::kV3, paths_by_group_version[path]);
    if (!kind.list_kind.empty()) {
      std::string list_name(kind.openapi_name);
      roots[path].insert(list_name + "List");
    }
  }
  boost::json::object index_paths;
  for (const auto& [path, names] : roots) {
    std::set<std::string> reachable;
    std::vector<std::string> pending(names.begin(), names.end());
    while (!pending.empty()) {
      std::string name = std::move(pending.back());
      pending.pop_back();
      const auto* schema = definitions.if_contains(name);
      if (schema == nullptr || !reachable.insert(name).second) continue;
      std::set<std::string> refs;
      CollectRefs(*schema, refs);
      pending.insert(pending.end(), refs.begin(), refs.end());
    }
    boost::json::object schemas;
    for (const auto& name : reachable)
      schemas[name] = ToV3(definitions.at(name));
    boost::json::object document{{"openapi", "3.0.0"},
                                 {"info", info},
                                 {"paths", paths_by_group_version[path]},
                                 {"components", boost::json::object{{"schemas", schemas}}}};
    OpenApiDocument built = MakeDocument(boost::json::serialize(document));
    index_paths[path] = boost::json::object{
        {"serverRelativeURL", fmt::format("/openapi/v3/{}?hash={}", path, built.hash)}};
    v3_.emplace(path, std::move(built));
  }
  v3_index_ = MakeDocument(boost::json::serialize(boost::json::object{{"paths", index_paths}}));
}

const OpenApiDocument* OpenApiDocuments::V3(std::string_view group_version_path) const {
  auto it = v3_.find(group_version_path);
  return it == v3_.end() ? nullptr : &it->second;
}

}  // namespace kpp::apiserver
