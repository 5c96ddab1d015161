// The informer's cache: objects by key ("<namespace>/<name>", or "<name>" for cluster-scoped
// objects) with indexes computed by registered index functions (client-go's ThreadSafeStore and
// Indexer). Objects are immutable once stored and shared by pointer. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/runtime/object.h"
#include "base/result.h"

namespace kpp::client::informers {

using ObjectRef = std::shared_ptr<const api::Object>;

// client-go's MetaNamespaceKeyFunc.
std::string MetaNamespaceKey(const api::Object& object);

// The values an object is indexed under (none: not in the index).
using IndexFunc = std::function<std::vector<std::string>(const api::Object&)>;
using Indexers = std::map<std::string, IndexFunc>;

inline constexpr char kNamespaceIndex[] = "namespace";
inline constexpr char kNodeNameIndex[] = "spec.nodeName";
inline constexpr char kOwnerUidIndex[] = "ownerUID";

// metadata.namespace.
IndexFunc NamespaceIndexFunc();
// A pod's spec.nodeName (pods not yet bound are not indexed); nothing for other kinds.
IndexFunc PodNodeNameIndexFunc();
// The uid of every owner reference.
IndexFunc OwnerUidIndexFunc();

class Store {
 public:
  explicit Store(Indexers indexers = {});

  void Upsert(const std::string& key, ObjectRef object);
  void Delete(const std::string& key);
  // Replaces all content; returns the objects that were there before, by key.
  std::unordered_map<std::string, ObjectRef> Replace(
      std::unordered_map<std::string, ObjectRef> items);

  ObjectRef Get(const std::string& key) const;
  std::vector<ObjectRef> List() const;
  std::vector<std::string> ListKeys() const;
  size_t Size() const;

  // Objects whose index `index_name` holds `value`; an error for an unknown index.
  Result<std::vector<ObjectRef>> ByIndex(const std::string& index_name,
                                         const std::string& value) const;
  Result<std::vector<std::string>> IndexKeys(const std::string& index_name,
                                             const std::string& value) const;
  // Adds index functions; the indexes are built from the current content. An error when one of
  // the names is already registered.
  Status AddIndexers(const Indexers& indexers);

 private:
  void IndexLocked(const std::string& key, const api::Object* old_object,
                   const api::Object* new_object);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, ObjectRef> items_;
  Indexers indexers_;
  // index name -> indexed value -> keys
  std::map<std::string, std::unordered_map<std::string, std::set<std::string>>> indices_;
};

}  // namespace kpp::client::informers
