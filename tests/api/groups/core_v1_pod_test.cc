// The core/v1 Pod family (Pod, PodTemplate, ReplicationController, Binding) and
// PersistentVolume/PersistentVolumeClaim against JSON as an upstream API server writes it, and
// upstream's defaulting of them.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "api/core/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/openapi_data.h"
#include "api/schema_test_support.h"
#include "apimachinery/validation/field_errors.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;

using core::v1::Binding;
using core::v1::PersistentVolume;
using core::v1::PersistentVolumeClaim;
using core::v1::Pod;
using core::v1::PodList;
using core::v1::PodTemplate;
using core::v1::ReplicationController;

// Decodes `json` strictly, applies upstream's defaults and re-encodes.
// The container fields every stored container has after defaulting.
constexpr const char* kContainerDefaults =
    R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)";

TEST(CoreV1PodTest, DeploymentPodWithStatusRoundTrips) {
  ExpectRoundTrip<Pod>(
      R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"nginx-deployment-7c79c4bf97-5xk2p",)"
      R"("generateName":"nginx-deployment-7c79c4bf97-","namespace":"default",)"
      R"("uid":"0b3c9a2e-5d1f-4c8e-9a7b-2f6e1d0c9b8a","resourceVersion":"1834",)"
      R"("creationTimestamp":"2024-05-01T10:00:00Z","labels":{"app":"nginx",)"
      R"("pod-template-hash":"7c79c4bf97"},"ownerReferences":[{"apiVersion":"apps/v1",)"
      R"("kind":"ReplicaSet","name":"nginx-deployment-7c79c4bf97",)"
      R"("uid":"8e2d1c0b-9a8f-4e7d-6c5b-4a3f2e1d0c9b","controller":true,"blockOwnerDeletion":true}],)"
      R"("managedFields":[{"manager":"kube-controller-manager","operation":"Update",)"
      R"("apiVersion":"v1","time":"2024-05-01T10:00:00Z","fieldsType":"FieldsV1",)"
      R"("fieldsV1":{"f:metadata":{"f:generateName":{}}}}]},)"
      R"("spec":{"volumes":[{"name":"kube-api-access-x7q2m","projected":{"sources":[)"
      R"({"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},)"
      R"({"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},)"
      R"({"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1",)"
      R"("fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],)"
      R"("containers":[{"name":"nginx","image":"nginx:1.14.2","ports":[{"containerPort":80,)"
      R"("protocol":"TCP"}],"resources":{},"volumeMounts":[{"name":"kube-api-access-x7q2m",)"
      R"("readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],)"
      R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)"
      R"("imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always",)"
      R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
      R"("serviceAccountName":"default","serviceAccount":"default","nodeName":"node-1",)"
      R"("securityContext":{},"schedulerName":"default-scheduler","tolerations":[)"
      R"({"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",)"
      R"("tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists",)"
      R"("effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,)"
      R"("preemptionPolicy":"PreemptLowerPriority"},)"
      R"("status":{"phase":"Running","conditions":[{"type":"PodReadyToStartContainers",)"
      R"("status":"True","lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:03Z"},)"
      R"({"type":"Initialized","status":"True","lastProbeTime":null,)"
      R"("lastTransitionTime":"2024-05-01T10:00:00Z"},{"type":"Ready","status":"True",)"
      R"("lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:04Z"},)"
      R"({"type":"ContainersReady","status":"True","lastProbeTime":null,)"
      R"("lastTransitionTime":"2024-05-01T10:00:04Z"},{"type":"PodScheduled","status":"True",)"
      R"("lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:00Z"}],)"
      R"("hostIP":"10.0.0.5","hostIPs":[{"ip":"10.0.0.5"}],"podIP":"10.244.1.7",)"
      R"("podIPs":[{"ip":"10.244.1.7"}],"startTime":"2024-05-01T10:00:00Z",)"
      R"("containerStatuses":[{"name":"nginx","state":{"running":)"
      R"({"startedAt":"2024-05-01T10:00:03Z"}},"lastState":{},"ready":true,"restartCount":0,)"
      R"("image":"docker.io/library/nginx:1.14.2","imageID":"docker.io/library/nginx@sha256:)"
      R"(f7988fb6c02e0ce69257d9bd9cf37ae20a60f1df7563c3a2a6abe24160306b8d",)"
      R"("containerID":"containerd://4c1f0e2d3b5a69788f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788f9e0d1c",)"
      R"("started":true,"volumeMounts":[{"name":"kube-api-access-x7q2m",)"
      R"("mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true,)"
      R"("recursiveReadOnly":"Disabled"}]}],"qosClass":"BestEffort"}})");
}

// A pod that uses most of the spec: every common volume source, init and sidecar containers,
// probes of each kind, lifecycle hooks, security contexts, affinity, tolerations, spreading.
const std::string kWebPod =
    R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"prod",)"
    R"("uid":"6f1b2a3c-0d4e-4f5a-8b6c-7d8e9f0a1b2c","resourceVersion":"48213",)"
    R"("creationTimestamp":"2024-06-01T12:00:00Z","labels":{"app":"web"},)"
    R"("annotations":{"kubectl.kubernetes.io/default-container":"nginx"}},)"
    R"("spec":{"volumes":[)"
    R"({"name":"config","configMap":{"name":"nginx-conf","items":[{"key":"nginx.conf",)"
    R"("path":"nginx.conf","mode":420}],"defaultMode":420,"optional":false}},)"
    R"({"name":"tls","secret":{"secretName":"web-tls","defaultMode":256}},)"
    R"({"name":"cache","emptyDir":{"medium":"Memory","sizeLimit":"64Mi"}},)"
    R"({"name":"logs","hostPath":{"path":"/var/log/web","type":"DirectoryOrCreate"}},)"
    R"({"name":"data","persistentVolumeClaim":{"claimName":"web-data"}},)"
    R"({"name":"podinfo","downwardAPI":{"items":[{"path":"labels","fieldRef":{"apiVersion":"v1",)"
    R"("fieldPath":"metadata.labels"}},{"path":"cpu_limit","resourceFieldRef":)"
    R"({"containerName":"nginx","resource":"limits.cpu","divisor":"1m"}}],"defaultMode":420}},)"
    R"({"name":"secrets-store","csi":{"driver":"secrets-store.csi.k8s.io","readOnly":true,)"
    R"("volumeAttributes":{"secretProviderClass":"web"}}},)"
    R"({"name":"scratch","ephemeral":{"volumeClaimTemplate":{"metadata":)"
    R"({"creationTimestamp":null,"labels":{"type":"scratch"}},"spec":{"accessModes":)"
    R"(["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"storageClassName":"fast",)"
    R"("volumeMode":"Filesystem"}}}},)"
    R"({"name":"shared","nfs":{"server":"nfs.example.com","path":"/exports/web","readOnly":true}},)"
    R"({"name":"block","iscsi":{"targetPortal":"10.0.0.10:3260",)"
    R"("iqn":"iqn.2024-01.com.example:storage","lun":0,"iscsiInterface":"default",)"
    R"("fsType":"ext4","readOnly":true}},)"
    R"({"name":"bundle","projected":{"sources":[{"clusterTrustBundle":)"
    R"({"signerName":"example.com/signer","labelSelector":{"matchLabels":{"trust":"web"}},)"
    R"("optional":true,"path":"ca.pem"}},{"secret":{"name":"extra","items":[{"key":"a",)"
    R"("path":"a"}],"optional":true}},{"serviceAccountToken":{"audience":"vault",)"
    R"("expirationSeconds":3600,"path":"vault-token"}}],"defaultMode":420}},)"
    R"({"name":"models","image":{"reference":"registry.example.com/models:v1",)"
    R"("pullPolicy":"IfNotPresent"}}],)"
    R"("initContainers":[{"name":"init-perms","image":"busybox:1.36","command":["sh","-c",)"
    R"("chown -R 101:101 /data"],"resources":{},"volumeMounts":[{"name":"data",)"
    R"("mountPath":"/data"}],"terminationMessagePath":"/dev/termination-log",)"
    R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent",)"
    R"("securityContext":{"runAsUser":0}},)"
    R"({"name":"log-shipper","image":"fluent/fluent-bit:3.0","resources":{"requests":)"
    R"({"cpu":"50m"}},"restartPolicy":"Always","volumeMounts":[{"name":"logs",)"
    R"("readOnly":true,"mountPath":"/var/log/nginx"}],)"
    R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)"
    R"("imagePullPolicy":"IfNotPresent"}],)"
    R"("containers":[{"name":"nginx","image":"nginx:1.25.3","command":["nginx"],)"
    R"("args":["-g","daemon off;"],"workingDir":"/usr/share/nginx","ports":[{"name":"http",)"
    R"("containerPort":8080,"protocol":"TCP"},{"name":"metrics","hostPort":9113,)"
    R"("containerPort":9113,"protocol":"TCP","hostIP":"127.0.0.1"}],)"
    R"("envFrom":[{"prefix":"CFG_","configMapRef":{"name":"web-env"}},)"
    R"({"secretRef":{"name":"web-secrets","optional":true}}],)"
    R"("env":[{"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1",)"
    R"("fieldPath":"metadata.name"}}},{"name":"MEM_LIMIT","valueFrom":{"resourceFieldRef":)"
    R"({"containerName":"nginx","resource":"limits.memory","divisor":"1Mi"}}},)"
    R"({"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}},)"
    R"({"name":"MODE","valueFrom":{"configMapKeyRef":{"name":"web-env","key":"mode",)"
    R"("optional":true}}},)"
    R"x({"name":"GREETING","value":"hello $(POD_NAME)"}],)x"
    R"("resources":{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"250m",)"
    R"("memory":"128Mi"},"claims":[{"name":"gpu","request":"small"}]},)"
    R"("resizePolicy":[{"resourceName":"cpu","restartPolicy":"NotRequired"},)"
    R"({"resourceName":"memory","restartPolicy":"RestartContainer"}],)"
    R"("volumeMounts":[{"name":"config","readOnly":true,"mountPath":"/etc/nginx/nginx.conf",)"
    R"("subPath":"nginx.conf"},{"name":"cache","mountPath":"/var/cache/nginx"},)"
    R"({"name":"logs","mountPath":"/var/log/nginx","mountPropagation":"HostToContainer"},)"
    R"({"name":"tls","readOnly":true,"recursiveReadOnly":"IfPossible","mountPath":"/etc/tls"},)"
    R"x({"name":"podinfo","mountPath":"/etc/podinfo","subPathExpr":"$(POD_NAME)"}],)x"
    R"("volumeDevices":[{"name":"block","devicePath":"/dev/xvda"}],)"
    R"("livenessProbe":{"httpGet":{"path":"/healthz","port":"http","scheme":"HTTP",)"
    R"("httpHeaders":[{"name":"X-Probe","value":"liveness"}]},"initialDelaySeconds":10,)"
    R"("timeoutSeconds":2,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},)"
    R"("readinessProbe":{"tcpSocket":{"port":8080},"timeoutSeconds":1,"periodSeconds":5,)"
    R"("successThreshold":1,"failureThreshold":3},)"
    R"("startupProbe":{"exec":{"command":["cat","/tmp/started"]},"timeoutSeconds":1,)"
    R"("periodSeconds":2,"successThreshold":1,"failureThreshold":30,)"
    R"("terminationGracePeriodSeconds":5},)"
    R"("lifecycle":{"postStart":{"exec":{"command":["sh","-c","touch /tmp/started"]}},)"
    R"("preStop":{"sleep":{"seconds":5}}},"terminationMessagePath":"/dev/termination-log",)"
    R"("terminationMessagePolicy":"FallbackToLogsOnError","imagePullPolicy":"IfNotPresent",)"
    R"("securityContext":{"capabilities":{"add":["NET_BIND_SERVICE"],"drop":["ALL"]},)"
    R"("privileged":false,"runAsUser":101,"runAsGroup":101,"runAsNonRoot":true,)"
    R"("readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"procMount":"Default",)"
    R"("seccompProfile":{"type":"RuntimeDefault"},"appArmorProfile":{"type":"Localhost",)"
    R"("localhostProfile":"k8s-nginx"}}},)"
    R"({"name":"grpc-sidecar","image":"example.com/grpc-health:latest","ports":[)"
    R"({"containerPort":50051,"protocol":"TCP"}],"resources":{},"readinessProbe":{"grpc":)"
    R"({"port":50051,"service":""},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,)"
    R"("failureThreshold":3},"terminationMessagePath":"/dev/termination-log",)"
    R"("terminationMessagePolicy":"File","imagePullPolicy":"Always","stdin":true,)"
    R"("stdinOnce":true,"tty":true}],)"
    R"("ephemeralContainers":[{"name":"debugger-abc12","image":"busybox:1.36","resources":{},)"
    R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)"
    R"("imagePullPolicy":"IfNotPresent","stdin":true,"tty":true,"targetContainerName":"nginx"}],)"
    R"("restartPolicy":"Always","terminationGracePeriodSeconds":60,)"
    R"("activeDeadlineSeconds":86400,"dnsPolicy":"None","nodeSelector":)"
    R"({"kubernetes.io/os":"linux"},"serviceAccountName":"web","serviceAccount":"web",)"
    R"("automountServiceAccountToken":false,"nodeName":"node-2","shareProcessNamespace":true,)"
    R"("securityContext":{"seLinuxOptions":{"level":"s0:c123,c456"},"runAsUser":101,)"
    R"("runAsGroup":101,"runAsNonRoot":true,"supplementalGroups":[2000],)"
    R"("supplementalGroupsPolicy":"Merge","fsGroup":101,"sysctls":[{"name":)"
    R"("net.ipv4.ip_unprivileged_port_start","value":"0"}],"fsGroupChangePolicy":)"
    R"("OnRootMismatch","seccompProfile":{"type":"RuntimeDefault"}},)"
    R"("imagePullSecrets":[{"name":"regcred"}],"hostname":"web","subdomain":"web-headless",)"
    R"("affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":)"
    R"({"nodeSelectorTerms":[{"matchExpressions":[{"key":"topology.kubernetes.io/zone",)"
    R"("operator":"In","values":["zone-a","zone-b"]}]},{"matchFields":[{"key":"metadata.name",)"
    R"("operator":"NotIn","values":["node-9"]}]}]},)"
    R"("preferredDuringSchedulingIgnoredDuringExecution":[{"weight":50,"preference":)"
    R"({"matchExpressions":[{"key":"disktype","operator":"In","values":["ssd"]}]}}]},)"
    R"("podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":)"
    R"({"matchLabels":{"app":"cache"}},"topologyKey":"kubernetes.io/hostname"}]},)"
    R"("podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,)"
    R"("podAffinityTerm":{"labelSelector":{"matchExpressions":[{"key":"app","operator":"In",)"
    R"("values":["web"]}]},"namespaces":["prod"],"topologyKey":"kubernetes.io/hostname",)"
    R"("namespaceSelector":{},"matchLabelKeys":["pod-template-hash"]}}]}},)"
    R"("schedulerName":"default-scheduler","tolerations":[{"key":"dedicated",)"
    R"("operator":"Equal","value":"web","effect":"NoSchedule"},{"operator":"Exists",)"
    R"("effect":"NoExecute","tolerationSeconds":60}],"hostAliases":[{"ip":"10.1.2.3",)"
    R"("hostnames":["db.internal","db"]}],"priorityClassName":"high","priority":100000,)"
    R"("dnsConfig":{"nameservers":["10.96.0.10"],"searches":["prod.svc.cluster.local"],)"
    R"("options":[{"name":"ndots","value":"2"},{"name":"edns0"}]},)"
    R"("readinessGates":[{"conditionType":"example.com/lb-ready"}],"runtimeClassName":"runc",)"
    R"("enableServiceLinks":false,"preemptionPolicy":"PreemptLowerPriority",)"
    R"("overhead":{"cpu":"10m","memory":"16Mi"},"topologySpreadConstraints":[{"maxSkew":1,)"
    R"("topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule",)"
    R"("labelSelector":{"matchLabels":{"app":"web"}},"minDomains":2,)"
    R"("nodeAffinityPolicy":"Honor","nodeTaintsPolicy":"Ignore",)"
    R"("matchLabelKeys":["pod-template-hash"]}],"setHostnameAsFQDN":true,)"
    R"("os":{"name":"linux"},"hostUsers":false,"resourceClaims":[{"name":"gpu",)"
    R"("resourceClaimTemplateName":"gpu-template"}]},)"
    R"("status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True",)"
    R"("lastProbeTime":null,"lastTransitionTime":"2024-06-01T12:00:09Z"},{"type":"Ready",)"
    R"("status":"False","lastProbeTime":null,"lastTransitionTime":"2024-06-01T12:05:00Z",)"
    R"("reason":"ContainersNotReady","message":"containers with unready status: )"
    R"([grpc-sidecar]"},{"type":"PodScheduled","status":"True","lastProbeTime":null,)"
    R"("lastTransitionTime":"2024-06-01T12:00:00Z"}],"hostIP":"10.0.0.6",)"
    R"("hostIPs":[{"ip":"10.0.0.6"},{"ip":"fd00::6"}],"podIP":"10.244.2.9",)"
    R"("podIPs":[{"ip":"10.244.2.9"},{"ip":"fd00:10:244:2::9"}],)"
    R"("startTime":"2024-06-01T12:00:01Z","initContainerStatuses":[{"name":"init-perms",)"
    R"("state":{"terminated":{"exitCode":0,"reason":"Completed",)"
    R"("startedAt":"2024-06-01T12:00:05Z","finishedAt":"2024-06-01T12:00:06Z",)"
    R"("containerID":"containerd://aa01"}},"lastState":{},"ready":true,"restartCount":0,)"
    R"("image":"docker.io/library/busybox:1.36","imageID":"docker.io/library/busybox@sha256:)"
    R"(0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",)"
    R"("containerID":"containerd://aa01","started":false}],)"
    R"("containerStatuses":[{"name":"nginx","state":{"running":)"
    R"({"startedAt":"2024-06-01T12:03:00Z"}},"lastState":{"terminated":{"exitCode":137,)"
    R"("signal":9,"reason":"OOMKilled","message":"out of memory",)"
    R"("startedAt":"2024-06-01T12:00:10Z","finishedAt":"2024-06-01T12:02:59Z",)"
    R"("containerID":"containerd://bb01"}},"ready":true,"restartCount":1,)"
    R"("image":"docker.io/library/nginx:1.25.3","imageID":"docker.io/library/nginx@sha256:)"
    R"(fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",)"
    R"("containerID":"containerd://bb02","started":true,"allocatedResources":{"cpu":"250m",)"
    R"("memory":"128Mi"},"resources":{"limits":{"cpu":"500m","memory":"256Mi"},)"
    R"("requests":{"cpu":"250m","memory":"128Mi"}},"volumeMounts":[{"name":"tls",)"
    R"("mountPath":"/etc/tls","readOnly":true,"recursiveReadOnly":"Enabled"}],)"
    R"("user":{"linux":{"uid":101,"gid":101,"supplementalGroups":[101,2000]}},)"
    R"("allocatedResourcesStatus":[{"name":"claim:gpu/small","resources":[{"resourceID":)"
    R"("gpu-0","health":"Healthy"}]}]},{"name":"grpc-sidecar","state":{"waiting":)"
    R"({"reason":"CrashLoopBackOff","message":"back-off 5m0s restarting failed container"}},)"
    R"("lastState":{"terminated":{"exitCode":1,"reason":"Error",)"
    R"("startedAt":"2024-06-01T12:04:00Z","finishedAt":"2024-06-01T12:04:30Z",)"
    R"("containerID":"containerd://cc07"}},"ready":false,"restartCount":7,)"
    R"("image":"example.com/grpc-health:latest","imageID":"example.com/grpc-health@sha256:)"
    R"(00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",)"
    R"("containerID":"containerd://cc07","started":false}],"qosClass":"Burstable",)"
    R"("ephemeralContainerStatuses":[{"name":"debugger-abc12","state":{"running":)"
    R"({"startedAt":"2024-06-01T12:06:00Z"}},"lastState":{},"ready":false,"restartCount":0,)"
    R"("image":"docker.io/library/busybox:1.36","imageID":"docker.io/library/busybox@sha256:)"
    R"(0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",)"
    R"("containerID":"containerd://dd01"}],"resize":"InProgress",)"
    R"("resourceClaimStatuses":[{"name":"gpu","resourceClaimName":"web-gpu-x7k2q"}]}})";

TEST(CoreV1PodTest, FullPodSpecRoundTrips) {
  ExpectRoundTrip<Pod>(kWebPod);
  auto decoded = FromJson<Pod>(kWebPod, {.unknown_fields = UnknownFields::kReject});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  const Pod& pod = decoded->object;
  ASSERT_EQ(pod.spec.volumes.size(), 12u);
  EXPECT_EQ(pod.spec.volumes[0].volume_source.config_map->local_object_reference.name,
            "nginx-conf");
  EXPECT_EQ(pod.spec.volumes[2].volume_source.empty_dir->size_limit->text, "64Mi");
  EXPECT_EQ(pod.spec.volumes[9].volume_source.iscsi->lun, 0);
  const auto& nginx = pod.spec.containers[0];
  EXPECT_TRUE(nginx.liveness_probe->probe_handler.http_get->port.is_string);
  EXPECT_EQ(nginx.liveness_probe->probe_handler.http_get->port.string_value, "http");
  EXPECT_EQ(nginx.readiness_probe->probe_handler.tcp_socket->port.int_value, 8080);
  EXPECT_EQ(nginx.resources.limits.at("memory").text, "256Mi");
  EXPECT_EQ(pod.spec.ephemeral_containers[0].container.name, "debugger-abc12");
  EXPECT_EQ(pod.spec.ephemeral_containers[0].target_container_name, "nginx");
  EXPECT_EQ(pod.spec.init_containers[1].restart_policy, "Always");
  EXPECT_EQ(pod.status.container_statuses[0].last_state.terminated->exit_code, 137);
}

TEST(CoreV1PodTest, ExoticVolumeSourcesRoundTrip) {
  // Sources without omitempty pointers (scaleIO.secretRef) are written as null when absent.
  ExpectRoundTrip<Pod>(
      R"({"metadata":{"name":"legacy","creationTimestamp":null},"spec":{"volumes":[)"
      R"({"name":"gce","gcePersistentDisk":{"pdName":"disk-1","fsType":"ext4","partition":1}},)"
      R"({"name":"ebs","awsElasticBlockStore":{"volumeID":"vol-1","readOnly":true}},)"
      R"({"name":"git","gitRepo":{"repository":"https://example.com/r.git","revision":"abc",)"
      R"("directory":"."}},{"name":"gluster","glusterfs":{"endpoints":"gl","path":"vol"}},)"
      R"({"name":"rbd","rbd":{"monitors":["10.0.0.1:6789"],"image":"img","pool":"rbd",)"
      R"("user":"admin","keyring":"/etc/ceph/keyring","secretRef":{"name":"ceph"}}},)"
      R"({"name":"flex","flexVolume":{"driver":"example/lvm","fsType":"ext4",)"
      R"("options":{"size":"1G"}}},{"name":"cinder","cinder":{"volumeID":"c1"}},)"
      R"({"name":"cephfs","cephfs":{"monitors":["10.0.0.1:6789"],"path":"/","user":"admin"}},)"
      R"({"name":"flocker","flocker":{"datasetName":"ds"}},)"
      R"({"name":"fc","fc":{"targetWWNs":["500a0982991b8dc5"],"lun":2,"fsType":"ext4"}},)"
      R"({"name":"azf","azureFile":{"secretName":"az","shareName":"share"}},)"
      R"({"name":"vs","vsphereVolume":{"volumePath":"[ds] vol.vmdk","fsType":"ext4"}},)"
      R"({"name":"qb","quobyte":{"registry":"reg:7861","volume":"v","user":"u"}},)"
      R"({"name":"azd","azureDisk":{"diskName":"d","diskURI":"https://x/d.vhd",)"
      R"("cachingMode":"ReadWrite","fsType":"ext4","readOnly":false,"kind":"Shared"}},)"
      R"({"name":"photon","photonPersistentDisk":{"pdID":"p1","fsType":"ext4"}},)"
      R"({"name":"px","portworxVolume":{"volumeID":"px1"}},)"
      R"({"name":"sio","scaleIO":{"gateway":"https://gw","system":"sys","secretRef":null,)"
      R"("storageMode":"ThinProvisioned","fsType":"xfs"}},)"
      R"({"name":"sos","storageos":{"volumeName":"v","secretRef":{"name":"s"}}}],)"
      R"("containers":[{"name":"c","image":"busybox","resources":{}}]},"status":{}})");
}

TEST(CoreV1PodTest, PodListRoundTrips) {
  ExpectRoundTrip<PodList>(
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"99"},"items":[)"
      R"({"metadata":{"name":"gated","namespace":"default","creationTimestamp":)"
      R"("2024-01-01T00:00:00Z"},"spec":{"containers":[{"name":"c","image":"busybox",)"
      R"("resources":{}}],"schedulingGates":[{"name":"example.com/quota"}]},)"
      R"("status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False",)"
      R"("lastProbeTime":null,"lastTransitionTime":"2024-01-01T00:00:00Z",)"
      R"("reason":"SchedulingGated","message":"Scheduling is blocked due to non-empty )"
      R"(scheduling gates"}],"qosClass":"BestEffort"}}]})");
}

TEST(CoreV1PodTest, ReplicationControllerPodTemplateAndBindingRoundTrip) {
  ExpectRoundTrip<ReplicationController>(
      R"({"kind":"ReplicationController","apiVersion":"v1","metadata":{"name":"nginx",)"
      R"("namespace":"default","uid":"3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a",)"
      R"("resourceVersion":"5120","generation":2,"creationTimestamp":"2024-03-03T03:03:03Z",)"
      R"("labels":{"app":"nginx"}},"spec":{"replicas":3,"selector":{"app":"nginx"},)"
      R"("template":{"metadata":{"name":"nginx","creationTimestamp":null,)"
      R"("labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nginx","image":"nginx",)"
      R"("ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{},)"
      R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)"
      R"("imagePullPolicy":"Always"}],"restartPolicy":"Always",)"
      R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},)"
      R"("schedulerName":"default-scheduler"}}},"status":{"replicas":3,)"
      R"("fullyLabeledReplicas":3,"readyReplicas":2,"availableReplicas":2,)"
      R"("observedGeneration":2,"conditions":[{"type":"ReplicaFailure","status":"True",)"
      R"("lastTransitionTime":"2024-03-03T03:04:00Z","reason":"FailedCreate",)"
      R"("message":"pods \"nginx-x\" is forbidden: exceeded quota"}]}})");
  // A scaled-to-zero controller still reports replicas: 0 (no omitempty upstream).
  ExpectRoundTrip<ReplicationController>(
      R"({"metadata":{"name":"idle","creationTimestamp":null},"spec":{"replicas":0},)"
      R"("status":{"replicas":0}})");
  ExpectRoundTrip<PodTemplate>(
      R"({"kind":"PodTemplate","apiVersion":"v1","metadata":{"name":"batch",)"
      R"("namespace":"default","creationTimestamp":"2024-03-03T03:03:03Z"},"template":)"
      R"({"metadata":{"creationTimestamp":null,"labels":{"job":"batch"}},"spec":)"
      R"({"containers":[{"name":"work","image":"busybox:1.36","command":["true"],)"
      R"("resources":{},"terminationMessagePath":"/dev/termination-log",)"
      R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],)"
      R"("restartPolicy":"Never","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
      R"("securityContext":{},"schedulerName":"default-scheduler"}}})");
  ExpectRoundTrip<Binding>(
      R"({"kind":"Binding","apiVersion":"v1","metadata":{"name":"web","namespace":"prod",)"
      R"("uid":"6f1b2a3c-0d4e-4f5a-8b6c-7d8e9f0a1b2c","creationTimestamp":null},)"
      R"("target":{"kind":"Node","name":"node-2"}})");
}

TEST(CoreV1PodTest, BoundClaimAndVolumeRoundTrip) {
  ExpectRoundTrip<PersistentVolumeClaim>(
      R"({"kind":"PersistentVolumeClaim","apiVersion":"v1","metadata":{"name":"data",)"
      R"("namespace":"default","uid":"9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",)"
      R"("resourceVersion":"7001","creationTimestamp":"2024-04-04T04:04:04Z",)"
      R"("annotations":{"pv.kubernetes.io/bind-completed":"yes",)"
      R"("pv.kubernetes.io/bound-by-controller":"yes",)"
      R"("volume.beta.kubernetes.io/storage-provisioner":"rancher.io/local-path",)"
      R"("volume.kubernetes.io/selected-node":"node-1",)"
      R"("volume.kubernetes.io/storage-provisioner":"rancher.io/local-path"},)"
      R"("finalizers":["kubernetes.io/pvc-protection"]},"spec":{"accessModes":)"
      R"(["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},)"
      R"("volumeName":"pvc-9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",)"
      R"("storageClassName":"local-path","volumeMode":"Filesystem"},)"
      R"("status":{"phase":"Bound","accessModes":["ReadWriteOnce"],)"
      R"("capacity":{"storage":"1Gi"}}})");
  ExpectRoundTrip<PersistentVolume>(
      R"({"kind":"PersistentVolume","apiVersion":"v1","metadata":{)"
      R"("name":"pvc-9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",)"
      R"("uid":"1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9","resourceVersion":"7003",)"
      R"("creationTimestamp":"2024-04-04T04:04:06Z","annotations":)"
      R"({"pv.kubernetes.io/provisioned-by":"rancher.io/local-path"},)"
      R"("finalizers":["kubernetes.io/pv-protection"]},"spec":{"capacity":{"storage":"1Gi"},)"
      R"("hostPath":{"path":"/var/lib/rancher/k3s/storage/pvc-9a8b_default_data",)"
      R"("type":"DirectoryOrCreate"},"accessModes":["ReadWriteOnce"],"claimRef":)"
      R"({"kind":"PersistentVolumeClaim","namespace":"default","name":"data",)"
      R"("uid":"9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d","apiVersion":"v1",)"
      R"("resourceVersion":"6995"},"persistentVolumeReclaimPolicy":"Delete",)"
      R"("storageClassName":"local-path","volumeMode":"Filesystem","nodeAffinity":)"
      R"({"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname",)"
      R"("operator":"In","values":["node-1"]}]}]}}},"status":{"phase":"Bound",)"
      R"("lastPhaseTransitionTime":"2024-04-04T04:04:06Z"}})");
}

TEST(CoreV1PodTest, CsiVolumeAndRestoredClaimRoundTrip) {
  // TypedLocalObjectReference.apiGroup has no omitempty upstream: an absent group is null.
  ExpectRoundTrip<PersistentVolumeClaim>(
      R"({"metadata":{"name":"clone","namespace":"db","creationTimestamp":null},)"
      R"("spec":{"accessModes":["ReadWriteOncePod"],"selector":{"matchLabels":{"tier":"db"}},)"
      R"("resources":{"limits":{"storage":"20Gi"},"requests":{"storage":"10Gi"}},)"
      R"("storageClassName":"csi-fast","volumeMode":"Block","dataSource":{"apiGroup":null,)"
      R"("kind":"PersistentVolumeClaim","name":"source"},"dataSourceRef":{"apiGroup":null,)"
      R"("kind":"PersistentVolumeClaim","name":"source"},"volumeAttributesClassName":"gold"},)"
      R"("status":{"phase":"Bound","accessModes":["ReadWriteOncePod"],)"
      R"("capacity":{"storage":"10Gi"},"conditions":[{"type":"Resizing","status":"True",)"
      R"("lastProbeTime":null,"lastTransitionTime":"2024-04-04T04:04:04Z"}],)"
      R"("allocatedResources":{"storage":"20Gi"},"allocatedResourceStatuses":)"
      R"({"storage":"ControllerResizeInProgress"},"currentVolumeAttributesClassName":"silver",)"
      R"("modifyVolumeStatus":{"targetVolumeAttributesClassName":"gold",)"
      R"("status":"InProgress"}}})");
  ExpectRoundTrip<PersistentVolumeClaim>(
      R"({"metadata":{"name":"restored","creationTimestamp":null},"spec":{"resources":{},)"
      R"("dataSource":{"apiGroup":"snapshot.storage.k8s.io","kind":"VolumeSnapshot",)"
      R"("name":"snap-1"},"dataSourceRef":{"apiGroup":"snapshot.storage.k8s.io",)"
      R"("kind":"VolumeSnapshot","name":"snap-1","namespace":"backups"}},"status":{}})");
  ExpectRoundTrip<PersistentVolume>(
      R"({"metadata":{"name":"pv-csi","creationTimestamp":null},"spec":{"capacity":)"
      R"({"storage":"10Gi"},"csi":{"driver":"ebs.csi.aws.com","volumeHandle":"vol-0abc",)"
      R"("fsType":"ext4","volumeAttributes":{"storage.kubernetes.io/csiProvisionerIdentity":)"
      R"("1700000000000-1234-ebs.csi.aws.com"},"nodePublishSecretRef":{"name":"np",)"
      R"("namespace":"kube-system"},"controllerExpandSecretRef":{"name":"exp",)"
      R"("namespace":"kube-system"}},)"
      R"("accessModes":["ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain",)"
      R"("mountOptions":["noatime"],"volumeMode":"Filesystem"},"status":{"phase":"Available"}})");
  ExpectRoundTrip<PersistentVolume>(
      R"({"metadata":{"name":"pv-az","creationTimestamp":null},"spec":{"azureFile":)"
      R"({"secretName":"az","shareName":"s","secretNamespace":null},"local":{"path":"/mnt/d"},)"
      R"("persistentVolumeReclaimPolicy":"Retain"},"status":{}})");
}

TEST(CoreV1PodTest, SubresourceOptionsRoundTrip) {
  ExpectRoundTrip<core::v1::PodLogOptions>(
      R"({"kind":"PodLogOptions","apiVersion":"v1","container":"nginx","follow":true,)"
      R"("sinceSeconds":300,"timestamps":true,"tailLines":100,"limitBytes":65536})");
  ExpectRoundTrip<core::v1::PodExecOptions>(
      R"({"kind":"PodExecOptions","apiVersion":"v1","stdin":true,"stdout":true,"tty":true,)"
      R"("container":"nginx","command":["sh","-c","echo hi"]})");
  ExpectRoundTrip<core::v1::PodAttachOptions>(
      R"({"kind":"PodAttachOptions","apiVersion":"v1","stdout":true,"stderr":true})");
  ExpectRoundTrip<core::v1::PodPortForwardOptions>(
      R"({"kind":"PodPortForwardOptions","apiVersion":"v1","ports":[8080,9090]})");
  ExpectRoundTrip<core::v1::PodProxyOptions>(
      R"({"kind":"PodProxyOptions","apiVersion":"v1","path":"/metrics"})");
  // exec's command has no omitempty upstream: nil is null.
  EXPECT_EQ(ToJson(core::v1::PodExecOptions{}), R"({"command":null})");
}

TEST(CoreV1PodTest, MinimalPodGetsUpstreamDefaults) {
  EXPECT_EQ(Defaulted<Pod>(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},)"
                           R"("spec":{"containers":[{"name":"c","image":"nginx"}]}})"),
            std::string(R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"p",)"
                        R"("creationTimestamp":null},"spec":{"containers":[{"name":"c",)"
                        R"("image":"nginx","resources":{},)") +
                kContainerDefaults +
                R"("imagePullPolicy":"Always"}],"restartPolicy":"Always",)"
                R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
                R"("securityContext":{},"schedulerName":"default-scheduler",)"
                R"("enableServiceLinks":true},"status":{}})");
}

TEST(CoreV1PodTest, ImagePullPolicyFollowsTheTag) {
  const std::string digest =
      "sha256:f7988fb6c02e0ce69257d9bd9cf37ae20a60f1df7563c3a2a6abe24160306b8d";
  const std::pair<std::string, std::string> cases[] = {
      {"nginx", "Always"},
      {"nginx:latest", "Always"},
      {"nginx:1.25", "IfNotPresent"},
      {"library/nginx:stable-alpine", "IfNotPresent"},
      {"localhost:5000/app", "Always"},
      {"localhost:5000/app:v1", "IfNotPresent"},
      {"registry.example.com:443/team/app:latest", "Always"},
      {"nginx@" + digest, "IfNotPresent"},
      {"nginx:latest@" + digest, "Always"},
      {"nginx:1.25@" + digest, "IfNotPresent"},
      {"", "IfNotPresent"},       // unparsable: no tag
      {"Nginx", "IfNotPresent"},  // upper case is not a valid repository
  };
  // Twice, the second time backwards: an image's answer is remembered until the next image.
  std::vector<std::pair<std::string, std::string>> sequence(std::begin(cases), std::end(cases));
  sequence.insert(sequence.end(), std::rbegin(cases), std::rend(cases));
  for (const auto& [image, policy] : sequence) {
    Pod pod;
    pod.spec.containers.push_back({.name = "c", .image = image});
    pod.spec.init_containers.push_back({.name = "i", .image = image});
    core::v1::EphemeralContainer debug;
    debug.container.image = image;
    pod.spec.ephemeral_containers.push_back(debug);
    core::v1::SetDefaults(pod);
    EXPECT_EQ(pod.spec.containers[0].image_pull_policy, policy) << image;
    EXPECT_EQ(pod.spec.init_containers[0].image_pull_policy, policy) << image;
    EXPECT_EQ(pod.spec.ephemeral_containers[0].container.image_pull_policy, policy) << image;
  }
  // An explicit policy is kept.
  Pod pod;
  pod.spec.containers.push_back({.name = "c", .image = "nginx", .image_pull_policy = "Never"});
  core::v1::SetDefaults(pod);
  EXPECT_EQ(pod.spec.containers[0].image_pull_policy, "Never");
}

TEST(CoreV1PodTest, ContainerProbeAndPortDefaults) {
  EXPECT_EQ(
      Defaulted<Pod>(
          R"({"metadata":{"name":"p"},"spec":{"hostNetwork":true,"containers":[{"name":"c",)"
          R"("image":"app:v2","ports":[{"containerPort":8080},{"containerPort":53,)"
          R"("protocol":"UDP","hostPort":5353}],"env":[{"name":"NODE","valueFrom":{"fieldRef":)"
          R"({"fieldPath":"spec.nodeName"}}}],"resources":{"limits":{"cpu":"1","memory":"1Gi"},)"
          R"("requests":{"cpu":"100m"}},"livenessProbe":{"httpGet":{"port":8080}},)"
          R"("readinessProbe":{"grpc":{"port":9090}},"startupProbe":{"tcpSocket":{"port":8080},)"
          R"("periodSeconds":3},"lifecycle":{"preStop":{"httpGet":{"path":"/stop",)"
          R"("port":"http"}}}}]}})"),
      std::string(
          R"({"metadata":{"name":"p","creationTimestamp":null},"spec":{"containers":[{"name":"c",)"
          R"("image":"app:v2","ports":[{"hostPort":8080,"containerPort":8080,"protocol":"TCP"},)"
          R"({"hostPort":5353,"containerPort":53,"protocol":"UDP"}],"env":[{"name":"NODE",)"
          R"("valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"spec.nodeName"}}}],)"
          R"("resources":{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"100m",)"
          R"("memory":"1Gi"}},"livenessProbe":{"httpGet":{"path":"/","port":8080,)"
          R"("scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,)"
          R"("failureThreshold":3},"readinessProbe":{"grpc":{"port":9090,"service":""},)"
          R"("timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},)"
          R"("startupProbe":{"tcpSocket":{"port":8080},"timeoutSeconds":1,"periodSeconds":3,)"
          R"("successThreshold":1,"failureThreshold":3},"lifecycle":{"preStop":{"httpGet":)"
          R"({"path":"/stop","port":"http","scheme":"HTTP"}}},)") +
          kContainerDefaults +
          R"("imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always",)"
          R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","hostNetwork":true,)"
          R"("securityContext":{},"schedulerName":"default-scheduler",)"
          R"("enableServiceLinks":true},"status":{}})");
}

TEST(CoreV1PodTest, VolumeDefaults) {
  EXPECT_EQ(
      Defaulted<Pod>(
          R"({"metadata":{"name":"p"},"spec":{"volumes":[{"name":"scratch"},)"
          R"({"name":"s","secret":{"secretName":"s"}},{"name":"cm","configMap":{"name":"cm"}},)"
          R"({"name":"h","hostPath":{"path":"/tmp"}},{"name":"d","downwardAPI":{"items":[)"
          R"({"path":"n","fieldRef":{"fieldPath":"metadata.name"}}]}},)"
          R"({"name":"proj","projected":{"sources":[{"serviceAccountToken":{"path":"t"}}]}},)"
          R"({"name":"iscsi","iscsi":{"targetPortal":"10.0.0.1","iqn":"iqn.x","lun":1}},)"
          R"({"name":"rbd","rbd":{"monitors":["m"],"image":"i"}},)"
          R"({"name":"azd","azureDisk":{"diskName":"d","diskURI":"u"}},)"
          R"({"name":"sio","scaleIO":{"gateway":"g","system":"s","secretRef":{"name":"x"}}},)"
          R"({"name":"eph","ephemeral":{"volumeClaimTemplate":{"spec":{"resources":{}}}}},)"
          R"({"name":"img","image":{"reference":"models:latest"}}],)"
          R"("containers":[{"name":"c","image":"x:1"}]}})"),
      std::string(
          R"({"metadata":{"name":"p","creationTimestamp":null},"spec":{"volumes":[)"
          R"({"name":"scratch","emptyDir":{}},)"
          R"({"name":"s","secret":{"secretName":"s","defaultMode":420}},)"
          R"({"name":"cm","configMap":{"name":"cm","defaultMode":420}},)"
          R"({"name":"h","hostPath":{"path":"/tmp","type":""}},)"
          R"({"name":"d","downwardAPI":{"items":[{"path":"n","fieldRef":{"apiVersion":"v1",)"
          R"("fieldPath":"metadata.name"}}],"defaultMode":420}},)"
          R"({"name":"proj","projected":{"sources":[{"serviceAccountToken":)"
          R"({"expirationSeconds":3600,"path":"t"}}],"defaultMode":420}},)"
          R"({"name":"iscsi","iscsi":{"targetPortal":"10.0.0.1","iqn":"iqn.x","lun":1,)"
          R"("iscsiInterface":"default"}},)"
          R"({"name":"rbd","rbd":{"monitors":["m"],"image":"i","pool":"rbd","user":"admin",)"
          R"("keyring":"/etc/ceph/keyring"}},)"
          R"({"name":"azd","azureDisk":{"diskName":"d","diskURI":"u","cachingMode":"ReadWrite",)"
          R"("fsType":"ext4","readOnly":false,"kind":"Shared"}},)"
          R"({"name":"sio","scaleIO":{"gateway":"g","system":"s","secretRef":{"name":"x"},)"
          R"("storageMode":"ThinProvisioned","fsType":"xfs"}},)"
          R"({"name":"eph","ephemeral":{"volumeClaimTemplate":{"metadata":)"
          R"({"creationTimestamp":null},"spec":{"resources":{},"volumeMode":"Filesystem"}}}},)"
          R"({"name":"img","image":{"reference":"models:latest","pullPolicy":"Always"}}],)"
          R"("containers":[{"name":"c","image":"x:1","resources":{},)") +
          kContainerDefaults +
          R"("imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always",)"
          R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
          R"("securityContext":{},"schedulerName":"default-scheduler",)"
          R"("enableServiceLinks":true},"status":{}})");
}

TEST(CoreV1PodTest, TemplatesGetSpecDefaultsButNotPodOnlyDefaults) {
  // enableServiceLinks and requests-from-limits are applied to pods only, as upstream does.
  const std::string defaulted = Defaulted<PodTemplate>(
      R"({"metadata":{"name":"t"},"template":{"spec":{"restartPolicy":"OnFailure",)"
      R"("containers":[{"name":"c","image":"busybox","resources":{"limits":{"cpu":"1"}}}]}}})");
  EXPECT_EQ(defaulted,
            std::string(R"({"metadata":{"name":"t","creationTimestamp":null},"template":)"
                        R"({"metadata":{"creationTimestamp":null},"spec":{"containers":[)"
                        R"({"name":"c","image":"busybox","resources":{"limits":{"cpu":"1"}},)") +
                kContainerDefaults +
                R"("imagePullPolicy":"Always"}],"restartPolicy":"OnFailure",)"
                R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
                R"("securityContext":{},"schedulerName":"default-scheduler"}}})");
}

TEST(CoreV1PodTest, ReplicationControllerDefaultsFromTemplate) {
  EXPECT_EQ(
      Defaulted<ReplicationController>(
          R"({"metadata":{"name":"rc"},"spec":{"template":{"metadata":{"labels":)"
          R"({"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1.25"}]}}}})"),
      std::string(R"({"metadata":{"name":"rc","creationTimestamp":null,"labels":{"app":"web"}},)"
                  R"("spec":{"replicas":1,"selector":{"app":"web"},"template":{"metadata":)"
                  R"({"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[)"
                  R"({"name":"c","image":"nginx:1.25","resources":{},)") +
          kContainerDefaults +
          R"("imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always",)"
          R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
          R"("securityContext":{},"schedulerName":"default-scheduler"}}},)"
          R"("status":{"replicas":0}})");
  // Explicit selector, labels and replicas are kept.
  EXPECT_EQ(
      Defaulted<ReplicationController>(
          R"({"metadata":{"name":"rc","labels":{"team":"a"}},"spec":{"replicas":0,)"
          R"("selector":{"app":"web","v":"2"},"template":{"metadata":{"labels":)"
          R"({"app":"web","v":"2","x":"y"}},"spec":{"restartPolicy":"Always",)"
          R"("containers":[{"name":"c","image":"nginx:1.25","imagePullPolicy":"Never"}]}}}})"),
      std::string(R"({"metadata":{"name":"rc","creationTimestamp":null,"labels":{"team":"a"}},)"
                  R"("spec":{"replicas":0,"selector":{"app":"web","v":"2"},"template":{"metadata":)"
                  R"({"creationTimestamp":null,"labels":{"app":"web","v":"2","x":"y"}},"spec":{)"
                  R"("containers":[{"name":"c","image":"nginx:1.25","resources":{},)") +
          kContainerDefaults +
          R"("imagePullPolicy":"Never"}],"restartPolicy":"Always",)"
          R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
          R"("securityContext":{},"schedulerName":"default-scheduler"}}},)"
          R"("status":{"replicas":0}})");
}

TEST(CoreV1PodTest, PersistentVolumeAndClaimDefaults) {
  EXPECT_EQ(Defaulted<PersistentVolume>(
                R"({"metadata":{"name":"pv"},"spec":{"capacity":{"storage":"5Gi"},)"
                R"("nfs":{"server":"nfs","path":"/x"},"accessModes":["ReadWriteMany"]}})"),
            R"({"metadata":{"name":"pv","creationTimestamp":null},"spec":{"capacity":)"
            R"({"storage":"5Gi"},"nfs":{"server":"nfs","path":"/x"},"accessModes":)"
            R"(["ReadWriteMany"],"persistentVolumeReclaimPolicy":"Retain",)"
            R"("volumeMode":"Filesystem"},"status":{"phase":"Pending"}})");
  EXPECT_EQ(Defaulted<PersistentVolumeClaim>(
                R"({"metadata":{"name":"c"},"spec":{"accessModes":["ReadWriteOnce"],)"
                R"("resources":{"requests":{"storage":"1Gi"}}}})"),
            R"({"metadata":{"name":"c","creationTimestamp":null},"spec":{"accessModes":)"
            R"(["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},)"
            R"("volumeMode":"Filesystem"},"status":{"phase":"Pending"}})");
  // Explicit values are kept.
  EXPECT_EQ(Defaulted<PersistentVolume>(
                R"({"metadata":{"name":"pv"},"spec":{"persistentVolumeReclaimPolicy":"Delete",)"
                R"("volumeMode":"Block"},"status":{"phase":"Bound"}})"),
            R"({"metadata":{"name":"pv","creationTimestamp":null},"spec":{)"
            R"("persistentVolumeReclaimPolicy":"Delete","volumeMode":"Block"},)"
            R"("status":{"phase":"Bound"}})");
}

TEST(CoreV1PodTest, StrictDecodingNamesUnknownFieldsAndTypeErrors) {
  auto strict = FromJson<Pod>(
      R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx",)"
      R"("imagePolicy":"Always","livenessProbe":{"httpGet":{"port":80,"schema":"HTTP"}}}],)"
      R"("volumes":[{"name":"v","emptyDir":{},"secrets":{}}]}})",
      {.unknown_fields = UnknownFields::kReject});
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(strict.error().message(),
            "strict decoding error: unknown field \"spec.containers[0].imagePolicy\", unknown "
            "field \"spec.containers[0].livenessProbe.httpGet.schema\", unknown field "
            "\"spec.volumes[0].secrets\"");
  auto lenient = FromJson<Pod>(R"({"spec":{"containers":[{"name":"c","imagePolicy":"x"}]}})");
  ASSERT_TRUE(lenient.ok()) << lenient.error().message();
  EXPECT_EQ(lenient->object.spec.containers[0].name, "c");

  auto port = FromJson<Pod>(R"({"spec":{"containers":[{"ports":[{"containerPort":"80"}]}]}})");
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.error().message(),
            "json: cannot unmarshal string into Go struct field "
            "ContainerPort.spec.containers.ports.containerPort of type int32");
  auto limits = FromJson<Pod>(R"({"spec":{"containers":[{"resources":{"limits":[]}}]}})");
  ASSERT_FALSE(limits.ok());
  // Go names the outer struct for the fields of an inlined one.
  auto volume = FromJson<Pod>(R"({"spec":{"volumes":[{"name":"v","secret":5}]}})");
  ASSERT_FALSE(volume.ok());
  EXPECT_EQ(volume.error().message(),
            "json: cannot unmarshal number into Go struct field Volume.spec.volumes.secret of "
            "type v1.SecretVolumeSource");
  auto probe = FromJson<Pod>(R"({"spec":{"containers":[{"livenessProbe":{"exec":"ls"}}]}})");
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.error().message(),
            "json: cannot unmarshal string into Go struct field "
            "Probe.spec.containers.livenessProbe.exec of type v1.ExecAction");
  auto ephemeral = FromJson<Pod>(R"({"spec":{"ephemeralContainers":[{"image":5}]}})");
  ASSERT_FALSE(ephemeral.ok());
  EXPECT_EQ(ephemeral.error().message(),
            "json: cannot unmarshal number into Go struct field "
            "EphemeralContainer.spec.ephemeralContainers.image of type string");
}

// A long path component before a colon with no tag fails the image grammar at once, rather than
// backtracking through every way to split it (minutes, before the dash separator needed one).
TEST(CoreV1PodTest, PullPolicyOfAnImageThatDoesNotParseIsQuick) {
  const std::string image = "shop/repo" + std::string(60, 'i') + "rt:";
  auto decoded = FromJson<Pod>(R"({"spec":{"containers":[{"name":"c","image":")" + image +
                               R"("},{"name":"d","image":"my-registry.io/team--a/app_x:v1"}]}})");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  SetDefaults(decoded->object);
  EXPECT_EQ(decoded->object.spec.containers[0].image_pull_policy, "IfNotPresent");
  EXPECT_EQ(decoded->object.spec.containers[1].image_pull_policy, "IfNotPresent");
}

std::vector<std::string> ValidationMessages(const Pod& pod) {
  validation::FieldErrors errors;
  core::v1::ValidateFields(pod, runtime::LazyFieldPath(), errors);
  std::vector<std::string> messages;
  for (const auto& error : errors)
    messages.push_back(error.ToString());
  return messages;
}

TEST(CoreV1PodTest, SchemaValidationAcceptsRealPodsAndNamesBadFields) {
  for (const std::string& json : {kWebPod}) {
    auto decoded = FromJson<Pod>(json);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    EXPECT_EQ(ValidationMessages(decoded->object), std::vector<std::string>{});
  }
  // Status as the kubelet writes it while an image is still being pulled: no imageID yet.
  auto pulling = FromJson<Pod>(
      R"({"spec":{"containers":[{"name":"c","image":"nginx","readinessProbe":{"httpGet":)"
      R"({"port":80,"httpHeaders":[{"name":"X-Empty","value":""}]}}}]},"status":{"phase":)"
      R"("Pending","containerStatuses":[{"name":"c","state":{"waiting":{"reason":)"
      R"("ContainerCreating"}},"lastState":{},"ready":false,"restartCount":0,"image":"nginx",)"
      R"("imageID":"","started":false}]}})");
  ASSERT_TRUE(pulling.ok()) << pulling.error().message();
  EXPECT_EQ(ValidationMessages(pulling->object), std::vector<std::string>{});

  auto bad = FromJson<Pod>(
      R"({"spec":{"volumes":[{"hostPath":{"path":"/x","type":"Folder"}}],"containers":[)"
      R"({"image":"nginx","ports":[{"containerPort":80,"protocol":"HTTP"}]}],)"
      R"("restartPolicy":"Sometimes","tolerations":[{"operator":"Matches"}]}})");
  ASSERT_TRUE(bad.ok()) << bad.error().message();
  EXPECT_EQ(ValidationMessages(bad->object),
            (std::vector<std::string>{
                "spec.volumes[0].name: Required value",
                "spec.volumes[0].hostPath.type: Unsupported value: \"Folder\": supported values: "
                "\"\", \"DirectoryOrCreate\", \"Directory\", \"FileOrCreate\", \"File\", "
                "\"Socket\", \"CharDevice\", \"BlockDevice\"",
                "spec.containers[0].name: Required value",
                "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported "
                "values: \"SCTP\", \"TCP\", \"UDP\"",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: "
                "\"Always\", \"Never\", \"OnFailure\"",
                "spec.tolerations[0].operator: Unsupported value: \"Matches\": supported values: "
                "\"Equal\", \"Exists\"",
            }));
}

TEST(CoreV1PodTest, OpenApiCarriesPatchMetadataForPodSpec) {
  const auto definitions = boost::json::parse(OpenApiV2Definitions()).as_object();
  const auto& pod_spec = definitions.at("io.k8s.api.core.v1.PodSpec").as_object();
  EXPECT_EQ(pod_spec.at("required"), boost::json::parse(R"(["containers"])"));
  const auto& containers = pod_spec.at("properties").at("containers").as_object();
  EXPECT_EQ(containers.at("x-kubernetes-patch-merge-key"), "name");
  EXPECT_EQ(containers.at("x-kubernetes-patch-strategy"), "merge");
  EXPECT_EQ(containers.at("x-kubernetes-list-type"), "map");
  EXPECT_EQ(containers.at("x-kubernetes-list-map-keys"), boost::json::parse(R"(["name"])"));
  EXPECT_EQ(containers.at("items").at("$ref"), "#/definitions/io.k8s.api.core.v1.Container");
  const auto& volumes = pod_spec.at("properties").at("volumes").as_object();
  EXPECT_EQ(volumes.at("x-kubernetes-patch-strategy"), "merge,retainKeys");
  const auto& spread =
      pod_spec.at("properties").at("topologySpreadConstraints").at("x-kubernetes-list-map-keys");
  EXPECT_EQ(spread, boost::json::parse(R"(["topologyKey","whenUnsatisfiable"])"));

  const auto& container = definitions.at("io.k8s.api.core.v1.Container").at("properties");
  EXPECT_EQ(container.at("ports").at("x-kubernetes-list-map-keys"),
            boost::json::parse(R"(["containerPort","protocol"])"));
  EXPECT_EQ(container.at("ports").at("x-kubernetes-patch-merge-key"), "containerPort");
  // Inlined structs are flattened, as upstream's definitions are.
  const auto& volume = definitions.at("io.k8s.api.core.v1.Volume").at("properties").as_object();
  EXPECT_TRUE(volume.contains("emptyDir"));
  EXPECT_TRUE(volume.contains("persistentVolumeClaim"));
  EXPECT_TRUE(
      definitions.at("io.k8s.api.core.v1.Probe").at("properties").as_object().contains("httpGet"));
  const auto& ephemeral =
      definitions.at("io.k8s.api.core.v1.EphemeralContainer").at("properties").as_object();
  EXPECT_TRUE(ephemeral.contains("image"));
  EXPECT_TRUE(ephemeral.contains("targetContainerName"));
  EXPECT_EQ(definitions.at("io.k8s.api.core.v1.NodeSelector").at("x-kubernetes-map-type"),
            "atomic");
  EXPECT_EQ(definitions.at("io.k8s.api.core.v1.Pod").at("x-kubernetes-group-version-kind"),
            boost::json::parse(R"([{"group":"","kind":"Pod","version":"v1"}])"));
}

TEST(CoreV1PodTest, KindsAreServedAsUpstreamServesThem) {
  std::map<std::string, const KindInfo*> kinds;
  for (const auto& kind : AllKinds()) {
    if (kind.group.empty()) kinds[std::string(kind.kind)] = &kind;
  }
  ASSERT_TRUE(kinds.contains("Pod"));
  const KindInfo& pod = *kinds["Pod"];
  EXPECT_EQ(pod.plural, "pods");
  EXPECT_TRUE(pod.namespaced);
  EXPECT_EQ(pod.short_names, "po");
  EXPECT_EQ(pod.categories, "all");
  EXPECT_EQ(pod.subresources,
            "status,binding,eviction,log,exec,attach,portforward,proxy,ephemeralcontainers");
  EXPECT_EQ(pod.list_kind, "PodList");
  ASSERT_TRUE(kinds.contains("ReplicationController"));
  EXPECT_EQ(kinds["ReplicationController"]->short_names, "rc");
  EXPECT_EQ(kinds["ReplicationController"]->subresources, "status,scale");
  ASSERT_TRUE(kinds.contains("PodTemplate"));
  EXPECT_EQ(kinds["PodTemplate"]->plural, "podtemplates");
  ASSERT_TRUE(kinds.contains("Binding"));
  EXPECT_EQ(kinds["Binding"]->verbs, "create");
  EXPECT_EQ(kinds["Binding"]->list_kind, "");
  ASSERT_TRUE(kinds.contains("PersistentVolume"));
  EXPECT_FALSE(kinds["PersistentVolume"]->namespaced);
  EXPECT_EQ(kinds["PersistentVolume"]->short_names, "pv");
  ASSERT_TRUE(kinds.contains("PersistentVolumeClaim"));
  EXPECT_TRUE(kinds["PersistentVolumeClaim"]->namespaced);
  EXPECT_EQ(kinds["PersistentVolumeClaim"]->short_names, "pvc");
  EXPECT_EQ(kinds["PersistentVolumeClaim"]->subresources, "status");
}

}  // namespace
}  // namespace kpp::api
