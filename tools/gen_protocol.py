#!/usr/bin/python3
"""Generates the Kafka wire codec (C++) from schemas/*.json. Standard library only.

  gen_protocol.py --schemas DIR --out DIR          write generated C++ under DIR/protocol/
  gen_protocol.py --schemas DIR --check-docs FILE  exit 1 if FILE's API table differs
  gen_protocol.py --schemas DIR --update-docs FILE rewrite FILE's API table in place

The schema format is described in schemas/README.md; the generated shape in docs/protocol.md.
Files are only rewritten when their content changes, so unchanged APIs do not recompile.
"""
import argparse
import json
import os
import sys

INF = 1 << 15  # "N+" upper bound

PRIMITIVES = {
    # type: (C++ type, fixed size or None, reader method, writer method)
    "bool": ("bool", 1, "read_bool", "write_bool"),
    "int8": ("int8_t", 1, "read_int8", "write_int8"),
    "int16": ("int16_t", 2, "read_int16", "write_int16"),
    "uint16": ("uint16_t", 2, "read_uint16", "write_uint16"),
    "int32": ("int32_t", 4, "read_int32", "write_int32"),
    "uint32": ("uint32_t", 4, "read_uint32", "write_uint32"),
    "int64": ("int64_t", 8, "read_int64", "write_int64"),
    "float64": ("double", 8, "read_float64", "write_float64"),
    "uuid": ("uuid", 16, "read_uuid", "write_uuid"),
}
VARIABLE = {"string", "bytes", "records"}
INT_LIMITS = {
    "int8": (-(1 << 7), (1 << 7) - 1), "int16": (-(1 << 15), (1 << 15) - 1),
    "uint16": (0, (1 << 16) - 1), "int32": (-(1 << 31), (1 << 31) - 1),
    "uint32": (0, (1 << 32) - 1), "int64": (-(1 << 63), (1 << 63) - 1),
}
CXX_KEYWORDS = {
    "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char", "class",
    "const", "constexpr", "continue", "default", "delete", "do", "double", "else", "enum",
    "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline",
    "int", "long", "mutable", "namespace", "new", "noexcept", "not", "operator", "or", "private",
    "protected", "public", "register", "return", "short", "signed", "sizeof", "static", "struct",
    "switch", "template", "this", "throw", "true", "try", "typedef", "typename", "union",
    "unsigned", "using", "virtual", "void", "volatile", "while", "xor", "requires", "concept",
    # names the generated structs use themselves
    "encode", "decode", "unknown_tags", "min_wire_bytes",
}


class SchemaError(Exception):
    pass


def parse_range(text, what):
    text = str(text)
    try:
        if text == "none":
            return None
        if text.endswith("+"):
            return (int(text[:-1]), INF)
        if "-" in text:
            a, b = text.split("-")
            return (int(a), int(b))
        return (int(text), int(text))
    except ValueError:
        raise SchemaError(f"{what}: bad version range {text!r}")


def intersect(a, b):
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


class Field:
    pass


class Struct:
    def __init__(self, name, fields, scope):
        self.name = name
        self.fields = fields
        self.scope = scope  # C++ qualified name of the enclosing message struct

    @property
    def qname(self):
        return f"{self.scope}::{self.name}"


class Message:
    """One request or response of one API."""

    def __init__(self, api, kind, spec):
        self.api = api
        self.kind = kind
        self.cpp_name = f"{api.snake}_{kind}"
        self.structs = []  # nested structs, innermost first (definition order)
        self.struct_by_name = {}
        where = f"{api.file}: {kind}"
        if not isinstance(spec, dict) or "fields" not in spec:
            raise SchemaError(f"{where}: needs an object with \"fields\"")
        self.common = {}
        for cs in spec.get("common_structs", []):
            self.common[cs["name"]] = cs
        self.fields = self.parse_fields(spec["fields"], where)
        self.root = Struct(self.cpp_name, self.fields, None)
        names = {s.name for s in self.structs}
        for f in self.fields:
            if f.name in names:
                raise SchemaError(f"{where}: field {f.name} has the name of a nested struct")

    def parse_fields(self, specs, where):
        out = []
        seen_tags = set()
        seen_names = set()
        for s in specs:
            f = Field()
            unknown = set(s) - {"name", "type", "versions", "nullable", "default", "tag", "fields"}
            if unknown:
                raise SchemaError(f"{where}: unknown keys {sorted(unknown)}")
            f.name = s["name"]
            if f.name in seen_names:
                raise SchemaError(f"{where}: duplicate field {f.name}")
            seen_names.add(f.name)
            f.cpp = f.name + "_" if f.name in CXX_KEYWORDS else f.name
            fw = f"{where}.{f.name}"
            t = s["type"]
            f.is_array = t.startswith("[]")
            f.type = t[2:] if f.is_array else t
            f.versions = intersect(parse_range(s.get("versions", "0+"), fw), self.api.range)
            if f.versions is None:
                raise SchemaError(f"{fw}: versions outside the API's range")
            f.tag = s.get("tag")
            if f.tag is not None:
                if f.tag in seen_tags:
                    raise SchemaError(f"{fw}: duplicate tag {f.tag}")
                seen_tags.add(f.tag)
                if self.api.flexible is None or f.versions[0] < self.api.flexible:
                    raise SchemaError(f"{fw}: tagged field outside flexible versions")
            f.nullable = None
            if "nullable" in s:
                f.nullable = intersect(parse_range(s["nullable"], fw), f.versions)
            f.has_default = "default" in s
            f.default = s.get("default")
            f.struct = None
            if f.type in PRIMITIVES or f.type in VARIABLE:
                if "fields" in s:
                    raise SchemaError(f"{fw}: primitive type with fields")
                if f.nullable and not f.is_array and f.type not in VARIABLE:
                    raise SchemaError(f"{fw}: {f.type} cannot be nullable")
            else:
                if "fields" in s:
                    fields = self.parse_fields(s["fields"], fw)
                elif f.type in self.common:
                    fields = self.common[f.type].get("_parsed")
                    if fields is None:
                        fields = self.parse_fields(self.common[f.type]["fields"], fw)
                        self.common[f.type]["_parsed"] = fields
                else:
                    raise SchemaError(f"{fw}: unknown type {f.type}")
                if f.nullable and not f.is_array:
                    raise SchemaError(f"{fw}: nullable structs are not supported")
                if f.type in self.struct_by_name:
                    f.struct = self.struct_by_name[f.type]
                    if f.struct.fields is not fields:
                        raise SchemaError(f"{fw}: struct name {f.type} defined twice")
                else:
                    for sub in fields:
                        if sub.name == f.type:
                            raise SchemaError(f"{fw}: struct {f.type} has a field of its own name")
                    f.struct = Struct(f.type, fields, self.cpp_name)
                    self.struct_by_name[f.type] = f.struct
                    self.structs.append(f.struct)
            self.check_default(f, fw)
            out.append(f)
        return out

    def check_default(self, f, fw):
        if not f.has_default:
            return
        d = f.default
        if f.is_array or f.struct is not None or f.type in ("bytes", "records", "uuid"):
            raise SchemaError(f"{fw}: defaults only for scalars and strings")
        if f.type in INT_LIMITS:
            lo, hi = INT_LIMITS[f.type]
            if not isinstance(d, int) or isinstance(d, bool) or not lo <= d <= hi:
                raise SchemaError(f"{fw}: default {d!r} is not a {f.type}")
        elif f.type == "bool" and not isinstance(d, bool):
            raise SchemaError(f"{fw}: default {d!r} is not a bool")
        elif f.type == "string" and not (d is None or isinstance(d, str)):
            raise SchemaError(f"{fw}: default {d!r} is not a string")
        elif f.type == "string" and d is None and f.nullable != f.versions:
            raise SchemaError(f"{fw}: null default needs the field nullable in all its versions")


class Api:
    def __init__(self, path):
        self.file = os.path.basename(path)
        with open(path) as fh:
            try:
                spec = json.load(fh)
            except json.JSONDecodeError as e:
                raise SchemaError(f"{self.file}: {e}")
        unknown = set(spec) - {"api", "key", "versions", "flexible", "request", "response", "note"}
        if unknown:
            raise SchemaError(f"{self.file}: unknown keys {sorted(unknown)}")
        self.name = spec["api"]
        self.snake = self.file[:-len(".json")]
        self.key = int(spec["key"])
        self.range = parse_range(spec["versions"], self.file)
        if self.range is None or self.range[1] == INF:
            raise SchemaError(f"{self.file}: versions must be a closed range")
        fl = parse_range(spec.get("flexible", "none"), self.file)
        self.flexible = fl[0] if fl else None
        self.request = Message(self, "request", spec["request"])
        self.response = Message(self, "response", spec["response"])

    @property
    def first_flexible_cpp(self):
        return str(self.flexible) if self.flexible is not None else "never_flexible"

    def any_flexible(self):
        return self.flexible is not None and self.flexible <= self.range[1]


# ----------------------------------------------------------------------------- C++ helpers

def int_literal(t, v):
    if t in ("int32", "int64") and v == INT_LIMITS[t][0]:
        return f"std::numeric_limits<{t}_t>::min()"
    return str(v)


def cpp_string(s):
    return json.dumps(s)  # JSON string escapes are valid C++ for the ASCII we use


def elem_cpp_type(f):
    if f.struct is not None:
        return f.struct.qname
    if f.type == "string":
        return "std::string"
    if f.type == "bytes":
        return "std::vector<uint8_t>"
    if f.type == "records":
        return "::sluice::protocol::records"  # qualified: fields are often named `records`
    if f.type == "uuid":
        return "::sluice::protocol::uuid"
    return PRIMITIVES[f.type][0]


def cpp_type(f):
    if f.is_array:
        v = f"std::vector<{elem_cpp_type(f)}>"
        return f"std::optional<{v}>" if f.nullable else v
    if f.type in ("string", "bytes") and f.nullable:
        return f"std::optional<{elem_cpp_type(f)}>"
    return elem_cpp_type(f)


def default_init(f):
    """Member initializer (without '=') or None for value-initialization."""
    if f.is_array:
        return f"std::vector<{elem_cpp_type(f)}>{{}}" if f.nullable else None
    if f.struct is not None:
        return None
    if f.type in INT_LIMITS:
        return int_literal(f.type, f.default if f.has_default else 0)
    if f.type == "bool":
        return "true" if f.has_default and f.default else "false"
    if f.type == "float64":
        return repr(float(f.default)) if f.has_default else "0.0"
    if f.type == "string":
        if f.has_default and f.default:
            return cpp_string(f.default)
        if f.nullable and not (f.has_default and f.default is None):
            return "std::string{}"  # Kafka: a string defaults to "" unless the default is null
        return None
    return None


def default_expr(f):
    init = default_init(f)
    t = cpp_type(f)
    return f"{t}{{{init}}}" if init is not None else f"{t}{{}}"


def guard(rng, api, extra=None):
    conds = []
    if extra:
        conds.append(extra)
    if rng[0] > api.range[0]:
        conds.append(f"version >= {rng[0]}")
    if rng[1] < api.range[1]:
        conds.append(f"version <= {rng[1]}")
    return " && ".join(conds)


def nullable_expr(f, api):
    if not f.nullable:
        return "false"
    g = guard(f.nullable, api)
    return f"({g})" if g else "true"


def min_bytes_elem(f, flex_possible):
    """Minimum wire size of one element of array f (any version)."""
    if f.struct is not None:
        return None  # use the struct's min_wire_bytes
    if f.type in PRIMITIVES:
        return PRIMITIVES[f.type][1]
    return 1 if flex_possible else (2 if f.type == "string" else 4)


def struct_min_bytes(st, api):
    """Smallest encoding of struct st over all versions in range."""
    best = None
    for v in range(api.range[0], api.range[1] + 1):
        n = struct_min_bytes_v(st, api, v)
        best = n if best is None else min(best, n)
    return max(best or 0, 1)


def struct_min_bytes_v(st, api, v):
    flex = api.flexible is not None and v >= api.flexible
    n = 1 if flex else 0
    for f in st.fields:
        if f.tag is not None or not (f.versions[0] <= v <= f.versions[1]):
            continue
        if f.is_array or f.type in VARIABLE:
            n += 1 if flex else (2 if f.type == "string" and not f.is_array else 4)
        elif f.struct is not None:
            n += struct_min_bytes_v(f.struct, api, v)
        else:
            n += PRIMITIVES[f.type][1]
    return n


# ----------------------------------------------------------------------------- code emitters

class Emitter:
    def __init__(self, api, msg):
        self.api = api
        self.msg = msg
        self.flex_cond = f"version >= {api.flexible}" if api.any_flexible() else None

    # --- encode
    def enc_scalar(self, f, x, w, flex):
        if f.struct is not None:
            return [f"{x}.encode({w}, version);"]
        if f.type == "string":
            if f.nullable:
                return [f"{w}.write_nullable_string({x}, {flex}, {nullable_expr(f, self.api)});"]
            return [f"{w}.write_string({x}, {flex});"]
        if f.type == "bytes":
            if f.nullable and not f.is_array:
                return [f"{w}.write_nullable_bytes({x}, {flex}, {nullable_expr(f, self.api)});"]
            return [f"{w}.write_bytes({x}, {flex});"]
        if f.type == "records":
            return [f"{w}.write_records({x}, {flex}, {nullable_expr(f, self.api)});"]
        return [f"{w}.{PRIMITIVES[f.type][3]}({x});"]

    def enc_field(self, f, x, w, flex):
        if not f.is_array:
            return self.enc_scalar(f, x, w, flex)
        elem = Field()
        elem.__dict__.update(f.__dict__)
        elem.is_array = False
        elem.nullable = None
        body = ["  " + l for l in self.enc_scalar(elem, "e", w, flex)]
        if f.nullable:
            return ([f"if ({x}) {{", f"  {w}.write_array_len(static_cast<int64_t>({x}->size()), {flex});",
                     f"  for (const auto& e : *{x}) {{"] + ["  " + l for l in body] +
                    ["  }", "} else {", f"  {w}.write_array_len({nullable_expr(f, self.api)} ? -1 : 0, {flex});", "}"])
        return ([f"{w}.write_array_len(static_cast<int64_t>({x}.size()), {flex});", f"for (const auto& e : {x}) {{"] +
                body + ["}"])

    # --- decode
    def dec_scalar(self, f, x, r, flex):
        if f.struct is not None:
            return [f"(void){x}.decode({r}, version);"]
        if f.type == "string":
            if f.nullable:
                return [f"{r}.read_nullable_string({x}, {flex}, {nullable_expr(f, self.api)});"]
            return [f"{r}.read_string({x}, {flex});"]
        if f.type == "bytes":
            if f.nullable:
                return [f"{r}.read_nullable_bytes({x}, {flex}, {nullable_expr(f, self.api)});"]
            return [f"{r}.read_bytes({x}, {flex});"]
        if f.type == "records":
            return [f"{r}.read_records({x}, {flex}, {nullable_expr(f, self.api)});"]
        return [f"{x} = {r}.{PRIMITIVES[f.type][2]}();"]

    def dec_field(self, f, x, r, flex):
        if not f.is_array:
            return self.dec_scalar(f, x, r, flex)
        elem = Field()
        elem.__dict__.update(f.__dict__)
        elem.is_array = False
        elem.nullable = None
        if f.struct is not None:
            minb = f"{f.struct.qname}::min_wire_bytes"
        else:
            minb = str(min_bytes_elem(f, self.api.any_flexible()))
        vec = f"{x}.emplace()" if f.nullable else x
        lines = ["{", f"  const int32_t n = {r}.read_array_len({flex}, {nullable_expr(f, self.api)}, {minb});",
                 "  if (n >= 0) {", f"    auto& v = {vec};", "    v.clear();",
                 "    v.reserve(static_cast<size_t>(n));",
                 f"    for (int32_t i = 0; i < n && {r}.ok(); ++i) {{"]
        if f.struct is not None or f.type in ("string", "bytes", "records"):
            lines += ["      auto& e = v.emplace_back();"] + ["      " + l for l in self.dec_scalar(elem, "e", r, flex)]
        else:
            lines += [f"      v.push_back({r}.{PRIMITIVES[f.type][2]}());"]
        lines += ["    }", "  }"]
        if f.nullable:
            lines += [f"  else if ({r}.ok()) {{", f"    {x}.reset();", "  }"]
        lines += ["}"]
        return lines

    # --- struct bodies
    def encode_body(self, st, top):
        api = self.api
        L = []
        flex = "flex" if self.flex_cond else "false"
        if self.flex_cond:
            L.append(f"const bool flex = {self.flex_cond};")
        for f in st.fields:
            if f.tag is not None:
                continue
            g = guard(f.versions, api)
            body = self.enc_field(f, f.cpp, "w", flex)
            L += wrap(g, body)
        tagged = [f for f in st.fields if f.tag is not None]
        if self.flex_cond:
            L.append("if (flex) {")
            if tagged:
                L.append("  std::vector<writer::encoded_tag> tags;")
                for f in sorted(tagged, key=lambda f: f.tag):
                    g = guard(f.versions, api, f"!({f.cpp} == {default_expr(f)})")
                    body = ["writer t;"] + self.enc_field(f, f.cpp, "t", "true") + [
                        f"tags.push_back({{{f.tag}, t.flatten()}});"]
                    L += ["  " + l for l in wrap(g, body)]
                L.append("  w.write_tags(tags, unknown_tags);")
            else:
                L.append("  w.write_tags(unknown_tags);")
            L.append("}")
        return L

    def decode_body(self, st, top):
        api = self.api
        L = []
        if top:
            L += [f"if (version < {api.range[0]} || version > {api.range[1]}) {{",
                  "  r.fail(errc::unsupported_version);", "  return r.status();", "}"]
        L.append("*this = {};")
        flex = "flex" if self.flex_cond else "false"
        if self.flex_cond:
            L.append(f"const bool flex = {self.flex_cond};")
        for f in st.fields:
            if f.tag is not None:
                continue
            L += wrap(guard(f.versions, api), self.dec_field(f, f.cpp, "r", flex))
        tagged = [f for f in st.fields if f.tag is not None]
        if self.flex_cond:
            L += ["if (flex) {", "  const uint32_t count = r.read_tag_count();",
                  "  int64_t previous = -1;",
                  "  for (uint32_t i = 0; i < count && r.ok(); ++i) {",
                  "    const uint32_t tag = r.read_uvarint32();",
                  "    const uint32_t size = r.read_uvarint32();",
                  "    if (!r.check_tag_order(tag, previous)) break;"]
            first = True
            for f in sorted(tagged, key=lambda f: f.tag):
                g = guard(f.versions, api, f"tag == {f.tag}")
                kw = "if" if first else "} else if"
                first = False
                L.append(f"    {kw} ({g}) {{")
                L.append("      reader t = r.sub(size);")
                L += ["      " + l for l in self.dec_field(f, f.cpp, "t", "true")]
                L.append("      if (t.ok() && t.remaining() != 0) t.fail(errc::bad_tagged_field);")
                L.append("      r.absorb(t);")
            if tagged:
                L += ["    } else {", "      r.read_unknown_tag(unknown_tags, tag, size);", "    }"]
            else:
                L += ["    r.read_unknown_tag(unknown_tags, tag, size);"]
            L += ["  }", "}"]
        L.append("return r.status();")
        return L

    # --- samples (tests)
    def sample_value(self, f, x, elem_mode=False):
        """Lines assigning a non-default sample to x (field f, or one element when elem_mode)."""
        if f.struct is not None:
            return [f"fill_sample({x}, version, c);"]
        t = f.type
        if t == "string":
            return [f"{x} = c.str();"]
        if t == "bytes":
            return [f"{x} = c.bytes();"]
        if t == "records":
            return [f"{x} = records::owned(c.bytes());"]
        if t == "uuid":
            return [f"{x} = c.make_uuid();"]
        if t == "bool":
            return [f"{x} = {'false' if (f.has_default and f.default and not elem_mode) else 'true'};"]
        if t == "float64":
            return [f"{x} = c.real();"]
        return [f"{x} = static_cast<{PRIMITIVES[t][0]}>(c.small());"]

    def sample_field(self, f):
        x = f"m.{f.cpp}"
        if f.is_array:
            elem = Field()
            elem.__dict__.update(f.__dict__)
            elem.is_array = False
            lines = [f"{{ auto& v = {'m.' + f.cpp + '.emplace()' if f.nullable else x};", "  v.clear();",
                     "  for (int i = 0; i < 2; ++i) {", "    auto& e = v.emplace_back();"]
            if f.type == "bool":
                lines = [f"{{ auto& v = {'m.' + f.cpp + '.emplace()' if f.nullable else x};", "  v = {true, false};"]
                lines.append("}")
            else:
                lines += ["    " + l for l in self.sample_value(elem, "e", True)] + ["  }", "}"]
        else:
            lines = self.sample_value(f, x)
        if f.nullable:
            ne = nullable_expr(f, self.api)
            null = f"{x} = {{}};" if f.type == "records" else f"{x} = std::nullopt;"
            lines = [f"if ({ne} && c.coin()) {{", "  " + null, "} else {"] + ["  " + l for l in lines] + ["}"]
        return lines

    def sample_body(self, st):
        L = []
        if self.flex_cond:
            L.append(f"const bool flex = {self.flex_cond};")
        for f in st.fields:
            g = guard(f.versions, self.api, "flex" if f.tag is not None else None)
            L += wrap(g, self.sample_field(f))
        if self.flex_cond:
            L += ["if (flex) {", "  m.unknown_tags.push_back({c.unknown_tag(), c.bytes()});", "}"]
        return L


def wrap(cond, body):
    if not cond:
        return body
    return [f"if ({cond}) {{"] + ["  " + l for l in body] + ["}"]


def indent(lines, n):
    return [("  " * n + l) if l else l for l in lines]


# ----------------------------------------------------------------------------- files

HEADER_NOTE = "// Generated by tools/gen_protocol.py from schemas/{file}. Do not edit."


def struct_decl(st, api, lines, depth, is_top):
    members = []
    for f in st.fields:
        init = default_init(f)
        members.append(f"{cpp_type(f)} {f.cpp}" + (f" = {init};" if init is not None else "{};"))
    flex = api.any_flexible()
    body = members[:]
    if flex:
        body.append("tagged_fields unknown_tags;  // tagged fields this schema does not know, kept for re-encoding")
    body.append("")
    if not is_top:
        body.append(f"// Smallest wire size of one element in any version (bounds array counts).")
        body.append(f"static constexpr size_t min_wire_bytes = {struct_min_bytes(st, api)};")
    body += ["void encode(writer& w, int16_t version) const;",
             "result<void> decode(reader& r, int16_t version);",
             f"bool operator==(const {st.name}&) const = default;"]
    return body


def gen_api_header(api):
    L = ["#pragma once", HEADER_NOTE.format(file=api.file),
         f"// {api.name} (key {api.key}), versions {api.range[0]}-{api.range[1]}, "
         + (f"flexible from v{api.flexible}." if api.flexible is not None else "never flexible."),
         "#include <array>", "#include <cstddef>", "#include <cstdint>", "#include <limits>", "#include <optional>",
         "#include <string>", "#include <vector>", "",
         '#include "base/result.h"', '#include "protocol/api.h"', '#include "protocol/reader.h"',
         '#include "protocol/records.h"', '#include "protocol/tagged_fields.h"', '#include "protocol/writer.h"', "",
         "namespace sluice::protocol {", ""]
    for msg in (api.request, api.response):
        L.append(f"struct {msg.cpp_name} {{")
        for st in msg.structs:
            L.append(f"  struct {st.name} {{")
            L += indent(struct_decl(st, api, L, 2, False), 2)
            L.append("  };")
            L.append("")
        L += indent(struct_decl(msg.root, api, L, 1, True), 1)
        L.append("};")
        L.append("")
    L += [f"struct {api.snake}_api {{",
          f"  static constexpr int16_t key = {api.key};",
          f"  static constexpr int16_t min_version = {api.range[0]};",
          f"  static constexpr int16_t max_version = {api.range[1]};",
          f"  static constexpr int16_t first_flexible = {api.first_flexible_cpp};",
          f"  static constexpr const char* name = \"{api.name}\";",
          f"  using request = {api.request.cpp_name};",
          f"  using response = {api.response.cpp_name};",
          "};", "", "}  // namespace sluice::protocol", ""]
    return "\n".join(L)


def gen_api_source(api):
    L = [HEADER_NOTE.format(file=api.file), f'#include "protocol/messages/{api.snake}.h"', "",
         '#include "protocol/errc.h"', "", "namespace sluice::protocol {", ""]
    for msg in (api.request, api.response):
        em = Emitter(api, msg)
        for st, top in [(s, False) for s in msg.structs] + [(msg.root, True)]:
            qn = st.qname if not top else msg.cpp_name
            L.append(f"void {qn}::encode(writer& w, int16_t version) const {{")
            L += indent(em.encode_body(st, top), 1)
            L += ["}", ""]
            L.append(f"result<void> {qn}::decode(reader& r, int16_t version) {{")
            L += indent(em.decode_body(st, top), 1)
            L += ["}", ""]
    L += ["}  // namespace sluice::protocol", ""]
    return "\n".join(L)


def gen_messages_header(apis):
    L = ["#pragma once", "// Generated by tools/gen_protocol.py from schemas/*.json. Do not edit.",
         "// Every API's request/response types and a compile-time dispatcher over the API keys.",
         "#include <cstdint>", "#include <tuple>", ""]
    L += [f'#include "protocol/messages/{a.snake}.h"' for a in apis]
    L += ["", "namespace sluice::protocol {", "",
          "using all_api_types = std::tuple<" + ", ".join(f"{a.snake}_api" for a in apis) + ">;", "",
          "// Calls f(<name>_api{}) for the API with this key; false if the key is unknown.",
          "template <typename F>", "bool visit_api(int16_t key, F&& f) {", "  switch (key) {"]
    for a in apis:
        L.append(f"    case {a.key}: f({a.snake}_api{{}}); return true;")
    L += ["    default: return false;", "  }", "}", "",
          "// Calls f(<name>_api{}) for every API, in key order.",
          "template <typename F>", "void for_each_api(F&& f) {"]
    for a in apis:
        L.append(f"  f({a.snake}_api{{}});")
    L += ["}", "", "}  // namespace sluice::protocol", ""]
    return "\n".join(L)


def gen_api_table(apis):
    L = ["// Generated by tools/gen_protocol.py from schemas/*.json. Do not edit.", '#include "protocol/api.h"', "",
         "#include <algorithm>", "#include <array>", "", "namespace sluice::protocol {", "", "namespace {",
         f"constexpr std::array<api_info, {len(apis)}> table = {{{{"]
    for a in apis:
        L.append(f"    {{{a.key}, \"{a.name}\", {a.range[0]}, {a.range[1]}, {a.first_flexible_cpp}}},")
    L += ["}};", "}  // namespace", "",
          "std::span<const api_info> all_apis() { return table; }", "",
          "const api_info* find_api(int16_t key) {",
          "  auto it = std::lower_bound(table.begin(), table.end(), key,",
          "                             [](const api_info& a, int16_t k) { return a.key < k; });",
          "  return it != table.end() && it->key == key ? &*it : nullptr;", "}", "",
          "int16_t request_header_version(int16_t api_key, int16_t api_version) {",
          "  const api_info* a = find_api(api_key);",
          "  return a && a->is_flexible(api_version) ? 2 : 1;", "}", "",
          "int16_t response_header_version(int16_t api_key, int16_t api_version) {",
          "  if (api_key == api_versions_key) return 0;  // KIP-511",
          "  const api_info* a = find_api(api_key);",
          "  return a && a->is_flexible(api_version) ? 1 : 0;", "}", "",
          "}  // namespace sluice::protocol", ""]
    return "\n".join(L)


def gen_samples(apis):
    h = ["#pragma once", "// Generated by tools/gen_protocol.py. Test-only: fills every field present in a version",
         "// with a non-default value (nullable fields sometimes null) and adds an unknown tag in",
         "// flexible versions, so round-trip tests exercise every field of every version.",
         "#include <cstdint>", "#include <string>", "#include <vector>", "",
         '#include "protocol/messages.h"', "", "namespace sluice::protocol::testing {", "",
         "struct sample_ctx {", "  uint64_t n = 0;", "  uint64_t next() { return ++n; }",
         "  int64_t small() { return 2 + static_cast<int64_t>(next() % 100); }",
         "  double real() { return 0.5 + static_cast<double>(next()); }",
         "  bool coin() { return next() % 3 == 0; }",
         "  std::string str() { return \"s\" + std::to_string(next()); }",
         "  std::vector<uint8_t> bytes() { uint64_t k = next(); return std::vector<uint8_t>(1 + k % 5, static_cast<uint8_t>(k)); }",
         "  uuid make_uuid() { uuid u{}; for (auto& b : u) b = static_cast<uint8_t>(next()); return u; }",
         "  uint32_t unknown_tag() { return 1000 + static_cast<uint32_t>(next() % 7); }",
         "};", ""]
    c = ["// Generated by tools/gen_protocol.py. Test-only.", '#include "protocol/samples.h"', "",
         "namespace sluice::protocol::testing {", ""]
    for a in apis:
        for msg in (a.request, a.response):
            h.append(f"void fill_sample({msg.cpp_name}& m, int16_t version, sample_ctx& c);")
            for st in msg.structs:
                c.append(f"static void fill_sample({st.qname}& m, int16_t version, sample_ctx& c);")
    c.append("")
    for a in apis:
        for msg in (a.request, a.response):
            em = Emitter(a, msg)
            for st, top in [(s, False) for s in msg.structs] + [(msg.root, True)]:
                qn = st.qname if not top else msg.cpp_name
                pre = "" if top else "static "
                c.append(f"{pre}void fill_sample({qn}& m, int16_t version, sample_ctx& c) {{")
                c += indent(["(void)version;", "(void)c;"] + em.sample_body(st), 1)
                c += ["}", ""]
    h += ["", "}  // namespace sluice::protocol::testing", ""]
    c += ["}  // namespace sluice::protocol::testing", ""]
    return "\n".join(h), "\n".join(c)


DOC_BEGIN = "<!-- BEGIN API TABLE (generated by tools/gen_protocol.py --update-docs; checked by CTest) -->"
DOC_END = "<!-- END API TABLE -->"


def gen_docs_table(apis):
    L = [DOC_BEGIN, "", "| Key | API | Versions | First flexible | Schema |", "|---:|---|---|---|---|"]
    for a in apis:
        if a.flexible is None:
            fl = "never"
        elif a.flexible > a.range[1]:
            fl = f"{a.flexible} (none in range)"
        else:
            fl = str(a.flexible)
        L.append(f"| {a.key} | {a.name} | {a.range[0]}-{a.range[1]} | {fl} | `schemas/{a.file}` |")
    L += ["", DOC_END]
    return "\n".join(L)


def load(schemas_dir):
    apis = []
    for fn in sorted(os.listdir(schemas_dir)):
        if fn.endswith(".json"):
            apis.append(Api(os.path.join(schemas_dir, fn)))
    keys = {}
    for a in apis:
        if a.key in keys:
            raise SchemaError(f"{a.file}: key {a.key} also used by {keys[a.key]}")
        keys[a.key] = a.file
    apis.sort(key=lambda a: a.key)
    return apis


def write_if_changed(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        with open(path) as fh:
            if fh.read() == text:
                return
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--out")
    ap.add_argument("--check-docs")
    ap.add_argument("--update-docs")
    ap.add_argument("--stamp", help="touch this file after generating (build-system dependency anchor)")
    args = ap.parse_args()
    try:
        apis = load(args.schemas)
    except (SchemaError, KeyError) as e:
        print(f"gen_protocol: schema error: {e}", file=sys.stderr)
        return 2
    if args.out:
        base = os.path.join(args.out, "protocol")
        for a in apis:
            write_if_changed(os.path.join(base, "messages", a.snake + ".h"), gen_api_header(a))
            write_if_changed(os.path.join(base, "messages", a.snake + ".cc"), gen_api_source(a))
        write_if_changed(os.path.join(base, "messages.h"), gen_messages_header(apis))
        write_if_changed(os.path.join(base, "api_table.cc"), gen_api_table(apis))
        sh, sc = gen_samples(apis)
        write_if_changed(os.path.join(base, "samples.h"), sh)
        write_if_changed(os.path.join(base, "samples.cc"), sc)
        if args.stamp:
            with open(args.stamp, "w") as fh:
                fh.write("ok\n")
    table = gen_docs_table(apis)
    for path, update in ((args.check_docs, False), (args.update_docs, True)):
        if not path:
            continue
        with open(path) as fh:
            doc = fh.read()
        b, e = doc.find(DOC_BEGIN), doc.find(DOC_END)
        if b < 0 or e < 0:
            print(f"gen_protocol: {path} lacks the API table markers", file=sys.stderr)
            return 1
        new = doc[:b] + table + doc[e + len(DOC_END):]
        if update:
            if new != doc:
                with open(path, "w") as fh:
                    fh.write(new)
        elif new != doc:
            print(f"gen_protocol: the API table in {path} is out of date; run\n"
                  f"  tools/gen_protocol.py --schemas schemas --update-docs {path}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
