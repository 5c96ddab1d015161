"""Reads the API schema (api/**/*.api) into a model the emitters share.

The format is described in api/README.md. This module only parses and checks references; it knows
nothing of C++ or OpenAPI.
"""

import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional

SCALARS = {
    "string", "bool", "int32", "int64", "float64", "bytes",
    "Time", "MicroTime", "Quantity", "IntOrString", "Duration",
}

FIELD_FLAGS = {"required", "always", "retainKeys", "replace", "merge", "novalidate"}
FIELD_OPTIONS = {"default", "enum", "merge", "list", "keys", "map", "struct", "format", "min",
                 "max", "proto"}
KIND_FLAGS = {"namespaced", "cluster", "nolist", "noresource"}
KIND_OPTIONS = {"plural", "singular", "short", "categories", "subresources", "verbs", "storage",
                "deprecated", "removed", "name", "immutable"}
# The kind option name=: upstream's rule for an object's name (its ValidateNameFunc).
NAME_RULES = {"subdomain": "kSubdomain", "label": "kLabel", "dns1035": "kDns1035Label",
              "path": "kPathSegment"}
TYPE_OPTIONS = {"defaults", "openapi", "go", "struct", "json", "optional"}

DEFAULT_VERBS = "create,delete,deletecollection,get,list,patch,update,watch"


class SchemaError(Exception):
    pass


@dataclass
class TypeRef:
    """A field's type: a scalar, a named struct or raw type, or a pointer/list/map of one."""
    kind: str  # "scalar", "named", "pointer", "list", "map"
    name: str = ""  # scalar name, or the named type's local name
    package: Optional["Package"] = None  # for "named": the package defining it
    elem: Optional["TypeRef"] = None

    def named(self):
        """The Type this ref ends in (through pointers, lists and maps), or None for scalars."""
        ref = self
        while ref.kind in ("pointer", "list", "map"):
            ref = ref.elem
        return ref.package.types[ref.name] if ref.kind == "named" else None


@dataclass
class Field:
    json_name: str
    type: TypeRef
    doc: str = ""
    inline: bool = False
    flags: set = field(default_factory=set)
    options: Dict[str, str] = field(default_factory=dict)
    line: int = 0
    # A list or map that Go writes as null when nil (no omitempty); set by load().
    nilable: bool = False

    @property
    def required(self):
        return "required" in self.flags

    @property
    def patch_strategy(self):
        """The strategic-merge patch strategy, e.g. "merge,retainKeys"; empty when none."""
        parts = []
        if "merge" in self.options or "merge" in self.flags:
            parts.append("merge")
        if "retainKeys" in self.flags:
            parts.append("retainKeys")
        if "replace" in self.flags:
            parts.append("replace")
        return ",".join(parts)


@dataclass
class Type:
    name: str
    package: "Package"
    doc: str = ""
    fields: List[Field] = field(default_factory=list)
    raw: bool = False  # arbitrary JSON with its own OpenAPI name
    kind: Optional["Kind"] = None  # set for kinds (objects with apiVersion/kind)
    options: Dict[str, str] = field(default_factory=dict)
    line: int = 0
    file: str = ""

    @property
    def custom_json(self):
        """Whether the JSON form is hand-written (a union such as schema-or-bool)."""
        return self.options.get("json") == "custom"


@dataclass
class Kind:
    name: str
    flags: set
    options: Dict[str, str]

    @property
    def namespaced(self):
        return "namespaced" in self.flags

    @property
    def is_resource(self):
        return "noresource" not in self.flags

    @property
    def plural(self):
        return self.options.get("plural", self.name.lower() + "s")


@dataclass
class Package:
    path: str  # "core/v1"
    group: str  # "" for core
    version: str
    go_package: str
    openapi_prefix: str
    file: str
    imports: Dict[str, str] = field(default_factory=dict)  # alias -> package path
    types: Dict[str, Type] = field(default_factory=dict)  # in file order

    @property
    def cpp_namespace(self):
        return "kpp::api::" + self.path.replace("/", "::").replace(".", "_").replace("-", "_")

    @property
    def group_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version


def _split_doc(line):
    """Splits `tokens "doc"` into (tokens, doc)."""
    match = re.search(r'\s"((?:[^"\\]|\\.)*)"\s*$', " " + line)
    if not match:
        return line, ""
    return line[: match.start()].rstrip() if match.start() > 0 else "", match.group(1)


def _parse_options(tokens, flags_allowed, options_allowed, where):
    flags, options = set(), {}
    for token in tokens:
        if "=" in token:
            key, value = token.split("=", 1)
            if key not in options_allowed:
                raise SchemaError(f"{where}: unknown option {key!r}")
            options[key] = value
        elif token in flags_allowed:
            flags.add(token)
        elif token == "immutable":
            raise SchemaError(f"{where}: immutable is a kind option, listing the fields by path: "
                              "immutable=spec.selector,spec.template")
        else:
            raise SchemaError(f"{where}: unknown word {token!r}")
    return flags, options


class _Reader:
    def __init__(self, path, text):
        self.path = path
        self.lines = text.splitlines()

    def parse(self):
        package = None
        current = None  # Type being filled
        last_field = None
        for number, raw_line in enumerate(self.lines, 1):
            where = f"{self.path}:{number}"
            line = raw_line.split(" #", 1)[0].rstrip() if not raw_line.lstrip().startswith(
                '"') else raw_line.rstrip()
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            indented = line[0] in " \t"
            text = line.strip()
            if text.startswith('"'):
                doc = _split_doc(" " + text)[1]
                if last_field is not None:
                    last_field.doc = (last_field.doc + " " + doc).strip()
                elif current is not None:
                    current.doc = (current.doc + " " + doc).strip()
                else:
                    raise SchemaError(f"{where}: documentation outside a type")
                continue
            if not indented:
                words = shlex.split(text)
                keyword = words[0]
                last_field = None
                if keyword == "package":
                    group_version = words[1]
                    group, version = group_version.rsplit("/", 1)
                    package = Package(path=group_version, group="" if group == "core" else group,
                                      version=version, go_package=version, openapi_prefix="",
                                      file=self.path)
                    current = None
                elif package is None:
                    raise SchemaError(f"{where}: the file must start with `package`")
                elif keyword == "go-package":
                    package.go_package = words[1]
                elif keyword == "openapi":
                    package.openapi_prefix = words[1]
                elif keyword == "import":
                    if len(words) != 4 or words[2] != "as":
                        raise SchemaError(f"{where}: want `import <group>/<version> as <alias>`")
                    package.imports[words[3]] = words[1]
                elif keyword in ("type", "kind", "raw"):
                    tokens, doc = _split_doc(text)
                    words = shlex.split(tokens)
                    name = words[1]
                    if name in package.types:
                        raise SchemaError(f"{where}: {name} is defined twice")
                    current = Type(name=name, package=package, doc=doc, line=number, file=self.path)
                    if keyword == "kind":
                        flags, options = _parse_options(words[2:], KIND_FLAGS,
                                                        KIND_OPTIONS | {"defaults"}, where)
                        # A kind is also a type: it may name a defaulting hook.
                        if "defaults" in options:
                            current.options["defaults"] = options.pop("defaults")
                        if "namespaced" not in flags and "cluster" not in flags and \
                                "noresource" not in flags:
                            raise SchemaError(f"{where}: a kind is `namespaced` or `cluster`")
                        if options.get("name", "subdomain") not in NAME_RULES:
                            raise SchemaError(f"{where}: name= is one of {sorted(NAME_RULES)}")
                        current.kind = Kind(name=name, flags=flags, options=options)
                    elif keyword == "raw":
                        current.raw = True
                        _, current.options = _parse_options(words[2:], set(), TYPE_OPTIONS, where)
                    else:
                        _, current.options = _parse_options(words[2:], set(), TYPE_OPTIONS, where)
                    # json=custom: a struct whose JSON form is hand-written; json=any: a raw
                    # value that may be any JSON, not only an object.
                    allowed_json = "any" if keyword == "raw" else "custom"
                    if current.options.get("json", allowed_json) != allowed_json:
                        raise SchemaError(f"{where}: {keyword} takes json={allowed_json} only")
                    if current.options.get("optional", "box") != "box":
                        raise SchemaError(f"{where}: optional= takes box only")
                    package.types[name] = current
                else:
                    raise SchemaError(f"{where}: unknown statement {keyword!r}")
                continue
            if current is None or current.raw:
                raise SchemaError(f"{where}: field outside a type")
            tokens, doc = _split_doc(text)
            words = shlex.split(tokens)
            if words[0] == "inline":
                f = Field(json_name="", type=_parse_type_text(words[1]), doc=doc, inline=True,
                          line=number)
                f.flags, f.options = _parse_options(words[2:], FIELD_FLAGS, FIELD_OPTIONS, where)
            else:
                if len(words) < 2:
                    raise SchemaError(f"{where}: want `<jsonName> <Type> [options] \"doc\"`")
                f = Field(json_name=words[0], type=_parse_type_text(words[1]), doc=doc,
                          line=number)
                f.flags, f.options = _parse_options(words[2:], FIELD_FLAGS, FIELD_OPTIONS, where)
            if any(existing.json_name == f.json_name and not f.inline
                   for existing in current.fields):
                raise SchemaError(f"{where}: field {f.json_name} is defined twice")
            if "proto" in f.options:
                number = f.options["proto"]
                if not re.fullmatch(r"[1-9][0-9]{0,5}", number):
                    raise SchemaError(f"{where}: proto wants a field number, not {number!r}")
                if any(existing.options.get("proto") == number for existing in current.fields):
                    raise SchemaError(f"{where}: proto field number {number} is used twice in "
                                      f"{current.name}")
            current.fields.append(f)
            last_field = f
        if package is None:
            raise SchemaError(f"{self.path}: no `package` statement")
        return package


def _parse_type_text(text):
    """Parses a type expression; named types are resolved later."""
    if text.startswith("*"):
        return TypeRef("pointer", elem=_parse_type_text(text[1:]))
    if text.startswith("[]"):
        return TypeRef("list", elem=_parse_type_text(text[2:]))
    if text.startswith("map[string]"):
        return TypeRef("map", elem=_parse_type_text(text[len("map[string]"):]))
    if text in SCALARS:
        return TypeRef("scalar", name=text)
    return TypeRef("named", name=text)


def _resolve(ref, package, packages, where):
    if ref.kind in ("pointer", "list", "map"):
        _resolve(ref.elem, package, packages, where)
        return
    if ref.kind != "named":
        return
    if "." in ref.name:
        alias, name = ref.name.split(".", 1)
        if alias not in package.imports:
            raise SchemaError(f"{where}: unknown package alias {alias!r}")
        target = packages.get(package.imports[alias])
        if target is None:
            raise SchemaError(f"{where}: package {package.imports[alias]} is not in the schema")
    else:
        name, target = ref.name, package
    if name not in target.types:
        raise SchemaError(f"{where}: unknown type {ref.name}")
    ref.name, ref.package = name, target


def load(api_dir):
    """Loads every .api file under api_dir; returns packages by path, in a stable order."""
    packages = {}
    for root, _, files in sorted(os.walk(api_dir)):
        for name in sorted(files):
            if not name.endswith(".api"):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as handle:
                package = _Reader(os.path.relpath(path, os.path.dirname(api_dir)),
                                  handle.read()).parse()
            if not package.openapi_prefix:
                raise SchemaError(f"{path}: missing `openapi <prefix>`")
            existing = packages.get(package.path)
            if existing is None:
                packages[package.path] = package
                continue
            # A package may be split over several files; they must agree on its names.
            if (existing.openapi_prefix, existing.go_package) != (package.openapi_prefix,
                                                                  package.go_package):
                raise SchemaError(f"{path}: package {package.path} is declared differently in "
                                  f"{existing.file}")
            for alias, target in package.imports.items():
                if existing.imports.setdefault(alias, target) != target:
                    raise SchemaError(f"{path}: import alias {alias} means something else in "
                                      f"{existing.file}")
            for name, type_ in package.types.items():
                if name in existing.types:
                    raise SchemaError(f"{path}:{type_.line}: {name} is already defined in "
                                      f"{existing.types[name].file}")
                type_.package = existing
                existing.types[name] = type_
    for package in packages.values():
        for type_ in list(package.types.values()):
            _add_list_kind(package, type_)
    for package in packages.values():
        for type_ in package.types.values():
            for f in type_.fields:
                _resolve(f.type, package, packages, f"{type_.file}:{f.line}")
                if f.inline and (f.type.kind != "named" or f.type.named().raw or
                                 f.type.named().custom_json):
                    raise SchemaError(f"{type_.file}:{f.line}: only structs with generated JSON "
                                      "can be inlined")
    for package in packages.values():
        for type_ in package.types.values():
            for f in type_.fields:
                f.nilable = _is_nilable(package, type_, f)
    for package in packages.values():
        for type_ in package.types.values():
            storage_type(type_, packages)
            deprecation_warning(type_, packages)
    return dict(sorted(packages.items()))


# Packages of wire types that only the server writes (discovery documents, tables, metadata
# lists): their lists are always built, so they are written as [] even when empty.
SERVER_WRITTEN_PACKAGES = {"meta/v1", "apidiscovery.k8s.io/v2"}


def _is_nilable(package, type_, f):
    """Whether a field is a Go slice or map without omitempty, so that nil is written as null.
    The items of a kind's list are always written as [], as upstream's storage fills them."""
    if "always" not in f.flags or f.inline or f.type.kind not in ("list", "map"):
        return False
    is_list_items = type_.kind is not None and type_.name.endswith("List") and \
        f.json_name == "items"
    return not is_list_items and package.path not in SERVER_WRITTEN_PACKAGES


def deprecation_warning(type_, packages):
    """Upstream's warning for a request in a deprecated version (`deprecated=1.8 removed=1.16`),
    naming the storage version as the replacement; empty when the version is not deprecated."""
    kind = type_.kind
    if kind is None or "deprecated" not in kind.options:
        if kind is not None and "removed" in kind.options:
            raise SchemaError(f"{type_.file}:{type_.line}: removed= needs deprecated=")
        return ""
    versions = {}
    for key in ("deprecated", "removed"):
        if key in kind.options:
            if not re.fullmatch(r"1\.\d+", kind.options[key]):
                raise SchemaError(f"{type_.file}:{type_.line}: {key}= wants a version like 1.16")
            versions[key] = kind.options[key]
    text = f"{type_.package.group_version} {type_.name} is deprecated in v{versions['deprecated']}+"
    if "removed" in versions:
        text += f", unavailable in v{versions['removed']}+"
    storage = storage_type(type_, packages)
    if storage is not None:
        text += f"; use {storage.package.group_version} {storage.name}"
    return text


def storage_type(type_, packages):
    """The kind `type_` is stored as, when its `storage=<group>/<version>` names another version
    of it (same name, resource, scope); None when it is stored as itself."""
    kind = type_.kind
    if kind is None or "storage" not in kind.options:
        return None
    where = f"{type_.file}:{type_.line}"
    path = kind.options["storage"]
    if "/" not in path:
        path = "core/" + path
    if not kind.is_resource:
        raise SchemaError(f"{where}: only resource kinds have a storage version")
    target_package = packages.get(path)
    if target_package is None or target_package is type_.package:
        raise SchemaError(f"{where}: storage={kind.options['storage']} names no other package")
    target = target_package.types.get(type_.name)
    if target is None or target.kind is None or not target.kind.is_resource:
        raise SchemaError(f"{where}: {path} has no resource kind {type_.name}")
    if "storage" in target.kind.options:
        raise SchemaError(f"{where}: {path} {type_.name} is itself stored as another version")
    if (target.kind.plural, target.kind.namespaced) != (kind.plural, kind.namespaced):
        raise SchemaError(f"{where}: {path} {type_.name} differs in plural or scope")
    return target


def _add_list_kind(package, type_):
    """Adds <Kind>List (metadata + items) for each kind that is served as a collection."""
    kind = type_.kind
    if kind is None or "nolist" in kind.flags or "noresource" in kind.flags:
        return
    list_name = type_.name + "List"
    if list_name in package.types:
        return
    if package.path == "meta/v1":
        list_meta = "ListMeta"
    else:
        aliases = [alias for alias, path in package.imports.items() if path == "meta/v1"]
        if not aliases:
            raise SchemaError(f"{package.file}: kinds need `import meta/v1 as meta` for their lists")
        list_meta = aliases[0] + ".ListMeta"
    list_type = Type(name=list_name, package=package, line=type_.line, file=type_.file,
                     doc=f"A list of {type_.name} objects.",
                     kind=Kind(name=list_name, flags={"noresource"}, options={}))
    list_type.fields = [
        Field(json_name="metadata", type=TypeRef("named", name=list_meta), line=type_.line,
              doc="Standard list metadata: resourceVersion and continue token.",
              options={"proto": "1"}),
        Field(json_name="items", type=TypeRef("list", elem=TypeRef("named", name=type_.name)),
              doc=f"The {type_.name} objects.", flags={"required", "always"}, line=type_.line,
              options={"proto": "2"}),
    ]
    package.types[list_name] = list_type
