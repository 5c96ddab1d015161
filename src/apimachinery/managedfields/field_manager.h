// Field ownership as upstream's field manager keeps it in metadata.managedFields: every write
// records which manager set which fields. An Update (create, update, patch) gives its manager
// the fields it changed and takes them from everyone else; an Apply (server-side apply) merges
// the applier's configuration, removes the fields it applied before and no longer does, and
// refuses to change fields another manager owns unless forced.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "apimachinery/managedfields/field_set.h"
#include "apimachinery/managedfields/type_model.h"
#include "base/result.h"

namespace kpp::managedfields {

struct ManagerEntry {
  std::string manager;
  std::string operation;  // "Apply" or "Update"
  std::string api_version;
  std::string time;  // RFC 3339; empty when unknown
  std::string subresource;
  FieldSet fields;

  bool operator==(const ManagerEntry&) const = default;
};

using ManagedFields = std::vector<ManagerEntry>;

// Reads metadata.managedFields (a JSON array, or null). Errors: kBadRequest with the field path.
Result<ManagedFields> DecodeManagedFields(const boost::json::value& entries);
// The JSON of metadata.managedFields, sorted as upstream sorts it (Apply before Update, then
// oldest first). Entries without fields are left out.
boost::json::array EncodeManagedFields(const ManagedFields& managed);
// The entries EncodeManagedFields writes, in its order.
std::vector<const ManagerEntry*> EntriesToEncode(const ManagedFields& managed);

// The managedFields a write starts from, as upstream chooses them: the request's own when it
// has valid, non-empty ones (a client may reset them with `[]` or `[{}]`), else the live
// object's. Either argument may be null (absent). Undecodable live entries count as none.
// `from_request`, when given, is set to whether the request's entries were chosen.
ManagedFields ManagedFieldsForWrite(const boost::json::value* request_entries,
                                    const boost::json::value* live_entries,
                                    bool* from_request = nullptr);

// Who writes, and when.
struct Writer {
  std::string manager;
  std::string api_version;  // of the request, e.g. apps/v1
  std::string subresource;  // "status", "scale" or empty
  std::string now;          // RFC 3339
};

// The manager name upstream uses when a request names none: the User-Agent up to its first '/'
// ("kubectl" for "kubectl/v1.32.0 (linux/amd64) ..."), at most 128 characters.
std::string ManagerFromUserAgent(std::string_view user_agent);

// The objects of a write as another version of their kind sees them. Field sets are paths in the
// version their manager wrote (an entry's apiVersion); as upstream, what a write changed is
// worked out again in each other version that has entries, by converting the objects, so that
// ownership follows a field that conversion moves (autoscaling/v1's
// spec.targetCPUUtilizationPercentage is autoscaling/v2's spec.metrics).
class VersionConverter {
 public:
  virtual ~VersionConverter() = default;
  struct Converted {
    boost::json::value object;
    const TypeNode* type = nullptr;
  };
  // `object`, in the writer's version, as `api_version` has it. Errors when the kind is not
  // served in that version or the object does not convert; the entries of that version are
  // then treated as if their paths were the writer's.
  virtual Result<Converted> Convert(const boost::json::value& object,
                                    std::string_view api_version) const = 0;
};

class FieldManager {
 public:
  // `type` is the object's type. `reset_fields` are fields the endpoint does not write and
  // nobody gains through it (the status of a kind with a status subresource, written through
  // the main resource). `converter` (may be null: entries of other versions are then read as
  // the writer's) sees the objects in the versions of other entries. None is copied; all must
  // outlive the manager.
  FieldManager(const TypeNode* type, const FieldSet& reset_fields,
               const VersionConverter* converter = nullptr);

  // The managedFields after `writer` changed `live` into `updated` (for a create, `live` is the
  // empty object of the kind as the codec writes it, nulls and empty structs included).
  Result<ManagedFields> Update(const boost::json::value& live, const boost::json::value& updated,
                               ManagedFields managed, const Writer& writer) const;

  struct Applied {
    boost::json::value object;
    ManagedFields managed;
  };
  // Applies `config` (an object in the writer's version) to `live`. Errors: kConflict with
  // upstream's message and one FieldManagerConflict cause per field when another manager owns a
  // field `config` changes and `force` is false; kBadRequest for a malformed configuration.
  Result<Applied> Apply(const boost::json::value& live, const boost::json::value& config,
                        ManagedFields managed, const Writer& writer, bool force) const;

 private:
  struct Changes {
    FieldSet changed;
    FieldSet removed;
  };
  class ChangesByVersion;

  const TypeNode* type_;
  const FieldSet& reset_fields_;
  const VersionConverter* converter_;
};

}  // namespace kpp::managedfields
