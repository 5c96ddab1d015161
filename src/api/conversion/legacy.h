// Conversion of the removed versions served for old manifests (apps/v1beta1, apps/v1beta2,
// extensions/v1beta1) to and from the versions they are stored in (apps/v1,
// networking.k8s.io/v1). Their objects have the JSON of the stored version field for field,
// except for what the fix-ups below move; conversions.cc converts by encoding one version and
// decoding the other, with a fix-up in between.
//
// As upstream's apps/v1 conversion, fields apps/v1 lacks travel in annotations, so that an old
// client reading and writing back loses nothing:
//   deprecated.deployment.rollback.to        a deployment's spec.rollbackTo.revision
//   deprecated.daemonset.template.generation  a daemon set's spec.templateGeneration
// The old view shows the field and not the annotation.
#pragma once

#include <boost/json/object.hpp>

namespace kpp::api::conversion {

inline constexpr char kRollbackToAnnotation[] = "deprecated.deployment.rollback.to";
inline constexpr char kTemplateGenerationAnnotation[] = "deprecated.daemonset.template.generation";

// Each takes the JSON of a whole object of one version and reshapes it into the other's.

// An old Deployment (apps/v1beta1, extensions/v1beta1) to apps/v1, and back.
void DeploymentRollbackToAnnotation(boost::json::object& deployment);
void DeploymentRollbackToField(boost::json::object& deployment);

// An extensions/v1beta1 DaemonSet to apps/v1, and back.
void DaemonSetTemplateGenerationToAnnotation(boost::json::object& daemon_set);
void DaemonSetTemplateGenerationToField(boost::json::object& daemon_set);

// An extensions/v1beta1 Ingress to networking.k8s.io/v1, and back: a backend's
// serviceName/servicePort is service.name/service.port (number or name), spec.backend is
// spec.defaultBackend.
void IngressToNetworkingV1(boost::json::object& ingress);
void IngressToExtensionsV1beta1(boost::json::object& ingress);

}  // namespace kpp::api::conversion
