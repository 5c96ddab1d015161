// Who made a request, as authenticators establish it (upstream's user.Info).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace kpp::apiserver {

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
  std::string uid;
  std::map<std::string, std::vector<std::string>> extra;
};

}  // namespace kpp::apiserver
