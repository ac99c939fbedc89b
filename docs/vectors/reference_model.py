"""The reference model of the ctxpack formats (docs/spec.md), written from the spec with the Python 3 standard
library only: RFC 8785 canonical JSON, digests and URIs, tree/v1, contract/v1, pack/v1 and the OCI mapping.
It is deliberately independent of the Rust core, so that gen_vectors.py's vectors check the core instead of
echoing it. Rejections raise `Rejected` with the error code the spec gives.
"""

import decimal
import hashlib
import json
import math
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
    """Strict JSON: duplicate keys, numbers written otherwise than as their canonical value, NaN/Infinity and
    lone surrogates are errors."""

    def pairs(items):
        obj = {}
        for key, value in items:
            if key in obj:
                raise Rejected("CTX_JSON_DUPLICATE_KEY", key)
            obj[key] = value
        return obj

    def constant(token):
        raise Rejected("CTX_JSON_INVALID", token)

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_int=number, parse_float=number,
                           parse_constant=constant)
    except json.JSONDecodeError as e:
        raise Rejected("CTX_JSON_INVALID", str(e)) from None
    check_strings(value)
    return value


def number(token):
    """Spec §2: a number is accepted when the canonical form of the double nearest to it (what gets hashed)
    has the same decimal value as the number written. Integers up to 2^53 stay ints, the rest become floats."""
    written = decimal.Decimal(token)
    nearest = float(token)  # correctly rounded; inf beyond the largest double, 0.0 below the smallest
    if math.isinf(nearest):
        raise Rejected("CTX_JSON_NUMBER_UNREPRESENTABLE", f"{token} is too large for a double")
    if decimal.Decimal(es_number(nearest)) != written:  # Decimal compares exact values
        raise Rejected("CTX_JSON_NUMBER_UNREPRESENTABLE", f"{token} would be hashed as {es_number(nearest)}")
    if written == written.to_integral_value() and abs(written) <= MAX_EXACT_INT:
        return int(written)
    return nearest


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


# The keys each object of a contract may have (spec §5); extensions go under "meta" or in "x-" keys.
TOP_LEVEL_KEYS = {"name", "description", "inputs", "transforms", "outputs", "params", "dataset", "model",
                  "embedding", "tool", "tool_version", "meta"}
INPUT_KEYS = {"name", "path", "digest", "uri", "type", "description", "meta"}
TRANSFORM_KEYS = {"tool", "tool_version", "version", "name", "model", "params", "code_path", "code_hash",
                  "description", "meta"}


def check_keys(obj, at, known):
    for key in obj:
        if key not in known and not key.startswith("x-"):
            contract_error(f"{at}.{key}" if at else key, "unknown key")


def check_contract(contract, resolved):
    if not isinstance(contract, dict):
        contract_error("", "not an object")
    # Keys are checked where contracts are written; a resolved contract is identity as recorded.
    if not resolved:
        check_keys(contract, "", TOP_LEVEL_KEYS | {"ctxpack"})
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
        if not resolved:
            check_keys(item, f"inputs[{i}]", INPUT_KEYS)
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
        if not resolved:
            check_keys(item, f"transforms[{i}]", TRANSFORM_KEYS)
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


def warned_transforms(contract):
    """Spec §5.1: the transforms the plan warns about, having neither code_path nor code_hash."""
    return [n for n, t in enumerate(contract.get("transforms", [])) if "code_path" not in t and "code_hash" not in t]


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


SINGLE_LAYER_MAX_BYTES = 64 * 1024 * 1024
MIN_GROUP_BYTES = 32 * 1024 * 1024
MAX_GROUP_BYTES = 256 * 1024 * 1024


def layout(entries):
    """Spec 7.3: the layers of a pack whose canonical entries are `entries`, as [start, count, file bytes]."""
    sizes = [entry["size"] if entry["type"] == "file" else 0 for entry in entries]
    if sum(sizes) <= SINGLE_LAYER_MAX_BYTES:
        return [[0, len(entries), sum(sizes)]]
    groups, start, total = [], 0, 0
    for index, entry in enumerate(entries):
        total += sizes[index]
        cut = hashlib.sha256(entry["path"].encode("utf-8")).digest()[0] < 64
        if total >= MIN_GROUP_BYTES and (cut or total >= MAX_GROUP_BYTES):
            groups.append([start, index + 1 - start, total])
            start, total = index + 1, 0
    if start < len(entries):
        groups.append([start, len(entries) - start, total])
    return groups


def blob(media_type, data):
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data)}


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
