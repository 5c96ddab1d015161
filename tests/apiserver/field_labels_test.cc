#include "apiserver/registry/field_labels.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/runtime/kinds.h"
#include "apiserver/registry/list_filter.h"

namespace kpp::apiserver {
namespace {

const api::KindInfo& Kind(std::string_view group, std::string_view kind) {
  for (const auto& info : api::AllKinds()) {
    if (info.group == group && info.kind == kind) return info;
  }
  ADD_FAILURE() << "no kind " << group << "/" << kind;
  std::abort();
}

api::ObjectPtr Decode(const api::KindInfo& kind, std::string_view json) {
  auto decoded = kind.codec->Decode(json, {});
  EXPECT_TRUE(decoded.ok()) << decoded.error().message();
  return std::move(decoded->object);
}

std::string Unsupported(std::string_view group, std::string_view kind, std::string_view selector) {
  auto parsed = fields::Selector::Parse(selector);
  EXPECT_TRUE(parsed.ok());
  auto status = CheckFieldLabels(FieldLabelsOf(group, kind), *parsed);
  if (status.ok()) return "ok";
  EXPECT_EQ(status.error().code(), ErrorCode::kBadRequest);
  return status.error().message();
}

std::string Value(std::string_view group, std::string_view kind, std::string_view label,
                  std::string_view json) {
  for (const auto& field : FieldLabelsOf(group, kind)) {
    if (field.label == label) return FieldValue(field, boost::json::parse(json));
  }
  ADD_FAILURE() << "no label " << label;
  return "";
}

TEST(FieldLabelsTest, EachKindAcceptsUpstreamsLabels) {
  EXPECT_EQ(Unsupported("", "Pod",
                        "spec.nodeName=n1,spec.restartPolicy=Always,spec.schedulerName=s,"
                        "spec.serviceAccountName=a,spec.hostNetwork=true,status.phase=Pending,"
                        "status.podIP=1.2.3.4,status.podIPs=x,status.nominatedNodeName=n,"
                        "metadata.name=a,metadata.namespace=b,spec.host=n1"),
            "ok");
  EXPECT_EQ(Unsupported("", "Pod", "spec.containers=x"),
            "field label not supported: spec.containers");
  EXPECT_EQ(Unsupported("", "ConfigMap", "metadata.name=a,metadata.namespace=b"), "ok");
  EXPECT_EQ(Unsupported("", "ConfigMap", "foo=bar"), "field label not supported: foo");
  EXPECT_EQ(Unsupported("", "Node", "spec.unschedulable=true,metadata.name=n"), "ok");
  // Upstream's Node, Namespace and CertificateSigningRequest conversions leave it out.
  EXPECT_EQ(Unsupported("", "Node", "metadata.namespace=x"),
            "field label not supported: metadata.namespace");
  EXPECT_EQ(Unsupported("", "Namespace", "status.phase=Active"), "ok");
  EXPECT_EQ(Unsupported("", "Secret", "type=Opaque"), "ok");
  EXPECT_EQ(Unsupported("", "ReplicationController", "status.replicas=1"), "ok");
  EXPECT_EQ(Unsupported("apps", "ReplicaSet", "status.replicas=1"), "ok");
  EXPECT_EQ(Unsupported("apps", "Deployment", "status.replicas=1"),
            "field label not supported: status.replicas");
  EXPECT_EQ(Unsupported("batch", "Job", "status.successful=1"), "ok");
  EXPECT_EQ(Unsupported("certificates.k8s.io", "CertificateSigningRequest",
                        "spec.signerName=example.com/x"),
            "ok");
  EXPECT_EQ(Unsupported("", "Event",
                        "involvedObject.kind=Pod,involvedObject.namespace=a,involvedObject.name=b,"
                        "involvedObject.uid=u,involvedObject.apiVersion=v1,"
                        "involvedObject.resourceVersion=1,involvedObject.fieldPath=f,reason=r,"
                        "reportingComponent=c,source=s,type=Normal"),
            "ok");
  EXPECT_EQ(Unsupported("events.k8s.io", "Event", "regarding.name=b,reportingController=c"), "ok");
  EXPECT_EQ(Unsupported("events.k8s.io", "Event", "involvedObject.name=b"),
            "field label not supported: involvedObject.name");
}

TEST(FieldLabelsTest, ValuesAreFormattedAsUpstreamPrintsThem) {
  EXPECT_EQ(Value("", "Pod", "spec.hostNetwork", R"({"spec":{}})"), "false");
  EXPECT_EQ(Value("", "Pod", "spec.hostNetwork", R"({"spec":{"hostNetwork":true}})"), "true");
  EXPECT_EQ(Value("", "Pod", "spec.host", R"({"spec":{"nodeName":"n1"}})"), "n1");
  EXPECT_EQ(Value("", "Pod", "status.podIP",
                  R"({"status":{"podIP":"10.0.0.1","podIPs":[{"ip":"10.0.0.2"}]}})"),
            "10.0.0.2");
  EXPECT_EQ(Value("", "Pod", "status.podIP", R"({"status":{"podIP":"10.0.0.1"}})"), "10.0.0.1");
  EXPECT_EQ(Value("", "Pod", "status.podIPs", R"({"status":{"podIPs":[{"ip":"10.0.0.2"}]}})"), "");
  EXPECT_EQ(Value("apps", "ReplicaSet", "status.replicas", R"({"status":{"replicas":3}})"), "3");
  EXPECT_EQ(Value("batch", "Job", "status.successful", R"({"status":{}})"), "0");
  EXPECT_EQ(Value("", "Event", "source", R"({"source":{"component":"kubelet"}})"), "kubelet");
  EXPECT_EQ(Value("", "Event", "source", R"({"reportingComponent":"scheduler"})"), "scheduler");
}

TEST(ListFilterTest, SelectsByTheKindsFields) {
  const auto& pods = Kind("", "Pod");
  http::Request request;
  request.query = {{"fieldSelector", "spec.nodeName=n1,status.phase!=Running"},
                   {"labelSelector", "app=web"}};
  auto filter = ListFilter::FromRequest(pods, request);
  ASSERT_TRUE(filter.ok()) << filter.error().message();
  const auto on_n1 = Decode(pods, R"({"metadata":{"name":"a","namespace":"default",
      "labels":{"app":"web"}},"spec":{"nodeName":"n1"},"status":{"phase":"Pending"}})");
  const auto on_n2 = Decode(pods, R"({"metadata":{"name":"b","namespace":"default",
      "labels":{"app":"web"}},"spec":{"nodeName":"n2"},"status":{"phase":"Pending"}})");
  const auto running = Decode(pods, R"({"metadata":{"name":"c","namespace":"default",
      "labels":{"app":"web"}},"spec":{"nodeName":"n1"},"status":{"phase":"Running"}})");
  const auto other_app = Decode(pods, R"({"metadata":{"name":"d","namespace":"default",
      "labels":{"app":"db"}},"spec":{"nodeName":"n1"},"status":{"phase":"Pending"}})");
  EXPECT_TRUE(filter->Matches(*on_n1));
  EXPECT_FALSE(filter->Matches(*on_n2));
  EXPECT_FALSE(filter->Matches(*running));
  EXPECT_FALSE(filter->Matches(*other_app));

  request.query = {{"fieldSelector", "status.podIPs=1.2.3.4"}};
  auto never = ListFilter::FromRequest(pods, request);
  ASSERT_TRUE(never.ok());
  EXPECT_FALSE(never->Matches(*on_n1));

  request.query = {{"fieldSelector", "spec.image=x"}};
  auto unsupported = ListFilter::FromRequest(pods, request);
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(unsupported.error().message(), "field label not supported: spec.image");
}

}  // namespace
}  // namespace kpp::apiserver
