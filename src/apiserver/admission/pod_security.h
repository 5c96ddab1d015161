// PodSecurity: the Pod Security Standards (privileged, baseline, restricted) a namespace asks
// for with its pod-security.kubernetes.io/{enforce,warn,audit}[-version] labels, with upstream's
// checks and messages as of Kubernetes 1.32. Pods that violate the enforce level are refused;
// violations of the warn level become warnings; workload objects with pod templates (deployments,
// jobs, ...) only get warnings, as upstream. Every version label is evaluated as "latest".
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "apiserver/admission/admission.h"

namespace kpp::apiserver::admission {

enum class PodSecurityLevel { kPrivileged, kBaseline, kRestricted };

// "reason (detail), reason (detail)" of every check of `level` the pod fails, in upstream's order
// (baseline checks, then restricted ones, each group by check ID); empty when it passes.
std::string PodSecurityViolations(PodSecurityLevel level, const boost::json::object* pod_metadata,
                                  const boost::json::object* pod_spec);

class PodSecurity final : public Plugin {
 public:
  std::string_view Name() const override { return "PodSecurity"; }
  // Pods, namespaces and the workload kinds with pod templates.
  bool NeedsObject(const Attributes& attributes) const override;
  std::optional<Rejection> Validate(const Attributes& attributes, Context& context) const override;
};

}  // namespace kpp::apiserver::admission
