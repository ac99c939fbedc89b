//! `tree/v1`: the identity of a directory of files and symlinks.
//!
//! The digest is `sha256(JCS({"ctxpack":"tree/v1","entries":[…]}))` over entries sorted by the UTF-8 bytes
//! of their NFC path. Sizes are inside the document, so no two trees can collide by shifting bytes between
//! a name and a content (the defect of the original CtxPack's directory hash).

use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use crate::path::{normalize_link_target, normalize_relative};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

pub const TREE_V1: &str = "tree/v1";

/// Symlink hops followed while checking that a link stays inside the tree (Linux's own limit).
const MAX_LINK_HOPS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File { size: u64, digest: Digest, executable: bool },
    Symlink { target: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub path: String,
    pub kind: EntryKind,
}

impl TreeEntry {
    pub fn file(path: impl Into<String>, size: u64, digest: Digest, executable: bool) -> Self {
        TreeEntry { path: path.into(), kind: EntryKind::File { size, digest, executable } }
    }

    pub fn symlink(path: impl Into<String>, target: impl Into<String>) -> Self {
        TreeEntry { path: path.into(), kind: EntryKind::Symlink { target: target.into() } }
    }

    fn to_value(&self) -> Value {
        match &self.kind {
            EntryKind::File { size, digest, executable } => json!({
                "path": self.path, "type": "file", "size": size,
                "digest": digest.to_string(), "executable": executable,
            }),
            EntryKind::Symlink { target } => json!({ "path": self.path, "type": "symlink", "target": target }),
        }
    }
}

/// A validated tree: NFC paths, sorted by UTF-8 bytes, no collisions, every symlink inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    entries: Vec<TreeEntry>,
}

impl Tree {
    /// Normalises, sorts and validates entries as the host found them.
    pub fn new(entries: Vec<TreeEntry>) -> Result<Tree> {
        let mut normalized = Vec::with_capacity(entries.len());
        let mut original_of: HashMap<String, String> = HashMap::with_capacity(entries.len());
        for entry in entries {
            let path = normalize_relative(&entry.path)?;
            let kind = match entry.kind {
                EntryKind::Symlink { target } => EntryKind::Symlink { target: normalize_link_target(&path, &target)? },
                file => file,
            };
            if let Some(first) = original_of.insert(path.clone(), entry.path.clone()) {
                return Err(Error::new(
                    ErrorCode::PathCollision,
                    format!("{first:?} and {:?} are the same name after NFC normalisation", entry.path),
                )
                .at(path));
            }
            normalized.push(TreeEntry { path, kind });
        }
        normalized.sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        let tree = Tree { entries: normalized };
        tree.check_no_entry_is_a_directory()?;
        tree.check_links_stay_inside()?;
        Ok(tree)
    }

    /// Reads the `entries` array of a tree document, which must already be in canonical form.
    pub fn from_entries_value(value: &Value) -> Result<Tree> {
        let invalid = |why: String| Error::new(ErrorCode::ManifestInvalid, why);
        let items = value.as_array().ok_or_else(|| invalid("tree entries must be an array".into()))?;
        let mut entries = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            entries.push(entry_from_value(item).map_err(|e| e.at(format!("entries[{i}]")))?);
        }
        let tree = Tree::new(entries.clone())?;
        if tree.entries != entries {
            return Err(invalid("tree entries are not NFC-normalised and sorted by UTF-8 bytes".into()));
        }
        Ok(tree)
    }

    pub fn entries(&self) -> &[TreeEntry] {
        &self.entries
    }

    pub fn get(&self, path: &str) -> Option<&TreeEntry> {
        self.entries.binary_search_by(|e| e.path.as_bytes().cmp(path.as_bytes())).ok().map(|i| &self.entries[i])
    }

    /// Total bytes of regular-file content (saturating: a hostile manifest may declare absurd sizes).
    pub fn total_size(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| match e.kind {
                EntryKind::File { size, .. } => size,
                EntryKind::Symlink { .. } => 0,
            })
            .fold(0u64, u64::saturating_add)
    }

    pub fn entries_value(&self) -> Value {
        Value::Array(self.entries.iter().map(TreeEntry::to_value).collect())
    }

    /// The tree document `{"ctxpack":"tree/v1","entries":[…]}`.
    pub fn to_value(&self) -> Value {
        json!({ "ctxpack": TREE_V1, "entries": self.entries_value() })
    }

    pub fn digest(&self) -> Digest {
        jcs::digest(&self.to_value()).expect("tree documents hold only strings, booleans and sizes below 2^53")
    }

    /// A path cannot be both an entry and a directory holding other entries.
    fn check_no_entry_is_a_directory(&self) -> Result<()> {
        let paths: HashSet<&str> = self.entries.iter().map(|e| e.path.as_str()).collect();
        for entry in &self.entries {
            for (i, _) in entry.path.match_indices('/') {
                let parent = &entry.path[..i];
                if paths.contains(parent) {
                    return Err(Error::new(
                        ErrorCode::PathCollision,
                        format!("{parent:?} is recorded as a file or symlink but also holds {:?}", entry.path),
                    )
                    .at(parent));
                }
            }
        }
        Ok(())
    }

    /// Resolves every link the way the OS would, following links inside the tree, so that `..` after a
    /// link that points elsewhere cannot climb out (a purely lexical check misses that).
    fn check_links_stay_inside(&self) -> Result<()> {
        let links: HashMap<&str, &str> = self
            .entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::Symlink { target } => Some((e.path.as_str(), target.as_str())),
                EntryKind::File { .. } => None,
            })
            .collect();
        for (&link, &target) in &links {
            resolve_inside(link, target, &links)?;
        }
        Ok(())
    }
}

fn resolve_inside(link: &str, target: &str, links: &HashMap<&str, &str>) -> Result<()> {
    let escapes =
        || Error::new(ErrorCode::SymlinkEscapes, format!("link target {target:?} resolves outside the tree")).at(link);
    let mut resolved: Vec<&str> = link.split('/').collect();
    resolved.pop();
    let mut pending: Vec<&str> = target.split('/').rev().collect();
    let mut hops = 0;
    while let Some(segment) = pending.pop() {
        match segment {
            "" | "." => {}
            ".." => {
                resolved.pop().ok_or_else(escapes)?;
            }
            name => {
                resolved.push(name);
                if let Some(next) = links.get(resolved.join("/").as_str()) {
                    hops += 1;
                    if hops > MAX_LINK_HOPS {
                        return Err(Error::new(ErrorCode::SymlinkEscapes, "symlinks form a loop").at(link));
                    }
                    resolved.pop();
                    pending.extend(next.split('/').rev());
                }
            }
        }
    }
    Ok(())
}

fn entry_from_value(value: &Value) -> Result<TreeEntry> {
    let invalid = |why: &str| Error::new(ErrorCode::ManifestInvalid, why.to_string());
    let object = value.as_object().ok_or_else(|| invalid("entry must be an object"))?;
    let text = |key: &str| {
        object.get(key).and_then(Value::as_str).ok_or_else(|| invalid(&format!("\"{key}\" must be a string")))
    };
    let path = text("path")?.to_string();
    match text("type")? {
        "file" => {
            only_keys(object, &["path", "type", "size", "digest", "executable"])?;
            let size = object
                .get("size")
                .and_then(Value::as_u64)
                .ok_or_else(|| invalid("\"size\" must be a non-negative integer"))?;
            let digest = Digest::parse(text("digest")?).map_err(|e| invalid(&e.message))?;
            let executable = object
                .get("executable")
                .and_then(Value::as_bool)
                .ok_or_else(|| invalid("\"executable\" must be a boolean"))?;
            Ok(TreeEntry::file(path, size, digest, executable))
        }
        "symlink" => {
            only_keys(object, &["path", "type", "target"])?;
            Ok(TreeEntry::symlink(path, text("target")?))
        }
        other => Err(invalid(&format!("unknown entry type {other:?}"))),
    }
}

fn only_keys(object: &Map<String, Value>, allowed: &[&str]) -> Result<()> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(extra) => Err(Error::new(ErrorCode::ManifestInvalid, format!("unexpected field {extra:?}"))),
        None if object.len() == allowed.len() => Ok(()),
        None => Err(Error::new(ErrorCode::ManifestInvalid, format!("entry needs the fields {allowed:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &[u8]) -> TreeEntry {
        TreeEntry::file(path, content.len() as u64, Digest::of(content), false)
    }

    #[test]
    fn sorts_by_utf8_bytes_and_normalises() {
        let tree =
            Tree::new(vec![file("b", b"2"), file("a/b", b"1"), file("a-c", b"3"), file("e\u{301}", b"4")]).unwrap();
        let paths: Vec<&str> = tree.entries().iter().map(|e| e.path.as_str()).collect();
        // '-' (0x2d) sorts before '/' (0x2f): byte order, not path-component order.
        assert_eq!(paths, ["a-c", "a/b", "b", "\u{e9}"]);
        assert!(tree.get("a/b").is_some() && tree.get("a").is_none());
    }

    #[test]
    fn digest_is_the_jcs_document_hash() {
        let tree = Tree::new(vec![file("x.txt", b"hello world")]).unwrap();
        let doc = String::from_utf8(jcs::canonicalize(&tree.to_value()).unwrap()).unwrap();
        assert_eq!(
            doc,
            r#"{"ctxpack":"tree/v1","entries":[{"digest":"sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9","executable":false,"path":"x.txt","size":11,"type":"file"}]}"#
        );
        assert_eq!(tree.digest(), Digest::of(doc.as_bytes()));
    }

    #[test]
    fn name_and_content_boundaries_cannot_collide() {
        let a = Tree::new(vec![file("a", b"bc")]).unwrap();
        let b = Tree::new(vec![file("ab", b"c")]).unwrap();
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn executable_bit_and_symlinks_are_identity() {
        let plain = Tree::new(vec![file("run.sh", b"x")]).unwrap();
        let exec = Tree::new(vec![TreeEntry::file("run.sh", 1, Digest::of(b"x"), true)]).unwrap();
        assert_ne!(plain.digest(), exec.digest());
        let link = Tree::new(vec![file("run.sh", b"x"), TreeEntry::symlink("go", "run.sh")]).unwrap();
        assert_ne!(plain.digest(), link.digest());
    }

    #[test]
    fn nfc_collisions_are_rejected() {
        let e = Tree::new(vec![file("caf\u{e9}", b"1"), file("cafe\u{301}", b"2")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::PathCollision);
    }

    #[test]
    fn a_file_cannot_also_be_a_directory() {
        let e = Tree::new(vec![file("a", b"1"), file("a/b", b"2")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::PathCollision);
        let e = Tree::new(vec![TreeEntry::symlink("d", "x"), file("d/f", b"2"), file("x/f", b"3")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::PathCollision);
    }

    #[test]
    fn links_inside_are_accepted() {
        Tree::new(vec![
            file("data/a.txt", b"a"),
            TreeEntry::symlink("latest", "data/a.txt"),
            TreeEntry::symlink("data/self", "."),
            TreeEntry::symlink("data/up", ".."),
            TreeEntry::symlink("dangling", "nothing/here"),
        ])
        .unwrap();
    }

    #[test]
    fn links_escaping_are_rejected() {
        for (link, target) in [("l", "../x"), ("a/l", "../../x"), ("l", "/etc/passwd"), ("a/l", "./../b/../../x")] {
            let e = Tree::new(vec![TreeEntry::symlink(link, target)]).unwrap_err();
            assert_eq!(e.code, ErrorCode::SymlinkEscapes, "{link} -> {target}");
        }
    }

    #[test]
    fn dot_dot_after_a_link_follows_the_link() {
        // Lexically "c" points at "a", but the OS resolves a/b to the root first, so a/b/.. is outside.
        let e = Tree::new(vec![TreeEntry::symlink("a/b", ".."), TreeEntry::symlink("c", "a/b/..")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::SymlinkEscapes);
    }

    #[test]
    fn link_loops_are_rejected() {
        let e = Tree::new(vec![TreeEntry::symlink("a", "b/x"), TreeEntry::symlink("b", "a")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::SymlinkEscapes);
        assert!(e.message.contains("loop"));
    }

    #[test]
    fn entries_value_round_trips_only_in_canonical_form() {
        let tree = Tree::new(vec![file("b", b"2"), file("a", b"1")]).unwrap();
        assert_eq!(Tree::from_entries_value(&tree.entries_value()).unwrap(), tree);
        let mut reversed = tree.entries_value();
        reversed.as_array_mut().unwrap().reverse();
        assert_eq!(Tree::from_entries_value(&reversed).unwrap_err().code, ErrorCode::ManifestInvalid);
        let extra = json!([{"path":"a","type":"file","size":1,"digest":Digest::of(b"1").to_string(),"executable":false,"mode":420}]);
        assert_eq!(Tree::from_entries_value(&extra).unwrap_err().code, ErrorCode::ManifestInvalid);
    }
}
