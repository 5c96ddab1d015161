#include "apimachinery/status.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace kpp::apimachinery {

std::string StatusJson(const Error& error, const StatusDetails* details) {
  boost::json::object status;
  status["kind"] = "Status";
  status["apiVersion"] = "v1";
  status["metadata"] = boost::json::object();
  status["status"] = "Failure";
  status["message"] = error.message();
  status["reason"] = error.reason();
  const bool has_details = details != nullptr || !error.causes().empty();
  if (has_details) {
    boost::json::object out;
    if (details != nullptr) {
      if (!details->name.empty()) out["name"] = details->name;
      if (!details->group.empty()) out["group"] = details->group;
      if (!details->kind.empty()) out["kind"] = details->kind;
    }
    if (!error.causes().empty()) {
      boost::json::array causes;
      for (const auto& cause : error.causes()) {
        boost::json::object item;
        if (!cause.type.empty()) item["reason"] = cause.type;
        if (!cause.message.empty()) item["message"] = cause.message;
        if (!cause.field.empty()) item["field"] = cause.field;
        causes.push_back(std::move(item));
      }
      out["causes"] = std::move(causes);
    }
    status["details"] = std::move(out);
  } else if (error.code() == ErrorCode::kNotFound) {
    // Upstream always includes (possibly empty) details for NotFound.
    status["details"] = boost::json::object();
  }
  status["code"] = error.http_status();
  return boost::json::serialize(status);
}

}  // namespace kpp::apimachinery
