"""Tests of tools/apigen for what the generated C++ tests cannot show: how recursive types,
hand-written JSON forms and raw values are laid out and described."""

import os
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                                "apigen"))

import apigen  # noqa: E402
import cpp  # noqa: E402
import openapi  # noqa: E402
import schema  # noqa: E402

META = """
package meta/v1
openapi io.k8s.apimachinery.pkg.apis.meta.v1
type ListMeta
  "List metadata."
  resourceVersion string proto=2 "Version."
type ObjectMeta
  "Object metadata."
  name string proto=1 "Name."
"""


def load(text, more=None):
    """Loads meta/v1, `text` as test.example.com/v1 and `more` ({path: text}) as a schema."""
    files = {"meta/v1/meta.api": META, "test.example.com/v1/t.api": text, **(more or {})}
    with tempfile.TemporaryDirectory() as root:
        api = os.path.join(root, "api")
        for path, content in files.items():
            os.makedirs(os.path.join(api, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(api, path), "w", encoding="utf-8") as handle:
                handle.write(textwrap.dedent(content))
        return schema.load(api)


TREE = """
package test.example.com/v1
openapi com.example.test.v1
import meta/v1 as meta

kind Tree cluster
  "A tree."
  metadata meta.ObjectMeta proto=1 "Metadata."
  root     *Node           proto=2 "The root."
  leaf     Leaf            proto=3 "A leaf by value."

type Node
  "A node that holds nodes."
  children map[string]Node proto=1 merge=name "Children by name."
  first    []Node          proto=2 "Children in order."
  next     *Either         proto=3 "A union holding a node."
  label    *Leaf           proto=4 "A plain optional."

type Either json=custom
  "A node or a flag."
  node *Node proto=1 "The node."
  flag bool  proto=2 "The flag."

type Leaf
  "Holds no node."
  value *Any proto=1 "Any value."

raw Any json=any
  "Any JSON."
"""


class RecursionTest(unittest.TestCase):
    def setUp(self):
        self.packages = load(TREE)
        self.package = self.packages["test.example.com/v1"]
        self.types = self.package.types

    def test_pointers_to_types_that_hold_themselves_are_boxed(self):
        fields = {f.json_name: f for t in self.types.values() for f in t.fields}
        ns = "::kpp::api::test_example_com::v1::"
        self.assertEqual(cpp.cpp_type(fields["root"].type), f"::kpp::api::Box<{ns}Node>")
        self.assertEqual(cpp.cpp_type(fields["next"].type), f"::kpp::api::Box<{ns}Either>")
        self.assertEqual(cpp.cpp_type(fields["node"].type), f"::kpp::api::Box<{ns}Node>")
        self.assertEqual(cpp.cpp_type(fields["label"].type), f"std::optional<{ns}Leaf>")
        self.assertFalse(cpp.is_recursive(self.types["Leaf"]))
        self.assertTrue(cpp.is_recursive(self.types["Either"]))

    def test_structs_are_forward_declared_and_complete_members_come_first(self):
        emitter = cpp.PackageEmitter(self.package, self.packages)
        order = [t.name for t in emitter.ordered_structs()]
        self.assertLess(order.index("Leaf"), order.index("Node"))  # held in std::optional
        self.assertLess(order.index("Leaf"), order.index("Tree"))  # held by value
        header = emitter.types_header()
        self.assertIn("struct Node;\nstruct Either;", header)
        self.assertLess(header.index("struct Node;"), header.index("struct Node {"))

    def test_a_struct_that_holds_itself_by_value_is_rejected(self):
        packages = load("""
            package test.example.com/v1
            openapi com.example.test.v1
            type Loop
              "Holds itself."
              again Again proto=1 "By value."
            type Again
              "Holds the loop."
              loop Loop proto=1 "By value."
            """)
        emitter = cpp.PackageEmitter(packages["test.example.com/v1"], packages)
        with self.assertRaisesRegex(ValueError, "contains itself"):
            emitter.ordered_structs()

    def test_custom_json_types_get_declarations_only(self):
        emitter = cpp.PackageEmitter(self.package, self.packages)
        header = emitter.codec_header()
        self.assertIn("void Encode(const Either& in", header)
        self.assertIn("void Decode(const boost::json::value& in, Either& out", header)
        self.assertNotIn("EncodeFields(const Either&", header)
        self.assertNotIn("DecodeField(std::string_view key, const boost::json::value& in, Either&",
                         header)
        source = emitter.codec_source(cpp.types_needing_defaults(self.packages),
                                      cpp.types_needing_validation(self.packages))
        self.assertNotIn("void Encode(const Either& in", source)
        self.assertIn("void SetDefaults(Either& obj)", source)

    def test_openapi_describes_unions_and_any_json_without_a_type(self):
        definitions = openapi.definitions(self.packages)
        self.assertEqual(definitions["com.example.test.v1.Either"],
                         {"description": "A node or a flag."})
        self.assertEqual(definitions["com.example.test.v1.Any"], {"description": "Any JSON."})
        self.assertEqual(definitions["com.example.test.v1.Node"]["properties"]["next"]["$ref"],
                         "#/definitions/com.example.test.v1.Either")

    def test_patch_metadata_stops_at_recursion(self):
        fields = apigen.patch_fields(self.types["Tree"])
        self.assertEqual(fields, [("root.children", "merge", "name")])

    def test_json_options_are_checked(self):
        with self.assertRaisesRegex(schema.SchemaError, "json=custom only"):
            load("""
                package test.example.com/v1
                openapi com.example.test.v1
                type Bad json=any
                  "Not a raw type."
                """)
        with self.assertRaisesRegex(schema.SchemaError, "only structs with generated JSON"):
            load("""
                package test.example.com/v1
                openapi com.example.test.v1
                type Outer
                  "Inlines a union."
                  inline Union proto=1 "The union."
                type Union json=custom
                  "A union."
                  flag bool proto=1 "A flag."
                """)


def widget(version, options=""):
    return f"""
        package test.example.com/{version}
        openapi com.example.test.{version}
        import meta/v1 as meta
        kind Widget namespaced {options}
          "A widget."
          metadata meta.ObjectMeta proto=1 "Metadata."
        """


class StorageVersionTest(unittest.TestCase):
    def test_kinds_point_at_the_row_of_their_storage_version(self):
        packages = load(widget("v1", "storage=test.example.com/v2 deprecated=1.8 removed=1.16"),
                        {"test.example.com/v2/t.api": widget("v2")})
        v1 = packages["test.example.com/v1"].types["Widget"]
        v2 = packages["test.example.com/v2"].types["Widget"]
        self.assertIs(schema.storage_type(v1, packages), v2)
        self.assertIsNone(schema.storage_type(v2, packages))
        rows = [line for line in apigen.kinds_source(packages).splitlines()
                if line.startswith('      {"test.example.com"')]
        self.assertEqual(len(rows), 2)
        self.assertTrue(rows[0].startswith('      {"test.example.com", "v1", "Widget"'))
        warning = ("test.example.com/v1 Widget is deprecated in v1.8+, unavailable in v1.16+; "
                   "use test.example.com/v2 Widget")
        self.assertIn(f', &kinds[1], "{warning}", ', rows[0])
        self.assertIn(', nullptr, "", ', rows[1])

    def test_storage_and_deprecation_options_are_checked(self):
        cases = [
            ("storage=test.example.com/v3", {}, "names no other package"),
            ("storage=test.example.com/v1", {}, "names no other package"),
            ("storage=test.example.com/v2",
             {"test.example.com/v2/t.api": widget("v2").replace("Widget", "Gadget")},
             "has no resource kind Widget"),
            ("storage=test.example.com/v2",
             {"test.example.com/v2/t.api": widget("v2").replace("namespaced", "cluster")},
             "differs in plural or scope"),
            ("storage=test.example.com/v2",
             {"test.example.com/v2/t.api": widget("v2", "storage=test.example.com/v3"),
              "test.example.com/v3/t.api": widget("v3")},
             "is itself stored as another version"),
        ]
        cases += [
            ("deprecated=1.8x", {}, "wants a version like 1.16"),
            ("removed=1.16", {}, "removed= needs deprecated="),
        ]
        for options, more, message in cases:
            with self.subTest(options=options, message=message):
                with self.assertRaisesRegex(schema.SchemaError, message):
                    load(widget("v1", options), more)


class ObjectRulesTest(unittest.TestCase):
    def test_name_rule_and_immutable_fields_reach_the_kind_table(self):
        packages = load(widget("v1", "name=dns1035 immutable=metadata.name"))
        source = apigen.kinds_source(packages)
        self.assertIn("::kpp::api::NameRule::kDns1035Label", source)
        self.assertIn('_immutable[] = {\n      "metadata.name",\n      {}};', source)

    def test_name_rule_and_immutable_paths_are_checked(self):
        with self.assertRaisesRegex(schema.SchemaError, "name= is one of"):
            load(widget("v1", "name=dns"))
        with self.assertRaisesRegex(ValueError, "immutable=spec.selector: Widget has no such"):
            apigen.kinds_source(load(widget("v1", "immutable=spec.selector")))
        with self.assertRaisesRegex(schema.SchemaError, "immutable is a kind option"):
            load("""
                package test.example.com/v1
                openapi com.example.test.v1
                type T
                  "A type."
                  a string immutable proto=1 "A field."
                """)


class NilableTest(unittest.TestCase):
    def test_lists_and_maps_without_omitempty_are_nilable_but_a_kinds_items(self):
        packages = load("""
            package test.example.com/v1
            openapi com.example.test.v1
            import meta/v1 as meta
            kind Widget namespaced
              "A widget."
              metadata meta.ObjectMeta proto=1 "Metadata."
              parts    []string          proto=2 always "Never omitted."
              labels   map[string]string proto=3 always "Never omitted."
              extras   []string          proto=4 "Omitted when empty."
            """)
        types = packages["test.example.com/v1"].types
        fields = {f.json_name: f.nilable for f in types["Widget"].fields}
        self.assertEqual(fields, {"metadata": False, "parts": True, "labels": True,
                                  "extras": False})
        self.assertFalse(types["WidgetList"].fields[1].nilable)
        header = cpp.PackageEmitter(packages["test.example.com/v1"], packages).types_header()
        self.assertIn("::kpp::api::Nilable<std::vector<std::string>> parts;", header)
        self.assertIn("std::vector<::kpp::api::test_example_com::v1::Widget> items;", header)


if __name__ == "__main__":
    unittest.main()
