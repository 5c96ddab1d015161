#include "apiextensions/custom_tables.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

#include "apiextensions/custom_resources.h"
#include "apiserver/printers/format.h"

namespace kpp::apiextensions {
namespace {

namespace printers = apiserver::printers;
using boost::json::value;

struct Step {
  enum { kField, kIndex, kFilter, kAll } type = kField;
  std::string name;  // field, or the filter's field
  size_t index = 0;
  std::string equals;  // the filter's value
};

std::string Unquote(std::string_view text) {
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front()) {
    return std::string(text.substr(1, text.size() - 2));
  }
  return std::string(text);
}

std::vector<Step> ParsePath(std::string_view path) {
  if (path.starts_with("{") && path.ends_with("}")) path = path.substr(1, path.size() - 2);
  std::vector<Step> steps;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      size_t end = i;
      while (end < path.size() && path[end] != '.' && path[end] != '[')
        ++end;
      if (end > i) steps.push_back({Step::kField, std::string(path.substr(i, end - i))});
      i = end;
    } else if (path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string_view::npos) break;
      std::string_view inside = path.substr(i + 1, close - i - 1);
      i = close + 1;
      if (inside == "*") {
        steps.push_back({Step::kAll});
      } else if (inside.starts_with("?(@.") && inside.ends_with(")")) {
        inside = inside.substr(4, inside.size() - 5);
        const size_t eq = inside.find("==");
        if (eq == std::string_view::npos) continue;
        steps.push_back(
            {Step::kFilter, std::string(inside.substr(0, eq)), 0, Unquote(inside.substr(eq + 2))});
      } else if (!inside.empty() && (inside[0] == '\'' || inside[0] == '"')) {
        steps.push_back({Step::kField, Unquote(inside)});
      } else {
        steps.push_back(
            {Step::kIndex, "", static_cast<size_t>(std::atoll(std::string(inside).c_str()))});
      }
    } else {
      size_t end = i;
      while (end < path.size() && path[end] != '.' && path[end] != '[')
        ++end;
      steps.push_back({Step::kField, std::string(path.substr(i, end - i))});
      i = end;
    }
  }
  return steps;
}

std::string ScalarText(const value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return boost::json::serialize(v);
}

}  // namespace

std::vector<const value*> JsonPathValues(const value& root, std::string_view path) {
  std::vector<const value*> current{&root};
  for (const Step& step : ParsePath(path)) {
    std::vector<const value*> next;
    for (const value* v : current) {
      switch (step.type) {
        case Step::kField:
          if (v->is_object()) {
            if (const value* found = v->get_object().if_contains(step.name)) next.push_back(found);
          }
          break;
        case Step::kIndex:
          if (v->is_array() && step.index < v->get_array().size()) {
            next.push_back(&v->get_array()[step.index]);
          }
          break;
        case Step::kAll:
          if (v->is_array()) {
            for (const auto& item : v->get_array())
              next.push_back(&item);
          }
          break;
        case Step::kFilter:
          if (v->is_array()) {
            for (const auto& item : v->get_array()) {
              if (!item.is_object()) continue;
              const value* field = item.get_object().if_contains(step.name);
              if (field != nullptr && ScalarText(*field) == step.equals) next.push_back(&item);
            }
          }
          break;
      }
    }
    current = std::move(next);
  }
  return current;
}

const value* JsonPathValue(const value& root, std::string_view path) {
  auto values = JsonPathValues(root, path);
  return values.empty() ? nullptr : values.front();
}

void SetJsonPath(value& root, std::string_view path, value set) {
  value* current = &root;
  for (const Step& step : ParsePath(path)) {
    if (step.type != Step::kField) return;
    if (!current->is_object()) *current = boost::json::object();
    current = &current->get_object()[step.name];
  }
  *current = std::move(set);
}

std::vector<printers::Column> CustomColumns(const api::KindInfo& kind) {
  std::vector<printers::Column> columns;
  columns.push_back({"Name", "string", "name",
                     "Name must be unique within a namespace. Is required when creating "
                     "resources, although some resources may allow a client to request the "
                     "generation of an appropriate name automatically. Name is primarily "
                     "intended for creation idempotence and configuration definition. Cannot be "
                     "updated. More info: "
                     "https://kubernetes.io/docs/concepts/overview/working-with-objects/"
                     "names#names",
                     0});
  if (CustomResourceOf(kind) == nullptr) return columns;
  for (const PrinterColumn& column : CustomResourceOf(kind)->columns) {
    columns.push_back(
        {column.name, column.type, column.format, column.description, column.priority});
  }
  return columns;
}

void PrintCustomRow(const api::KindInfo& kind, const api::Object& object,
                    const printers::PrintContext& context, printers::Row& row) {
  row.cells.push_back(printers::Cell(object.metadata().name));
  if (CustomResourceOf(kind) == nullptr) return;
  const value json = boost::json::parse(object.ToJson());
  for (const PrinterColumn& column : CustomResourceOf(kind)->columns) {
    const value* found = JsonPathValue(json, column.json_path);
    if (found == nullptr || found->is_null()) {
      row.cells.emplace_back(nullptr);
      continue;
    }
    if (column.type == "integer") {
      if (found->is_int64() || found->is_uint64()) {
        row.cells.push_back(*found);
      } else if (found->is_double()) {
        row.cells.emplace_back(static_cast<int64_t>(found->get_double()));
      } else {
        row.cells.emplace_back(nullptr);
      }
    } else if (column.type == "number") {
      row.cells.push_back(found->is_number() ? *found : value(nullptr));
    } else if (column.type == "boolean") {
      row.cells.push_back(found->is_bool() ? *found : value(nullptr));
    } else if (column.type == "date") {
      if (!found->is_string()) {
        row.cells.emplace_back(nullptr);
        continue;
      }
      auto time = api::Time::Parse(std::string(found->get_string()));
      row.cells.push_back(time.ok() ? printers::Cell(printers::TimestampSince(*time, context))
                                    : printers::Cell("<invalid>"));
    } else {
      row.cells.push_back(printers::Cell(ScalarText(*found)));
    }
  }
}

}  // namespace kpp::apiextensions
