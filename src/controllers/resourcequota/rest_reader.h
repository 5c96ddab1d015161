// An admission Reader over the API server: what the ResourceQuota controller counts, listed
// through its own client (its role may list and watch everything, and get nothing).
#pragma once

#include <memory>

#include "apiserver/admission/admission.h"
#include "client/rest/rest_client.h"

namespace kpp::controllers {

class RestListReader final : public apiserver::admission::Reader {
 public:
  explicit RestListReader(std::shared_ptr<client::rest::RestClient> client)
      : client_(std::move(client)) {}
  // A list of the one object (the role grants list, not get).
  Result<std::optional<boost::json::object>> Get(std::string_view group, std::string_view resource,
                                                 std::string_view namespace_,
                                                 std::string_view name) const override;
  Result<std::vector<boost::json::object>> List(std::string_view group, std::string_view resource,
                                                std::string_view namespace_) const override;

 private:
  Result<std::vector<boost::json::object>> ListWhere(std::string_view group,
                                                     std::string_view resource,
                                                     std::string_view namespace_,
                                                     std::string_view field_selector) const;

  std::shared_ptr<client::rest::RestClient> client_;
};

}  // namespace kpp::controllers
