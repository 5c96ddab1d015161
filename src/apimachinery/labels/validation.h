// Syntax checks for the names Kubernetes uses everywhere (label keys and values, DNS labels and
// subdomains, path segments), mirroring k8s.io/apimachinery/pkg/util/validation.
//
// Each check returns the list of problems as upstream's exact message strings (empty when the
// value is valid), because clients and tests match on those texts and callers wrap them into
// field errors such as `metadata.labels: Invalid value: "x": <message>`.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::validation {

inline constexpr size_t kQualifiedNameMaxLength = 63;
inline constexpr size_t kLabelValueMaxLength = 63;
inline constexpr size_t kDns1123LabelMaxLength = 63;
inline constexpr size_t kDns1123SubdomainMaxLength = 253;
inline constexpr size_t kDns1035LabelMaxLength = 63;

// The regular expressions upstream quotes in its messages (matching here is hand-written).
inline constexpr std::string_view kQualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
inline constexpr std::string_view kLabelValueFormat = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
inline constexpr std::string_view kDns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
inline constexpr std::string_view kDns1123SubdomainFormat =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
inline constexpr std::string_view kDns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?";

// A label key / annotation key: an optional DNS-1123 subdomain prefix and "/", then a name of at
// most 63 characters matching kQualifiedNameFormat.
std::vector<std::string> IsQualifiedName(std::string_view value);
// A label value: empty, or at most 63 characters matching kQualifiedNameFormat.
std::vector<std::string> IsValidLabelValue(std::string_view value);
// RFC 1123 label, e.g. a namespace or service name.
std::vector<std::string> IsDNS1123Label(std::string_view value);
// RFC 1123 subdomain, e.g. most object names.
std::vector<std::string> IsDNS1123Subdomain(std::string_view value);
// RFC 1035 label (must start with a letter), e.g. a service port name.
std::vector<std::string> IsDNS1035Label(std::string_view value);
// `*.` followed by an RFC 1123 subdomain, e.g. an Ingress wildcard host.
std::vector<std::string> IsWildcardDNS1123Subdomain(std::string_view value);
// A name that can be used as one REST path segment: not "." or "..", no "/" or "%".
// Like upstream, does not check emptiness or length.
std::vector<std::string> IsPathSegmentName(std::string_view name);
// Like IsPathSegmentName, for a prefix of such a name (only the forbidden characters).
std::vector<std::string> IsPathSegmentPrefix(std::string_view name);
// A valid, non-zero port number (1..65535).
std::vector<std::string> IsValidPortNum(int64_t port);
// value in [min, max].
std::vector<std::string> IsInRange(int64_t value, int64_t min, int64_t max);
// An IANA service name: at most 15 of [-a-z0-9], at least one letter, no "--", no edge hyphen.
std::vector<std::string> IsValidPortName(std::string_view port);
// "[0-9]+%".
std::vector<std::string> IsValidPercent(std::string_view percent);
// "[-A-Za-z0-9]+".
std::vector<std::string> IsHTTPHeaderName(std::string_view value);
// "[-._a-zA-Z][-._a-zA-Z0-9]*" and not ".", ".." or starting with "..".
std::vector<std::string> IsEnvVarName(std::string_view value);
// A ConfigMap / Secret data key: at most 253 of [-._a-zA-Z0-9], not ".", "..", or "..*".
std::vector<std::string> IsConfigMapKey(std::string_view value);

// Building blocks of the messages above, as upstream words them.
std::string MaxLenError(size_t length);  // "must be no more than 63 characters"
std::string EmptyError();                // "must be non-empty"
std::string InclusiveRangeError(int64_t low, int64_t high);
// `message (e.g. 'a' or 'b', regex used for validation is 'format')`.
std::string RegexError(std::string_view message, std::string_view format,
                       const std::vector<std::string_view>& examples = {});

}  // namespace kpp::validation
