//! `tree/v1`: the identity of a directory of files and symlinks.
//!
//! The digest is `sha256(JCS({"ctxpack":"tree/v1","entries":[…]}))` over entries sorted by the UTF-8 bytes
//! of their NFC path. Sizes are inside the document, so no two trees can collide by shifting bytes between
//! a name and a content (the defect of the original CtxPack's directory hash).

use crate::digest::{Digest, Hasher};
use crate::error::{Error, ErrorCode, Result};
use crate::jcs;
use crate::path::{normalize_link_target, normalize_relative, normalize_relative_owned};
use serde_json::{json, Value};
use std::collections::HashMap;

pub const TREE_V1: &str = "tree/v1";

/// Symlink hops followed while checking that a link stays inside the tree (Linux's own limit).
const MAX_LINK_HOPS: usize = 40;
/// The tree document is hashed in pieces of about this size (not one short piece per entry).
const DIGEST_PIECE: usize = 64 * 1024;
/// Sizes up to this are written as their digits, which is their canonical JSON (RFC 8785 integers).
const MAX_EXACT_SIZE: u64 = 1 << 53;

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

    /// The entry's canonical JSON (keys in JCS order), as [`TreeEntry::to_value`] would canonicalise.
    fn write_canonical(&self, out: &mut Vec<u8>) -> Result<()> {
        match &self.kind {
            EntryKind::File { size, digest, executable } => {
                out.extend_from_slice(br#"{"digest":"sha256:"#);
                digest.write_hex(out);
                out.extend_from_slice(if *executable {
                    br#"","executable":true,"path":"#
                } else {
                    br#"","executable":false,"path":"#
                });
                jcs::write_string(&self.path, out);
                out.extend_from_slice(br#","size":"#);
                write_size(*size, out)?;
                out.extend_from_slice(br#","type":"file"}"#);
            }
            EntryKind::Symlink { target } => {
                out.extend_from_slice(br#"{"path":"#);
                jcs::write_string(&self.path, out);
                out.extend_from_slice(br#","target":"#);
                jcs::write_string(target, out);
                out.extend_from_slice(br#","type":"symlink"}"#);
            }
        }
        Ok(())
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
/// Kinds of [`CompactEntries`]: a file, an executable file, a symlink.
pub const COMPACT_FILE: u8 = 0;
pub const COMPACT_EXECUTABLE: u8 = 1;
pub const COMPACT_SYMLINK: u8 = 2;
const MAX_SAFE_SIZE: f64 = 9_007_199_254_740_991.0;

/// Tree entries as parallel arrays: `paths` joined by NUL (no path holds one), one kind per entry, and per
/// entry a size and 32 digest bytes (ignored for symlinks); `targets` joined by NUL, one per symlink in order.
pub struct CompactEntries<'a> {
    pub paths: &'a str,
    pub kinds: &'a [u8],
    pub sizes: &'a [f64],
    pub digests: &'a [u8],
    pub targets: &'a str,
}

fn compact_error(message: &str) -> Error {
    Error::new(ErrorCode::InvalidState, format!("compact tree: {message}"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    entries: Vec<TreeEntry>,
}

impl Tree {
    /// Normalises, sorts and validates entries as the host found them.
    pub fn new(entries: Vec<TreeEntry>) -> Result<Tree> {
        Tree::normalized(entries.into_iter().map(Ok))
    }

    /// One pass over the entries: each normalised as it comes (a host may hand over a million of them, so no
    /// second copy and no map of every path), then sorted; two entries that are one name after NFC
    /// normalisation are adjacent once sorted. What is sorted is the entries' positions (4 bytes each, not an
    /// entry), and the entries are then put in that order in place.
    fn normalized(entries: impl Iterator<Item = Result<TreeEntry>>) -> Result<Tree> {
        let mut normalized: Vec<TreeEntry> = Vec::with_capacity(entries.size_hint().0);
        // Only the names NFC changed are kept, for the collision message.
        let mut originals: HashMap<usize, String> = HashMap::new();
        for (position, entry) in entries.enumerate() {
            let TreeEntry { path: given, kind } = entry?;
            // An ASCII path is kept as given (no copy per entry); only a name NFC changes is recorded.
            let path = if given.is_ascii() {
                normalize_relative_owned(given)?
            } else {
                let path = normalize_relative(&given)?;
                if path != given {
                    originals.insert(position, given);
                }
                path
            };
            let kind = match kind {
                EntryKind::Symlink { target } => EntryKind::Symlink { target: normalize_link_target(&path, &target)? },
                file => file,
            };
            normalized.push(TreeEntry { path, kind });
        }
        let count = u32::try_from(normalized.len())
            .map_err(|_| Error::new(ErrorCode::InvalidState, "a tree holds fewer than 2^32 entries"))?;
        let mut order: Vec<u32> = (0..count).collect();
        let path_of = |position: u32| normalized[position as usize].path.as_bytes();
        order.sort_unstable_by(|&i, &j| path_of(i).cmp(path_of(j)).then(i.cmp(&j)));
        if let Some(pair) = order.windows(2).find(|pair| path_of(pair[0]) == path_of(pair[1])) {
            let original = |position: u32| {
                originals.get(&(position as usize)).unwrap_or(&normalized[position as usize].path).clone()
            };
            let (first, second) = (original(pair[0]), original(pair[1]));
            return Err(Error::new(
                ErrorCode::PathCollision,
                format!("{first:?} and {second:?} are the same name after NFC normalisation"),
            )
            .at(&normalized[pair[0] as usize].path));
        }
        put_in_order(&mut normalized, order);
        let tree = Tree { entries: normalized };
        tree.check_no_entry_is_a_directory()?;
        tree.check_links_stay_inside()?;
        Ok(tree)
    }

    /// Takes entries that must already be in canonical form (as a manifest records them): every path and
    /// link target valid and NFC, paths strictly increasing in UTF-8 byte order. Checked in place, without
    /// a copy, because a manifest may hold a million entries.
    pub fn from_canonical(entries: Vec<TreeEntry>) -> Result<Tree> {
        let not_canonical = |i: usize| {
            Error::new(ErrorCode::ManifestInvalid, "tree entries are not NFC-normalised and sorted by UTF-8 bytes")
                .at(format!("entries[{i}]"))
        };
        for (i, entry) in entries.iter().enumerate() {
            if normalize_relative(&entry.path)? != entry.path {
                return Err(not_canonical(i));
            }
            if let EntryKind::Symlink { target } = &entry.kind {
                if normalize_link_target(&entry.path, target)? != *target {
                    return Err(not_canonical(i));
                }
            }
            if let Some(previous) = i.checked_sub(1).map(|p| &entries[p]) {
                match previous.path.as_bytes().cmp(entry.path.as_bytes()) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => {
                        return Err(Error::new(ErrorCode::PathCollision, "the path is recorded twice").at(&entry.path))
                    }
                    std::cmp::Ordering::Greater => return Err(not_canonical(i)),
                }
            }
        }
        let tree = Tree { entries };
        tree.check_no_entry_is_a_directory()?;
        tree.check_links_stay_inside()?;
        Ok(tree)
    }

    /// Builds a tree from entries a host hands over in bulk, one call per tree instead of one object per file
    /// (a tree may hold a million small files). See [`CompactEntries`].
    pub fn from_compact(compact: CompactEntries) -> Result<Tree> {
        let CompactEntries { paths, kinds, sizes, digests, targets } = compact;
        let count = kinds.len();
        if sizes.len() != count || digests.len() != count * 32 {
            return Err(Error::new(
                ErrorCode::InvalidState,
                format!(
                    "compact tree: {count} kinds, {} sizes and {} digest bytes do not match",
                    sizes.len(),
                    digests.len()
                ),
            ));
        }
        let mut paths = paths.split('\0');
        let mut targets = targets.split('\0');
        let entries = kinds.iter().enumerate().map(|(i, &kind)| {
            let path = paths.next().ok_or_else(|| compact_error("fewer paths than entries"))?;
            match kind {
                COMPACT_FILE | COMPACT_EXECUTABLE => {
                    let size = sizes[i];
                    if !((0.0..=MAX_SAFE_SIZE).contains(&size) && size.fract() == 0.0) {
                        return Err(compact_error("a size is not a whole number below 2^53").at(path));
                    }
                    let digest = <[u8; 32]>::try_from(&digests[i * 32..i * 32 + 32]).expect("32 bytes");
                    Ok(TreeEntry::file(path, size as u64, Digest::from_bytes(digest), kind == COMPACT_EXECUTABLE))
                }
                COMPACT_SYMLINK => {
                    let target = targets.next().ok_or_else(|| compact_error("fewer link targets than symlinks"))?;
                    Ok(TreeEntry::symlink(path, target))
                }
                other => Err(compact_error(&format!("unknown entry kind {other}")).at(path)),
            }
        });
        let tree = Tree::normalized(entries)?;
        if count > 0 && paths.next().is_some() {
            return Err(compact_error("more paths than entries"));
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

    /// `sha256(JCS(tree document))`, hashed as it is written: the document itself is never held in memory, only
    /// a piece of it at a time.
    pub fn digest(&self) -> Digest {
        let mut hasher = Hasher::new();
        self.write_document(|piece| hasher.update(piece));
        hasher.finish()
    }

    /// The canonical tree document `JCS({"ctxpack":"tree/v1","entries":[…]})`, handed to `sink` in pieces of about
    /// 64 KiB, so a host can hash it with its own SHA-256 (faster than the core's in wasm) without holding it.
    pub fn write_document(&self, mut sink: impl FnMut(&[u8])) {
        let mut piece = Vec::with_capacity(DIGEST_PIECE + 1024);
        piece.extend_from_slice(br#"{"ctxpack":"tree/v1","entries":"#);
        self.write_entries(|bytes| {
            piece.extend_from_slice(bytes);
            if piece.len() >= DIGEST_PIECE {
                sink(&piece);
                piece.clear();
            }
        })
        .expect("tree entries hold only strings, booleans and sizes below 2^53");
        piece.push(b'}');
        sink(&piece);
    }

    /// The canonical JSON array of the entries, handed to `sink` piece by piece (one entry at a time).
    pub(crate) fn write_entries(&self, mut sink: impl FnMut(&[u8])) -> Result<()> {
        let mut piece = Vec::with_capacity(256);
        sink(b"[");
        for (i, entry) in self.entries.iter().enumerate() {
            piece.clear();
            if i > 0 {
                piece.push(b',');
            }
            entry.write_canonical(&mut piece)?;
            sink(&piece);
        }
        sink(b"]");
        Ok(())
    }

    /// A path cannot be both an entry and a directory holding other entries. The entries are sorted, so a parent is
    /// looked up by binary search (no set of every path), once per folder: a folder's entries are adjacent.
    fn check_no_entry_is_a_directory(&self) -> Result<()> {
        let mut checked = "";
        for entry in &self.entries {
            let folder = entry.path.rfind('/').map_or("", |end| &entry.path[..end]);
            if folder == checked {
                continue;
            }
            checked = folder;
            for (i, _) in entry.path.match_indices('/') {
                let parent = &entry.path[..i];
                if self.get(parent).is_some() {
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

/// Moves `entries[order[k]]` to position `k` for every `k`, in place: each cycle of the permutation is walked once.
fn put_in_order(entries: &mut [TreeEntry], mut order: Vec<u32>) {
    const DONE: u32 = u32::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at] as usize;
            order[at] = DONE;
            if from == start {
                break;
            }
            entries.swap(at, from);
            at = from;
        }
    }
}

/// A size as JCS writes it: up to 2^53 its digits, without building a JSON value per entry.
fn write_size(size: u64, out: &mut Vec<u8>) -> Result<()> {
    if size > MAX_EXACT_SIZE {
        return jcs::write_value(&Value::from(size), out);
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = size;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
    Ok(())
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
    fn many_entries_are_put_in_order() {
        let scrambled: Vec<TreeEntry> = (0..1000).map(|i| file(&format!("f{:04}", (i * 7919) % 1000), b"x")).collect();
        let tree = Tree::new(scrambled).unwrap();
        let paths: Vec<String> = tree.entries().iter().map(|e| e.path.clone()).collect();
        assert_eq!(paths, (0..1000).map(|i| format!("f{i:04}")).collect::<Vec<_>>());
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
        // Once sorted the file is not next to what it would hold ('-' sorts before '/'), or is several folders up.
        let e = Tree::new(vec![file("a", b"1"), file("a-b", b"2"), file("a/b/c", b"3")]).unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::PathCollision, Some("a")));
        let e = Tree::new(vec![file("x/a", b"1"), file("x/y", b"1"), file("x/b", b"1"), file("x/y/z/w", b"2")])
            .unwrap_err();
        assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::PathCollision, Some("x/y")));
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
    fn canonical_entries_are_taken_only_in_canonical_form() {
        let tree = Tree::new(vec![file("b", b"2"), file("a", b"1"), TreeEntry::symlink("c", "a")]).unwrap();
        assert_eq!(Tree::from_canonical(tree.entries().to_vec()).unwrap(), tree);
        let mut reversed = tree.entries().to_vec();
        reversed.reverse();
        assert_eq!(Tree::from_canonical(reversed).unwrap_err().code, ErrorCode::ManifestInvalid);
        let twice = vec![file("a", b"1"), file("a", b"1")];
        assert_eq!(Tree::from_canonical(twice).unwrap_err().code, ErrorCode::PathCollision);
        let decomposed = vec![file("cafe\u{301}", b"1")];
        assert_eq!(Tree::from_canonical(decomposed).unwrap_err().code, ErrorCode::ManifestInvalid);
        let decomposed_target = vec![file("caf\u{e9}", b"1"), TreeEntry::symlink("l", "cafe\u{301}")];
        assert_eq!(Tree::from_canonical(decomposed_target).unwrap_err().code, ErrorCode::ManifestInvalid);
        for (entries, code) in [
            (vec![file("../x", b"1")], ErrorCode::PathInvalid),
            (vec![file("a", b"1"), file("a/b", b"2")], ErrorCode::PathCollision),
            (vec![TreeEntry::symlink("l", "../x")], ErrorCode::SymlinkEscapes),
        ] {
            assert_eq!(Tree::from_canonical(entries).unwrap_err().code, code);
        }
    }

    #[test]
    fn compact_entries_give_the_same_tree() {
        let a = Digest::of(b"a");
        let b = Digest::of(b"b");
        let entries = vec![
            TreeEntry::file("z/b.txt", 1, b, true),
            TreeEntry::file("a\u{301}.txt", 1, a, false),
            TreeEntry::symlink("link", "z/b.txt"),
        ];
        let mut digests = Vec::new();
        digests.extend_from_slice(b.as_bytes());
        digests.extend_from_slice(a.as_bytes());
        digests.extend_from_slice(&[0; 32]);
        let compact = CompactEntries {
            paths: "z/b.txt\0a\u{301}.txt\0link",
            kinds: &[COMPACT_EXECUTABLE, COMPACT_FILE, COMPACT_SYMLINK],
            sizes: &[1.0, 1.0, 0.0],
            digests: &digests,
            targets: "z/b.txt",
        };
        assert_eq!(Tree::from_compact(compact).unwrap(), Tree::new(entries).unwrap());
        let empty = CompactEntries { paths: "", kinds: &[], sizes: &[], digests: &[], targets: "" };
        assert_eq!(Tree::from_compact(empty).unwrap().digest(), Tree::new(vec![]).unwrap().digest());
    }

    #[test]
    fn compact_entries_are_checked() {
        let bad_size =
            CompactEntries { paths: "a", kinds: &[COMPACT_FILE], sizes: &[0.5], digests: &[0; 32], targets: "" };
        assert_eq!(Tree::from_compact(bad_size).unwrap_err().code, ErrorCode::InvalidState);
        let short = CompactEntries {
            paths: "a",
            kinds: &[COMPACT_FILE, COMPACT_FILE],
            sizes: &[1.0, 1.0],
            digests: &[0; 64],
            targets: "",
        };
        assert_eq!(Tree::from_compact(short).unwrap_err().code, ErrorCode::InvalidState);
        let escaping =
            CompactEntries { paths: "l", kinds: &[COMPACT_SYMLINK], sizes: &[0.0], digests: &[0; 32], targets: "../x" };
        assert_eq!(Tree::from_compact(escaping).unwrap_err().code, ErrorCode::SymlinkEscapes);
    }

    #[test]
    fn the_streamed_digest_is_the_digest_of_the_canonical_document() {
        let mut entries: Vec<TreeEntry> = (0..3000).map(|i| file(&format!("d/f{i:05}\u{e9}\"q"), b"x")).collect();
        entries.push(TreeEntry::symlink("link\u{2028}", "d/f00001\u{e9}\"q"));
        entries.push(TreeEntry::file("run", 9_007_199_254_740_992, Digest::of(b""), true));
        for size in [0, 9, 10, 12_345, 9_007_199_254_740_994] {
            entries.push(TreeEntry::file(format!("size/{size}"), size, Digest::of(b""), false));
        }
        let tree = Tree::new(entries).unwrap();
        assert_eq!(tree.digest(), jcs::digest(&tree.to_value()).unwrap());
        let mut document = Vec::new();
        let mut pieces = 0;
        tree.write_document(|piece| {
            document.extend_from_slice(piece);
            pieces += 1;
        });
        assert!(pieces > 1, "the document comes in several pieces");
        assert_eq!(document, jcs::canonicalize(&tree.to_value()).unwrap());
    }
}
