// The admission configuration file (kube-apiserver's --admission-control-config-file): an
// apiserver.config.k8s.io/v1 AdmissionConfiguration whose `plugins` give each plugin its
// configuration, inline (`configuration`) or in a file of its own (`path`, relative to the
// configuration file). kpp reads PodSecurity's (a PodSecurityConfiguration); the entries of
// other plugins are accepted and not read, as kpp's other plugins have no configuration.
#pragma once

#include <string>
#include <string_view>

#include "apiserver/admission/pod_security.h"
#include "base/result.h"

namespace kpp::apiserver::admission {

struct AdmissionConfiguration {
  PodSecurityConfig pod_security;
};

// The configuration in `text` (YAML or JSON); `directory` resolves relative plugin paths.
Result<AdmissionConfiguration> ParseAdmissionConfiguration(std::string_view text,
                                                           const std::string& directory);
// The file's configuration; an empty path gives the defaults. Errors name the file and the field.
Result<AdmissionConfiguration> LoadAdmissionConfiguration(const std::string& path);

}  // namespace kpp::apiserver::admission
