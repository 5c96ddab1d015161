// The Kubernetes Status object (kind: Status, apiVersion: v1) that every API failure is reported
// as, built from an Error.
#pragma once

#include <string>

#include "base/error.h"

namespace kpp::apimachinery {

// Optional identification of the object an error is about (Status.details).
struct StatusDetails {
  std::string name;
  std::string group;
  std::string kind;
};

// Serializes `error` as a Status JSON document, e.g.
// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"...",
//  "reason":"NotFound","details":{...},"code":404}
std::string StatusJson(const Error& error, const StatusDetails* details = nullptr);

}  // namespace kpp::apimachinery
