// The audit log (upstream's --audit-log-path, --audit-policy-file): every request the API server
// serves from a client is matched against the policy, and recorded as audit.k8s.io/v1 Event JSON
// lines at the stages upstream records (RequestReceived; ResponseStarted for watches;
// ResponseComplete; Panic when the handler throws), with the request and response bodies only at
// the levels that ask for them.
//
// Safe by default, whatever the policy says: secrets, TokenReviews and ServiceAccount tokens
// are never recorded beyond Metadata, so their values never reach the log.
//
// Every response carries an Audit-Id header (the client's own Audit-Id when it sent one, else a
// fresh UUID), with or without an audit log, as upstream.
//
// How the handler talks to it: Handle runs the handler on the calling thread and keeps the
// request's audit record in a thread-local slot; SetRequestUser (after authentication) and
// AddRequestAnnotation (e.g. the authorizer's decision) fill it in. Both do nothing outside an
// audited request. Thread safety: Handle may be called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "apiserver/audit/log_writer.h"
#include "apiserver/audit/policy.h"
#include "apiserver/authn/user.h"
#include "base/result.h"
#include "http/server.h"

namespace kpp::apiserver::audit {

struct AuditOptions {
  std::string log_path;      // --audit-log-path: a file, or "-" for stdout; empty: no audit log
  std::string policy_file;   // --audit-policy-file; without it nothing is recorded, as upstream
  int log_max_age_days = 0;  // --audit-log-maxage
  int log_max_backups = 0;   // --audit-log-maxbackup
  int log_max_size_mb = 0;   // --audit-log-maxsize
};

class Auditor {
 public:
  using Handler = std::function<http::Response(const http::Request&)>;

  static Result<std::unique_ptr<Auditor>> Create(const AuditOptions& options);
  // A policy and a writer given directly (tests).
  Auditor(std::optional<Policy> policy, std::unique_ptr<LogWriter> writer)
      : policy_(std::move(policy)), writer_(std::move(writer)) {}

  http::Response Handle(const http::Request& request, const Handler& handler) const;
  // Waits until every event recorded so far is written (tests).
  void Flush() const;

  struct Record;
  // Evaluates the policy for the request and records its RequestReceived stage; once per
  // request, when its user is known (SetRequestUser) or, for unauthenticated ones, at its end.
  void Decide(Record& record) const;

 private:
  void Emit(const std::shared_ptr<Record>& record, std::string_view stage,
            const http::Response* response) const;

  std::optional<Policy> policy_;
  std::unique_ptr<LogWriter> writer_;
};

// The authenticated user of the request being handled on this thread.
void SetRequestUser(const UserInfo& user);
// The user the request acts as (impersonation headers that were allowed): the events after
// RequestReceived name it as impersonatedUser, the requester staying `user`.
void SetImpersonatedUser(const UserInfo& user);
// An annotation of the request being handled on this thread (e.g.
// "authorization.k8s.io/decision": "allow").
void AddRequestAnnotation(std::string_view key, std::string_view value);

}  // namespace kpp::apiserver::audit
