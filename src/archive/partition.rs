//! Which layer each entry of a pack goes in (spec §7.3). A pure function of the manifest's entries, so a
//! verifier recomputes the layout from the manifest alone and a writer on any machine makes the same cut.
//!
//! Small packs keep one layer. Larger ones are cut into consecutive groups in tree order; a group closes
//! after an entry once it holds [`MIN_GROUP_BYTES`] and the entry's path hash picks it as a cut point (or
//! the group has grown to [`MAX_GROUP_BYTES`]). Because cut points depend on paths, not on offsets, a file
//! that changes size moves the cuts near it only, and the other layers keep their digests.

use crate::digest::Digest;
use crate::tree::{EntryKind, TreeEntry};
use std::ops::Range;

/// Packs whose files total at most this many bytes are a single layer (the §7.1 archive, manifest first).
pub const SINGLE_LAYER_MAX_BYTES: u64 = 64 << 20;
/// A group closes only once it holds at least this many file bytes, so layers are not tiny.
pub const MIN_GROUP_BYTES: u64 = 32 << 20;
/// A group of at least this many file bytes closes after any entry, so layers are not huge.
pub const MAX_GROUP_BYTES: u64 = 256 << 20;
/// An entry is a cut point when the first byte of SHA-256(path) is below this: one path in four.
pub const CUT_POINT_BELOW: u8 = 64;

/// One layer: a run of entries in tree order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerGroup {
    /// Indices into the manifest's entries.
    pub entries: Range<usize>,
    /// Total size of the group's files.
    pub bytes: u64,
}

/// The layers of a pack with these entries (in tree order). Always at least one group; every entry is in
/// exactly one, and the groups are consecutive.
pub fn partition(entries: &[TreeEntry]) -> Vec<LayerGroup> {
    let total = entries.iter().map(file_bytes).fold(0u64, u64::saturating_add);
    if total <= SINGLE_LAYER_MAX_BYTES {
        return vec![LayerGroup { entries: 0..entries.len(), bytes: total }];
    }
    let mut groups = Vec::new();
    let mut current = LayerGroup { entries: 0..0, bytes: 0 };
    for (index, entry) in entries.iter().enumerate() {
        current.entries.end = index + 1;
        current.bytes = current.bytes.saturating_add(file_bytes(entry));
        if closes_group(&current, entry) {
            let next = LayerGroup { entries: index + 1..index + 1, bytes: 0 };
            groups.push(std::mem::replace(&mut current, next));
        }
    }
    if !current.entries.is_empty() {
        groups.push(current);
    }
    groups
}

fn closes_group(group: &LayerGroup, last: &TreeEntry) -> bool {
    group.bytes >= MIN_GROUP_BYTES && (is_cut_point(&last.path) || group.bytes >= MAX_GROUP_BYTES)
}

fn is_cut_point(path: &str) -> bool {
    Digest::of(path.as_bytes()).as_bytes()[0] < CUT_POINT_BELOW
}

fn file_bytes(entry: &TreeEntry) -> u64 {
    match entry.kind {
        EntryKind::File { size, .. } => size,
        EntryKind::Symlink { .. } => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn file(path: &str, size: u64) -> TreeEntry {
        TreeEntry::file(path, size, Digest::of(path.as_bytes()), false)
    }

    /// `count` files of `size` bytes named f0000…, in tree order.
    fn files(count: usize, size: u64) -> Vec<TreeEntry> {
        (0..count).map(|i| file(&format!("f{i:04}"), size)).collect()
    }

    fn check_cover(entries: &[TreeEntry], groups: &[LayerGroup]) {
        let mut next = 0;
        for group in groups {
            assert_eq!(group.entries.start, next, "groups are consecutive");
            assert!(!group.entries.is_empty());
            let bytes: u64 = entries[group.entries.clone()].iter().map(file_bytes).sum();
            assert_eq!(group.bytes, bytes);
            next = group.entries.end;
        }
        assert_eq!(next, entries.len(), "every entry is in a group");
    }

    #[test]
    fn small_packs_are_one_layer() {
        assert_eq!(partition(&[]), vec![LayerGroup { entries: 0..0, bytes: 0 }]);
        let entries = files(64, MIB);
        assert_eq!(partition(&entries), vec![LayerGroup { entries: 0..64, bytes: 64 * MIB }]);
        let with_link = [file("a", 64 * MIB), TreeEntry::symlink("b", "a")];
        assert_eq!(partition(&with_link).len(), 1);
    }

    #[test]
    fn large_packs_cut_at_path_hashes_once_a_group_is_big_enough() {
        let entries = files(200, MIB);
        let groups = partition(&entries);
        check_cover(&entries, &groups);
        assert!(groups.len() >= 2);
        for group in &groups[..groups.len() - 1] {
            let last = &entries[group.entries.end - 1];
            assert!(group.bytes >= MIN_GROUP_BYTES);
            assert!(is_cut_point(&last.path) || group.bytes >= MAX_GROUP_BYTES, "{}", last.path);
            // No earlier entry of the group could have closed it.
            let mut bytes = 0;
            for entry in &entries[group.entries.start..group.entries.end - 1] {
                bytes += file_bytes(entry);
                assert!(!closes_group(&LayerGroup { entries: 0..1, bytes }, entry));
            }
        }
    }

    #[test]
    fn groups_stop_growing_at_the_maximum() {
        // One path in four is a cut point; a run of non-cut paths of 300 MiB is still cut at 256 MiB.
        let entries: Vec<TreeEntry> = (0..4000)
            .map(|i| format!("x{i:05}"))
            .filter(|p| !is_cut_point(p))
            .take(300)
            .map(|p| file(&p, MIB))
            .collect();
        let groups = partition(&entries);
        check_cover(&entries, &groups);
        assert_eq!(groups[0].bytes, MAX_GROUP_BYTES);
        assert_eq!(groups.len(), 2);
        // A single huge file closes its own group.
        let huge = [file("a", 1 << 40), file("b", MIB)];
        assert_eq!(partition(&huge).iter().map(|g| g.entries.clone()).collect::<Vec<_>>(), vec![0..1, 1..2]);
    }

    #[test]
    fn changing_one_file_changes_only_the_groups_near_it() {
        let mut entries = files(400, MIB);
        let before = partition(&entries);
        assert!(before.len() >= 5, "{}", before.len());
        let middle = &before[before.len() / 2];
        let changed = middle.entries.start + 1;
        entries[changed] = file(&entries[changed].path.clone(), 5 * MIB);
        let after = partition(&entries);
        check_cover(&entries, &after);
        let unchanged_before: Vec<_> = before.iter().filter(|g| g.entries.end <= middle.entries.start).collect();
        let unchanged_after: Vec<_> = after.iter().filter(|g| g.entries.end <= middle.entries.start).collect();
        assert_eq!(unchanged_before, unchanged_after, "groups before the change are the same");
        // After the change, the cuts realign at the first cut point both layouts share.
        let tail = |groups: &[LayerGroup]| {
            groups.iter().filter(|g| g.entries.start > changed + 64).cloned().collect::<Vec<_>>()
        };
        let (tail_before, tail_after) = (tail(&before), tail(&after));
        assert!(!tail_before.is_empty());
        assert_eq!(tail_before, tail_after, "groups well after the change are the same");
        let differing = before.len() - unchanged_before.len() - tail_before.len();
        assert!(differing <= 3, "{differing} groups changed");
    }
}
