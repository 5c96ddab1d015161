"""Emits C++ for a package: types.h (structs), codec.h/codec.cc (JSON encode/decode, defaults)."""

import json
import re

CPP_KEYWORDS = {
    "namespace", "default", "operator", "template", "class", "struct", "private", "public",
    "protected", "delete", "new", "this", "union", "volatile", "register", "export", "friend",
    "virtual", "auto", "continue", "break", "case", "switch", "for", "while", "do", "if", "else",
    "return", "const", "static", "int", "char", "bool", "long", "short", "float", "double",
    "signed", "unsigned", "void", "enum", "typename", "using", "explicit", "inline", "mutable",
    "throw", "try", "catch", "goto", "sizeof", "typedef", "extern", "concept", "requires",
    "not", "and", "or", "xor", "compl", "bitand", "bitor", "not_eq", "and_eq", "or_eq", "xor_eq",
}

SCALAR_CPP = {
    "string": "std::string", "bool": "bool", "int32": "int32_t", "int64": "int64_t",
    "float64": "double", "bytes": "std::string", "Time": "::kpp::api::Time",
    "MicroTime": "::kpp::api::MicroTime", "Quantity": "::kpp::api::Quantity",
    "IntOrString": "::kpp::api::IntOrString", "Duration": "std::string",
}

SCALAR_GO = {
    "string": "string", "bool": "bool", "int32": "int32", "int64": "int64", "float64": "float64",
    "bytes": "[]uint8", "Time": "v1.Time", "MicroTime": "v1.MicroTime",
    "Quantity": "resource.Quantity", "IntOrString": "intstr.IntOrString",
    "Duration": "v1.Duration",
}

SCALAR_DECODE = {
    "string": "::kpp::api::runtime::DecodeString({v}, {o}, {c})",
    "Duration": "::kpp::api::runtime::DecodeDuration({v}, {o}, {c})",
    "bool": "::kpp::api::runtime::DecodeBool({v}, {o}, {c})",
    "int32": "::kpp::api::runtime::DecodeInt32({v}, {o}, {c})",
    "int64": "::kpp::api::runtime::DecodeInt64({v}, {o}, {c})",
    "float64": "::kpp::api::runtime::DecodeDouble({v}, {o}, {c})",
    "bytes": "::kpp::api::runtime::DecodeBytes({v}, {o}, {c})",
    "Time": "::kpp::api::runtime::DecodeTime({v}, {o}, {c})",
    "MicroTime": "::kpp::api::runtime::DecodeMicroTime({v}, {o}, {c})",
    "Quantity": "::kpp::api::runtime::DecodeQuantity({v}, {o}, {c})",
    "IntOrString": "::kpp::api::runtime::DecodeIntOrString({v}, {o}, {c})",
}

SCALAR_ENCODE = {
    "string": "{w}.String({x})", "Duration": '{w}.String({x}.empty() ? "0s" : {x})',
    "bool": "{w}.Bool({x})", "int32": "{w}.Int({x})", "int64": "{w}.Int({x})",
    "float64": "{w}.Double({x})", "bytes": "::kpp::api::runtime::EncodeBytes({x}, {w})",
    "Time": "::kpp::api::runtime::EncodeTime({x}, {w})",
    "MicroTime": "::kpp::api::runtime::EncodeMicroTime({x}, {w})",
    "Quantity": "::kpp::api::runtime::EncodeQuantity({x}, {w})",
    "IntOrString": "::kpp::api::runtime::EncodeIntOrString({x}, {w})",
}

# Scalars that Go encodes as structs: omitempty never omits them.
STRUCT_LIKE_SCALARS = {"Time", "MicroTime", "Quantity", "IntOrString", "Duration"}


def snake_case(name):
    # A plural acronym stays one word: podIPs -> pod_ips, not pod_i_ps.
    name = re.sub(r"([A-Z])([A-Z]+)s(?=[A-Z]|$)", lambda m: m.group(1) + m.group(2).lower() + "s",
                  name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = name.replace("-", "_").replace(".", "_").replace("$", "").lower()
    return name + "_" if name in CPP_KEYWORDS else name


def member_name(f):
    return snake_case(f.type.name if f.inline else f.json_name)


def _named_children(type_):
    """The struct types a struct's fields hold, through pointers, lists and maps."""
    for f in type_.fields:
        target = f.type.named()
        if target is not None and not target.raw:
            yield target


def reaches(source, target):
    """Whether struct `source` holds `target` (or a struct that does), at any depth."""
    key = (target.package.path, target.name)
    seen, pending = set(), list(_named_children(source))
    while pending:
        child = pending.pop()
        child_key = (child.package.path, child.name)
        if child_key == key:
            return True
        if child_key not in seen:
            seen.add(child_key)
            pending.extend(_named_children(child))
    return False


def is_recursive(type_):
    """Whether a struct can hold itself, directly or through other structs (JSONSchemaProps)."""
    if not hasattr(type_, "_recursive"):
        type_._recursive = reaches(type_, type_)
    return type_._recursive


def is_boxed(ref):
    """Whether a pointer is held in a Box: std::optional cannot hold a type that holds itself,
    and a large type that is usually absent (`optional=box`) would cost its whole size inline."""
    if ref.kind != "pointer" or ref.elem.kind != "named":
        return False
    target = ref.elem.named()
    return not target.raw and (target.options.get("optional") == "box" or is_recursive(target))


def cpp_type(ref):
    if ref.kind == "scalar":
        return SCALAR_CPP[ref.name]
    if is_boxed(ref):
        return f"::kpp::api::Box<{cpp_type(ref.elem)}>"
    if ref.kind == "pointer":
        return f"std::optional<{cpp_type(ref.elem)}>"
    if ref.kind == "list":
        return f"std::vector<{cpp_type(ref.elem)}>"
    if ref.kind == "map":
        return f"std::map<std::string, {cpp_type(ref.elem)}>"
    target = ref.named()
    if target.raw:
        return "::kpp::api::RawJson"
    return f"::{target.package.cpp_namespace}::{target.name}"


def cpp_field_type(f):
    """A field's member type: a list or map that Go writes as null when nil remembers it."""
    if f.nilable:
        return f"::kpp::api::Nilable<{cpp_type(f.type)}>"
    return cpp_type(f.type)


def go_type(ref):
    if ref.kind == "scalar":
        return SCALAR_GO[ref.name]
    if ref.kind == "pointer":
        return go_type(ref.elem)
    if ref.kind == "list":
        return "[]" + go_type(ref.elem)
    if ref.kind == "map":
        return "map[string]" + go_type(ref.elem)
    target = ref.named()
    return target.options.get("go", f"{target.package.go_package}.{target.name}")


def c_string(text):
    return json.dumps(text)


class PackageEmitter:
    def __init__(self, package, packages):
        self.package = package
        self.packages = packages
        self.ns = package.cpp_namespace
        self.structs = [t for t in package.types.values() if not t.raw]

    # ---- types.h ---------------------------------------------------------------------------

    def imported_packages(self):
        deps = set()
        for type_ in self.structs:
            for f in type_.fields:
                target = f.type.named()
                if target is not None and target.package is not self.package and not target.raw:
                    deps.add(target.package.path)
        return sorted(deps)

    def ordered_structs(self):
        """Structs in an order where every member type that must be complete (held by value or
        in std::optional) is defined before its user. Types held in lists, maps and boxes come
        first too where a cycle allows; otherwise the forward declarations serve."""
        by_name = {t.name: t for t in self.structs}
        done, order, visiting = set(), [], set()

        def visit(type_):
            if type_.name in done:
                return
            if type_.name in visiting:
                raise ValueError(f"{self.package.path}: {type_.name} contains itself; make the "
                                 "field a pointer, list or map")
            visiting.add(type_.name)
            for f in type_.fields:
                target = f.type.named()
                if target is None or target.package is not self.package or target.raw:
                    continue
                needs_complete = f.type.kind == "named" or (f.type.kind == "pointer" and
                                                            not is_boxed(f.type))
                # A list, map or box of a type in the same cycle relies on the forward
                # declaration; any other member type is defined first.
                if needs_complete or not reaches(target, type_):
                    visit(by_name[target.name])
            visiting.discard(type_.name)
            done.add(type_.name)
            order.append(type_)

        for type_ in self.structs:
            visit(type_)
        return order

    def types_header(self):
        out = [
            "// Generated by tools/apigen from the API schema; do not edit.",
            "#pragma once", "",
            "#include <cstdint>", "#include <map>", "#include <optional>", "#include <string>",
            "#include <vector>", "", '#include "api/runtime/box.h"',
            '#include "api/runtime/nilable.h"',
            '#include "api/runtime/scalars.h"',
        ]
        out += [f'#include "api/{path}/types.h"' for path in self.imported_packages()]
        out += ["", f"namespace {self.ns} {{", ""]
        out += [f"struct {type_.name};" for type_ in self.structs]
        out.append("")
        # A struct whose list, map or box member holds a type defined after it gets its equality
        # defaulted after all definitions: clang checks a defaulted operator== where the class
        # ends, and a std::map of an incomplete type cannot be compared there.
        defined, deferred_equality = set(), []
        for type_ in self.ordered_structs():
            defined.add(type_.name)
            defer = any(
                f.type.named() is not None and f.type.named().package is self.package and
                not f.type.named().raw and f.type.named().name not in defined
                for f in type_.fields)
            if type_.doc:
                out.append(f"// {type_.doc}")
            out.append(f"struct {type_.name} {{")
            if type_.kind is not None:
                out.append("  std::string kind;")
                out.append("  std::string api_version;")
            for f in type_.fields:
                out.append(f"  {cpp_field_type(f)} {member_name(f)}{self.initializer(f)};")
            out.append("")
            if defer:
                out.append(f"  bool operator==(const {type_.name}&) const;")
                deferred_equality.append(type_)
            else:
                out.append(f"  bool operator==(const {type_.name}&) const = default;")
            out.append("};")
            out.append("")
        for type_ in deferred_equality:
            # Written out rather than defaulted: clang 14 crashes on a defaulted operator== of a
            # type that holds a list of itself.
            members = (["kind", "api_version"] if type_.kind is not None else []) + \
                [member_name(f) for f in type_.fields]
            compared = " &&\n         ".join(f"{m} == other.{m}" for m in members) or "true"
            out.append(f"inline bool {type_.name}::operator==(const {type_.name}& other) const {{")
            out.append(f"  return {compared};")
            out.append("}")
        if deferred_equality:
            out.append("")
        out.append(f"}}  // namespace {self.ns}")
        return "\n".join(out) + "\n"

    @staticmethod
    def initializer(f):
        if f.type.kind == "scalar" and f.type.name in ("bool", "int32", "int64", "float64"):
            return "{}"
        return ""

    # ---- codec.h ---------------------------------------------------------------------------

    def codec_header(self):
        out = [
            "// Generated by tools/apigen from the API schema; do not edit.",
            "#pragma once", "",
            f'#include "api/{self.package.path}/proto_codec.h"',
            f'#include "api/{self.package.path}/types.h"',
            '#include "api/runtime/codec.h"',
            '#include "api/runtime/lazy_field_path.h"',
            '#include "apimachinery/validation/field_errors.h"', "",
            f"namespace {self.ns} {{", "",
        ]
        for type_ in self.structs:
            name = type_.name
            if type_.custom_json:
                out.append("// Hand-written (src/api/json/): this type's JSON form is not an "
                           "object of its fields.")
            out.append(f"void Encode(const {name}& in, ::kpp::api::runtime::JsonWriter& out);")
            out.append(f"void Decode(const boost::json::value& in, {name}& out, "
                       "::kpp::api::runtime::DecodeContext& ctx);")
            if not type_.custom_json:
                out.append(f"void EncodeFields(const {name}& in, "
                           "::kpp::api::runtime::JsonWriter& out);")
                # go_struct is the struct that type errors name: Go names the outer struct for
                # the fields of an inlined one (Volume.spec.volumes.secret, not VolumeSource...).
                out.append(f"bool DecodeField(std::string_view key, const boost::json::value& in, "
                           f"{name}& out, ::kpp::api::runtime::DecodeContext& ctx, "
                           f"std::string_view go_struct = {c_string(name)});")
            out.append(f"void SetDefaults({name}& obj);")
            out.append(f"void ValidateFields(const {name}& obj, const ::kpp::api::runtime::LazyFieldPath& "
                       "path, ::kpp::validation::FieldErrors& errors);")
            hook = type_.options.get("defaults")
            if hook:
                out.append(f"// Hand-written defaulting, run by SetDefaults after field defaults.")
                out.append(f"void {hook}({name}& obj);")
            out.append("")
        out.append(f"}}  // namespace {self.ns}")
        return "\n".join(out) + "\n"

    # ---- codec.cc --------------------------------------------------------------------------

    def codec_source(self, needs_defaults, needs_validation):
        out = [
            "// Generated by tools/apigen from the API schema; do not edit.",
            f'#include "api/{self.package.path}/codec.h"', "", "#include <cstring>", "",
        ]
        out += [f'#include "api/{path}/codec.h"' for path in self.imported_packages()]
        out += ["", f"namespace {self.ns} {{", ""]
        for type_ in self.structs:
            if not type_.custom_json:
                out += self.encode_functions(type_)
                out += self.decode_functions(type_)
            out += self.defaults_function(type_, needs_defaults)
            out += self.validate_function(type_, needs_validation)
        out.append(f"}}  // namespace {self.ns}")
        return "\n".join(out) + "\n"

    def encode_functions(self, type_):
        name = type_.name
        out = [f"void EncodeFields(const {name}& in, ::kpp::api::runtime::JsonWriter& out) {{"]
        if type_.kind is not None:
            out.append(f'  if (!in.kind.empty()) {{\n    {self.encode_key("kind")}\n'
                       '    out.String(in.kind);\n  }')
            out.append(f'  if (!in.api_version.empty()) {{\n    {self.encode_key("apiVersion")}\n'
                       '    out.String(in.api_version);\n  }')
        for f in type_.fields:
            out += ["  " + line for line in self.encode_field(f)]
        if not type_.fields and type_.kind is None:  # an empty struct, such as a subresource flag
            out.append("  (void)in;\n  (void)out;")
        out.append("}")
        out.append("")
        out.append(f"void Encode(const {name}& in, ::kpp::api::runtime::JsonWriter& out) {{")
        out.append("  out.BeginObject();")
        out.append("  EncodeFields(in, out);")
        out.append("  out.EndObject();")
        out.append("}")
        out.append("")
        return out

    def encode_field(self, f):
        x = f"in.{member_name(f)}"
        if f.inline:
            return [f"EncodeFields({x}, out);"]
        ref = f.type
        always = "always" in f.flags
        key = self.encode_key(f.json_name)
        if ref.kind == "pointer":
            if always:  # a Go pointer without omitempty: null when absent
                return [key, f"{self.encode_value(ref, x)};"]
            return [f"if ({x}) {{", f"  {key}", f"  {self.encode_value(ref.elem, '*' + x)};", "}"]
        if ref.kind in ("list", "map"):
            body = [key] + self.encode_container(ref, x)
            if f.nilable:  # Go writes a nil slice or map without omitempty as null
                return [key, f"if ({x}.is_nil()) {{", "  out.Null();", "} else {"] + [
                    "  " + line for line in body[1:]] + ["}"]
            if always:
                return body
            return [f"if (!{x}.empty()) {{"] + ["  " + line for line in body] + ["}"]
        if ref.kind == "scalar" and ref.name not in STRUCT_LIKE_SCALARS and not always:
            zero = {"string": f"!{x}.empty()", "bytes": f"!{x}.empty()", "bool": x,
                    "int32": f"{x} != 0", "int64": f"{x} != 0", "float64": f"{x} != 0"}[ref.name]
            return [f"if ({zero}) {{", f"  {key}", f"  {self.encode_value(ref, x)};", "}"]
        return [key, f"{self.encode_value(ref, x)};"]

    @staticmethod
    def encode_key(json_name):
        if re.fullmatch(r"[A-Za-z0-9_.$-]+", json_name):
            return f"out.QuotedKey({c_string(c_string(json_name) + ':')});"
        return f"out.Key({c_string(json_name)});"

    def encode_container(self, ref, x, depth=0):
        # Nested containers (map[string][]string) get their own loop variables: no shadowing.
        item, key = ("item", "key") if depth == 0 else (f"item{depth}", f"key{depth}")
        if ref.kind == "list":
            return ["out.BeginArray();", f"for (const auto& {item} : {x}) {{",
                    f"  {self.encode_value(ref.elem, item, depth + 1)};", "}", "out.EndArray();"]
        if ref.elem.kind in ("list", "map"):
            # The value is encoded in a lambda, and clang 14 cannot capture structured bindings.
            entry = f"entry{depth}"
            loop = [f"for (const auto& {entry} : {x}) {{",
                    f"  const auto& {key} = {entry}.first;",
                    f"  const auto& {item} = {entry}.second;"]
        else:
            loop = [f"for (const auto& [{key}, {item}] : {x}) {{"]
        return ["out.BeginObject();"] + loop + [
                f"  out.Key({key});", f"  {self.encode_value(ref.elem, item, depth + 1)};", "}",
                "out.EndObject();"]

    def encode_value(self, ref, x, depth=0):
        if ref.kind == "scalar":
            return SCALAR_ENCODE[ref.name].format(w="out", x=x)
        if ref.kind == "pointer":
            inner = self.encode_value(ref.elem, '*' + x, depth)
            return f"if ({x}) {{ {inner}; }} else {{ out.Null(); }}"
        if ref.kind in ("list", "map"):
            return "[&] { " + " ".join(self.encode_container(ref, x, depth)) + " }()"
        target = ref.named()
        if target.raw:
            return f"::kpp::api::runtime::EncodeRawJson({x}, out)"
        return f"::{target.package.cpp_namespace}::Encode({x}, out)"

    def decode_functions(self, type_):
        name = type_.name
        out = [f"bool DecodeField(std::string_view key, const boost::json::value& in, {name}& out, "
               "::kpp::api::runtime::DecodeContext& ctx, std::string_view go_struct) {"]
        # Keys are told apart by length first, then by a fixed-size compare the compiler turns
        # into a few integer compares: a Pod spec has some forty fields to try per key.
        cases = []
        if type_.kind is not None:
            cases.append(("kind", ["::kpp::api::runtime::DecodeString(in, out.kind, ctx);"]))
            cases.append(("apiVersion",
                          ["::kpp::api::runtime::DecodeString(in, out.api_version, ctx);"]))
        inlines = []
        for f in type_.fields:
            if f.inline:
                inlines.append(f)
                continue
            body = ["ctx.EnterField(go_struct, key);",
                    f"{self.decode_value(f.type, 'in', 'out.' + member_name(f), 'ctx')};"]
            if f.nilable:
                body.append(f"out.{member_name(f)}.set_nil(in.is_null());")
            body.append("ctx.Leave();")
            cases.append((f.json_name, body))
        by_length = {}
        for json_name, body in cases:
            by_length.setdefault(len(json_name.encode()), []).append((json_name, body))
        if by_length:
            out.append("  switch (key.size()) {")
            for length in sorted(by_length):
                out.append(f"    case {length}:")
                for json_name, body in by_length[length]:
                    out.append(f"      if (std::memcmp(key.data(), {c_string(json_name)}, "
                               f"{length}) == 0) {{")
                    out += ["        " + line for line in body]
                    out.append("        return true;")
                    out.append("      }")
                out.append("      break;")
            out.append("    default:")
            out.append("      break;")
            out.append("  }")
        for f in inlines:
            target = f.type.named()
            out.append(f"  if (::{target.package.cpp_namespace}::DecodeField(key, in, "
                       f"out.{member_name(f)}, ctx, go_struct)) return true;")
        if not type_.fields and type_.kind is None:
            out.append("  (void)key;\n  (void)in;\n  (void)out;\n  (void)ctx;")
        if not type_.fields:
            out.append("  (void)go_struct;")
        out.append("  return false;")
        out.append("}")
        out.append("")
        out.append(f"void Decode(const boost::json::value& in, {name}& out, "
                   "::kpp::api::runtime::DecodeContext& ctx) {")
        out.append(f"  const auto* object = ::kpp::api::runtime::ExpectObject(in, ctx, "
                   f"{c_string(self.package.go_package + '.' + name)});")
        out.append("  if (object == nullptr) return;")
        out.append("  for (const auto& [key, value] : *object) {")
        out.append("    if (!DecodeField(key, value, out, ctx)) ctx.UnknownField(key);")
        out.append("    if (ctx.failed()) return;")
        out.append("  }")
        out.append("}")
        out.append("")
        return out

    def decode_value(self, ref, v, o, c, depth=0):
        if ref.kind == "scalar":
            return SCALAR_DECODE[ref.name].format(v=v, o=o, c=c)
        if ref.kind in ("pointer", "list", "map"):
            # Nested lambdas (map[string][]string) get their own parameter names: no shadowing.
            suffix = str(depth) if depth else ""
            lv, lo, lc = "v" + suffix, "o" + suffix, "c" + suffix
            inner = self.decode_value(ref.elem, lv, lo, lc, depth + 1)
            lam = (f"[](const boost::json::value& {lv}, {cpp_type(ref.elem)}& {lo}, "
                   f"::kpp::api::runtime::DecodeContext& {lc}) {{ {inner}; }}")
            if ref.kind == "pointer":
                return f"::kpp::api::runtime::DecodeOptional({v}, {o}, {c}, {lam})"
            helper = "DecodeList" if ref.kind == "list" else "DecodeMap"
            return (f"::kpp::api::runtime::{helper}({v}, {o}, {c}, {c_string(go_type(ref))}, "
                    f"{lam})")
        target = ref.named()
        if target.raw:
            return f"::kpp::api::runtime::DecodeRawJson({v}, {o}, {c})"
        return f"::{target.package.cpp_namespace}::Decode({v}, {o}, {c})"

    # ---- validation ------------------------------------------------------------------------

    def validate_function(self, type_, needs_validation):
        # The path is built only when a check fails (LazyFieldPath): most objects are valid, and
        # building "spec.containers[0].ports[1]" for every field was a tenth of the codec's time.
        out = [f"void ValidateFields(const {type_.name}& obj, "
               "const ::kpp::api::runtime::LazyFieldPath& path, "
               "::kpp::validation::FieldErrors& errors) {"]
        body = []
        for f in type_.fields:
            x = f"obj.{member_name(f)}"
            if f.inline:
                target = f.type.named()
                if needs_validation(target):
                    body.append(f"::{target.package.cpp_namespace}::ValidateFields({x}, path, "
                                "errors);")
                continue
            child = f"path.Child({c_string(f.json_name)})"
            body += self.field_checks(f, x, child)
            target = f.type.named()
            if target is not None and not target.raw and needs_validation(target) and \
                    "novalidate" not in f.flags:
                body += self.recurse_validation(f.type, x, child)
        if not body:
            body = ["(void)obj;", "(void)path;", "(void)errors;"]
        out += ["  " + line for line in body]
        out += ["}", ""]
        return out

    def field_checks(self, f, x, path):
        ref = f.type
        checks = []
        if f.required and "novalidate" not in f.flags:
            if ref.kind == "pointer":
                checks.append(f"if (!{x}) errors.push_back(::kpp::validation::Required({path}));")
            elif ref.kind in ("list", "map") or (ref.kind == "scalar" and
                                                 ref.name in ("string", "bytes")):
                checks.append(f"if ({x}.empty()) errors.push_back("
                              f"::kpp::validation::Required({path}));")
        scalar = ref.elem if ref.kind == "pointer" else ref
        value = f"(*{x})" if ref.kind == "pointer" else x
        guard = f"{x} && " if ref.kind == "pointer" else ""
        if "enum" in f.options and scalar.kind == "scalar" and scalar.name == "string":
            values = f.options["enum"].split("|")
            allowed = " && ".join(f"{value} != {c_string(v)}" for v in values)
            supported = ", ".join(c_string(v) for v in values)
            checks.append(f"if ({guard}!{value}.empty() && {allowed}) {{")
            checks.append(f"  errors.push_back(::kpp::validation::NotSupported({path}, {value}, "
                          f"{{{supported}}}));")
            checks.append("}")
        for bound, op, word in (("min", "<", "greater than or equal to"),
                                ("max", ">", "less than or equal to")):
            if bound in f.options and scalar.kind == "scalar" and scalar.name in ("int32",
                                                                                  "int64"):
                limit = f.options[bound]
                checks.append(f"if ({guard}{value} {op} {limit}) {{")
                checks.append(f"  errors.push_back(::kpp::validation::InvalidInt({path}, {value}, "
                              f"\"must be {word} {limit}\"));")
                checks.append("}")
        return checks

    def recurse_validation(self, ref, x, path):
        target = ref.named()
        call = f"::{target.package.cpp_namespace}::ValidateFields"
        if ref.kind == "named":
            return [f"{call}({x}, {path}, errors);"]
        if ref.kind == "pointer":
            return [f"if ({x}) {{"] + ["  " + line for line in
                                       self.recurse_validation(ref.elem, f"(*{x})", path)] + ["}"]
        if ref.kind == "list":
            return [f"for (size_t i = 0; i < {x}.size(); ++i) {{"] + [
                "  " + line for line in self.recurse_validation(ref.elem, f"{x}[i]",
                                                                f"{path}.Index(i)")] + ["}"]
        return [f"for (const auto& [key, item] : {x}) {{"] + [
            "  " + line for line in self.recurse_validation(ref.elem, "item",
                                                            f"{path}.Key(key)")] + ["}"]

    # ---- defaults --------------------------------------------------------------------------

    def defaults_function(self, type_, needs_defaults):
        out = [f"void SetDefaults({type_.name}& obj) {{"]
        body = []
        for f in type_.fields:
            if "default" in f.options and not f.inline:
                body += self.field_default(f)
        hook = type_.options.get("defaults")
        if hook:
            body.append(f"{hook}(obj);")
        for f in type_.fields:
            target = f.type.named()
            if target is None or target.raw or not needs_defaults(target):
                continue
            body += self.recurse_defaults(f.type, f"obj.{member_name(f)}")
        if not body:
            body = ["(void)obj;"]
        out += ["  " + line for line in body]
        out += ["}", ""]
        return out

    def recurse_defaults(self, ref, x):
        target = ref.named()
        call = f"::{target.package.cpp_namespace}::SetDefaults"
        if ref.kind == "named":
            return [f"{call}({x});"]
        if ref.kind == "pointer":
            return [f"if ({x}) {{"] + ["  " + line for line in
                                       self.recurse_defaults(ref.elem, f"(*{x})")] + ["}"]
        if ref.kind == "list":
            return [f"for (auto& item : {x}) {{"] + ["  " + line for line in
                                                     self.recurse_defaults(ref.elem, "item")] + ["}"]
        return [f"for (auto& [key, item] : {x}) {{"] + ["  " + line for line in
                                                        self.recurse_defaults(ref.elem, "item")] + [
                   "}"]

    def field_default(self, f):
        x = f"obj.{member_name(f)}"
        ref = f.type
        value = f.options["default"]
        if ref.kind == "pointer":
            return [f"if (!{x}) {x} = {self.literal(ref.elem, value, f)};"]
        if ref.kind != "scalar":
            raise ValueError(f"{self.package.file}:{f.line}: defaults are for scalars and pointers")
        empty = {"string": f"{x}.empty()", "Duration": f"{x}.empty()", "bool": f"!{x}",
                 "int32": f"{x} == 0", "int64": f"{x} == 0", "float64": f"{x} == 0",
                 "IntOrString": f"{x}.IsZero()", "Quantity": f"{x}.IsZero()"}[ref.name]
        return [f"if ({empty}) {x} = {self.literal(ref, value, f)};"]

    def literal(self, ref, value, f):
        if ref.kind != "scalar":
            raise ValueError(f"{self.package.file}:{f.line}: cannot default a {ref.kind}")
        name = ref.name
        if name in ("string", "Duration"):
            return c_string(value)
        if name == "bool":
            if value not in ("true", "false"):
                raise ValueError(f"{self.package.file}:{f.line}: bool default must be true/false")
            return value
        if name in ("int32", "int64", "float64"):
            float(value)
            return value
        if name == "IntOrString":
            if re.fullmatch(r"-?\d+", value):
                return f"::kpp::api::IntOrString::FromInt({value})"
            return f"::kpp::api::IntOrString::FromString({c_string(value)})"
        if name == "Quantity":
            return f"::kpp::api::Quantity{{{c_string(value)}}}"
        raise ValueError(f"{self.package.file}:{f.line}: cannot default a {name}")


def types_needing_validation(packages):
    """The set of types whose ValidateFields checks anything, as a predicate."""
    def direct(type_):
        return any(f.required or "enum" in f.options or "min" in f.options or "max" in f.options
                   for f in type_.fields if not f.inline)
    return _transitive(packages, direct)


def _transitive(packages, direct):
    marked = set()
    all_types = [t for p in packages.values() for t in p.types.values() if not t.raw]
    changed = True
    while changed:
        changed = False
        for type_ in all_types:
            key = (type_.package.path, type_.name)
            if key in marked:
                continue
            nested = any(
                (t := f.type.named()) is not None and not t.raw and (t.package.path, t.name) in marked
                for f in type_.fields)
            if direct(type_) or nested:
                marked.add(key)
                changed = True
    return lambda t: (t.package.path, t.name) in marked


def types_needing_defaults(packages):
    """The set of types whose SetDefaults does anything, as a predicate."""
    return _transitive(packages, lambda t: bool(t.options.get("defaults")) or any(
        "default" in f.options for f in t.fields))
