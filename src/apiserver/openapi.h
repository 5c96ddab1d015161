// The OpenAPI documents kubectl reads (explain, validation, server-side apply), built once from
// the generated definitions: /openapi/v2 and the per group/version /openapi/v3 documents.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "api/runtime/kinds.h"

namespace kpp::apiserver {

struct OpenApiDocument {
  std::string json;  // the body: JSON, or protobuf for V2Protobuf
  std::string etag;  // quoted, as sent in the ETag header
  std::string hash;  // content hash, used in v3 serverRelativeURLs
};

class OpenApiDocuments {
 public:
  // `definitions_v2` is the generated definitions object; `kinds` decide the v3 documents.
  OpenApiDocuments(std::string_view definitions_v2, std::span<const api::KindInfo> kinds,
                   std::string_view version);

  const OpenApiDocument& V2() const { return v2_; }
  // The v2 document as gnostic's protobuf message, with an ETag of its own.
  const OpenApiDocument& V2Protobuf() const { return v2_protobuf_; }
  const OpenApiDocument& V3Index() const { return v3_index_; }
  // The v3 document for "api/v1" or "apis/<group>/<version>", or nullptr.
  const OpenApiDocument* V3(std::string_view group_version_path) const;

 private:
  OpenApiDocument v2_;
  OpenApiDocument v2_protobuf_;
  OpenApiDocument v3_index_;
  std::map<std::string, OpenApiDocument, std::less<>> v3_;
};

}  // namespace kpp::apiserver
