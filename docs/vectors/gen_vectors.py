#!/usr/bin/env python3
"""Generates docs/spec-vectors.json: the test vectors of docs/spec.md.

This is an independent reference implementation of the ctxpack formats (RFC 8785 canonical JSON, tree/v1,
contract/v1, pack/v1, the OCI mapping), written from the spec with the Python 3 standard library only, so
the vectors check the Rust core instead of echoing it. Every rejection vector is also run through this model,
which must reject it with the same error code.

    python3 docs/vectors/gen_vectors.py            # rewrite docs/spec-vectors.json
    python3 docs/vectors/gen_vectors.py --check    # fail if the file is out of date
"""

import decimal
import hashlib
import json
import math
import pathlib
import sys
import unicodedata

MAX_EXACT_INT = 2**53
MAX_LINK_HOPS = 40


class Rejected(Exception):
    def __init__(self, code, why):
        super().__init__(f"{code}: {why}")
        self.code = code


# ---------------------------------------------------------------------------------------------------------
# Canonical JSON (RFC 8785)


def parse_json(text):
    """Strict JSON: duplicate keys, integers beyond ±2^53, NaN/Infinity and lone surrogates are errors."""

    def pairs(items):
        obj = {}
        for key, value in items:
            if key in obj:
                raise Rejected("CTX_JSON_DUPLICATE_KEY", key)
            obj[key] = value
        return obj

    def integer(token):
        value = int(token)
        if abs(value) > MAX_EXACT_INT:
            raise Rejected("CTX_JSON_NUMBER_UNREPRESENTABLE", token)
        return value

    def constant(token):
        raise Rejected("CTX_JSON_INVALID", token)

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_int=integer, parse_constant=constant)
    except json.JSONDecodeError as e:
        raise Rejected("CTX_JSON_INVALID", str(e)) from None
    check_strings(value)
    return value


def check_strings(value):
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Rejected("CTX_JSON_INVALID", "lone surrogate") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_strings(key)
            check_strings(item)
    elif isinstance(value, list):
        for item in value:
            check_strings(item)


def es_number(f):
    """ECMAScript Number.prototype.toString, from Python's shortest round-trip digits (repr)."""
    if math.isnan(f) or math.isinf(f):
        raise Rejected("CTX_JSON_NUMBER_UNREPRESENTABLE", repr(f))
    if f == 0:
        return "0"
    sign, digit_tuple, exponent = decimal.Decimal(repr(abs(f))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent += len(digit_tuple) - len(digits)
    digits = digits.lstrip("0")
    k = len(digits)
    n = k + exponent  # value = 0.digits × 10^n
    prefix = "-" if f < 0 else ""
    if k <= n <= 21:
        return prefix + digits + "0" * (n - k)
    if 0 < n <= 21:
        return prefix + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return prefix + "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return prefix + mantissa + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def jcs_string(s):
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[c])
        elif ord(c) < 0x20:
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def jcs(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_EXACT_INT:
            raise Rejected("CTX_JSON_NUMBER_UNREPRESENTABLE", str(value))
        return str(value)
    if isinstance(value, float):
        return es_number(value)
    if isinstance(value, str):
        return jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    # Keys sort by UTF-16 code units; big-endian UTF-16 bytes compare the same way.
    keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
    return "{" + ",".join(jcs_string(k) + ":" + jcs(value[k]) for k in keys) + "}"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_of_document(value):
    return sha256(jcs(value).encode("utf-8"))


# ---------------------------------------------------------------------------------------------------------
# Digests and URIs

HEX = set("0123456789abcdef")


def check_digest(text, code="CTX_URI_INVALID"):
    if not isinstance(text, str) or not text.startswith("sha256:"):
        raise Rejected(code, f"{text!r} is not sha256:<hex>")
    hex_part = text[len("sha256:"):]
    if len(hex_part) != 64 or not set(hex_part) <= HEX:
        raise Rejected(code, f"{text!r} is not 64 lowercase hex digits")
    return text


def check_uri(text, code="CTX_URI_INVALID"):
    if not isinstance(text, str) or not text.startswith("ctx://"):
        raise Rejected(code, f"{text!r} is not a ctx:// URI")
    check_digest(text[len("ctx://"):], code)
    return text


def uri_of(value):
    return "ctx://" + digest_of_document(value)


def tag_of(uri):
    return "ctx-" + uri[len("ctx://sha256:"):]


# ---------------------------------------------------------------------------------------------------------
# tree/v1


def normalize_path(path):
    if isinstance(path, bytes):
        try:
            path = path.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected("CTX_PATH_NOT_UTF8", repr(path)) from None
    if path == "" or path.startswith("/"):
        raise Rejected("CTX_PATH_INVALID", f"{path!r} is empty or absolute")
    if any(unicodedata.category(c) == "Cc" or c == "\\" for c in path):
        raise Rejected("CTX_PATH_INVALID", f"{path!r} has a control character or a backslash")
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        raise Rejected("CTX_PATH_INVALID", f"{path!r} has an empty, '.' or '..' segment")
    return unicodedata.normalize("NFC", path)


def normalize_target(target):
    if target == "" or target.startswith("/"):
        raise Rejected("CTX_SYMLINK_ESCAPES", f"target {target!r} is empty or absolute")
    if any(unicodedata.category(c) == "Cc" or c == "\\" for c in target):
        raise Rejected("CTX_PATH_INVALID", f"target {target!r} has a control character or a backslash")
    return unicodedata.normalize("NFC", target)


def resolve_link(link, target, links):
    """Follows `target` from the link's directory the way an OS would, through other links in the tree."""
    where = link.split("/")[:-1]
    pending = list(reversed(target.split("/")))
    hops = 0
    while pending:
        segment = pending.pop()
        if segment in ("", "."):
            continue
        if segment == "..":
            if not where:
                raise Rejected("CTX_SYMLINK_ESCAPES", f"{link} -> {target} leaves the tree")
            where.pop()
            continue
        where.append(segment)
        next_target = links.get("/".join(where))
        if next_target is not None:
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise Rejected("CTX_SYMLINK_ESCAPES", f"{link}: symlinks form a loop")
            where.pop()
            pending.extend(reversed(next_target.split("/")))


def tree_entries(entries):
    """Validates host entries and returns the canonical, sorted entries of the tree document."""
    out, seen = [], set()
    for entry in entries:
        path = normalize_path(bytes.fromhex(entry["path_hex"]) if "path_hex" in entry else entry["path"])
        if path in seen:
            raise Rejected("CTX_PATH_COLLISION", f"{path!r} appears twice after NFC normalisation")
        seen.add(path)
        if entry["type"] == "file":
            out.append({"path": path, "type": "file", "size": entry["size"],
                        "digest": check_digest(entry["digest"]), "executable": entry["executable"]})
        else:
            out.append({"path": path, "type": "symlink", "target": normalize_target(entry["target"])})
    out.sort(key=lambda e: e["path"].encode("utf-8"))
    for entry in out:
        parts = entry["path"].split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in seen:
                raise Rejected("CTX_PATH_COLLISION", f"{'/'.join(parts[:i])!r} is an entry and a directory")
    links = {e["path"]: e["target"] for e in out if e["type"] == "symlink"}
    for link, target in links.items():
        resolve_link(link, target, links)
    return out


def tree_document(entries):
    return {"ctxpack": "tree/v1", "entries": tree_entries(entries)}


# ---------------------------------------------------------------------------------------------------------
# contract/v1


def contract_error(at, why):
    raise Rejected("CTX_CONTRACT_INVALID", f"{at}: {why}")


def check_contract(contract, resolved):
    if not isinstance(contract, dict):
        contract_error("", "not an object")
    if resolved:
        if contract.get("ctxpack") != "contract/v1":
            contract_error("ctxpack", "must be contract/v1")
        if "outputs" in contract:
            contract_error("outputs", "not in a resolved contract")
    elif "ctxpack" in contract:
        contract_error("ctxpack", "reserved")
    inputs = contract.get("inputs", [])
    if not isinstance(inputs, list):
        contract_error("inputs", "not an array")
    names = set()
    for i, item in enumerate(inputs):
        if not isinstance(item, dict):
            contract_error(f"inputs[{i}]", "not an object")
        name = item.get("name")
        if not isinstance(name, str) or name == "" or name in names:
            contract_error(f"inputs[{i}].name", "missing, empty or repeated")
        names.add(name)
        sources = [k for k in ("path", "digest", "uri") if k in item]
        if len(sources) != 1:
            contract_error(f"inputs[{i}]", f"sources {sources}")
        source = sources[0]
        if source == "path" and (resolved or not isinstance(item["path"], str) or item["path"] == ""):
            contract_error(f"inputs[{i}].path", "bad path")
        if source == "digest":
            check_digest(item["digest"], "CTX_CONTRACT_INVALID")
        if source == "uri":
            check_uri(item["uri"], "CTX_CONTRACT_INVALID")
        if "type" in item and (source != "digest" or item["type"] not in ("file", "tree")):
            contract_error(f"inputs[{i}].type", "type only accompanies a digest, as file or tree")
    transforms = contract.get("transforms", [])
    if not isinstance(transforms, list):
        contract_error("transforms", "not an array")
    for i, item in enumerate(transforms):
        if not isinstance(item, dict):
            contract_error(f"transforms[{i}]", "not an object")
        if not isinstance(item.get("tool"), str) or item["tool"] == "":
            contract_error(f"transforms[{i}].tool", "missing")
        if "code_hash" in item:
            check_digest(item["code_hash"], "CTX_CONTRACT_INVALID")
        if "code_path" in item:
            if resolved or "code_hash" in item:
                contract_error(f"transforms[{i}].code_path", "not allowed here")
            if not isinstance(item["code_path"], str) or item["code_path"] == "":
                contract_error(f"transforms[{i}].code_path", "bad path")


def contract_outputs(contract):
    outputs = contract.get("outputs", [])
    items = outputs if isinstance(outputs, list) else [outputs]
    result = []
    for item in items:
        path = item if isinstance(item, str) else item.get("path") if isinstance(item, dict) else None
        if not isinstance(path, str) or path == "":
            contract_error("outputs", "each output is a path or an object with a path")
        result.append({"path": path})
    return result


def parse_contract(text):
    contract = parse_json(text)
    check_contract(contract, resolved=False)
    contract_outputs(contract)
    return contract


def plan(contract):
    needs = [{"kind": "input", "name": i["name"], "path": i["path"]}
             for i in contract.get("inputs", []) if "path" in i]
    needs += [{"kind": "code", "transform": n, "path": t["code_path"]}
              for n, t in enumerate(contract.get("transforms", [])) if "code_path" in t]
    return {"needs": needs, "outputs": contract_outputs(contract)}


def resolve(contract, resolutions):
    resolved = {k: v for k, v in contract.items() if k != "outputs"}
    resolved["ctxpack"] = "contract/v1"
    if "inputs" in contract:
        resolved["inputs"] = []
        for item in contract["inputs"]:
            item = dict(item)
            if "path" in item:
                answer = resolutions["inputs"].get(item["name"])
                if answer is None:
                    raise Rejected("CTX_INPUT_MISSING", item["name"])
                del item["path"]
                item["type"], item["digest"] = answer["type"], answer["digest"]
            resolved["inputs"].append(item)
    if "transforms" in contract:
        resolved["transforms"] = []
        for n, item in enumerate(contract["transforms"]):
            item = dict(item)
            if "code_path" in item:
                answer = resolutions["code"].get(str(n))
                if answer is None:
                    raise Rejected("CTX_INPUT_MISSING", f"transform {n}")
                del item["code_path"]
                item["code_hash"] = answer
            resolved["transforms"].append(item)
    check_contract(resolved, resolved=True)
    return resolved


# ---------------------------------------------------------------------------------------------------------
# pack/v1 and the OCI mapping

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
ARTIFACT = "application/vnd.ctxpack.pack.v1"
CONFIG = "application/vnd.ctxpack.manifest.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def pack_manifest(resolved, tree, provenance):
    return {"ctxpack": "pack/v1", "uri": uri_of(resolved), "contract": resolved,
            "outputs": {"digest": digest_of_document(tree), "entries": tree["entries"]},
            "provenance": provenance}


def oci_manifest(config, layer, uri, created):
    layer = dict(layer, annotations={"org.opencontainers.image.title": "pack.tar.gz"})
    return {"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": ARTIFACT, "config": config,
            "layers": [layer],
            "annotations": {"dev.ctxpack.uri": uri, "org.opencontainers.image.created": created}}


def oci_index(entries):
    manifests = [dict(descriptor, artifactType=ARTIFACT,
                      annotations={"org.opencontainers.image.ref.name": tag_of(uri), "dev.ctxpack.uri": uri})
                 for descriptor, uri in entries]
    return {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}


def blob(media_type, data):
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data)}


# ---------------------------------------------------------------------------------------------------------
# The vectors


def file_entry(path, content, executable=False):
    return {"path": path, "type": "file", "size": len(content), "digest": sha256(content), "executable": executable}


def link_entry(path, target):
    return {"path": path, "type": "symlink", "target": target}


JCS_CASES = [
    ("RFC 8785 §3.2.2 example",
     '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n'
     '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
     '  "literals": [null, true, false]\n}'),
    ("keys sort by UTF-16 code units, not UTF-8 bytes",
     '{"\\ufb33": 1, "\\ud83d\\ude00": 2, "a": 3, "A": 4, "\\u00e9": 5, "": 6, "a\\u0000": 7}'),
    ("nested objects sort, arrays keep their order", '{"b": [3, {"z": 1, "y": [2, 1]}], "a": {"d": {}, "c": []}}'),
    ("numbers print as ECMAScript does",
     '[1.0, -0.0, -0, 1e2, 100, -7, 9007199254740992, -9007199254740992, 1.5e-7, 0.000001, 1e-7,'
     ' 1e21, 0.1, 0.30000000000000004, 5e-324, 1.7976931348623157e308, 123.456e3]'),
    ("strings keep Unicode and escape only what JSON requires",
     '["caf\\u00e9 \\u2615 \\ud83d\\ude00", "\\u007f\\u0080\\u2028", "\\u001f\\b\\f\\n\\r\\t", "<&>/\'", "e\\u0301"]'),
    ("whitespace goes, literals stay", ' \t\r\n{ "t" : true , "f" : false , "n" : null , "s" : "" } \n'),
]

FILES = [("empty file", b""), ("hello world", b"hello world"), ("every byte value", bytes(range(256)))]

RAW_PDFS = [file_entry("a.pdf", b"%PDF-1.4 test"), file_entry("scans/b.pdf", b"%PDF-1.4 scanned")]
PROCESSED = [
    file_entry("index.bin", b"REAL_DATA_INDEX_12345"),
    file_entry("chunks/0001.json", b'{"text":"caf\xc3\xa9"}'),
    file_entry("bin/reindex.sh", b"#!/bin/sh\nexec ctxpack run\n", executable=True),
    link_entry("latest", "chunks/0001.json"),
]

TREES = [
    ("one file", [file_entry("x.txt", b"hello world")]),
    ("empty tree", []),
    ("entries sort by UTF-8 bytes of the path ('-' 0x2d before '/' 0x2f)",
     [file_entry("b", b"2"), file_entry("a/b", b"1"), file_entry("a-c", b"3"), file_entry(".hidden", b"4"),
      file_entry("B", b"5")]),
    ("Unicode paths sort by UTF-8 bytes (not UTF-16 units as JCS keys do)",
     [file_entry("\U0001F600", b"1"), file_entry("\uff5a", b"2"), file_entry("\ufb33", b"3"), file_entry("\u00e9", b"4"),
      file_entry("z", b"5")]),
    ("paths and link targets are NFC-normalised",
     [file_entry("cafe\u0301/menu.txt", b"menu"), link_entry("today", "cafe\u0301/menu.txt")]),
    ("executable bit and symlinks are recorded", [file_entry("run.sh", b"#!/bin/sh\n", executable=True),
                                                  link_entry("go", "run.sh"), link_entry("sub/up", "..")]),
    ("a dangling link inside the tree is allowed", [link_entry("docs/next", "../drafts/next.md")]),
    ("boundary collision of the original CtxPack, side A: file 'a' holding 'bc'", [file_entry("a", b"bc")]),
    ("boundary collision of the original CtxPack, side B: file 'ab' holding 'c'", [file_entry("ab", b"c")]),
    ("raw_pdfs (the README contract's tree input)", RAW_PDFS),
    ("processed_data (the outputs of the pack/v1 vector)", PROCESSED),
]

GLOSSARY = b"term,definition\nctx,context\n"
OCR_SCRIPT = b"import sys\nprint('ocr', sys.argv)\n"
EMBED_CODE = b"embed v2024-06"
WEIGHTS = b"model weights v3"

STEP_ONE = {"dataset": "SEC_10K_CORPUS_2025", "model": "text-embedding-3-large", "tool": "vision-ocr",
            "tool_version": "2.1", "params": {"chunk_size": 512, "strategy": "semantic", "dpi": 300}}


def readme_contract():
    return {
        "inputs": [
            {"name": "raw_docs", "path": "./raw_pdfs"},
            {"name": "glossary", "path": "data/glossary.csv", "lang": "en"},
            {"name": "model_weights", "digest": sha256(WEIGHTS)},
            {"name": "previous_run", "uri": uri_of(dict(STEP_ONE, ctxpack="contract/v1"))},
        ],
        "transforms": [
            {"tool": "vision-pro", "tool_version": "1.2", "code_path": "scripts/ocr.py",
             "params": {"dpi": 300, "threshold": 0.85, "languages": ["en", "fr"]}},
            {"tool": "openai-embed", "tool_version": "2024-06", "code_hash": sha256(EMBED_CODE),
             "params": {"model": "text-embedding-3-large", "chunk_size": 1024}},
        ],
        "description": "Caf\u00e9 menus \u2192 embeddings",
        "outputs": [{"path": "./processed_data"}],
    }


README_RESOLUTIONS = {
    "inputs": {"raw_docs": {"type": "tree", "digest": digest_of_document(tree_document(RAW_PDFS))},
               "glossary": {"type": "file", "digest": sha256(GLOSSARY)}},
    "code": {"0": sha256(OCR_SCRIPT)},
}
NO_RESOLUTIONS = {"inputs": {}, "code": {}}
TREE_T = sha256(b"tree t")


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def reordered_readme_text():
    """The README contract with keys reversed, outputs moved and re-spelled, and loose whitespace."""
    def reverse(value):
        if isinstance(value, dict):
            return {k: reverse(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reverse(v) for v in value]
        return value
    contract = reverse(readme_contract())
    contract["outputs"] = "elsewhere/processed"
    contract["inputs"][0]["path"] = "../moved/raw_pdfs"
    contract["transforms"][0]["code_path"] = "/opt/tools/ocr.py"
    return json.dumps(contract, ensure_ascii=True, indent=3)


CONTRACTS = [
    ("README shape: tree, file, digest and uri inputs; code_path and code_hash",
     compact(readme_contract()), README_RESOLUTIONS),
    ("the same contract moved, re-ordered and re-spaced (same URI: paths and outputs are not identity)",
     reordered_readme_text(), README_RESOLUTIONS),
    ("no inputs (the original CtxPack's benchmark contract; the URI differs from its 32f3… by design)",
     compact(STEP_ONE), NO_RESOLUTIONS),
    ("empty contract", "{}", NO_RESOLUTIONS),
    ("a path input", '{"inputs":[{"name":"a","path":"dir"}]}',
     {"inputs": {"a": {"type": "tree", "digest": TREE_T}}, "code": {}}),
    ("the same input pinned by digest and type (same URI as resolving the path)",
     '{"inputs":[{"name":"a","type":"tree","digest":"%s"}]}' % TREE_T, NO_RESOLUTIONS),
    ("a digest without type is a different recipe", '{"inputs":[{"name":"a","digest":"%s"}]}' % TREE_T,
     NO_RESOLUTIONS),
    ("outputs as a single string or object normalise to an array and are not identity",
     '{"outputs":"out","x":1}', NO_RESOLUTIONS),
    ("numbers and strings of the recipe are canonicalised",
     '{"params":{"t":0.7e0,"max":4096.0,"eps":1E-7,"stop":["\\n\\n","\\u00e9","\\u0065\\u0301"]}}',
     NO_RESOLUTIONS),
]

DIGEST = sha256(b"x")
URI = "ctx://" + DIGEST

REJECTIONS = [
    # kind, name, input, expected code
    ("json", "duplicate key", '{"a":1,"a":2}', "CTX_JSON_DUPLICATE_KEY"),
    ("json", "duplicate key in a nested object", '{"a":{"b":1,"c":{"d":1,"d":1}}}', "CTX_JSON_DUPLICATE_KEY"),
    ("json", "integer above 2^53", "9007199254740993", "CTX_JSON_NUMBER_UNREPRESENTABLE"),
    ("json", "integer below -2^53", "[-9007199254740993]", "CTX_JSON_NUMBER_UNREPRESENTABLE"),
    ("json", "NaN", "NaN", "CTX_JSON_INVALID"),
    ("json", "trailing comma", "[1,]", "CTX_JSON_INVALID"),
    ("json", "lone surrogate", '"\\ud800"', "CTX_JSON_INVALID"),
    ("json", "text after the value", '{"a":1}x', "CTX_JSON_INVALID"),
    ("json", "empty text", "", "CTX_JSON_INVALID"),
    ("json", "single quotes", "{'a':1}", "CTX_JSON_INVALID"),
    ("uri", "bare hex", DIGEST[7:], "CTX_URI_INVALID"),
    ("uri", "digest without scheme", DIGEST, "CTX_URI_INVALID"),
    ("uri", "no algorithm", "ctx://" + DIGEST[7:], "CTX_URI_INVALID"),
    ("uri", "short hash (the original CtxPack's 12-hex tag)", "ctx://sha256:" + DIGEST[7:19], "CTX_URI_INVALID"),
    ("uri", "uppercase hex", "ctx://sha256:" + DIGEST[7:].upper(), "CTX_URI_INVALID"),
    ("uri", "other algorithm", "ctx://sha512:" + DIGEST[7:], "CTX_URI_INVALID"),
    ("uri", "uppercase scheme", "CTX://" + DIGEST, "CTX_URI_INVALID"),
    ("uri", "trailing space", URI + " ", "CTX_URI_INVALID"),
    ("digest", "md5", "md5:abc", "CTX_URI_INVALID"),
    ("digest", "short", "sha256:abc123", "CTX_URI_INVALID"),
    ("digest", "not hex", "sha256:" + "z" * 64, "CTX_URI_INVALID"),
    ("tree", "two names equal after NFC", [file_entry("caf\u00e9", b"1"), file_entry("cafe\u0301", b"2")],
     "CTX_PATH_COLLISION"),
    ("tree", "the same path twice", [file_entry("a", b"1"), file_entry("a", b"1")], "CTX_PATH_COLLISION"),
    ("tree", "a file that is also a directory", [file_entry("a", b"1"), file_entry("a/b", b"2")],
     "CTX_PATH_COLLISION"),
    ("tree", "a symlink that is also a directory", [link_entry("d", "x"), file_entry("d/f", b"2"),
                                                    file_entry("x/f", b"3")], "CTX_PATH_COLLISION"),
    ("tree", "absolute path", [file_entry("/etc/passwd", b"x")], "CTX_PATH_INVALID"),
    ("tree", "'..' segment", [file_entry("a/../b", b"x")], "CTX_PATH_INVALID"),
    ("tree", "'.' segment", [file_entry("./a", b"x")], "CTX_PATH_INVALID"),
    ("tree", "empty segment", [file_entry("a//b", b"x")], "CTX_PATH_INVALID"),
    ("tree", "trailing slash", [file_entry("a/", b"x")], "CTX_PATH_INVALID"),
    ("tree", "backslash", [file_entry("a\\b", b"x")], "CTX_PATH_INVALID"),
    ("tree", "control character", [file_entry("a\u001bb", b"x")], "CTX_PATH_INVALID"),
    ("tree", "name that is not UTF-8", [dict(file_entry("", b"x"), path_hex="6261645fff")], "CTX_PATH_NOT_UTF8"),
    ("tree", "link leaving the tree", [link_entry("l", "../x")], "CTX_SYMLINK_ESCAPES"),
    ("tree", "link leaving the tree from a subdirectory", [link_entry("a/l", "../../x")], "CTX_SYMLINK_ESCAPES"),
    ("tree", "absolute link", [link_entry("l", "/etc/passwd")], "CTX_SYMLINK_ESCAPES"),
    ("tree", "'..' after a link resolves from the link's target",
     [link_entry("a/b", ".."), link_entry("c", "a/b/..")], "CTX_SYMLINK_ESCAPES"),
    ("tree", "symlink loop", [link_entry("a", "b/x"), link_entry("b", "a")], "CTX_SYMLINK_ESCAPES"),
    ("contract", "not an object", "[]", "CTX_CONTRACT_INVALID"),
    ("contract", "not JSON", '{"inputs":', "CTX_JSON_INVALID"),
    ("contract", "duplicate key", '{"inputs":[],"inputs":[]}', "CTX_JSON_DUPLICATE_KEY"),
    ("contract", "reserved key ctxpack", '{"ctxpack":"contract/v1"}', "CTX_CONTRACT_INVALID"),
    ("contract", "inputs not an array", '{"inputs":{"name":"a","path":"p"}}', "CTX_CONTRACT_INVALID"),
    ("contract", "input without a name", '{"inputs":[{"path":"p"}]}', "CTX_CONTRACT_INVALID"),
    ("contract", "empty input name", '{"inputs":[{"name":"","path":"p"}]}', "CTX_CONTRACT_INVALID"),
    ("contract", "repeated input name", '{"inputs":[{"name":"a","path":"p"},{"name":"a","path":"q"}]}',
     "CTX_CONTRACT_INVALID"),
    ("contract", "input with no source", '{"inputs":[{"name":"a"}]}', "CTX_CONTRACT_INVALID"),
    ("contract", "input with two sources", '{"inputs":[{"name":"a","path":"p","digest":"%s"}]}' % DIGEST,
     "CTX_CONTRACT_INVALID"),
    ("contract", "bare hex digest (the original CtxPack's form)", '{"inputs":[{"name":"a","digest":"%s"}]}'
     % DIGEST[7:], "CTX_CONTRACT_INVALID"),
    ("contract", "uri that is a digest", '{"inputs":[{"name":"a","uri":"%s"}]}' % DIGEST, "CTX_CONTRACT_INVALID"),
    ("contract", "type beside a path", '{"inputs":[{"name":"a","path":"p","type":"tree"}]}',
     "CTX_CONTRACT_INVALID"),
    ("contract", "type that is neither file nor tree", '{"inputs":[{"name":"a","digest":"%s","type":"dir"}]}'
     % DIGEST, "CTX_CONTRACT_INVALID"),
    ("contract", "transform without a tool", '{"transforms":[{"tool_version":"1"}]}', "CTX_CONTRACT_INVALID"),
    ("contract", "code_path and code_hash", '{"transforms":[{"tool":"t","code_path":"a.py","code_hash":"%s"}]}'
     % DIGEST, "CTX_CONTRACT_INVALID"),
    ("contract", "free-form code_hash", '{"transforms":[{"tool":"t","code_hash":"sha256:abc123"}]}',
     "CTX_CONTRACT_INVALID"),
    ("contract", "output without a path", '{"outputs":[{"dir":"out"}]}', "CTX_CONTRACT_INVALID"),
    ("resolve", "an input path without a resolution",
     {"contract": '{"inputs":[{"name":"a","path":"missing"}]}', "resolutions": NO_RESOLUTIONS}, "CTX_INPUT_MISSING"),
    ("resolve", "a code_path without a resolution",
     {"contract": '{"transforms":[{"tool":"t","code_path":"gone.py"}]}', "resolutions": NO_RESOLUTIONS},
     "CTX_INPUT_MISSING"),
    ("resolved_contract", "no ctxpack key", {"x": 1}, "CTX_CONTRACT_INVALID"),
    ("resolved_contract", "another version", {"ctxpack": "contract/v2"}, "CTX_CONTRACT_INVALID"),
    ("resolved_contract", "outputs left in", {"ctxpack": "contract/v1", "outputs": ["out"]}, "CTX_CONTRACT_INVALID"),
    ("resolved_contract", "a path left in", {"ctxpack": "contract/v1", "inputs": [{"name": "a", "path": "p"}]},
     "CTX_CONTRACT_INVALID"),
    ("resolved_contract", "a code_path left in",
     {"ctxpack": "contract/v1", "transforms": [{"tool": "t", "code_path": "a.py"}]}, "CTX_CONTRACT_INVALID"),
]


def run_rejection(kind, value):
    if kind == "json":
        jcs(parse_json(value))
    elif kind == "uri":
        check_uri(value)
    elif kind == "digest":
        check_digest(value)
    elif kind == "tree":
        tree_entries(value)
    elif kind == "contract":
        parse_contract(value)
    elif kind == "resolve":
        resolve(parse_contract(value["contract"]), value["resolutions"])
    elif kind == "resolved_contract":
        check_contract(value, resolved=True)


def build():
    vectors = {
        "about": "Test vectors of docs/spec.md, generated by docs/vectors/gen_vectors.py (do not edit by hand).",
        "jcs": [],
        "file_digests": [],
        "uris": [],
        "trees": [],
        "contracts": [],
        "manifests": [],
        "oci": [],
        "rejections": [],
    }
    for name, text in JCS_CASES:
        vectors["jcs"].append({"name": name, "input": text, "canonical": jcs(parse_json(text))})
    for name, content in FILES:
        vectors["file_digests"].append({"name": name, "content_hex": content.hex(), "digest": sha256(content)})
    for content in (b"", b"x"):
        uri = "ctx://" + sha256(content)
        vectors["uris"].append({"uri": uri, "tag": tag_of(uri)})
    for name, entries in TREES:
        document = jcs(tree_document(entries))
        vectors["trees"].append({"name": name, "entries": entries, "document": document,
                                 "digest": sha256(document.encode("utf-8"))})
    for name, text, resolutions in CONTRACTS:
        contract = parse_contract(text)
        resolved = jcs(resolve(contract, resolutions))
        vectors["contracts"].append({"name": name, "contract": text, "plan": plan(contract),
                                     "resolutions": resolutions, "resolved": resolved,
                                     "uri": "ctx://" + sha256(resolved.encode("utf-8"))})

    readme = resolve(parse_contract(compact(readme_contract())), README_RESOLUTIONS)
    provenance = {"created": "2026-01-15T10:30:05Z", "ctxpack_version": "0.1.0", "platform": "linux-x64",
                  "tool": "ctxpack seed"}
    manifest_bytes = jcs(pack_manifest(readme, tree_document(PROCESSED), provenance)).encode("utf-8")
    vectors["manifests"].append({"name": "README contract packed with processed_data", "contract": readme,
                                 "entries": PROCESSED, "provenance": provenance,
                                 "bytes": manifest_bytes.decode("utf-8"), "uri": uri_of(readme)})

    config = blob(CONFIG, manifest_bytes)
    layer = blob(LAYER, b"example pack archive bytes")
    created = provenance["created"]
    oci_bytes = jcs(oci_manifest(config, layer, uri_of(readme), created)).encode("utf-8")
    oci_descriptor = blob(MANIFEST, oci_bytes)
    vectors["oci"].append({"name": "image manifest and index.json of the pack/v1 vector", "config": config,
                           "layers": [layer], "uri": uri_of(readme), "created": created,
                           "manifest": oci_bytes.decode("utf-8"), "manifest_descriptor": oci_descriptor,
                           "index": jcs(oci_index([(oci_descriptor, uri_of(readme))]))})

    for kind, name, value, code in REJECTIONS:
        try:
            run_rejection(kind, value)
        except Rejected as e:
            if e.code != code:
                sys.exit(f"rejection vector {name!r}: the reference model says {e.code}, the vector says {code}")
        else:
            sys.exit(f"rejection vector {name!r}: the reference model accepts it")
        vectors["rejections"].append({"kind": kind, "name": name, "input": value, "error": code})
    return vectors


def main():
    path = pathlib.Path(__file__).resolve().parent.parent / "spec-vectors.json"
    text = json.dumps(build(), ensure_ascii=False, indent=2) + "\n"
    if "--check" in sys.argv:
        if path.read_text(encoding="utf-8") != text:
            sys.exit(f"{path} is out of date: run python3 docs/vectors/gen_vectors.py")
        return
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
