// The CertificateSigningRequest strategy (apiserver/registry/certificates_strategy.cc): who
// the requestor is, which writes each subresource may make, and upstream's validation.
#include "apiserver/registry/certificates_strategy.h"

#include <gtest/gtest.h>

#include "api/certificates.k8s.io/v1/codec.h"
#include "pki/certificate_request.h"
#include "pki/certificates.h"

namespace kpp::apiserver {
namespace {

using api::certificates_k8s_io::v1::CertificateSigningRequest;
using api::certificates_k8s_io::v1::CertificateSigningRequestCondition;
using Typed = api::TypedObject<CertificateSigningRequest>;

const api::KindInfo& CsrKind() {
  static const api::KindInfo kind = [] {
    api::KindInfo info{};
    info.group = "certificates.k8s.io";
    info.version = "v1";
    info.kind = "CertificateSigningRequest";
    info.plural = "certificatesigningrequests";
    info.subresources = "status,approval";
    return info;
  }();
  return kind;
}

const Strategy& CsrStrategy() {
  const Strategy* strategy = CertificatesStrategyFor(CsrKind());
  EXPECT_NE(strategy, nullptr);
  return *strategy;
}

CertificateSigningRequest ValidCsr() {
  auto generated = pki::GenerateCertificateRequest("myuser", {"dev"});
  EXPECT_TRUE(generated.ok());
  CertificateSigningRequest csr;
  csr.metadata.name = "myuser";
  csr.spec.request = generated->request_pem;
  csr.spec.signer_name = "kubernetes.io/kube-apiserver-client";
  csr.spec.usages = {"client auth"};
  return csr;
}

CertificateSigningRequestCondition Condition(std::string type) {
  CertificateSigningRequestCondition condition;
  condition.type = std::move(type);
  condition.status = "True";
  // As stored: the server filled the times in when the condition was written.
  condition.last_update_time = api::Time::FromUnixSeconds(1'700'000'000);
  condition.last_transition_time = condition.last_update_time;
  return condition;
}

std::vector<std::string> Messages(const validation::FieldErrors& errors) {
  std::vector<std::string> messages;
  for (const auto& error : errors)
    messages.push_back(error.ToString());
  return messages;
}

TEST(CsrStrategyTest, CreateRecordsTheRequestorAndClearsStatus) {
  auto csr = ValidCsr();
  csr.spec.username = "someone-else";
  csr.spec.groups = {"system:masters"};
  csr.status.conditions.push_back(Condition("Approved"));
  Typed object(csr);
  const UserInfo user{"alice", {"devs", "system:authenticated"}, "uid-1", {{"scope", {"x"}}}};
  CsrStrategy().PrepareForCreateAs(object, &user);
  EXPECT_EQ(object.value().spec.username, "alice");
  EXPECT_EQ(object.value().spec.uid, "uid-1");
  EXPECT_EQ(object.value().spec.groups, user.groups);
  EXPECT_EQ(object.value().spec.extra, user.extra);
  EXPECT_TRUE(object.value().status.conditions.empty());
}

TEST(CsrStrategyTest, CreateValidation) {
  struct Case {
    std::string name;
    std::function<void(CertificateSigningRequest&)> change;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"valid", [](auto&) {}, {}},
      {"short expiration",
       [](auto& csr) { csr.spec.expiration_seconds = 599; },
       {"spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 "
        "seconds (10 minutes)"}},
      {"no usages", [](auto& csr) { csr.spec.usages.clear(); }, {"spec.usages: Required value"}},
      {"duplicate usage",
       [](auto& csr) {
         csr.spec.usages = {"client auth", "client auth"};
       },
       {"spec.usages[1]: Duplicate value: \"client auth\""}},
      {"legacy signer",
       [](auto& csr) { csr.spec.signer_name = "kubernetes.io/legacy-unknown"; },
       {"spec.signerName: Invalid value: \"kubernetes.io/legacy-unknown\": the legacy signerName "
        "is not allowed via this API version"}},
      {"signer without path",
       [](auto& csr) { csr.spec.signer_name = "example.com"; },
       {"spec.signerName: Invalid value: \"example.com\": must be a fully qualified domain and "
        "path of the form 'example.com/signer-name'"}},
      {"signer with a one-label domain",
       [](auto& csr) { csr.spec.signer_name = "example/x"; },
       {"spec.signerName: Invalid value: \"example\": should be a domain with at least two "
        "segments separated by dots"}},
      {"not a request",
       [](auto& csr) { csr.spec.request = "hello"; },
       {"spec.request: Invalid value: \"<request data>\": PEM block type must be CERTIFICATE "
        "REQUEST"}},
  };
  for (const auto& c : cases) {
    auto csr = ValidCsr();
    c.change(csr);
    validation::FieldErrors errors;
    CsrStrategy().Validate(Typed(csr), errors);
    EXPECT_EQ(Messages(errors), c.want) << c.name;
  }
}

TEST(CsrStrategyTest, SubresourceUpdates) {
  struct Case {
    std::string name;
    std::string subresource;
    std::vector<std::string> old_conditions;
    std::vector<std::string> new_conditions;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"approve", "approval", {}, {"Approved"}, {}},
      {"deny", "approval", {}, {"Denied"}, {}},
      {"approve and deny",
       "approval",
       {},
       {"Approved", "Denied"},
       {"status.conditions[1].type: Invalid value: \"Denied\": Approved and Denied conditions are "
        "mutually exclusive"}},
      {"remove approval",
       "approval",
       {"Approved"},
       {},
       {"status.conditions: Forbidden: updates may not remove a condition of type \"Approved\""}},
      {"approve twice",
       "approval",
       {},
       {"Approved", "Approved"},
       {"status.conditions[1].type: Duplicate value: \"Approved\""}},
      {"failed through status", "status", {"Approved"}, {"Approved", "Failed"}, {}},
  };
  for (const auto& c : cases) {
    auto old_csr = ValidCsr();
    for (const auto& type : c.old_conditions)
      old_csr.status.conditions.push_back(Condition(type));
    auto new_csr = old_csr;
    new_csr.status.conditions.clear();
    for (const auto& type : c.new_conditions)
      new_csr.status.conditions.push_back(Condition(type));
    Typed object(new_csr);
    const Typed old(old_csr);
    if (c.subresource == "status") {
      CsrStrategy().PrepareForStatusUpdate(CsrKind(), object, old);
    } else {
      CsrStrategy().PrepareForSubresourceUpdate(c.subresource, CsrKind(), object, old);
    }
    validation::FieldErrors errors;
    CsrStrategy().ValidateUpdate(c.subresource, object, old, errors);
    EXPECT_EQ(Messages(errors), c.want) << c.name;
  }
}

TEST(CsrStrategyTest, WritesLimitedToTheirSubresource) {
  auto old_csr = ValidCsr();
  old_csr.status.conditions.push_back(Condition("Approved"));
  // The main resource keeps spec and status, whatever is sent.
  auto changed = old_csr;
  changed.spec.signer_name = "example.com/other";
  changed.status.conditions.clear();
  Typed main(changed);
  CsrStrategy().PrepareForUpdate(CsrKind(), main, Typed(old_csr));
  EXPECT_EQ(main.value().spec, old_csr.spec);
  EXPECT_EQ(main.value().status, old_csr.status);
  // The status subresource cannot remove an approval (it is kept) nor set a certificate twice.
  auto ca = pki::GenerateCa("ca", std::chrono::hours(24));
  ASSERT_TRUE(ca.ok());
  auto status_write = old_csr;
  status_write.status.conditions.clear();
  status_write.status.certificate = ca->certificate_pem;
  Typed status(status_write);
  CsrStrategy().PrepareForStatusUpdate(CsrKind(), status, Typed(old_csr));
  ASSERT_EQ(status.value().status.conditions.size(), 0u);
  validation::FieldErrors errors;
  CsrStrategy().ValidateUpdate("status", status, Typed(old_csr), errors);
  EXPECT_EQ(Messages(errors),
            std::vector<std::string>{"status.conditions: Forbidden: updates may not remove a "
                                     "condition of type \"Approved\""});
  auto issued = old_csr;
  issued.status.certificate = ca->certificate_pem;
  auto replaced = issued;
  replaced.status.certificate = ca->certificate_pem + ca->certificate_pem;
  errors.clear();
  CsrStrategy().ValidateUpdate("status", Typed(replaced), Typed(issued), errors);
  EXPECT_EQ(Messages(errors),
            std::vector<std::string>{"status.certificate: Forbidden: updates may not modify "
                                     "existing certificate content"});
  errors.clear();
  CsrStrategy().ValidateUpdate("approval", Typed(issued), Typed(old_csr), errors);
  EXPECT_EQ(Messages(errors), std::vector<std::string>{"status.certificate: Forbidden: updates "
                                                       "may not set certificate content"});
}

}  // namespace
}  // namespace kpp::apiserver
