// Who made a request, as authenticators establish it (upstream's user.Info).
#pragma once

#include <string>
#include <vector>

namespace kpp::apiserver {

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
};

}  // namespace kpp::apiserver
