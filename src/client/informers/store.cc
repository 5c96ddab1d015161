#include "client/informers/store.h"

#include <fmt/format.h>

#include "api/core/v1/codec.h"

namespace kpp::client::informers {

std::string MetaNamespaceKey(const api::Object& object) {
  const auto& metadata = object.metadata();
  if (metadata.namespace_.empty()) return metadata.name;
  return metadata.namespace_ + "/" + metadata.name;
}

IndexFunc NamespaceIndexFunc() {
  return [](const api::Object& object) {
    return std::vector<std::string>{object.metadata().namespace_};
  };
}

IndexFunc PodNodeNameIndexFunc() {
  return [](const api::Object& object) -> std::vector<std::string> {
    const auto* pod = dynamic_cast<const api::TypedObject<api::core::v1::Pod>*>(&object);
    if (pod == nullptr || pod->value().spec.node_name.empty()) return {};
    return {pod->value().spec.node_name};
  };
}

IndexFunc OwnerUidIndexFunc() {
  return [](const api::Object& object) {
    std::vector<std::string> uids;
    for (const auto& owner : object.metadata().owner_references)
      uids.push_back(owner.uid);
    return uids;
  };
}

Store::Store(Indexers indexers) : indexers_(std::move(indexers)) {
  for (const auto& [name, function] : indexers_)
    indices_[name];
}

void Store::IndexLocked(const std::string& key, const api::Object* old_object,
                        const api::Object* new_object) {
  for (const auto& [name, function] : indexers_) {
    auto& index = indices_[name];
    if (old_object != nullptr) {
      for (const auto& value : function(*old_object)) {
        auto it = index.find(value);
        if (it == index.end()) continue;
        it->second.erase(key);
        if (it->second.empty()) index.erase(it);
      }
    }
    if (new_object != nullptr) {
      for (const auto& value : function(*new_object))
        index[value].insert(key);
    }
  }
}

void Store::Upsert(const std::string& key, ObjectRef object) {
  std::lock_guard lock(mutex_);
  auto& slot = items_[key];
  IndexLocked(key, slot.get(), object.get());
  slot = std::move(object);
}

void Store::Delete(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = items_.find(key);
  if (it == items_.end()) return;
  IndexLocked(key, it->second.get(), nullptr);
  items_.erase(it);
}

std::unordered_map<std::string, ObjectRef> Store::Replace(
    std::unordered_map<std::string, ObjectRef> items) {
  std::lock_guard lock(mutex_);
  std::unordered_map<std::string, ObjectRef> old = std::move(items_);
  items_ = std::move(items);
  for (auto& [name, index] : indices_)
    index.clear();
  for (const auto& [key, object] : items_)
    IndexLocked(key, nullptr, object.get());
  return old;
}

ObjectRef Store::Get(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectRef> Store::List() const {
  std::lock_guard lock(mutex_);
  std::vector<ObjectRef> out;
  out.reserve(items_.size());
  for (const auto& [key, object] : items_)
    out.push_back(object);
  return out;
}

std::vector<std::string> Store::ListKeys() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [key, object] : items_)
    out.push_back(key);
  return out;
}

size_t Store::Size() const {
  std::lock_guard lock(mutex_);
  return items_.size();
}

Result<std::vector<std::string>> Store::IndexKeys(const std::string& index_name,
                                                  const std::string& value) const {
  std::lock_guard lock(mutex_);
  const auto index = indices_.find(index_name);
  if (index == indices_.end()) {
    return NotFoundError(fmt::format("Index with name {} does not exist", index_name));
  }
  const auto keys = index->second.find(value);
  if (keys == index->second.end()) return std::vector<std::string>{};
  return std::vector<std::string>(keys->second.begin(), keys->second.end());
}

Result<std::vector<ObjectRef>> Store::ByIndex(const std::string& index_name,
                                              const std::string& value) const {
  std::lock_guard lock(mutex_);
  const auto index = indices_.find(index_name);
  if (index == indices_.end()) {
    return NotFoundError(fmt::format("Index with name {} does not exist", index_name));
  }
  std::vector<ObjectRef> out;
  const auto keys = index->second.find(value);
  if (keys == index->second.end()) return out;
  for (const auto& key : keys->second)
    out.push_back(items_.at(key));
  return out;
}

Status Store::AddIndexers(const Indexers& indexers) {
  std::lock_guard lock(mutex_);
  for (const auto& [name, function] : indexers) {
    if (indexers_.contains(name)) {
      return Error(ErrorCode::kAlreadyExists, fmt::format("indexer conflict: {}", name));
    }
  }
  for (const auto& [name, function] : indexers) {
    indexers_[name] = function;
    auto& index = indices_[name];
    for (const auto& [key, object] : items_) {
      for (const auto& value : function(*object))
        index[value].insert(key);
    }
  }
  return Ok();
}

}  // namespace kpp::client::informers
