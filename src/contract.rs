//! contract/v1: the recipe that names a pack.
//!
//! A contract is a JSON object a user writes. Its `inputs` name files, directories, digests or other packs;
//! its `transforms` name the tools (and, through `code_path`, the code) that turn inputs into outputs; its
//! `outputs` say where results go. The core never reads files: [`Contract::plan`] lists the paths the host
//! must hash, and [`Contract::resolve`] swaps those paths for digests. The resolved contract (paths gone,
//! `outputs` gone, `"ctxpack":"contract/v1"` added) is what gets hashed, so moving a folder keeps the URI
//! while changing one byte of any input, code or parameter changes it.
//!
//! Every object's keys are known ([`keys`]): a misspelled key is an error, never a silently different
//! recipe. Extensions live under `meta` or in `x-` keys.

mod keys;

use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use crate::uri::CtxUri;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The value of the `ctxpack` key in a resolved contract.
pub const CONTRACT_V1: &str = "contract/v1";

/// The key resolution adds; reserved so a user contract cannot pose as a resolved one.
const RESERVED_KEY: &str = "ctxpack";

/// A validated contract as the user wrote it, before any path is hashed.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    /// The contract without `outputs` (which are not part of identity).
    recipe: Map<String, Value>,
    outputs: Vec<OutputSpec>,
}

/// What the host must hash before the contract can be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// In contract order: every path input, then every transform's `code_path`.
    pub needs: Vec<Need>,
    pub outputs: Vec<OutputSpec>,
    /// What the user should know although the contract is valid (a transform whose code is not identity).
    pub warnings: Vec<String>,
}

/// One path the host must hash. Paths are as written: the host resolves them against the contract file's
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// The file or directory of the input named `name`: hash it as a file digest or a tree digest.
    Input { name: String, path: String },
    /// The code file of `transforms[transform]`: hash its content.
    Code { transform: usize, path: String },
}

/// Where the results of a run are written (never part of identity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    pub path: String,
}

/// Whether a path input turned out to be a regular file or a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    File,
    Tree,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::File => "file",
            InputKind::Tree => "tree",
        }
    }

    pub fn parse(s: &str) -> Option<InputKind> {
        match s {
            "file" => Some(InputKind::File),
            "tree" => Some(InputKind::Tree),
            _ => None,
        }
    }
}

/// The host's answer for one path input: the file digest or the tree/v1 digest of what the path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedInput {
    pub kind: InputKind,
    pub digest: Digest,
}

/// A contract with every path replaced by a digest: the document a pack's identity is the hash of.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedContract {
    pub value: Value,
    /// `JCS(value)`: the exact bytes hashed.
    pub canonical: Vec<u8>,
    pub uri: CtxUri,
}

/// Which of the two forms a document is checked as: the contract a user writes, or its resolution.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Source,
    Resolved,
}

impl Contract {
    /// Parses and validates a user's contract (strict JSON: duplicate keys and unsafe integers are errors).
    pub fn parse(text: &[u8]) -> Result<Contract> {
        let value = jcs::parse(text).map_err(|e| {
            let hint = e.hint.clone();
            Error::new(e.code, format!("the contract is not valid JSON: {}", e.message)).hint(hint)
        })?;
        let Value::Object(mut recipe) = value else {
            return Err(invalid("the contract must be a JSON object"));
        };
        check(&recipe, Form::Source)?;
        let outputs = match recipe.remove("outputs") {
            None => Vec::new(),
            Some(outputs) => parse_outputs(&outputs)?,
        };
        Ok(Contract { recipe, outputs })
    }

    /// The paths the host must hash, where the outputs go, and warnings for the user.
    pub fn plan(&self) -> Plan {
        let mut needs = Vec::new();
        let mut warnings = Vec::new();
        for input in array(&self.recipe, "inputs") {
            if let (Some(name), Some(path)) = (str_field(input, "name"), str_field(input, "path")) {
                needs.push(Need::Input { name: name.to_string(), path: path.to_string() });
            }
        }
        for (transform, item) in array(&self.recipe, "transforms").iter().enumerate() {
            if let Some(path) = str_field(item, "code_path") {
                needs.push(Need::Code { transform, path: path.to_string() });
            } else if item.get("code_hash").is_none() {
                let tool = str_field(item, "tool").unwrap_or_default();
                warnings.push(format!(
                    "transforms[{transform}] (tool {tool:?}) has neither code_path nor code_hash: its code is not \
                     part of the identity, so changing it will not change the URI (add \"code_path\")"
                ));
            }
        }
        Plan { needs, outputs: self.outputs.clone(), warnings }
    }

    /// Replaces every path with the host's digest and derives the URI.
    ///
    /// `inputs` is keyed by input name, `code` by transform index. Every need of [`Contract::plan`] must be
    /// answered (a missing path is never hashed as nothing), and nothing else may be: an answer for an input
    /// that is not read from a path means the host and the contract disagree.
    pub fn resolve(
        &self,
        inputs: &BTreeMap<String, ResolvedInput>,
        code: &BTreeMap<usize, Digest>,
    ) -> Result<ResolvedContract> {
        let mut resolved = self.recipe.clone();
        let mut used_inputs = BTreeSet::new();
        let mut used_code = BTreeSet::new();
        if let Some(Value::Array(items)) = resolved.get_mut("inputs") {
            for (i, item) in items.iter_mut().enumerate() {
                let input = item.as_object_mut().expect("validated: inputs are objects");
                let Some(path) = input.remove("path") else { continue };
                let name = input["name"].as_str().expect("validated: names are strings").to_string();
                let answer = inputs.get(&name).ok_or_else(|| {
                    Error::new(ErrorCode::InputMissing, format!("input {name:?} (path {path}) was not resolved"))
                        .at(format!("inputs[{i}].path"))
                })?;
                input.insert("type".into(), answer.kind.as_str().into());
                input.insert("digest".into(), answer.digest.to_string().into());
                used_inputs.insert(name);
            }
        }
        if let Some(Value::Array(items)) = resolved.get_mut("transforms") {
            for (i, item) in items.iter_mut().enumerate() {
                let transform = item.as_object_mut().expect("validated: transforms are objects");
                let Some(path) = transform.remove("code_path") else { continue };
                let hash = code.get(&i).ok_or_else(|| {
                    Error::new(
                        ErrorCode::InputMissing,
                        format!("the code of transform {i} (path {path}) was not resolved"),
                    )
                    .at(format!("transforms[{i}].code_path"))
                })?;
                transform.insert("code_hash".into(), hash.to_string().into());
                used_code.insert(i);
            }
        }
        if let Some(name) = inputs.keys().find(|name| !used_inputs.contains(*name)) {
            return Err(unexpected_answer(format!("input {name:?}, which the contract does not read from a path")));
        }
        if let Some(i) = code.keys().find(|i| !used_code.contains(*i)) {
            return Err(unexpected_answer(format!("transform {i}, which has no code_path")));
        }
        resolved.insert(RESERVED_KEY.into(), CONTRACT_V1.into());
        let value = Value::Object(resolved);
        let canonical = jcs::canonicalize(&value)?;
        let uri = CtxUri::from_digest(Digest::of(&canonical));
        Ok(ResolvedContract { value, canonical, uri })
    }
}

/// Validates a resolved contract (for instance the one stored in a pack) and re-derives its URI.
///
/// The rules are those of [`Contract::parse`] plus: `ctxpack` is `"contract/v1"`; there is no `outputs`;
/// every input gives `digest` or `uri` (a `type` of `file` or `tree` may accompany a digest); no `path` and
/// no `code_path` remain.
pub fn uri_of_resolved(resolved: &Value) -> Result<CtxUri> {
    let Value::Object(map) = resolved else {
        return Err(invalid("a resolved contract must be a JSON object"));
    };
    check(map, Form::Resolved)?;
    Ok(CtxUri::from_digest(jcs::digest(resolved)?))
}

fn check(contract: &Map<String, Value>, form: Form) -> Result<()> {
    match (form, contract.get(RESERVED_KEY)) {
        (Form::Source, Some(_)) => {
            return Err(invalid("the key \"ctxpack\" is reserved; ctxpack adds it when resolving")
                .at(RESERVED_KEY)
                .hint("remove \"ctxpack\" from the contract"))
        }
        (Form::Resolved, Some(Value::String(v))) if v == CONTRACT_V1 => {}
        (Form::Resolved, _) => {
            return Err(invalid(format!("must be {CONTRACT_V1:?} in a resolved contract")).at(RESERVED_KEY))
        }
        (Form::Source, None) => {}
    }
    if form == Form::Resolved && contract.contains_key("outputs") {
        return Err(invalid("a resolved contract has no outputs (they are not part of identity)").at("outputs"));
    }
    // Keys are checked where contracts are written (a misspelling is an authoring mistake); a resolved contract
    // from a pack is identity as recorded, and packs made before a key was known must still verify.
    let known = |object: &Map<String, Value>, at: &str, keys: &[&str], also: &[&str]| match form {
        Form::Source => keys::check_known(object, at, keys, also),
        Form::Resolved => Ok(()),
    };
    known(contract, "", keys::TOP_LEVEL, &[RESERVED_KEY])?;
    if let Some(inputs) = contract.get("inputs") {
        let items = inputs.as_array().ok_or_else(|| invalid("must be an array of input objects").at("inputs"))?;
        let mut names = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("inputs[{i}]");
            let input = item.as_object().ok_or_else(|| invalid("must be an object").at(&at))?;
            known(input, &at, keys::INPUT, &[])?;
            let name = match input.get("name") {
                Some(Value::String(name)) if !name.is_empty() => name,
                _ => return Err(invalid("must be a non-empty string").at(format!("{at}.name"))),
            };
            if !names.insert(name.as_str()) {
                return Err(invalid(format!("input name {name:?} is used twice")).at(format!("{at}.name")));
            }
            check_input_source(input, &at, form)?;
        }
    }
    if let Some(transforms) = contract.get("transforms") {
        let items =
            transforms.as_array().ok_or_else(|| invalid("must be an array of transform objects").at("transforms"))?;
        for (i, item) in items.iter().enumerate() {
            let at = format!("transforms[{i}]");
            let transform = item.as_object().ok_or_else(|| invalid("must be an object").at(&at))?;
            known(transform, &at, keys::TRANSFORM, &[])?;
            match transform.get("tool") {
                Some(Value::String(tool)) if !tool.is_empty() => {}
                _ => return Err(invalid("must be a non-empty string naming the tool").at(format!("{at}.tool"))),
            }
            check_code(transform, &at, form)?;
        }
    }
    Ok(())
}

/// An input gives exactly one of `path`, `digest` and `uri`; `type` is what resolution records beside a
/// digest, so a user may write it beside a given digest (pinning an input yields the same URI as resolving
/// its path) but not beside a path or a URI.
fn check_input_source(input: &Map<String, Value>, at: &str, form: Form) -> Result<()> {
    let sources: Vec<&str> = ["path", "digest", "uri"].into_iter().filter(|k| input.contains_key(*k)).collect();
    let allowed = match form {
        Form::Source => "one of \"path\", \"digest\" or \"uri\"",
        Form::Resolved => "one of \"digest\" or \"uri\"",
    };
    let [source] = sources[..] else {
        let found = if sources.is_empty() { "none".to_string() } else { sources.join(", ") };
        return Err(invalid(format!("an input needs exactly {allowed}; found {found}")).at(at));
    };
    let field_at = format!("{at}.{source}");
    match (source, &input[source]) {
        ("path", _) if form == Form::Resolved => {
            return Err(invalid("a resolved contract has no paths").at(field_at));
        }
        ("path", Value::String(path)) if !path.is_empty() => {}
        ("path", _) => return Err(invalid("must be a non-empty string").at(field_at)),
        ("digest", value) => parse_digest(value, &field_at)?,
        (_, value) => {
            let uri = value.as_str().ok_or_else(|| invalid("must be a ctx://sha256:<hex> string").at(&field_at))?;
            CtxUri::parse(uri).map_err(|e| invalid(e.message).at(&field_at))?;
        }
    }
    match input.get("type") {
        None => Ok(()),
        Some(_) if source != "digest" => {
            Err(invalid(format!("\"type\" only accompanies a digest; with {source:?} it is not allowed"))
                .at(format!("{at}.type")))
        }
        Some(Value::String(kind)) if InputKind::parse(kind).is_some() => Ok(()),
        Some(_) => Err(invalid("must be \"file\" or \"tree\"").at(format!("{at}.type"))),
    }
}

fn check_code(transform: &Map<String, Value>, at: &str, form: Form) -> Result<()> {
    if let Some(hash) = transform.get("code_hash") {
        parse_digest(hash, &format!("{at}.code_hash"))?;
    }
    match transform.get("code_path") {
        None => Ok(()),
        Some(_) if form == Form::Resolved => {
            Err(invalid("a resolved contract has no code_path").at(format!("{at}.code_path")))
        }
        Some(_) if transform.contains_key("code_hash") => {
            Err(invalid("give code_path or code_hash, not both").at(format!("{at}.code_path")))
        }
        Some(Value::String(path)) if !path.is_empty() => Ok(()),
        Some(_) => Err(invalid("must be a non-empty string").at(format!("{at}.code_path"))),
    }
}

fn parse_digest(value: &Value, at: &str) -> Result<()> {
    let text = value.as_str().ok_or_else(|| invalid("must be a sha256:<hex> string").at(at))?;
    Digest::parse(text).map_err(|e| invalid(e.message).at(at))?;
    Ok(())
}

/// `outputs` may be written as one path, one `{"path": …}` object or an array of either; it always becomes
/// an array. Fields other than `path` are the host's business (outputs are not part of identity).
fn parse_outputs(outputs: &Value) -> Result<Vec<OutputSpec>> {
    let one = |item: &Value, at: String| -> Result<OutputSpec> {
        match item {
            Value::String(path) if !path.is_empty() => Ok(OutputSpec { path: path.clone() }),
            Value::Object(map) => match map.get("path") {
                Some(Value::String(path)) if !path.is_empty() => Ok(OutputSpec { path: path.clone() }),
                _ => Err(invalid("must be a non-empty string").at(format!("{at}.path"))),
            },
            _ => Err(invalid("must be a path or an object with a \"path\"").at(at)),
        }
    };
    match outputs {
        Value::Array(items) => items.iter().enumerate().map(|(i, item)| one(item, format!("outputs[{i}]"))).collect(),
        single => Ok(vec![one(single, "outputs".to_string())?]),
    }
}

fn array<'a>(map: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    map.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn str_field<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.get(key).and_then(Value::as_str)
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::ContractInvalid, message)
}

fn unexpected_answer(what: String) -> Error {
    Error::new(ErrorCode::InvalidState, format!("a resolution was given for {what}"))
        .hint("pass exactly the needs that contractPlan lists")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(content: &str) -> Digest {
        Digest::of(content.as_bytes())
    }

    fn tree(content: &str) -> ResolvedInput {
        ResolvedInput { kind: InputKind::Tree, digest: d(content) }
    }

    fn file(content: &str) -> ResolvedInput {
        ResolvedInput { kind: InputKind::File, digest: d(content) }
    }

    fn parse(value: Value) -> Result<Contract> {
        Contract::parse(value.to_string().as_bytes())
    }

    fn rejection(value: Value) -> Error {
        parse(value).expect_err("the contract should be rejected")
    }

    fn assert_invalid(value: Value, subject: &str) {
        let e = rejection(value);
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::ContractInvalid, Some(subject)), "{}", e.message);
    }

    /// The README's example shape: a tree, a file, a given digest, another pack, and code to hash.
    fn readme() -> Value {
        json!({
            "inputs": [
                {"name": "raw_docs", "path": "./raw_pdfs"},
                {"name": "glossary", "path": "glossary.csv", "x-note": "kept"},
                {"name": "model", "digest": d("weights").to_string()},
                {"name": "previous", "uri": CtxUri::from_digest(d("pack")).to_string()}
            ],
            "transforms": [
                {"tool": "vision-pro", "tool_version": "1.2", "code_path": "ocr.py", "params": {"dpi": 300}},
                {"tool": "embed", "code_hash": d("embed").to_string()}
            ],
            "outputs": [{"path": "./processed_data"}]
        })
    }

    fn readme_answers() -> (BTreeMap<String, ResolvedInput>, BTreeMap<usize, Digest>) {
        let inputs = BTreeMap::from([("raw_docs".into(), tree("docs")), ("glossary".into(), file("terms"))]);
        (inputs, BTreeMap::from([(0, d("ocr"))]))
    }

    fn uri_of(value: Value) -> CtxUri {
        let (inputs, code) = readme_answers();
        parse(value).unwrap().resolve(&inputs, &code).unwrap().uri
    }

    #[test]
    fn plan_lists_paths_in_contract_order() {
        let plan = parse(readme()).unwrap().plan();
        assert_eq!(
            plan.needs,
            vec![
                Need::Input { name: "raw_docs".into(), path: "./raw_pdfs".into() },
                Need::Input { name: "glossary".into(), path: "glossary.csv".into() },
                Need::Code { transform: 0, path: "ocr.py".into() },
            ]
        );
        assert_eq!(plan.outputs, vec![OutputSpec { path: "./processed_data".into() }]);
        assert_eq!(plan.warnings, Vec::<String>::new());
    }

    #[test]
    fn a_transform_whose_code_is_not_identity_is_warned_about() {
        let plan = parse(json!({"transforms": [{"tool": "a", "code_path": "a.py"}, {"tool": "llm"}]})).unwrap().plan();
        assert_eq!(plan.warnings.len(), 1);
        let warning = &plan.warnings[0];
        assert!(warning.starts_with("transforms[1] (tool \"llm\") has neither code_path nor code_hash"), "{warning}");
    }

    #[test]
    fn misspelled_keys_are_errors_naming_the_path_and_the_key_meant() {
        for (contract, subject, meant) in [
            (json!({"transforms": [{"tool": "t", "codepath": "a.py"}]}), "transforms[0].codepath", Some("code_path")),
            (json!({"transfroms": [{"tool": "t"}]}), "transfroms", Some("transforms")),
            (json!({"inputs": [{"name": "a", "path": "p", "lang": "en"}]}), "inputs[0].lang", None),
            (json!({"inputs": [{"nmae": "a", "path": "p"}]}), "inputs[0].nmae", Some("name")),
            (json!({"transforms": [{"tol": "t"}]}), "transforms[0].tol", Some("tool")),
        ] {
            let e = rejection(contract);
            assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::ContractInvalid, Some(subject)), "{}", e.message);
            match meant {
                Some(meant) => assert!(e.hint.contains(&format!("did you mean \"{meant}\"")), "{}", e.hint),
                None => assert!(e.hint.contains("\"meta\""), "{}", e.hint),
            }
        }
        // A resolved contract is identity as recorded: a pack whose producer wrote an unknown key still verifies.
        let stored = json!({"ctxpack": "contract/v1", "transforms": [{"tool": "t", "codehash": d("x").to_string()}]});
        assert!(uri_of_resolved(&stored).is_ok());
    }

    #[test]
    fn extensions_are_part_of_the_identity() {
        let base = json!({
            "meta": {"team": "search", "ticket": [1, 2]},
            "x-owner": "ada",
            "inputs": [{"name": "a", "digest": d("a").to_string(), "x-lang": "en", "meta": {"rows": 3}}],
            "transforms": [{"tool": "t", "code_hash": d("t").to_string(), "x-gpu": true, "params": {"any": {"thing": 1}}}]
        });
        let uri =
            |value: &Value| parse(value.clone()).unwrap().resolve(&BTreeMap::new(), &BTreeMap::new()).unwrap().uri;
        let first = uri(&base);
        for edit in [
            (|v: &mut Value| v["meta"]["team"] = json!("ads")) as fn(&mut Value),
            |v| v["x-owner"] = json!("grace"),
            |v| v["inputs"][0]["x-lang"] = json!("fr"),
            |v| v["inputs"][0]["meta"]["rows"] = json!(4),
            |v| v["transforms"][0]["x-gpu"] = json!(false),
        ] {
            let mut changed = base.clone();
            edit(&mut changed);
            assert_ne!(uri(&changed), first, "{changed}");
        }
    }

    #[test]
    fn resolution_replaces_paths_and_drops_outputs() {
        let (inputs, code) = readme_answers();
        let resolved = parse(readme()).unwrap().resolve(&inputs, &code).unwrap();
        let want = json!({
            "ctxpack": "contract/v1",
            "inputs": [
                {"name": "raw_docs", "type": "tree", "digest": d("docs").to_string()},
                {"name": "glossary", "type": "file", "digest": d("terms").to_string(), "x-note": "kept"},
                {"name": "model", "digest": d("weights").to_string()},
                {"name": "previous", "uri": CtxUri::from_digest(d("pack")).to_string()}
            ],
            "transforms": [
                {"tool": "vision-pro", "tool_version": "1.2", "code_hash": d("ocr").to_string(), "params": {"dpi": 300}},
                {"tool": "embed", "code_hash": d("embed").to_string()}
            ]
        });
        assert_eq!(resolved.value, want);
        assert_eq!(resolved.canonical, jcs::canonicalize(&want).unwrap());
        assert_eq!(resolved.uri, CtxUri::from_digest(Digest::of(&resolved.canonical)));
        assert_eq!(uri_of_resolved(&resolved.value).unwrap(), resolved.uri);
    }

    #[test]
    fn paths_outputs_order_and_whitespace_are_not_identity() {
        let base = uri_of(readme());
        let mut moved = readme();
        moved["inputs"][0]["path"] = json!("/elsewhere/raw_pdfs");
        moved["transforms"][0]["code_path"] = json!("../src/ocr.py");
        moved["outputs"] = json!("somewhere/else");
        assert_eq!(uri_of(moved), base);
        let mut no_outputs = readme();
        no_outputs.as_object_mut().unwrap().remove("outputs");
        assert_eq!(uri_of(no_outputs), base);

        let compact = br#"{"transforms":[{"tool":"t","params":{"b":1,"a":[1,2]}}],"inputs":[{"name":"x","path":"p"}]}"#;
        let loose = b"{ \"inputs\" : [ { \"path\" : \"../moved/p\", \"name\" : \"x\" } ],\n\t\"outputs\": \"o\",
            \"transforms\": [ { \"params\": { \"a\": [1, 2.0], \"b\": 1e0 }, \"tool\": \"t\" } ] }";
        let answers = BTreeMap::from([("x".to_string(), tree("p"))]);
        let [a, b] = [&compact[..], &loose[..]]
            .map(|text| Contract::parse(text).unwrap().resolve(&answers, &BTreeMap::new()).unwrap().uri);
        assert_eq!(a, b);
    }

    #[test]
    fn every_input_code_and_param_byte_is_identity() {
        let base = uri_of(readme());
        let contract = parse(readme()).unwrap();
        let (inputs, code) = readme_answers();
        let mut changed_input = inputs.clone();
        changed_input.insert("raw_docs".into(), tree("docs!"));
        let mut file_not_tree = inputs.clone();
        file_not_tree.insert("raw_docs".into(), file("docs"));
        let changed_code = BTreeMap::from([(0, d("ocr!"))]);
        for (inputs, code) in [(&changed_input, &code), (&file_not_tree, &code), (&inputs, &changed_code)] {
            assert_ne!(contract.resolve(inputs, code).unwrap().uri, base);
        }
        let mut changed_param = readme();
        changed_param["transforms"][0]["params"]["dpi"] = json!(301);
        let mut changed_digest = readme();
        changed_digest["inputs"][2]["digest"] = json!(d("weights!").to_string());
        let mut renamed = readme();
        renamed["inputs"][0]["name"] = json!("docs");
        let (mut renamed_inputs, _) = readme_answers();
        let raw_docs = renamed_inputs.remove("raw_docs").unwrap();
        renamed_inputs.insert("docs".into(), raw_docs);
        assert_ne!(uri_of(changed_param), base);
        assert_ne!(uri_of(changed_digest), base);
        assert_ne!(parse(renamed).unwrap().resolve(&renamed_inputs, &code).unwrap().uri, base);
    }

    #[test]
    fn pinning_a_digest_with_its_type_gives_the_resolved_uri() {
        let by_path = parse(json!({"inputs": [{"name": "a", "path": "dir"}]}))
            .unwrap()
            .resolve(&BTreeMap::from([("a".into(), tree("t"))]), &BTreeMap::new())
            .unwrap();
        let pinned = json!({"inputs": [{"name": "a", "type": "tree", "digest": d("t").to_string()}]});
        let pinned = parse(pinned).unwrap().resolve(&BTreeMap::new(), &BTreeMap::new()).unwrap();
        assert_eq!(pinned.uri, by_path.uri);
    }

    #[test]
    fn empty_contract_has_a_uri() {
        let resolved = parse(json!({})).unwrap().resolve(&BTreeMap::new(), &BTreeMap::new()).unwrap();
        assert_eq!(resolved.canonical, br#"{"ctxpack":"contract/v1"}"#);
    }

    #[test]
    fn unresolved_paths_are_errors_never_the_hash_of_nothing() {
        let contract = parse(readme()).unwrap();
        let (mut inputs, code) = readme_answers();
        inputs.remove("glossary");
        let e = contract.resolve(&inputs, &code).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::InputMissing, Some("inputs[1].path")));
        assert!(e.message.contains("glossary"), "{}", e.message);
        let (inputs, _) = readme_answers();
        let e = contract.resolve(&inputs, &BTreeMap::new()).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::InputMissing, Some("transforms[0].code_path")));
    }

    #[test]
    fn answers_for_nothing_are_host_errors() {
        let contract = parse(readme()).unwrap();
        let (mut inputs, code) = readme_answers();
        inputs.insert("model".into(), file("x"));
        assert_eq!(contract.resolve(&inputs, &code).unwrap_err().code, ErrorCode::InvalidState);
        let (inputs, mut code) = readme_answers();
        code.insert(1, d("x"));
        assert_eq!(contract.resolve(&inputs, &code).unwrap_err().code, ErrorCode::InvalidState);
    }

    #[test]
    fn outputs_normalise_to_an_array() {
        for outputs in [json!("out"), json!({"path": "out", "mode": "copy"}), json!([{"path": "out"}]), json!(["out"])]
        {
            let contract = parse(json!({ "outputs": outputs })).unwrap();
            assert_eq!(contract.plan().outputs, vec![OutputSpec { path: "out".into() }]);
        }
        assert_eq!(parse(json!({"outputs": []})).unwrap().plan().outputs, vec![]);
    }

    #[test]
    fn json_errors_keep_their_codes() {
        for (text, code) in [
            (&b"{\"a\":1,\"a\":2}"[..], ErrorCode::JsonDuplicateKey),
            (b"{\"a\":9007199254740993}", ErrorCode::JsonNumberUnrepresentable),
            (b"{\"a\":", ErrorCode::JsonInvalid),
        ] {
            assert_eq!(Contract::parse(text).unwrap_err().code, code);
        }
    }

    #[test]
    fn malformed_contracts_name_the_field() {
        let digest = d("x").to_string();
        let uri = CtxUri::from_digest(d("x")).to_string();
        assert_eq!(rejection(json!([])).code, ErrorCode::ContractInvalid);
        let cases = [
            (json!({"ctxpack": "contract/v1"}), "ctxpack"),
            (json!({"inputs": {"name": "a", "path": "p"}}), "inputs"),
            (json!({"inputs": ["p"]}), "inputs[0]"),
            (json!({"inputs": [{"path": "p"}]}), "inputs[0].name"),
            (json!({"inputs": [{"name": "", "path": "p"}]}), "inputs[0].name"),
            (json!({"inputs": [{"name": 1, "path": "p"}]}), "inputs[0].name"),
            (json!({"inputs": [{"name": "a", "path": "p"}, {"name": "a", "path": "q"}]}), "inputs[1].name"),
            (json!({"inputs": [{"name": "a"}]}), "inputs[0]"),
            (json!({"inputs": [{"name": "a", "path": "p", "digest": digest}]}), "inputs[0]"),
            (json!({"inputs": [{"name": "a", "digest": digest, "uri": uri}]}), "inputs[0]"),
            (json!({"inputs": [{"name": "a", "path": ""}]}), "inputs[0].path"),
            (json!({"inputs": [{"name": "a", "path": ["p"]}]}), "inputs[0].path"),
            (json!({"inputs": [{"name": "a", "digest": "sha256:abc"}]}), "inputs[0].digest"),
            (json!({"inputs": [{"name": "a", "digest": d("x").hex()}]}), "inputs[0].digest"),
            (json!({"inputs": [{"name": "a", "uri": digest}]}), "inputs[0].uri"),
            (json!({"inputs": [{"name": "a", "uri": 7}]}), "inputs[0].uri"),
            (json!({"inputs": [{"name": "a", "path": "p", "type": "tree"}]}), "inputs[0].type"),
            (json!({"inputs": [{"name": "a", "uri": uri, "type": "tree"}]}), "inputs[0].type"),
            (json!({"inputs": [{"name": "a", "digest": digest, "type": "dir"}]}), "inputs[0].type"),
            (json!({"transforms": {"tool": "t"}}), "transforms"),
            (json!({"transforms": [null]}), "transforms[0]"),
            (json!({"transforms": [{"tool_version": "1"}]}), "transforms[0].tool"),
            (json!({"transforms": [{"tool": ""}]}), "transforms[0].tool"),
            (
                json!({"transforms": [{"tool": "t", "code_path": "a.py", "code_hash": digest}]}),
                "transforms[0].code_path",
            ),
            (json!({"transforms": [{"tool": "t", "code_path": ""}]}), "transforms[0].code_path"),
            (json!({"transforms": [{"tool": "t", "code_hash": "sha256:abc123"}]}), "transforms[0].code_hash"),
            (json!({"outputs": 3}), "outputs"),
            (json!({"outputs": [{"dir": "x"}]}), "outputs[0].path"),
            (json!({"outputs": ["a", ""]}), "outputs[1]"),
        ];
        for (contract, subject) in cases {
            assert_invalid(contract, subject);
        }
    }

    #[test]
    fn resolved_contracts_are_checked_before_hashing() {
        let digest = d("x").to_string();
        let ok = json!({"ctxpack": "contract/v1", "inputs": [{"name": "a", "type": "file", "digest": digest}]});
        assert_eq!(uri_of_resolved(&ok).unwrap(), CtxUri::from_digest(jcs::digest(&ok).unwrap()));
        let cases = [
            (json!({}), "ctxpack"),
            (json!({"ctxpack": "contract/v2"}), "ctxpack"),
            (json!({"ctxpack": "contract/v1", "outputs": []}), "outputs"),
            (json!({"ctxpack": "contract/v1", "inputs": [{"name": "a", "path": "p"}]}), "inputs[0].path"),
            (json!({"ctxpack": "contract/v1", "inputs": [{"name": "a", "path": "p", "digest": digest}]}), "inputs[0]"),
            (
                json!({"ctxpack": "contract/v1", "transforms": [{"tool": "t", "code_path": "a.py"}]}),
                "transforms[0].code_path",
            ),
        ];
        for (value, subject) in cases {
            let e = uri_of_resolved(&value).unwrap_err();
            assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::ContractInvalid, Some(subject)), "{value}");
        }
        assert_eq!(uri_of_resolved(&json!("x")).unwrap_err().code, ErrorCode::ContractInvalid);
    }
}
