// Helpers of the custom resource schema tests.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema::testing {

inline boost::json::value Json(std::string_view text) {
  return boost::json::parse(text);
}

inline SchemaPtr MustCompile(std::string_view text) {
  auto compiled = Compile(Json(text));
  EXPECT_TRUE(compiled.ok()) << (compiled.ok() ? "" : compiled.error().message());
  return compiled.ok() ? *compiled : std::make_shared<const Schema>();
}

inline std::vector<std::string> Strings(const validation::FieldErrors& errors) {
  std::vector<std::string> out;
  for (const auto& error : errors)
    out.push_back(error.ToString());
  return out;
}

// A CronTab-like CRD schema (upstream's own example, extended).
inline constexpr std::string_view kCronTabSchema = R"({
  "type": "object",
  "properties": {
    "spec": {
      "type": "object",
      "required": ["cronSpec"],
      "properties": {
        "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
        "image": {"type": "string", "maxLength": 20},
        "replicas": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 10, "default": 1},
        "policy": {"type": "string", "enum": ["Allow", "Forbid", "Replace"], "default": "Allow"},
        "suspend": {"type": "boolean"},
        "port": {"x-kubernetes-int-or-string": true},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set",
                 "maxItems": 3},
        "ports": {
          "type": "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
          "items": {
            "type": "object",
            "required": ["name"],
            "properties": {
              "name": {"type": "string"},
              "port": {"type": "integer", "default": 80},
              "protocol": {"type": "string", "default": "TCP"}
            }
          }
        },
        "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "template": {
          "type": "object",
          "x-kubernetes-embedded-resource": true,
          "x-kubernetes-preserve-unknown-fields": true
        },
        "nullableNote": {"type": "string", "nullable": true}
      }
    },
    "status": {
      "type": "object",
      "properties": {
        "lastScheduleTime": {"type": "string", "format": "date-time"},
        "active": {"type": "integer"}
      }
    }
  }
})";

// A cert-manager-like Certificate schema: nested objects, required fields, durations, an
// issuer reference, usages enum in an array.
inline constexpr std::string_view kCertificateSchema = R"({
  "type": "object",
  "required": ["spec"],
  "properties": {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "metadata": {"type": "object"},
    "spec": {
      "type": "object",
      "required": ["issuerRef", "secretName"],
      "properties": {
        "commonName": {"type": "string", "maxLength": 64},
        "dnsNames": {"type": "array", "items": {"type": "string"}},
        "duration": {"type": "string", "format": "duration"},
        "secretName": {"type": "string", "minLength": 1},
        "issuerRef": {
          "type": "object",
          "required": ["name"],
          "properties": {
            "group": {"type": "string"},
            "kind": {"type": "string", "default": "Issuer"},
            "name": {"type": "string"}
          }
        },
        "privateKey": {
          "type": "object",
          "properties": {
            "algorithm": {"type": "string", "enum": ["RSA", "ECDSA", "Ed25519"]},
            "size": {"type": "integer", "multipleOf": 1024, "minimum": 1024, "maximum": 8192}
          }
        },
        "usages": {"type": "array", "items": {"type": "string", "enum": ["digital signature", "key encipherment", "server auth", "client auth"]}},
        "uris": {"type": "array", "items": {"type": "string", "format": "uri"}}
      }
    },
    "status": {
      "type": "object",
      "properties": {
        "conditions": {
          "type": "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["type"],
          "items": {
            "type": "object",
            "required": ["status", "type"],
            "properties": {
              "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
              "type": {"type": "string"},
              "lastTransitionTime": {"type": "string", "format": "date-time"}
            }
          }
        },
        "notAfter": {"type": "string", "format": "date-time"}
      }
    }
  }
})";

}  // namespace kpp::apiextensions::schema::testing
