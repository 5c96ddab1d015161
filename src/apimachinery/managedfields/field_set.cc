#include "apimachinery/managedfields/field_set.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

namespace kpp::managedfields {

PathElement PathElement::Key(const boost::json::object& key) {
  std::vector<std::pair<std::string_view, const boost::json::value*>> fields;
  for (const auto& member : key)
    fields.emplace_back(member.key(), &member.value());
  std::sort(fields.begin(), fields.end());
  std::string text = "{";
  for (const auto& [name, value] : fields) {
    if (text.size() > 1) text += ',';
    text += boost::json::serialize(boost::json::string(name));
    text += ':';
    text += boost::json::serialize(*value);
  }
  text += '}';
  return {Kind::kKey, std::move(text), 0};
}

PathElement PathElement::Value(const boost::json::value& value) {
  return {Kind::kValue, boost::json::serialize(value), 0};
}

std::string PathElement::FieldsV1Name() const {
  switch (kind) {
    case Kind::kField: return "f:" + text;
    case Kind::kKey: return "k:" + text;
    case Kind::kValue: return "v:" + text;
    case Kind::kIndex: return fmt::format("i:{}", index);
  }
  return {};
}

std::string PathElement::ToString() const {
  switch (kind) {
    case Kind::kField: return "." + text;
    case Kind::kKey: {
      // [a=1,b="x"]: the key object's members without their braces, '=' for ':'.
      std::string out = "[";
      const auto key = boost::json::parse(text).as_object();
      std::vector<std::pair<std::string_view, const boost::json::value*>> fields;
      for (const auto& member : key)
        fields.emplace_back(member.key(), &member.value());
      std::sort(fields.begin(), fields.end());
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) out += ',';
        out += fields[i].first;
        out += '=';
        out += boost::json::serialize(*fields[i].second);
      }
      return out + "]";
    }
    case Kind::kValue: return "[=" + text + "]";
    case Kind::kIndex: return fmt::format("[{}]", index);
  }
  return {};
}

std::string PathToString(const Path& path) {
  std::string out;
  for (const auto& element : path)
    out += element.ToString();
  return out;
}

FieldSet* FieldSet::Child(const PathElement& element) {
  auto it = std::lower_bound(children_.begin(), children_.end(), element,
                             [](const auto& child, const auto& e) { return child.first < e; });
  if (it == children_.end() || it->first != element) return nullptr;
  return &it->second;
}

const FieldSet* FieldSet::Find(const PathElement& element) const {
  return const_cast<FieldSet*>(this)->Child(element);
}

FieldSet& FieldSet::ChildOrInsert(const PathElement& element) {
  auto it = std::lower_bound(children_.begin(), children_.end(), element,
                             [](const auto& child, const auto& e) { return child.first < e; });
  if (it != children_.end() && it->first == element) return it->second;
  return children_.insert(it, {element, FieldSet{}})->second;
}

void FieldSet::Insert(const Path& path) {
  FieldSet* node = this;
  for (const auto& element : path)
    node = &node->ChildOrInsert(element);
  node->member_ = true;
}

bool FieldSet::Has(const Path& path) const {
  const FieldSet* node = this;
  for (const auto& element : path) {
    node = node->Find(element);
    if (node == nullptr) return false;
  }
  return node->member_;
}

bool FieldSet::HasAtOrBelow(const Path& path) const {
  const FieldSet* node = this;
  for (const auto& element : path) {
    node = node->Find(element);
    if (node == nullptr) return false;
  }
  return !node->Empty();
}

FieldSet FieldSet::Union(const FieldSet& other) const {
  FieldSet out = *this;
  out.member_ = member_ || other.member_;
  for (const auto& [element, child] : other.children_) {
    FieldSet& mine = out.ChildOrInsert(element);
    mine = mine.Union(child);
  }
  return out;
}

FieldSet FieldSet::Difference(const FieldSet& other) const {
  FieldSet out;
  out.member_ = member_ && !other.member_;
  for (const auto& [element, child] : children_) {
    const FieldSet* theirs = other.Find(element);
    FieldSet rest = theirs == nullptr ? child : child.Difference(*theirs);
    if (!rest.Empty()) out.children_.emplace_back(element, std::move(rest));
  }
  return out;
}

FieldSet FieldSet::RecursiveDifference(const FieldSet& other) const {
  if (other.member_) return {};
  FieldSet out;
  out.member_ = member_;
  for (const auto& [element, child] : children_) {
    const FieldSet* theirs = other.Find(element);
    FieldSet rest = theirs == nullptr ? child : child.RecursiveDifference(*theirs);
    if (!rest.Empty()) out.children_.emplace_back(element, std::move(rest));
  }
  return out;
}

FieldSet FieldSet::Intersection(const FieldSet& other) const {
  FieldSet out;
  out.member_ = member_ && other.member_;
  for (const auto& [element, child] : children_) {
    const FieldSet* theirs = other.Find(element);
    if (theirs == nullptr) continue;
    FieldSet both = child.Intersection(*theirs);
    if (!both.Empty()) out.children_.emplace_back(element, std::move(both));
  }
  return out;
}

void FieldSet::ForEachFrom(Path& prefix, const std::function<void(const Path&)>& visit) const {
  if (member_) visit(prefix);
  for (const auto& [element, child] : children_) {
    prefix.push_back(element);
    child.ForEachFrom(prefix, visit);
    prefix.pop_back();
  }
}

void FieldSet::ForEach(const std::function<void(const Path&)>& visit) const {
  Path prefix;
  ForEachFrom(prefix, visit);
}

std::vector<Path> FieldSet::Members() const {
  std::vector<Path> members;
  ForEach([&](const Path& path) { members.push_back(path); });
  return members;
}

boost::json::object FieldSet::ToFieldsV1() const {
  boost::json::object out;
  if (member_ && !children_.empty()) out.emplace(".", boost::json::object{});
  for (const auto& [element, child] : children_) {
    out.emplace(element.FieldsV1Name(), child.ToFieldsV1());
  }
  return out;
}

namespace {

Result<PathElement> ParseFieldsV1Name(std::string_view name) {
  if (name.size() < 2 || name[1] != ':') {
    return Error(ErrorCode::kBadRequest, fmt::format("unexpected key in fieldsV1: {:?}", name));
  }
  const std::string_view rest = name.substr(2);
  switch (name[0]) {
    case 'f': return PathElement::Field(std::string(rest));
    case 'k': {
      boost::system::error_code error;
      auto key = boost::json::parse(rest, error);
      if (error || !key.is_object()) {
        return Error(ErrorCode::kBadRequest, fmt::format("invalid key in fieldsV1: {:?}", name));
      }
      return PathElement::Key(key.as_object());
    }
    case 'v': {
      boost::system::error_code error;
      auto value = boost::json::parse(rest, error);
      if (error) {
        return Error(ErrorCode::kBadRequest, fmt::format("invalid value in fieldsV1: {:?}", name));
      }
      return PathElement::Value(value);
    }
    case 'i': {
      int64_t index = 0;
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), index);
      if (ec != std::errc() || end != rest.data() + rest.size()) {
        return Error(ErrorCode::kBadRequest, fmt::format("invalid index in fieldsV1: {:?}", name));
      }
      return PathElement::Index(index);
    }
    default: break;
  }
  return Error(ErrorCode::kBadRequest, fmt::format("unexpected key in fieldsV1: {:?}", name));
}

// Bounded like every other decoder of client input: managedFields come from request bodies.
constexpr int kMaxDepth = 100;

Status ReadFieldsV1(const boost::json::value& fields, FieldSet& into, Path& prefix, int depth) {
  if (depth > kMaxDepth) return Error(ErrorCode::kBadRequest, "fieldsV1 is nested too deeply");
  if (!fields.is_object()) return Error(ErrorCode::kBadRequest, "fieldsV1 must be an object");
  const auto& object = fields.as_object();
  // A leaf ({}) is a member; "." marks a member that also has children.
  if (object.empty() && !prefix.empty()) into.Insert(prefix);
  for (const auto& member : object) {
    if (member.key() == ".") {
      into.Insert(prefix);
      continue;
    }
    auto element = ParseFieldsV1Name(member.key());
    if (!element.ok()) return element.error();
    prefix.push_back(*std::move(element));
    if (auto status = ReadFieldsV1(member.value(), into, prefix, depth + 1); !status.ok()) {
      return status;
    }
    prefix.pop_back();
  }
  return {};
}

}  // namespace

Result<FieldSet> FieldSet::FromFieldsV1(const boost::json::value& fields) {
  FieldSet set;
  Path prefix;
  if (auto status = ReadFieldsV1(fields, set, prefix, 0); !status.ok()) return status.error();
  return set;
}

}  // namespace kpp::managedfields
