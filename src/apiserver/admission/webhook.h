// Dynamic admission (admissionregistration.k8s.io/v1): the MutatingAdmissionWebhook and
// ValidatingAdmissionWebhook plugins call the webhooks of every Mutating/Validating
// WebhookConfiguration whose rules and selectors match a request, over HTTPS with an
// AdmissionReview v1, as upstream's k8s.io/apiserver/pkg/admission/plugin/webhook does.
// Mutating webhooks run in configuration-name order and their JSONPatch answers are applied to
// the object; a webhook with reinvocationPolicy IfNeeded runs again once when a later webhook
// changed the object. Validating webhooks run one after the other (upstream calls them in
// parallel; the answer is the same). failurePolicy decides whether an unreachable or broken
// webhook refuses (Fail, the default) or lets the request through (Ignore).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/prefix_cache.h"

namespace kpp::apiserver::admission {

namespace webhook {

// One webhook of a configuration, with the name of the configuration it came from.
struct Call {
  std::string url;     // clientConfig.url, or the service's endpoint resolved to https://ip:port
  std::string host;    // the name the certificate must carry (the service's DNS name for refs)
  std::string ca_pem;  // the decoded caBundle; empty: the system's trust store
  std::chrono::milliseconds timeout{10000};
};
struct Answer {
  int status = 0;
  std::string body;
};
// Sends an AdmissionReview to a webhook and returns the HTTP answer, or an error text (as
// upstream's "Post \"<url>\": ..." reason) when the exchange failed.
using Caller = std::function<std::variant<Answer, std::string>(const Call&, const std::string&)>;
// The HTTPS caller over the client library's transport.
Caller HttpsCaller();

// Whether a label selector (matchLabels, matchExpressions) selects `labels`; a missing
// selector selects everything.
bool SelectorMatches(const boost::json::object* selector, const boost::json::object* labels);
// Whether one rule (operations, apiGroups, apiVersions, resources, scope) matches the request.
bool RuleMatches(const boost::json::object& rule, const Attributes& attributes);

}  // namespace webhook

class MutatingWebhook final : public Plugin {
 public:
  explicit MutatingWebhook(webhook::Caller caller = webhook::HttpsCaller())
      : caller_(std::move(caller)) {}
  std::string_view Name() const override { return "MutatingAdmissionWebhook"; }
  // Only while a webhook is configured: most clusters have none.
  bool NeedsObjectGiven(const Attributes& attributes, const Reader& reader) const override;
  std::optional<Rejection> Admit(Attributes& attributes, Context& context) const override;

 private:
  webhook::Caller caller_;
  LazyPrefixCache configurations_{
      "/registry/admissionregistration.k8s.io/mutatingwebhookconfigurations/"};
};

class ValidatingWebhook final : public Plugin {
 public:
  explicit ValidatingWebhook(webhook::Caller caller = webhook::HttpsCaller())
      : caller_(std::move(caller)) {}
  std::string_view Name() const override { return "ValidatingAdmissionWebhook"; }
  bool NeedsObjectGiven(const Attributes& attributes, const Reader& reader) const override;
  std::optional<Rejection> Validate(const Attributes& attributes, Context& context) const override;

 private:
  webhook::Caller caller_;
  LazyPrefixCache configurations_{
      "/registry/admissionregistration.k8s.io/validatingwebhookconfigurations/"};
};

}  // namespace kpp::apiserver::admission
