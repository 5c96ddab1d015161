"""Emits the OpenAPI v2 `definitions` for every schema type, named as upstream names them
(io.k8s.api.core.v1.Pod), with the x-kubernetes-* extensions kubectl and server-side apply read."""

import json

BUILTIN_DEFINITIONS = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": {
        "description": "A point in time, serialized as RFC 3339 in UTC with whole seconds.",
        "type": "string", "format": "date-time"},
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": {
        "description": "A point in time with microseconds, serialized as RFC 3339.",
        "type": "string", "format": "date-time"},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "description": "A fixed-point number such as 100m, 1.5Gi or 2e3, used for resources.",
        "type": "string"},
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "description": "Either an integer or a string, such as a port number or name.",
        "type": "string", "format": "int-or-string"},
}

BUILTIN_REFS = {
    "Time": "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    "MicroTime": "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
    "Quantity": "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "IntOrString": "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
}

PRIMITIVES = {
    "string": {"type": "string"}, "Duration": {"type": "string"},
    "bool": {"type": "boolean"}, "int32": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "float64": {"type": "number", "format": "double"},
    "bytes": {"type": "string", "format": "byte"},
}


def definition_name(type_):
    return type_.options.get("openapi", f"{type_.package.openapi_prefix}.{type_.name}")


def _schema_of(ref):
    if ref.kind == "scalar":
        if ref.name in BUILTIN_REFS:
            return {"$ref": "#/definitions/" + BUILTIN_REFS[ref.name]}
        return dict(PRIMITIVES[ref.name])
    if ref.kind == "pointer":
        return _schema_of(ref.elem)
    if ref.kind == "list":
        return {"type": "array", "items": _schema_of(ref.elem)}
    if ref.kind == "map":
        return {"type": "object", "additionalProperties": _schema_of(ref.elem)}
    return {"$ref": "#/definitions/" + definition_name(ref.named())}


def _default_value(ref, text):
    while ref.kind == "pointer":
        ref = ref.elem
    if ref.kind == "scalar" and ref.name in ("int32", "int64"):
        return int(text)
    if ref.kind == "scalar" and ref.name == "float64":
        return float(text)
    if ref.kind == "scalar" and ref.name == "bool":
        return text == "true"
    if ref.kind == "scalar" and ref.name == "IntOrString" and text.lstrip("-").isdigit():
        return int(text)
    return text


def _property(f):
    schema = _schema_of(f.type)
    if f.doc:
        schema["description"] = f.doc
    if "default" in f.options:
        schema["default"] = _default_value(f.type, f.options["default"])
    if "enum" in f.options:
        values = f.options["enum"].split("|")
        target = schema["items"] if schema.get("type") == "array" else schema
        target["enum"] = values
    if f.patch_strategy:
        schema["x-kubernetes-patch-strategy"] = f.patch_strategy
    if f.options.get("merge"):
        schema["x-kubernetes-patch-merge-key"] = f.options["merge"]
    if "list" in f.options:
        schema["x-kubernetes-list-type"] = f.options["list"]
        if f.options["list"] == "map":
            schema["x-kubernetes-list-map-keys"] = f.options.get("keys", f.options.get(
                "merge", "name")).split(",")
    if "map" in f.options:
        schema["x-kubernetes-map-type"] = f.options["map"]
    if "struct" in f.options:
        schema["x-kubernetes-map-type"] = f.options["struct"]
    for bound, key in (("min", "minimum"), ("max", "maximum")):
        if bound in f.options:
            schema[key] = int(f.options[bound])
    return schema


def _collect_properties(type_, properties, required):
    for f in type_.fields:
        if f.inline:
            _collect_properties(f.type.named(), properties, required)
            continue
        properties[f.json_name] = _property(f)
        if f.required:
            required.append(f.json_name)


def definitions(packages):
    result = dict(BUILTIN_DEFINITIONS)
    for package in packages.values():
        for type_ in package.types.values():
            schema = {}
            if type_.doc:
                schema["description"] = type_.doc
            # A value of any JSON type, or a union of two shapes: no OpenAPI type, as upstream.
            if type_.options.get("json") in ("any", "custom"):
                result[definition_name(type_)] = schema
                continue
            if type_.raw:
                schema["type"] = "object"
                result[definition_name(type_)] = schema
                continue
            properties, required = {}, []
            if type_.kind is not None:
                properties["apiVersion"] = {
                    "description": "The versioned schema of this object, e.g. "
                                   f"{package.group_version}.",
                    "type": "string"}
                properties["kind"] = {
                    "description": f"The REST resource this object represents: {type_.name}.",
                    "type": "string"}
            _collect_properties(type_, properties, required)
            schema["type"] = "object"
            if required:
                schema["required"] = required
            schema["properties"] = properties
            if "struct" in type_.options:
                schema["x-kubernetes-map-type"] = type_.options["struct"]
            if type_.kind is not None:
                schema["x-kubernetes-group-version-kind"] = [
                    {"group": package.group, "kind": type_.name, "version": package.version}]
            result[definition_name(type_)] = schema
    return dict(sorted(result.items()))


def definitions_json(packages):
    return json.dumps(definitions(packages), indent=None, separators=(",", ":"), sort_keys=False)
