// Admission: what decides, after a write is decoded and defaulted and before it is validated and
// stored, whether it may happen and what the server adds to it (upstream's
// k8s.io/apiserver/pkg/admission). A Chain runs the mutating part of every plugin in order, then
// the validating part of every plugin in order, as upstream's admission chain does. Plugins see
// the object as JSON in the version it is stored in, and read other objects through a Reader.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apimachinery/status.h"
#include "apiserver/authn/user.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/result.h"

namespace kpp::storage {
class Store;
}

namespace kpp::apiserver::admission {

enum class Operation { kCreate, kUpdate, kDelete, kConnect };
std::string_view OperationName(Operation operation);  // "CREATE", ...

// Upstream's admission.Attributes.
struct Attributes {
  std::string group;
  std::string version;
  std::string kind;      // of the object, e.g. "Pod"
  std::string resource;  // plural, e.g. "pods"
  std::string subresource;
  std::string namespace_;
  // The name the request names; empty for a create whose object has only a generateName.
  std::string name;
  // The object's generateName (kept apart: the object is not built for every request).
  std::string generate_name;
  Operation operation = Operation::kCreate;
  // The object written (mutating plugins change it); null for deletes.
  boost::json::object* object = nullptr;
  // The object replaced or deleted; null for creates.
  const boost::json::object* old_object = nullptr;
  // Who asks; the loopback user (the API server itself) for in-process requests.
  UserInfo user;
  bool dry_run = false;
  // Set when the registry had an object (or old object) but built neither, as no plugin needed
  // them when it asked (Chain::NeedsObject): a webhook configured since then leaves this write
  // alone, as if it had been made before the configuration.
  bool objects_omitted = false;

  bool Is(std::string_view group_, std::string_view resource_) const {
    return group == group_ && resource == resource_;
  }
};

// The user in-process (loopback) requests act as, as upstream's loopback client.
UserInfo LoopbackUser();

// Why a plugin refused a request: the error and the details of its Status.
struct Rejection {
  Error error;
  apimachinery::StatusDetails details;
};

// What admission answers: a rejection, or nothing; warnings either way.
struct Outcome {
  std::optional<Rejection> rejection;
  std::vector<std::string> warnings;
  // For the request's audit event, as upstream's audit.AddAuditAnnotation (key, value).
  std::vector<std::pair<std::string, std::string>> audit_annotations;
  bool mutated = false;
};

// Upstream's apierrors.NewForbidden: `<resource> "<name>" is forbidden: <message>`.
Rejection Forbidden(const Attributes& attributes, std::string_view name, std::string_view message,
                    std::vector<ErrorCause> causes = {});
// Upstream's admission.NewForbidden: as Forbidden, naming the object by its name or, before one
// is generated, its generateName ("Unknown" without either).
Rejection AdmissionForbidden(const Attributes& attributes, std::string_view message);
// `<resource> "<name>" not found` (404).
Rejection NotFound(std::string_view group, std::string_view resource, std::string_view name);

// Reads stored objects for plugins (the storage version's JSON, without apiVersion and kind).
class Reader {
 public:
  virtual ~Reader() = default;
  // nullopt when absent.
  virtual Result<std::optional<boost::json::object>> Get(std::string_view group,
                                                         std::string_view resource,
                                                         std::string_view namespace_,
                                                         std::string_view name) const = 0;
  // Every object of the resource in `namespace_` (every one when empty).
  virtual Result<std::vector<boost::json::object>> List(std::string_view group,
                                                        std::string_view resource,
                                                        std::string_view namespace_) const = 0;
  // As List, except that when a live lookup (past the cache) found nothing, that answer stands
  // for `live_ttl` before the next one: upstream's LimitRanger asks so (its liveTTL), since most
  // namespaces have no LimitRange and each pod create would otherwise read the store.
  virtual Result<std::vector<boost::json::object>> ListTrustingEmpty(
      std::string_view group, std::string_view resource, std::string_view namespace_,
      std::chrono::seconds live_ttl) const {
    (void)live_ttl;
    return List(group, resource, namespace_);
  }
};

// What the API server's watch cache holds, which a StoreReader reads before the store (the
// informer caches upstream's plugins read): each object's JSON (the storage version, with its
// resourceVersion). A miss (no object, an empty list, a kind not cached) goes to the store, as
// upstream's plugins fall back to a live lookup for what their informer does not have yet.
struct CachedReads {
  std::function<std::shared_ptr<const std::string>(
      std::string_view group, std::string_view resource, std::string_view namespace_,
      std::string_view name)>
      get;
  std::function<std::vector<std::shared_ptr<const std::string>>(
      std::string_view group, std::string_view resource, std::string_view namespace_)>
      list;
};

// A Reader over the store the registry writes (keys /registry/<group|core>/<resource>/...).
class StoreReader final : public Reader {
 public:
  explicit StoreReader(storage::Store& store) : store_(store) {}
  // Before the first request only: reads are not synchronized with it.
  void SetCachedReads(CachedReads reads) { cached_ = std::move(reads); }
  Result<std::optional<boost::json::object>> Get(std::string_view group, std::string_view resource,
                                                 std::string_view namespace_,
                                                 std::string_view name) const override;
  Result<std::vector<boost::json::object>> List(std::string_view group, std::string_view resource,
                                                std::string_view namespace_) const override;
  Result<std::vector<boost::json::object>> ListTrustingEmpty(
      std::string_view group, std::string_view resource, std::string_view namespace_,
      std::chrono::seconds live_ttl) const override;
  // For plugins that write back what they account (ResourceQuota's status.used).
  storage::Store& store() const { return store_; }

 private:
  Result<std::vector<boost::json::object>> ListFromCacheOrStore(
      std::string_view group, std::string_view resource, std::string_view namespace_,
      std::chrono::seconds live_ttl) const;

  storage::Store& store_;
  CachedReads cached_;
  // Lists the store answered empty while the cache had nothing either, and when (for
  // ListTrustingEmpty).
  mutable std::mutex empty_mutex_;
  mutable std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> found_empty_;
};

// Whether the server's authorizer lets `user` do `verb` on the cluster-scoped `resource` named
// `name` in `group` (the certificate plugins ask about signers).
using AuthorizeFn =
    std::function<bool(const UserInfo& user, std::string_view verb, std::string_view group,
                       std::string_view resource, std::string_view name)>;

// What a plugin may use.
struct Context {
  const Reader& reader;
  Clock& clock;
  std::vector<std::string>& warnings;
  // Set by a mutating plugin that changed the object.
  bool mutated = false;
  // Null when the server authorizes nothing (every request is allowed).
  const AuthorizeFn* authorize = nullptr;
  // Annotations for the request's audit event; null when nobody collects them.
  std::vector<std::pair<std::string, std::string>>* audit_annotations = nullptr;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view Name() const = 0;
  // Whether the plugin looks at object or old_object for these attributes (given without
  // them); when no plugin does, the registry does not build them.
  virtual bool NeedsObject(const Attributes&) const { return true; }
  // The same, for plugins whose answer depends on what they read (webhooks: whether any is
  // configured).
  virtual bool NeedsObjectGiven(const Attributes& attributes, const Reader&) const {
    return NeedsObject(attributes);
  }
  // The mutating part: may change attributes.object (and then sets context.mutated).
  virtual std::optional<Rejection> Admit(Attributes&, Context&) const { return std::nullopt; }
  // The validating part.
  virtual std::optional<Rejection> Validate(const Attributes&, Context&) const {
    return std::nullopt;
  }
};

class Chain {
 public:
  Chain(std::unique_ptr<Reader> reader, Clock& clock);
  ~Chain();
  void Add(std::unique_ptr<Plugin> plugin);
  std::vector<std::string_view> Names() const;
  // Whether any plugin needs attributes.object / old_object (Plugin::NeedsObject).
  bool NeedsObject(const Attributes& attributes) const;
  Outcome Admit(Attributes& attributes) const;
  const Reader& reader() const { return *reader_; }
  // The authorizer plugins ask (before the chain serves requests).
  void SetAuthorize(AuthorizeFn authorize) { authorize_ = std::move(authorize); }

 private:
  std::unique_ptr<Reader> reader_;
  Clock& clock_;
  AuthorizeFn authorize_;
  std::vector<std::unique_ptr<Plugin>> plugins_;
};

// Upstream's plugin names in upstream's order (kube-apiserver's AllOrderedPlugins) of those kpp
// has; and the ones enabled by default.
const std::vector<std::string>& OrderedPluginNames();
const std::vector<std::string>& DefaultEnabledPlugins();

struct AdmissionConfiguration;  // admission_config.h

// A chain of the `names` plugins, run in upstream's order whatever the order of `names`;
// an unknown name is an error. `config`: the plugins' configurations (the admission
// configuration file's); null: each plugin's defaults.
Result<std::unique_ptr<Chain>> NewChain(const std::vector<std::string>& names,
                                        std::unique_ptr<Reader> reader, Clock& clock,
                                        const AdmissionConfiguration* config = nullptr);

}  // namespace kpp::apiserver::admission
