//! Tests of `LegacyReader` on v0 layers crafted as Python's tarfile writes them, and on malicious ones.

use super::super::test_support::{gzip, push_entry, ustar};
use super::*;

const URI: &str = "ctx://sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";

fn manifest_json(uri: &str) -> Vec<u8> {
    format!(r#"{{"uri": "{uri}", "contract": {{"inputs": [{{"name": "d", "path": "./in"}}]}}, "provenance": {{"host": "h"}}}}"#)
        .into_bytes()
}

/// One tar member: name, typeflag, mode, data, link target.
type Member<'a> = (&'a str, u8, u32, &'a [u8], &'a str);

/// A tar of these members, then the end marker.
fn tar(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, flag, mode, data, link) in members {
        push_entry(&mut out, &ustar(name, *flag, *mode, data.len() as u64, link), data);
    }
    out.extend_from_slice(&[0; 1024]);
    out
}

/// Reads a layer; returns the events (data joined per entry) and the summary.
fn read(gz: &[u8], options: LegacyOptions) -> Result<(Vec<String>, LegacySummary)> {
    let mut reader = LegacyReader::new(options);
    let mut seen = Vec::new();
    for chunk in gz.chunks(700) {
        reader.push(chunk)?;
        while let Some(event) = reader.next()? {
            match event {
                LegacyEvent::Manifest { .. } => seen.push("manifest".to_string()),
                LegacyEvent::Directory { path } => seen.push(format!("dir {path}")),
                LegacyEvent::Entry { path, kind: PackEntryKind::File { size, executable } } => {
                    seen.push(format!("file {path} {size} {executable}"))
                }
                LegacyEvent::Entry { path, kind: PackEntryKind::Symlink { target } } => {
                    seen.push(format!("link {path} {target}"))
                }
                LegacyEvent::Data(_) | LegacyEvent::End => {}
            }
        }
    }
    Ok((seen, reader.finish()?))
}

fn expecting(uri: &str) -> LegacyOptions {
    LegacyOptions { expect_uri: Some(CtxUri::parse(uri).unwrap()), ..LegacyOptions::default() }
}

#[test]
fn a_v0_layer_is_read_in_its_own_order_with_directories() {
    let manifest = manifest_json(URI);
    let layer = gzip(&tar(&[
        ("index.bin", b'0', 0o755, b"abc", ""),
        ("sub", b'5', 0o755, b"", ""),
        ("sub/x.json", b'0', 0o644, b"{}", ""),
        ("manifest.json", b'0', 0o644, &manifest, ""),
        ("./latest", b'2', 0o777, b"", "index.bin"),
        ("empty/", b'5', 0o755, b"", ""),
    ]));
    let (events, summary) = read(&layer, expecting(URI)).unwrap();
    assert_eq!(
        events,
        [
            "file index.bin 3 true",
            "dir sub",
            "file sub/x.json 2 false",
            "manifest",
            "link latest index.bin",
            "dir empty"
        ]
    );
    assert_eq!(summary.uri.to_string(), URI);
    assert_eq!((summary.files, summary.bytes), (2, 5));
    assert_eq!(summary.manifest["provenance"]["host"], "h");
    assert_eq!(summary.unverified.len(), 2);
}

#[test]
fn the_manifest_must_be_there_valid_and_the_expected_uri() {
    let other = "ctx://sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let with =
        |manifest: &[u8]| gzip(&tar(&[("a", b'0', 0o644, b"x", ""), ("manifest.json", b'0', 0o644, manifest, "")]));
    let e = read(&with(&manifest_json(URI)), expecting(other)).err().unwrap();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::UriMismatch, Some("manifest.json")));
    for bad in [&b"{"[..], b"[]", br#"{"uri": "2d711642b726"}"#] {
        assert_eq!(read(&with(bad), LegacyOptions::default()).err().unwrap().code, ErrorCode::ManifestInvalid);
    }
    let none = gzip(&tar(&[("a", b'0', 0o644, b"x", "")]));
    assert_eq!(read(&none, LegacyOptions::default()).err().unwrap().code, ErrorCode::ManifestInvalid);
    let cut = with(&manifest_json(URI));
    assert_eq!(read(&cut[..cut.len() - 20], LegacyOptions::default()).err().unwrap().code, ErrorCode::Truncated);
}

#[test]
fn malicious_layers_are_rejected_naming_the_entry() {
    let manifest = manifest_json(URI);
    let m: Member = ("manifest.json", b'0', 0o644, &manifest, "");
    let cases: Vec<(Vec<Member>, ErrorCode, &str)> = vec![
        (vec![m, ("../evil", b'0', 0o644, b"x", "")], ErrorCode::PathInvalid, "../evil"),
        (vec![m, ("/etc/cron.d/x", b'0', 0o644, b"x", "")], ErrorCode::PathInvalid, "/etc/cron.d/x"),
        (vec![m, ("a/../../x", b'0', 0o644, b"x", "")], ErrorCode::PathInvalid, "a/../../x"),
        (vec![m, ("h", b'1', 0o644, b"", "/etc/passwd")], ErrorCode::UnsupportedEntryType, "h"),
        (vec![m, ("dev", b'3', 0o644, b"", "")], ErrorCode::UnsupportedEntryType, "dev"),
        (vec![m, ("fifo", b'6', 0o644, b"", "")], ErrorCode::UnsupportedEntryType, "fifo"),
        (vec![m, ("l", b'2', 0o777, b"", "../outside")], ErrorCode::SymlinkEscapes, "l"),
        (vec![m, ("l", b'2', 0o777, b"", "/etc/passwd")], ErrorCode::SymlinkEscapes, "l"),
        (vec![m, ("d/l", b'2', 0o777, b"", "../../x")], ErrorCode::SymlinkEscapes, "d/l"),
        (vec![m, ("a", b'0', 0o644, b"x", ""), ("a", b'0', 0o644, b"y", "")], ErrorCode::EntryDuplicate, "a"),
        (vec![m, m], ErrorCode::EntryDuplicate, "manifest.json"),
        // Only visible once the whole tree is known:
        (vec![m, ("a", b'0', 0o644, b"x", ""), ("a/b", b'0', 0o644, b"y", "")], ErrorCode::PathCollision, "a"),
        (vec![m, ("d", b'5', 0o755, b"", ""), ("d", b'2', 0o777, b"", "x")], ErrorCode::EntryDuplicate, "d"),
        (vec![m, ("up", b'2', 0o777, b"", "."), ("x", b'2', 0o777, b"", "up/..")], ErrorCode::SymlinkEscapes, "x"),
    ];
    for (members, code, subject) in cases {
        let e = read(&gzip(&tar(&members)), LegacyOptions::default()).err().unwrap();
        assert_eq!((e.code, e.subject.as_deref()), (code, Some(subject)), "{e}");
    }
    let looped = tar(&[m, ("a", b'2', 0o777, b"", "b/x"), ("b", b'2', 0o777, b"", "a")]);
    assert_eq!(read(&gzip(&looped), LegacyOptions::default()).err().unwrap().code, ErrorCode::SymlinkEscapes);
}

#[test]
fn limits_apply_before_data_is_read() {
    let manifest = manifest_json(URI);
    let layer = gzip(&tar(&[("manifest.json", b'0', 0o644, &manifest, ""), ("big", b'0', 0o644, &[7; 2000], "")]));
    let small = |limits: Limits| LegacyOptions { limits, expect_uri: None };
    let e = read(&layer, small(Limits { max_entry_bytes: 1000, ..Limits::default() })).err().unwrap();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::LimitExceeded, Some("big")));
    let e = read(&layer, small(Limits { max_total_bytes: 1999, ..Limits::default() })).err().unwrap();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    let e = read(&layer, small(Limits { max_manifest_bytes: 10, ..Limits::default() })).err().unwrap();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::LimitExceeded, Some("manifest.json")));
    read(&layer, LegacyOptions::default()).unwrap();
}
