//! Tests of `PackReader`: round trips with the writer, other writers, and every rejection, built by
//! crafting tar and gzip bytes.

use super::super::gzip::{deflate_block, gzip_trailer, BLOCK_SIZE, GZIP_HEADER};
use super::super::limits::MAX_TRAILING_ZEROS;
use super::super::stream::TAR_BUFFER;
use super::super::tar_header::{encode_entry, push_pax_record, typeflag};
use super::super::test_support::{
    file, fix_checksum, gzip, manifest_for, push_entry, sample, symlink, ustar, Artifact,
};
use super::super::writer::{PackWriter, WriterOptions};
use super::*;
use crate::tree::TreeEntry;

/// What a host saw while reading a pack.
struct ReadResult {
    manifest_bytes: Vec<u8>,
    entries: Vec<(String, PackEntryKind, Vec<u8>)>,
    largest_data_event: usize,
    summary: Summary,
}

/// Runs the host loop: push `chunk` bytes whenever the reader wants input, drain events, and (when the
/// host hashes) pass each file's digest after its end event.
fn read(gz: &[u8], chunk: usize, options: &ReaderOptions) -> Result<ReadResult> {
    let mut reader = PackReader::new(options.clone());
    let mut manifest_bytes = Vec::new();
    let mut entries: Vec<(String, PackEntryKind, Vec<u8>)> = Vec::new();
    let mut largest_data_event = 0;
    let mut chunks = gz.chunks(chunk.max(1));
    loop {
        while let Some(event) = reader.next()? {
            match event {
                Event::Manifest { bytes, manifest } => {
                    assert_eq!(*manifest, PackManifest::parse(&bytes).unwrap());
                    manifest_bytes = bytes;
                }
                Event::Entry { path, kind } => entries.push((path, kind, Vec::new())),
                Event::Data(data) => {
                    largest_data_event = largest_data_event.max(data.len());
                    entries.last_mut().unwrap().2.extend_from_slice(&data);
                }
                Event::End => {
                    let (_, kind, content) = entries.last().unwrap();
                    if !options.hash_content && matches!(kind, PackEntryKind::File { .. }) {
                        reader.entry_digest(Digest::of(content))?;
                    }
                }
            }
        }
        assert!(reader.wants_input());
        match chunks.next() {
            Some(c) => reader.push(c)?,
            None => break,
        }
    }
    let summary = reader.finish()?;
    Ok(ReadResult { manifest_bytes, entries, largest_data_event, summary })
}

fn host_hashing() -> ReaderOptions {
    ReaderOptions { hash_content: false, ..ReaderOptions::default() }
}

fn write(manifest: &[u8], artifacts: &[Artifact]) -> Vec<u8> {
    let mut w = PackWriter::new(manifest, WriterOptions::default()).unwrap();
    let mut contents = artifacts.iter();
    while let Some((_, kind)) = w.next_entry().unwrap() {
        let artifact = contents.next().unwrap();
        if let PackEntryKind::File { .. } = kind {
            w.write(&artifact.content).unwrap();
            w.end_entry(None).unwrap();
        }
    }
    w.finish().unwrap();
    w.take_output()
}

fn assert_read_back(result: &ReadResult, manifest: &[u8], artifacts: &[Artifact]) {
    assert_eq!(result.manifest_bytes, manifest);
    assert_eq!(result.entries.len(), artifacts.len());
    for ((path, kind, content), artifact) in result.entries.iter().zip(artifacts) {
        assert_eq!(path, &artifact.entry.path);
        assert_eq!(kind, &PackEntryKind::from(&artifact.entry.kind));
        assert!(content == &artifact.content, "{path}");
    }
    let files = artifacts.iter().filter(|a| matches!(a.entry.kind, EntryKind::File { .. })).count() as u64;
    let bytes: usize = artifacts.iter().map(|a| a.content.len()).sum();
    assert_eq!((result.summary.files, result.summary.bytes), (files, bytes as u64));
    assert!(result.largest_data_event <= TAR_BUFFER);
}

fn small_pack() -> (Vec<u8>, Vec<Artifact>) {
    manifest_for(vec![
        file("a.txt", b"hello\n".to_vec(), false),
        file("bin/tool", sample(3000, 1), true),
        file("empty", Vec::new(), false),
        symlink("link", "a.txt"),
        file(&format!("{}/ünïcödé-名前.txt", "long".repeat(60)), sample(700, 2), false),
        symlink("z/far", &format!("../{}/ünïcödé-名前.txt", "long".repeat(60))),
    ])
}

#[test]
fn round_trips_at_every_chunk_size_in_both_hashing_modes() {
    let (manifest, artifacts) = small_pack();
    let gz = write(&manifest, &artifacts);
    for chunk in [1, 2, 3, 100, 511, 512, 4096, gz.len()] {
        for options in [ReaderOptions::default(), host_hashing()] {
            let result = read(&gz, chunk, &options).unwrap_or_else(|e| panic!("chunk {chunk}: {e}"));
            assert_read_back(&result, &manifest, &artifacts);
            assert_eq!(result.summary.compressed_bytes, gz.len() as u64);
            assert_eq!(result.summary.uri, PackManifest::parse(&manifest).unwrap().uri);
        }
    }
}

#[test]
fn round_trips_a_multi_block_pack_with_bounded_events() {
    let (manifest, artifacts) = manifest_for(vec![
        file("big.bin", sample(2 * BLOCK_SIZE + 4321, 3), false),
        file("small", b"x".to_vec(), true),
    ]);
    let gz = write(&manifest, &artifacts);
    for chunk in [777, 65_536, BLOCK_SIZE, gz.len()] {
        let result = read(&gz, chunk, &ReaderOptions::default()).unwrap();
        assert_read_back(&result, &manifest, &artifacts);
        if chunk >= BLOCK_SIZE {
            assert_eq!(result.largest_data_event, TAR_BUFFER, "events fill the buffer when input allows");
        }
    }
}

#[test]
fn the_expected_uri_is_enforced() {
    let (manifest, artifacts) = small_pack();
    let gz = write(&manifest, &artifacts);
    let uri = PackManifest::parse(&manifest).unwrap().uri;
    read(&gz, 4096, &ReaderOptions { expect_uri: Some(uri), ..ReaderOptions::default() }).unwrap();
    let other = CtxUri::from_digest(Digest::of(b"another pack"));
    let e = read(&gz, 4096, &ReaderOptions { expect_uri: Some(other), ..ReaderOptions::default() }).err().unwrap();
    assert_eq!(e.code, ErrorCode::UriMismatch);
}

#[test]
fn reads_packs_made_by_other_tar_and_gzip_writers() {
    let (manifest, artifacts) = small_pack();
    // The `tar` crate in GNU mode: `L`/`K` long-name headers, GNU magic, other modes and owners.
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(1_234_567_890);
    builder.append_data(&mut header, "manifest.json", &manifest[..]).unwrap();
    for artifact in artifacts.iter().rev() {
        let name = format!("artifacts/{}", artifact.entry.path);
        let mut header = tar::Header::new_gnu();
        header.set_uid(1000);
        match &artifact.entry.kind {
            EntryKind::File { executable, .. } => {
                header.set_mode(if *executable { 0o744 } else { 0o640 });
                header.set_size(artifact.content.len() as u64);
                builder.append_data(&mut header, &name, &artifact.content[..]).unwrap();
            }
            EntryKind::Symlink { target } => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, &name, target).unwrap();
            }
        }
    }
    let tar = builder.into_inner().unwrap();
    let gz = gzip(&tar);
    let mut result = read(&gz, 1000, &ReaderOptions::default()).unwrap();
    result.entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    assert_read_back(&result, &manifest, &artifacts);

    // The same archive as several gzip members, cut at arbitrary points.
    let mut members = Vec::new();
    for part in [&tar[..1000], &tar[1000..1001], &tar[1001..7777], &tar[7777..]] {
        members.extend(gzip(part));
    }
    members.extend(gzip(&[]));
    read(&members, 333, &ReaderOptions::default()).unwrap();
}

/// A tar stream: the manifest entry, then `rest`, then the end-of-archive marker.
fn tar_with(manifest: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut tar = Vec::new();
    push_entry(&mut tar, &ustar("manifest.json", b'0', 0o644, manifest.len() as u64, ""), manifest);
    tar.extend_from_slice(rest);
    tar.extend_from_slice(&[0; 1024]);
    tar
}

fn entry(name: &str, kind: &PackEntryKind, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_entry(&mut out, name, kind, 0);
    let mut tar = Vec::new();
    push_entry(&mut tar, &out, data);
    tar
}

fn file_kind(size: usize, executable: bool) -> PackEntryKind {
    PackEntryKind::File { size: size as u64, executable }
}

/// The error reading `gz` gives; the same whatever the chunking.
fn read_error_with(gz: &[u8], options: &ReaderOptions) -> Error {
    let whole = read(gz, gz.len(), options).err().expect("the pack must be rejected");
    for chunk in [1, 1000] {
        let e = read(gz, chunk, options).err().expect("the pack must be rejected");
        assert_eq!((e.code, &e.subject), (whole.code, &whole.subject), "chunk {chunk}: {e}");
    }
    whole
}

fn read_error(tar: &[u8]) -> Error {
    read_error_with(&gzip(tar), &ReaderOptions::default())
}

fn assert_rejected(tar: &[u8], code: ErrorCode, subject: Option<&str>) {
    let e = read_error(tar);
    assert_eq!((e.code, e.subject.as_deref()), (code, subject), "{e}");
}

/// One file `a.txt` ("hello") and one symlink `l` → `a.txt`.
fn two_entry_manifest() -> Vec<u8> {
    manifest_for(vec![file("a.txt", b"hello".to_vec(), false), symlink("l", "a.txt")]).0
}

fn valid_entries() -> Vec<u8> {
    let mut rest = entry("artifacts/a.txt", &file_kind(5, false), b"hello");
    rest.extend(entry("artifacts/l", &PackEntryKind::Symlink { target: "a.txt".into() }, b""));
    rest
}

#[test]
fn a_crafted_valid_pack_is_accepted_and_record_padding_is_allowed() {
    let m = two_entry_manifest();
    let mut tar = tar_with(&m, &valid_entries());
    read(&gzip(&tar), 7, &ReaderOptions::default()).unwrap();
    tar.resize(tar.len() + 9216, 0);
    read(&gzip(&tar), 7, &ReaderOptions::default()).unwrap();
}

#[test]
fn the_manifest_must_come_first_be_valid_and_within_limits() {
    let m = two_entry_manifest();
    let mut tar = Vec::new();
    push_entry(&mut tar, &ustar("artifacts/a.txt", b'0', 0o644, 5, ""), b"hello");
    tar.extend(tar_with(&m, &valid_entries()));
    assert_rejected(&tar, ErrorCode::ManifestInvalid, None);
    assert_rejected(&[0u8; 1024], ErrorCode::ManifestInvalid, None);
    assert_rejected(&tar_with(b"{\"ctxpack\":\"pack/v1\"}", b""), ErrorCode::ManifestInvalid, Some("manifest.json"));
    let tampered = String::from_utf8(m.clone()).unwrap().replace("\"size\":5", "\"size\":6");
    assert_ne!(tampered.as_bytes(), m);
    let e = read_error(&tar_with(tampered.as_bytes(), &valid_entries()));
    assert_eq!(e.code, ErrorCode::DigestMismatch, "the tree digest no longer re-derives: {e}");

    let small = ReaderOptions {
        limits: Limits { max_manifest_bytes: m.len() as u64 - 1, ..Limits::default() },
        ..ReaderOptions::default()
    };
    let e = read_error_with(&gzip(&tar_with(&m, &valid_entries())), &small);
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::LimitExceeded, Some("manifest.json")));
}

#[test]
fn declared_sizes_are_checked_against_limits_before_reading() {
    let gz = gzip(&tar_with(&two_entry_manifest(), &valid_entries()));
    let with = |limits: Limits| ReaderOptions { limits, ..ReaderOptions::default() };
    let e = read_error_with(&gz, &with(Limits { max_entry_bytes: 4, ..Limits::default() }));
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::LimitExceeded, Some("artifacts/a.txt")));
    assert_eq!(
        read_error_with(&gz, &with(Limits { max_total_bytes: 4, ..Limits::default() })).code,
        ErrorCode::LimitExceeded
    );
    assert_eq!(
        read_error_with(&gz, &with(Limits { max_entries: 1, ..Limits::default() })).code,
        ErrorCode::LimitExceeded
    );
}

#[test]
fn unsafe_or_foreign_paths_are_rejected_naming_the_entry() {
    let m = two_entry_manifest();
    let five = file_kind(5, false);
    for (name, code) in [
        ("/etc/passwd", ErrorCode::PathInvalid),
        ("artifacts/../a.txt", ErrorCode::PathInvalid),
        ("artifacts/./a.txt", ErrorCode::PathInvalid),
        ("artifacts//a.txt", ErrorCode::PathInvalid),
        ("artifacts/a\\b", ErrorCode::PathInvalid),
        ("../../a.txt", ErrorCode::PathInvalid),
        ("artifacts/cafe\u{301}", ErrorCode::PathInvalid),
        ("other/a.txt", ErrorCode::EntryUnexpected),
        ("manifest.json", ErrorCode::EntryUnexpected),
        ("artifacts/b.txt", ErrorCode::EntryUnexpected),
    ] {
        let tar = tar_with(&m, &entry(name, &five, b"hello"));
        let e = read_error(&tar);
        assert_eq!(e.code, code, "{name}: {e}");
        assert!(e.subject.is_some(), "{name}: the error names the entry");
    }
    let mut not_utf8 = ustar("artifacts/a.txt", b'0', 0o644, 5, "");
    not_utf8[10] = 0xff;
    fix_checksum(&mut not_utf8);
    let mut rest = Vec::new();
    push_entry(&mut rest, &not_utf8, b"hello");
    assert_eq!(read_error(&tar_with(&m, &rest)).code, ErrorCode::PathNotUtf8);
}

#[test]
fn extension_headers_cannot_smuggle_unsafe_names() {
    let m = two_entry_manifest();
    // A PAX path record overriding a harmless ustar name.
    let mut pax_data = Vec::new();
    push_pax_record(&mut pax_data, "path", "artifacts/../../evil");
    let mut rest = Vec::new();
    push_entry(&mut rest, &ustar("././@PaxHeader", b'x', 0o644, pax_data.len() as u64, ""), &pax_data);
    push_entry(&mut rest, &ustar("artifacts/a.txt", b'0', 0o644, 5, ""), b"hello");
    assert_rejected(&tar_with(&m, &rest), ErrorCode::PathInvalid, Some("artifacts/../../evil"));
    // A GNU long name doing the same.
    let mut rest = Vec::new();
    push_entry(&mut rest, &ustar("././@LongLink", b'L', 0o644, 12, ""), b"/etc/shadow\0");
    push_entry(&mut rest, &ustar("artifacts/a.txt", b'0', 0o644, 5, ""), b"hello");
    assert_rejected(&tar_with(&m, &rest), ErrorCode::PathInvalid, Some("/etc/shadow"));
    // A GNU long link target that differs from the manifest's.
    let mut rest = entry("artifacts/a.txt", &file_kind(5, false), b"hello");
    push_entry(&mut rest, &ustar("././@LongLink", b'K', 0o644, 11, ""), b"/etc/passw\0");
    push_entry(&mut rest, &ustar("artifacts/l", b'2', 0o777, 0, "a.txt"), b"");
    assert_rejected(&tar_with(&m, &rest), ErrorCode::EntryUnexpected, Some("artifacts/l"));
}

#[test]
fn only_files_and_symlinks_are_accepted() {
    let m = two_entry_manifest();
    for flag in [b'1', b'3', b'4', b'5', b'6', b'7', b'S', b'V'] {
        let mut rest = Vec::new();
        push_entry(&mut rest, &ustar("artifacts/a.txt", flag, 0o644, 0, "x"), b"");
        assert_rejected(&tar_with(&m, &rest), ErrorCode::UnsupportedEntryType, Some("artifacts/a.txt"));
    }
    let mut dir = Vec::new();
    push_entry(&mut dir, &ustar("artifacts/a.txt/", b'0', 0o755, 0, ""), b"");
    assert_rejected(&tar_with(&m, &dir), ErrorCode::UnsupportedEntryType, Some("artifacts/a.txt/"));
    let sparse = b"22 GNU.sparse.major=1\n";
    let mut rest = Vec::new();
    push_entry(&mut rest, &ustar("././@PaxHeader", b'x', 0o644, sparse.len() as u64, ""), sparse);
    push_entry(&mut rest, &ustar("artifacts/a.txt", b'0', 0o644, 5, ""), b"hello");
    assert_rejected(&tar_with(&m, &rest), ErrorCode::UnsupportedEntryType, Some("artifacts/a.txt"));
}

#[test]
fn entries_must_match_the_manifest_exactly() {
    let m = two_entry_manifest();
    let link = |target: &str| entry("artifacts/l", &PackEntryKind::Symlink { target: target.into() }, b"");
    let a = |kind: PackEntryKind, data: &[u8]| entry("artifacts/a.txt", &kind, data);
    let cases: Vec<(Vec<u8>, ErrorCode, &str)> = vec![
        (
            [a(file_kind(5, false), b"hello"), a(file_kind(5, false), b"hello")].concat(),
            ErrorCode::EntryDuplicate,
            "artifacts/a.txt",
        ),
        (a(file_kind(6, false), b"hello!"), ErrorCode::SizeMismatch, "artifacts/a.txt"),
        (a(file_kind(5, true), b"hello"), ErrorCode::EntryUnexpected, "artifacts/a.txt"),
        (a(PackEntryKind::Symlink { target: "l".into() }, b""), ErrorCode::EntryUnexpected, "artifacts/a.txt"),
        (
            [a(file_kind(5, false), b"hello"), entry("artifacts/l", &file_kind(0, false), b"")].concat(),
            ErrorCode::EntryUnexpected,
            "artifacts/l",
        ),
        ([a(file_kind(5, false), b"hello"), link("a.txt ")].concat(), ErrorCode::EntryUnexpected, "artifacts/l"),
        ([a(file_kind(5, false), b"jello"), link("a.txt")].concat(), ErrorCode::DigestMismatch, "artifacts/a.txt"),
        (a(file_kind(5, false), b"hello"), ErrorCode::EntryMissing, "artifacts/l"),
        (link("a.txt"), ErrorCode::EntryMissing, "artifacts/a.txt"),
    ];
    for (rest, code, subject) in cases {
        assert_rejected(&tar_with(&m, &rest), code, Some(subject));
    }
    let mut sized_link = entry("artifacts/a.txt", &file_kind(5, false), b"hello");
    push_entry(&mut sized_link, &ustar("artifacts/l", b'2', 0o777, 3, "a.txt"), b"abc");
    assert_rejected(&tar_with(&m, &sized_link), ErrorCode::TarCorrupt, Some("artifacts/l"));
}

#[test]
fn digest_failures_come_at_the_end_of_the_entry_and_stick() {
    let m = two_entry_manifest();
    let rest = [entry("artifacts/a.txt", &file_kind(5, false), b"jello"), valid_entries()[1024..].to_vec()].concat();
    let mut reader = PackReader::new(ReaderOptions::default());
    reader.push(&gzip(&tar_with(&m, &rest))).unwrap();
    assert!(matches!(reader.next().unwrap(), Some(Event::Manifest { .. })));
    assert!(matches!(reader.next().unwrap(), Some(Event::Entry { .. })));
    assert_eq!(reader.next().unwrap(), Some(Event::Data(b"jello".to_vec())), "data is delivered, unverified");
    let e = reader.next().unwrap_err();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::DigestMismatch, Some("artifacts/a.txt")));
    assert_eq!(reader.next().unwrap_err(), e);
    assert_eq!(reader.finish().unwrap_err(), e);

    // With host hashing, the host's digest is compared, and reading on without one is a host bug.
    let mut reader = PackReader::new(host_hashing());
    reader.push(&gzip(&tar_with(&m, &valid_entries()))).unwrap();
    while reader.next().unwrap() != Some(Event::End) {}
    assert_eq!(reader.next().unwrap_err().code, ErrorCode::InvalidState);
    assert_eq!(reader.finish().unwrap_err().code, ErrorCode::InvalidState);
    let e = reader.entry_digest(Digest::of(b"jello")).unwrap_err();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::DigestMismatch, Some("artifacts/a.txt")));
}

#[test]
fn host_protocol_errors_are_invalid_state() {
    let (manifest, artifacts) = small_pack();
    let gz = write(&manifest, &artifacts);
    let mut reader = PackReader::new(ReaderOptions::default());
    reader.push(&gz[..100]).unwrap();
    assert!(!reader.wants_input());
    assert_eq!(reader.push(&gz[100..]).unwrap_err().code, ErrorCode::InvalidState);
    assert_eq!(reader.finish().unwrap_err().code, ErrorCode::InvalidState);
    assert_eq!(reader.entry_digest(Digest::of(b"")).unwrap_err().code, ErrorCode::InvalidState);
    assert_eq!(reader.next().unwrap(), None);
    assert!(reader.wants_input());
    reader.push(&gz[100..]).unwrap();
    while reader.next().unwrap().is_some() {}
    reader.finish().unwrap();
}

#[test]
fn truncation_is_detected_wherever_the_stream_stops() {
    let (manifest, artifacts) = small_pack();
    let gz = write(&manifest, &artifacts);
    for cut in [0, 5, 10, 200, gz.len() / 2, gz.len() - 9, gz.len() - 8, gz.len() - 1] {
        let e = read(&gz[..cut], 64, &ReaderOptions::default()).err().unwrap();
        assert_eq!(e.code, ErrorCode::Truncated, "cut at {cut}: {e}");
    }
    // A complete gzip of an archive that lacks its end-of-archive marker, or stops inside a file.
    let m = two_entry_manifest();
    let tar = tar_with(&m, &valid_entries());
    assert_rejected(&tar[..tar.len() - 1024], ErrorCode::Truncated, None);
    assert_rejected(&tar[..tar.len() - 512], ErrorCode::Truncated, None);
    let inside = tar.len() - 1024 - 512 - 512 + 2;
    assert_rejected(&tar[..inside], ErrorCode::Truncated, Some("artifacts/a.txt"));
}

#[test]
fn nothing_but_zeros_may_follow_the_end_marker() {
    let m = two_entry_manifest();
    let mut tar = tar_with(&m, &valid_entries());
    tar.extend_from_slice(&[0; 100]);
    tar.push(1);
    assert_rejected(&tar, ErrorCode::TarCorrupt, None);
    let mut lone_zero_block = tar_with(&m, &valid_entries()[..1024]);
    lone_zero_block.truncate(lone_zero_block.len() - 512);
    lone_zero_block.extend_from_slice(&valid_entries()[1024..]);
    lone_zero_block.extend_from_slice(&[0; 1024]);
    assert_rejected(&lone_zero_block, ErrorCode::TarCorrupt, None);
}

#[test]
fn corrupt_tar_and_gzip_are_rejected() {
    let m = two_entry_manifest();
    let mut tar = tar_with(&m, &valid_entries());
    let header_at = tar.len() - 1024 - 512 - 1024;
    tar[header_at + 5] ^= 0x20;
    assert_rejected(&tar, ErrorCode::TarCorrupt, None);
    let mut gz = gzip(&tar_with(&m, &valid_entries()));
    let crc_at = gz.len() - 8;
    gz[crc_at] ^= 1;
    assert_eq!(read_error_with(&gz, &ReaderOptions::default()).code, ErrorCode::GzipCorrupt);
    let mut plain_tar = tar_with(&m, &valid_entries());
    plain_tar.truncate(4096);
    assert_eq!(read_error_with(&plain_tar, &ReaderOptions::default()).code, ErrorCode::GzipCorrupt);
}

#[test]
fn extension_headers_are_bounded_in_size_and_number() {
    let m = two_entry_manifest();
    let global = b"16 comment=abcd\n";
    let mut rest = Vec::new();
    for _ in 0..MAX_EXTENSION_HEADERS {
        push_entry(&mut rest, &ustar("pax_global_header", b'g', 0o644, global.len() as u64, ""), global);
    }
    let mut allowed = rest.clone();
    allowed.extend(valid_entries());
    read(&gzip(&tar_with(&m, &allowed)), 100, &ReaderOptions::default()).unwrap();
    push_entry(&mut rest, &ustar("pax_global_header", b'g', 0o644, global.len() as u64, ""), global);
    rest.extend(valid_entries());
    assert_rejected(&tar_with(&m, &rest), ErrorCode::TarCorrupt, None);

    let huge = vec![b'a'; MAX_EXTENSION_BYTES as usize + 1];
    let mut rest = Vec::new();
    push_entry(&mut rest, &ustar("././@LongLink", b'L', 0o644, huge.len() as u64, ""), &huge);
    assert_rejected(&tar_with(&m, &rest), ErrorCode::LimitExceeded, None);
}

/// A gzip in our block profile whose body repeats `block` (a deflated 1 MiB block) `count` times after
/// `prefix`. The trailer is omitted: these streams are rejected before it would be read.
fn repeated_blocks(prefix: &[u8], count: usize) -> Vec<u8> {
    let zeros = deflate_block(&vec![0; BLOCK_SIZE], false);
    let mut gz = GZIP_HEADER.to_vec();
    gz.extend(deflate_block(prefix, false));
    for _ in 0..count {
        gz.extend_from_slice(&zeros);
    }
    gz
}

#[test]
fn inflating_past_what_the_manifest_accounts_for_is_rejected() {
    let m = two_entry_manifest();
    // Extension headers within their per-entry caps, but far beyond the allowance for two small entries.
    let payload = vec![0u8; MAX_EXTENSION_BYTES as usize];
    let mut spam = Vec::new();
    for _ in 0..MAX_EXTENSION_HEADERS {
        push_entry(&mut spam, &ustar("pax_global_header", b'g', 0o644, payload.len() as u64, ""), &payload);
    }
    let entries = valid_entries();
    let mut tar = tar_with(&m, &[spam.clone(), entries[..1024].to_vec(), spam, entries[1024..].to_vec()].concat());
    tar.resize(tar.len() + (512 << 10), 0);
    let e = read(&repeated_blocks(&tar, 0), 4096, &ReaderOptions::default()).err().unwrap();
    assert_eq!(e.code, ErrorCode::LimitExceeded, "{e}");
    assert!(e.message.contains("accounts for"), "{e}");
}

#[test]
fn at_most_1_mib_of_zeros_may_follow_the_end_marker() {
    let tar = tar_with(&two_entry_manifest(), &valid_entries());
    let with_zeros = |n: usize| {
        let mut gz = repeated_blocks(&tar, 0);
        gz.extend(deflate_block(&vec![0; n], true));
        let whole = [tar.clone(), vec![0; n]].concat();
        gz.extend_from_slice(&gzip_trailer(crc32fast::hash(&whole), whole.len() as u64));
        gz
    };
    read(&with_zeros(MAX_TRAILING_ZEROS as usize), 4096, &ReaderOptions::default()).unwrap();
    let e = read(&with_zeros(MAX_TRAILING_ZEROS as usize + 512), 4096, &ReaderOptions::default()).err().unwrap();
    assert_eq!(e.code, ErrorCode::LimitExceeded, "{e}");
}

#[test]
fn a_high_compression_ratio_is_rejected_past_the_threshold() {
    let size = 80 << 20;
    let zeros = TreeEntry::file("zeros.bin", size as u64, Digest::of(b"not read here"), false);
    let (m, _) = manifest_for(vec![Artifact { entry: zeros, content: Vec::new() }]);
    let mut prefix = Vec::new();
    push_entry(&mut prefix, &ustar("manifest.json", b'0', 0o644, m.len() as u64, ""), &m);
    prefix.extend(entry("artifacts/zeros.bin", &file_kind(size, false), b""));
    let gz = repeated_blocks(&prefix, 80);
    let strict =
        ReaderOptions { limits: Limits { max_ratio: 100, ..Limits::default() }, hash_content: false, expect_uri: None };
    let e = read(&gz, BLOCK_SIZE, &strict).err().unwrap();
    assert_eq!(e.code, ErrorCode::LimitExceeded, "{e}");
    assert!(e.message.contains("ratio"), "{e}");
}

#[test]
fn sizes_of_8_gib_and_more_are_read_from_pax_headers() {
    let size: u64 = 9 << 30;
    let big = TreeEntry::file("huge.bin", size, Digest::of(b"not read here"), false);
    let (m, _) = manifest_for(vec![Artifact { entry: big, content: Vec::new() }]);
    let mut tar = Vec::new();
    push_entry(&mut tar, &ustar("manifest.json", b'0', 0o644, m.len() as u64, ""), &m);
    encode_entry(&mut tar, "artifacts/huge.bin", &PackEntryKind::File { size, executable: false }, 0);
    tar.extend_from_slice(&[7; 4096]);
    let mut reader = PackReader::new(ReaderOptions::default());
    reader.push(&gzip(&tar)).unwrap();
    assert!(matches!(reader.next().unwrap(), Some(Event::Manifest { .. })));
    assert_eq!(
        reader.next().unwrap(),
        Some(Event::Entry { path: "huge.bin".into(), kind: PackEntryKind::File { size, executable: false } })
    );
    let mut data = 0;
    while let Some(Event::Data(d)) = reader.next().unwrap() {
        data += d.len();
    }
    assert_eq!(data, 4096);
    let e = reader.finish().unwrap_err();
    assert_eq!((e.code, e.subject.as_deref()), (ErrorCode::Truncated, Some("artifacts/huge.bin")));
}

#[test]
fn errors_stick_once_reported() {
    let m = two_entry_manifest();
    let mut rest = Vec::new();
    push_entry(&mut rest, &ustar("artifacts/a.txt", typeflag::HARD_LINK, 0o644, 0, "x"), b"");
    let mut reader = PackReader::new(ReaderOptions::default());
    reader.push(&gzip(&tar_with(&m, &rest))).unwrap();
    reader.next().unwrap();
    let e = reader.next().unwrap_err();
    assert_eq!(e.code, ErrorCode::UnsupportedEntryType);
    assert_eq!(reader.next().unwrap_err(), e);
    assert_eq!(reader.push(b"more").unwrap_err(), e);
    assert_eq!(reader.finish().unwrap_err(), e);
}
