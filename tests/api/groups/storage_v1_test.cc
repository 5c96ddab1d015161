// StorageClasses, CSI objects and VolumeAttachments (api/storage.k8s.io/v1) against JSON as an
// upstream API server writes it.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/openapi_data.h"
#include "api/schema_test_support.h"
#include "api/storage.k8s.io/v1/codec.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

namespace storage = storage_k8s_io::v1;

TEST(StorageSchemaTest, StorageClassesRoundTripExactly) {
  ExpectRoundTrip<storage::StorageClass>(
      R"({"kind":"StorageClass","apiVersion":"storage.k8s.io/v1","metadata":{"name":"fast",)"
      R"("uid":"3f2e1d0c-b9a8-4765-8432-10fedcba9876","resourceVersion":"288",)"
      R"("creationTimestamp":"2024-04-01T08:00:00Z","annotations":{)"
      R"("storageclass.kubernetes.io/is-default-class":"true"}},"provisioner":)"
      R"("ebs.csi.aws.com","parameters":{"csi.storage.k8s.io/fstype":"xfs","iops":"3000",)"
      R"("type":"gp3"},"reclaimPolicy":"Retain","mountOptions":["noatime","nodiratime"],)"
      R"("allowVolumeExpansion":true,"volumeBindingMode":"WaitForFirstConsumer",)"
      R"("allowedTopologies":[{"matchLabelExpressions":[{"key":"topology.ebs.csi.aws.com/zone",)"
      R"("values":["eu-west-1a","eu-west-1b"]}]}]})");
}

TEST(StorageSchemaTest, StorageClassDefaults) {
  // Delete and Immediate, as upstream.
  EXPECT_EQ(
      Defaulted<storage::StorageClass>(
          R"({"kind":"StorageClass","apiVersion":"storage.k8s.io/v1","metadata":{)"
          R"("name":"local-path","creationTimestamp":null},"provisioner":)"
          R"("rancher.io/local-path"})"),
      R"({"kind":"StorageClass","apiVersion":"storage.k8s.io/v1","metadata":{)"
      R"("name":"local-path","creationTimestamp":null},"provisioner":"rancher.io/local-path",)"
      R"("reclaimPolicy":"Delete","volumeBindingMode":"Immediate"})");
}

TEST(StorageSchemaTest, CsiDriversRoundTripAndDefault) {
  ExpectRoundTrip<storage::CSIDriver>(
      R"({"kind":"CSIDriver","apiVersion":"storage.k8s.io/v1","metadata":{)"
      R"("name":"secrets-store.csi.k8s.io","uid":"77665544-3322-4110-8fed-cba987654321",)"
      R"("resourceVersion":"501","creationTimestamp":"2024-04-01T08:05:00Z","labels":{)"
      R"("app.kubernetes.io/name":"secrets-store-csi-driver"}},"spec":{"attachRequired":false,)"
      R"("podInfoOnMount":true,"volumeLifecycleModes":["Ephemeral"],"storageCapacity":false,)"
      R"("fsGroupPolicy":"None","tokenRequests":[{"audience":"vault","expirationSeconds":3600},)"
      R"({"audience":""}],"requiresRepublish":true,"seLinuxMount":false}})");
  EXPECT_EQ(Defaulted<storage::CSIDriver>(
                R"({"kind":"CSIDriver","apiVersion":"storage.k8s.io/v1","metadata":{)"
                R"("name":"hostpath.csi.k8s.io","creationTimestamp":null},"spec":{}})"),
            R"({"kind":"CSIDriver","apiVersion":"storage.k8s.io/v1","metadata":{)"
            R"("name":"hostpath.csi.k8s.io","creationTimestamp":null},"spec":{)"
            R"("attachRequired":true,"podInfoOnMount":false,"volumeLifecycleModes":["Persistent"],)"
            R"("storageCapacity":false,"fsGroupPolicy":"ReadWriteOnceWithFSType",)"
            R"("requiresRepublish":false,"seLinuxMount":false}})");
  // Values given are kept.
  EXPECT_EQ(Defaulted<storage::CSIDriver>(
                R"({"metadata":{"name":"d","creationTimestamp":null},"spec":{)"
                R"("attachRequired":false,"volumeLifecycleModes":["Persistent","Ephemeral"],)"
                R"("fsGroupPolicy":"File"}})"),
            R"({"metadata":{"name":"d","creationTimestamp":null},"spec":{"attachRequired":false,)"
            R"("podInfoOnMount":false,"volumeLifecycleModes":["Persistent","Ephemeral"],)"
            R"("storageCapacity":false,"fsGroupPolicy":"File","requiresRepublish":false,)"
            R"("seLinuxMount":false}})");
}

TEST(StorageSchemaTest, CsiNodesRoundTripExactly) {
  ExpectRoundTrip<storage::CSINode>(
      R"({"kind":"CSINode","apiVersion":"storage.k8s.io/v1","metadata":{"name":"worker-1",)"
      R"("uid":"10203040-5060-4708-890a-0b0c0d0e0f10","resourceVersion":"1200",)"
      R"("creationTimestamp":"2024-04-01T08:10:00Z","annotations":{)"
      R"("storage.alpha.kubernetes.io/migrated-plugins":"kubernetes.io/aws-ebs"},)"
      R"("ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"worker-1","uid":)"
      R"("99887766-5544-4332-a110-ffeeddccbbaa"}]},"spec":{"drivers":[{"name":"ebs.csi.aws.com",)"
      R"("nodeID":"i-0123456789abcdef0","topologyKeys":["topology.ebs.csi.aws.com/zone"],)"
      R"("allocatable":{"count":25}}]}})");
}

TEST(StorageSchemaTest, VolumeAttachmentsRoundTripExactly) {
  ExpectRoundTrip<storage::VolumeAttachment>(
      R"({"kind":"VolumeAttachment","apiVersion":"storage.k8s.io/v1","metadata":{"name":)"
      R"("csi-4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e","uid":)"
      R"("abcdef01-2345-4678-89ab-cdef01234567","resourceVersion":"3300","creationTimestamp":)"
      R"("2024-04-02T12:00:00Z","finalizers":["external-attacher/ebs-csi-aws-com"]},"spec":{)"
      R"("attacher":"ebs.csi.aws.com","source":{"persistentVolumeName":)"
      R"("pvc-0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9"},"nodeName":"worker-1"},"status":{)"
      R"("attached":true,"attachmentMetadata":{"devicePath":"/dev/xvdba"},"detachError":{)"
      R"("time":"2024-04-02T12:30:00Z","message":"rpc error: code = Internal"}}})");
  // Before the attacher acts, attached is written as false.
  ExpectRoundTrip<storage::VolumeAttachment>(
      R"({"kind":"VolumeAttachment","apiVersion":"storage.k8s.io/v1","metadata":{"name":"va",)"
      R"("creationTimestamp":"2024-04-02T12:00:00Z"},"spec":{"attacher":"ebs.csi.aws.com",)"
      R"("source":{"inlineVolumeSpec":{"capacity":{"storage":"10Gi"},"csi":{"driver":)"
      R"("ebs.csi.aws.com","volumeHandle":"vol-0abc"},"accessModes":["ReadWriteOnce"]}},)"
      R"("nodeName":"worker-2"},"status":{"attached":false}})");
}

TEST(StorageSchemaTest, CsiStorageCapacitiesRoundTripExactly) {
  ExpectRoundTrip<storage::CSIStorageCapacity>(
      R"({"kind":"CSIStorageCapacity","apiVersion":"storage.k8s.io/v1","metadata":{"name":)"
      R"("csisc-7x2kq","generateName":"csisc-","namespace":"kube-system","uid":)"
      R"("fedcba98-7654-4321-8fed-cba987654321","resourceVersion":"4100","creationTimestamp":)"
      R"("2024-04-03T07:00:00Z"},"nodeTopology":{"matchLabels":{"topology.hostpath.csi/node":)"
      R"("worker-1"}},"storageClassName":"csi-hostpath-fast","capacity":"64Gi",)"
      R"("maximumVolumeSize":"16Gi"})");
}

TEST(StorageSchemaTest, KindTableRows) {
  struct Row {
    const char* kind;
    const char* plural;
    const char* short_names;
    bool namespaced;
    const char* subresources;
  };
  for (const Row& row :
       {Row{"StorageClass", "storageclasses", "sc", false, ""},
        Row{"CSIDriver", "csidrivers", "", false, ""}, Row{"CSINode", "csinodes", "", false, ""},
        Row{"VolumeAttachment", "volumeattachments", "", false, "status"},
        Row{"CSIStorageCapacity", "csistoragecapacities", "", true, ""}}) {
    const KindInfo* info = FindKind("storage.k8s.io", row.kind);
    ASSERT_NE(info, nullptr) << row.kind;
    EXPECT_EQ(info->version, "v1");
    EXPECT_EQ(info->plural, row.plural);
    EXPECT_EQ(info->short_names, row.short_names) << row.kind;
    EXPECT_EQ(info->namespaced, row.namespaced) << row.kind;
    EXPECT_EQ(info->subresources, row.subresources) << row.kind;
    EXPECT_EQ(info->list_kind, std::string(row.kind) + "List");
  }
  // CSINode drivers merge by name in strategic merge patches.
  const KindInfo* csi_node = FindKind("storage.k8s.io", "CSINode");
  ASSERT_NE(csi_node, nullptr);
  const PatchField* drivers = nullptr;
  for (const auto& field : csi_node->patch_fields) {
    if (field.path == "spec.drivers") drivers = &field;
  }
  ASSERT_NE(drivers, nullptr);
  EXPECT_EQ(drivers->strategy, "merge");
  EXPECT_EQ(drivers->merge_key, "name");
}

TEST(StorageSchemaTest, OpenApiDefinitionsCarryKinds) {
  const auto definitions = boost::json::parse(OpenApiV2Definitions()).as_object();
  for (const char* kind :
       {"StorageClass", "CSIDriver", "CSINode", "VolumeAttachment", "CSIStorageCapacity"}) {
    const auto& definition = definitions.at(std::string("io.k8s.api.storage.v1.") + kind);
    EXPECT_EQ(definition.at("x-kubernetes-group-version-kind"),
              boost::json::parse(std::string(R"([{"group":"storage.k8s.io","kind":")") + kind +
                                 R"(","version":"v1"}])"))
        << kind;
  }
  const auto& storage_class = definitions.at("io.k8s.api.storage.v1.StorageClass").as_object();
  EXPECT_EQ(storage_class.at("required"), boost::json::parse(R"(["provisioner"])"));
  EXPECT_EQ(storage_class.at("properties").at("allowedTopologies").at("items").at("$ref"),
            "#/definitions/io.k8s.api.core.v1.TopologySelectorTerm");
  EXPECT_EQ(definitions.at("io.k8s.api.core.v1.TopologySelectorTerm").at("x-kubernetes-map-type"),
            "atomic");
  const auto& drivers = definitions.at("io.k8s.api.storage.v1.CSINodeSpec")
                            .at("properties")
                            .at("drivers")
                            .as_object();
  EXPECT_EQ(drivers.at("x-kubernetes-list-type"), "map");
  EXPECT_EQ(drivers.at("x-kubernetes-list-map-keys"), boost::json::parse(R"(["name"])"));
  EXPECT_EQ(drivers.at("x-kubernetes-patch-merge-key"), "name");
}

}  // namespace
}  // namespace kpp::api
