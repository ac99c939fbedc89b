#!/usr/bin/env python3
"""Generates docs/spec-vectors.json and section 13 of docs/spec.md: the test vectors of the ctxpack formats.

The expected values come from reference_model.py beside this file, an implementation of docs/spec.md in
Python's standard library that shares nothing with the Rust core. Every rejection vector is also run through
the model, which must reject it with the same error code.

    python3 docs/vectors/gen_vectors.py            # rewrite docs/spec-vectors.json and docs/spec.md §13
    python3 docs/vectors/gen_vectors.py --check    # fail if either is out of date
"""

import json
import pathlib
import sys
import unicodedata

sys.dont_write_bytecode = True  # keep docs/vectors free of __pycache__
from reference_model import (  # noqa: E402
    Rejected,
    parse_json,
    jcs,
    sha256,
    digest_of_document,
    uri_of,
    tag_of,
    tree_document,
    parse_contract,
    plan,
    warned_transforms,
    resolve,
    pack_manifest,
    oci_manifest,
    oci_index,
    layout,
    blob,
    run_rejection,
    MANIFEST,
    CONFIG,
    LAYER,
)


# ---------------------------------------------------------------------------------------------------------
# The vectors


def file_entry(path, content, executable=False):
    return {"path": path, "type": "file", "size": len(content), "digest": sha256(content), "executable": executable}


def link_entry(path, target):
    return {"path": path, "type": "symlink", "target": target}


JCS_CASES = [
    ("RFC 8785 §3.2.2 example, with 333333333.3333333 for the RFC's 333333333.33333329 (refused, 13.8)",
     '{\n  "numbers": [333333333.3333333, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n'
     '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
     '  "literals": [null, true, false]\n}'),
    ("keys sort by UTF-16 code units, not UTF-8 bytes",
     '{"\\ufb33": 1, "\\ud83d\\ude00": 2, "a": 3, "A": 4, "\\u00e9": 5, "": 6, "a\\u0000": 7}'),
    ("nested objects sort, arrays keep their order", '{"b": [3, {"z": 1, "y": [2, 1]}], "a": {"d": {}, "c": []}}'),
    ("numbers print as ECMAScript does",
     '[1.0, -0.0, -0, 1e2, 100, -7, 9007199254740992, -9007199254740992, 1.5e-7, 0.000001, 1e-7,'
     ' 1e21, 0.1, 0.30000000000000004, 5e-324, 1.7976931348623157e308, 123.456e3]'),
    ("RFC 8785 number samples: shortest round-trip digits, ties to even",
     '[333333333.33333325, 333333333.3333334, 1424953923781206.2, 9.999999999999997e+22, 1e+23,'
     ' 1.0000000000000001e+23, -0.0000033333333333333333, 9.999999999999997e-7, 0.000001]'),
    ("integers beyond 2^53 are kept when the double's canonical form has the value written",
     '[1000000000000000000, 1e18, 18446744073709552000, -1e17, 1e21, 0e400, -0.0e-400]'),
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
            {"name": "glossary", "path": "data/glossary.csv", "x-lang": "en"},
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
     '{"outputs":"out","name":"one output"}', NO_RESOLUTIONS),
    ("extensions: meta and x- keys at every level are part of the recipe",
     compact({"meta": {"owner": "search-team", "ticket": 4521}, "x-cost-center": "R&D",
              "inputs": [{"name": "corpus", "digest": TREE_T, "type": "tree", "meta": {"rows": 120000}}],
              "transforms": [{"tool": "embed", "tool_version": "3", "code_hash": sha256(EMBED_CODE),
                              "x-gpu": "a100", "params": {"anything": {"goes": ["here", 1]}}}]}),
     NO_RESOLUTIONS),
    ("a transform with neither code_path nor code_hash is valid, and the plan warns that its code is not identity",
     '{"transforms":[{"tool":"llm","tool_version":"2024-08","params":{"temperature":0}}]}', NO_RESOLUTIONS),
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
    ("json", "2^64: its double prints as 18446744073709552000", "18446744073709551616",
     "CTX_JSON_NUMBER_UNREPRESENTABLE"),
    ("json", "2^64 + 1 (the same double as 2^64)", '{"n":18446744073709551617}', "CTX_JSON_NUMBER_UNREPRESENTABLE"),
    ("json", "underflow to 0", '{"n":1e-400}', "CTX_JSON_NUMBER_UNREPRESENTABLE"),
    ("json", "below half the smallest double", "[-2e-324]", "CTX_JSON_NUMBER_UNREPRESENTABLE"),
    ("json", "beyond the largest double", "[1e400]", "CTX_JSON_NUMBER_UNREPRESENTABLE"),
    ("json", "more digits than the double keeps", "[0.30000000000000001]", "CTX_JSON_NUMBER_UNREPRESENTABLE"),
    ("json", "RFC 8785's 333333333.33333329 (its double prints as 333333333.3333333)", "[333333333.33333329]",
     "CTX_JSON_NUMBER_UNREPRESENTABLE"),
    ("json", "the exact value of the double 0.1, which prints as 0.1", "0.1000000000000000055511151231257827",
     "CTX_JSON_NUMBER_UNREPRESENTABLE"),
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
    ("contract", "misspelled top-level key", '{"transfroms":[{"tool":"t"}]}', "CTX_CONTRACT_INVALID"),
    ("contract", "misspelled transform key", '{"transforms":[{"tool":"t","codepath":"a.py"}]}',
     "CTX_CONTRACT_INVALID"),
    ("contract", "unknown input key (extensions go under meta or x-)",
     '{"inputs":[{"name":"a","path":"p","lang":"en"}]}', "CTX_CONTRACT_INVALID"),
    ("contract", "a parameter beyond 2^64", '{"transforms":[{"tool":"t","params":{"seed":18446744073709551617}}]}',
     "CTX_JSON_NUMBER_UNREPRESENTABLE"),
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


MIB = 1024 * 1024


def sized(path, size):
    """A file entry of `size` bytes; the digest is a placeholder (layouts depend on paths and sizes only)."""
    return {"path": path, "type": "file", "size": size, "digest": sha256(b""), "executable": False}


LAYOUTS = [
    ("64 MiB exactly is one layer", [sized("a", 32 * MIB), sized("b", 32 * MIB), link_entry("c", "a")]),
    ("cut after a path whose hash starts below 64, once 32 MiB are held",
     [sized(f"part-{i:02}.bin", 10 * MIB) for i in range(12)] + [link_entry("z", "part-00.bin")]),
    ("a group closes at 256 MiB without a cut point; a huge file is a layer of its own",
     [sized("big.bin", 300 * MIB)] + [sized(f"x{i:03}", 20 * MIB) for i in range(16)]),
]


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
        "layouts": [],
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
                                     "warned_transforms": warned_transforms(contract),
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

    for name, entries in LAYOUTS:
        tree = tree_document(entries)["entries"]
        vectors["layouts"].append({"name": name, "entries": entries,
                                   "layers": [{"start": s, "entries": n, "bytes": b} for s, n, b in layout(tree)]})

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


# ---------------------------------------------------------------------------------------------------------
# Section 13 of docs/spec.md: the same vectors, for people

SPEC_MARKER = "<!-- generated by docs/vectors/gen_vectors.py: do not edit below this line -->"


def ascii_json(value):
    """Compact JSON with every non-ASCII character escaped, so combining marks and controls are visible."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def block(text, lang=""):
    return f"```{lang}\n{text}\n```\n"


def describe_entry(entry):
    if "path_hex" in entry:
        return f"file with name bytes {entry['path_hex']}"
    if entry["type"] == "symlink":
        return f"{ascii_json(entry['path'])} -> {ascii_json(entry['target'])}"
    return f"file {ascii_json(entry['path'])}"


def describe_rejection(kind, value):
    if kind == "tree":
        return "; ".join(describe_entry(e) for e in value)
    if kind == "resolve":
        return value["contract"] + " with no resolutions"
    return value if isinstance(value, str) else ascii_json(value)


def table_cell(text):
    return "`" + text.replace("|", "\\|") + "`" if text else "(empty)"


def invisible(text):
    return any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Mn") and c != "\n" for c in text)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render_markdown(vectors):
    out = ["In 13.1 canonical forms are shown exactly; elsewhere JSON is shown with non-ASCII characters "
           "escaped (`\\u00e9`) so that normalisation is visible, while the hashed bytes hold them as UTF-8. "
           "The exact text of every vector is in `spec-vectors.json`.\n"]
    out.append("### 13.1 Canonical JSON\n")
    for v in vectors["jcs"]:
        out.append(f"**{v['name']}**\n")
        if any(ord(c) < 0x20 and c != "\n" for c in v["input"]):
            out.append("Input, written as a JSON string because it holds raw control characters:\n")
            out.append(block(json.dumps(v["input"]), "json"))
        else:
            out.append(block(v["input"], "json"))
        out.append("Canonical form:\n")
        out.append(block(v["canonical"], "json"))
        if invisible(v["canonical"]):
            out.append(f"Canonical bytes in hex (the form holds invisible characters): "
                       f"`{v['canonical'].encode('utf-8').hex()}`\n")
    out.append("### 13.2 File digests and URIs\n")
    out.append(table(["Content", "Digest"], [[v["name"], f"`{v['digest']}`"] for v in vectors["file_digests"]]))
    out.append(table(["URI", "Tag"], [[f"`{v['uri']}`", f"`{v['tag']}`"] for v in vectors["uris"]]))
    out.append("### 13.3 Tree documents\n")
    for v in vectors["trees"]:
        out.append(f"**{v['name']}**. Entries as the host found them:\n")
        out.append(block("\n".join(ascii_json(e) for e in v["entries"]) or "(none)", "json"))
        out.append("Tree document:\n")
        out.append(block(ascii_json(json.loads(v["document"])), "json"))
        out.append(f"Digest `{v['digest']}`\n")
    out.append("### 13.4 Contracts\n")
    for v in vectors["contracts"]:
        out.append(f"**{v['name']}**\n")
        out.append(block(v["contract"], "json"))
        out.append(f"Plan `{ascii_json(v['plan'])}`" + (f", with a warning for transforms {v['warned_transforms']}"
                                                          if v["warned_transforms"] else "") + "\n")
        out.append(f"Resolutions `{ascii_json(v['resolutions'])}`\n")
        out.append("Resolved contract:\n")
        out.append(block(ascii_json(json.loads(v["resolved"])), "json"))
        out.append(f"URI `{v['uri']}`\n")
    out.append("### 13.5 pack/v1 manifest\n")
    for v in vectors["manifests"]:
        out.append(f"**{v['name']}**: the resolved README contract (13.4), the output tree `processed_data` "
                   f"(13.3) and the provenance in it give this `manifest.json` "
                   f"({len(v['bytes'].encode('utf-8'))} bytes):\n")
        out.append(block(ascii_json(json.loads(v["bytes"])), "json"))
        out.append(f"URI `{v['uri']}`\n")
    out.append("### 13.6 OCI image manifest and index\n")
    for v in vectors["oci"]:
        out.append(f"**{v['name']}**: config = the `manifest.json` of 13.5, the layer descriptor "
                   f"`{ascii_json(v['layers'][0])}` (a placeholder archive), created `{v['created']}`:\n")
        out.append(block(v["manifest"], "json"))
        out.append(f"Its descriptor `{ascii_json(v['manifest_descriptor'])}`; `index.json` after adding it:\n")
        out.append(block(v["index"], "json"))
    out.append("### 13.7 Multi-layer layouts\n")
    out.append("Entries are given as path and size (digests do not matter to the layout); each layer as the "
               "index of its first entry in canonical order, its number of entries and its file bytes.\n")
    for v in vectors["layouts"]:
        out.append(f"**{v['name']}**\n")
        out.append(block("\n".join(f"{e['path']} {e.get('size', 'symlink')}" for e in v["entries"])))
        out.append(table(["Layer", "First entry", "Entries", "Bytes"],
                         [[str(k), str(l["start"]), str(l["entries"]), str(l["bytes"])] for k, l in enumerate(v["layers"])]))
    out.append("### 13.8 Rejections\n")
    rows = [[v["kind"], v["name"], table_cell(describe_rejection(v["kind"], v["input"])), f"`{v['error']}`"]
            for v in vectors["rejections"]]
    out.append(table(["Kind", "Case", "Input", "Error"], rows))
    return "\n".join(out)


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def main():
    docs = pathlib.Path(__file__).resolve().parent.parent
    vectors = build()
    spec = read(docs / "spec.md")
    if SPEC_MARKER not in spec:
        sys.exit(f"docs/spec.md lacks the line {SPEC_MARKER}")
    outputs = {
        docs / "spec-vectors.json": json.dumps(vectors, ensure_ascii=False, indent=2) + "\n",
        docs / "spec.md": spec[: spec.index(SPEC_MARKER) + len(SPEC_MARKER)] + "\n\n" + render_markdown(vectors),
    }
    for path, text in outputs.items():
        if "--check" in sys.argv:
            if read(path) != text:
                sys.exit(f"{path} is out of date: run python3 docs/vectors/gen_vectors.py")
        else:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)


if __name__ == "__main__":
    main()
