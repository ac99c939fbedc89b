//! Which files a task looks at ([`ScopeMatcher`]), and the packet items made from them ([`collect_items`]).
//!
//! Hosts walk the file system themselves (the core has none): they ask [`ScopeMatcher::enters`] before reading
//! a directory and [`ScopeMatcher::selects`] for each file, then pass the selected files' text in.

use crate::context::glob::Glob;
use crate::context::packet::{Item, ItemType, Span};
use crate::context::symbols::{extract_symbols, Symbol, SymbolKind};
use crate::digest::Digest;
use crate::error::Result;
use crate::path::normalize_relative;
use std::collections::{BTreeSet, HashMap};

/// Where collected items say they came from.
pub const SOURCE_FILESYSTEM: &str = "filesystem";
/// The line that ends a cut snippet, here and in redaction (`context::redact`), so a reader sees one marker.
pub const TRUNCATED_MARKER: &str = "[TRUNCATED]";
/// At most this many `deps` per item: the heuristic is cheap, and a long list would cost more than it tells.
const MAX_DEPS: usize = 16;

/// One file a host read, by its path relative to the project root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile<'a> {
    pub path: &'a str,
    pub text: &'a str,
    pub digest: Digest,
    pub size: u64,
}

impl<'a> SourceFile<'a> {
    /// A file whose digest and size are those of `text`'s UTF-8 bytes.
    pub fn new(path: &'a str, text: &'a str) -> Self {
        SourceFile { path, text, digest: Digest::of(text.as_bytes()), size: text.len() as u64 }
    }
}

/// A task's `roots`, `include`, `exclude` and `globs`, compiled.
///
/// A path is selected when it lies under one of the roots (`.` is the whole project), matches one of the
/// `include` or `globs` patterns if there are any, and matches no `exclude` pattern: exclude always wins.
/// Patterns are [`Glob`]s matched against the path relative to the project root.
#[derive(Debug, Clone)]
pub struct ScopeMatcher {
    /// Empty: everything. A root is a normalised relative directory.
    roots: Vec<String>,
    include: Vec<Glob>,
    exclude: Vec<Glob>,
}

impl ScopeMatcher {
    pub fn new(roots: &[String], include: &[String], exclude: &[String], globs: &[String]) -> Result<ScopeMatcher> {
        let mut normalized = Vec::new();
        let mut everything = roots.is_empty();
        for root in roots {
            match clean(root) {
                "" => everything = true,
                root => normalized.push(normalize_relative(root)?),
            }
        }
        let parse = |patterns: &[String]| patterns.iter().map(|p| Glob::parse(p)).collect::<Result<Vec<_>>>();
        let mut include = parse(include)?;
        include.extend(parse(globs)?);
        Ok(ScopeMatcher { roots: if everything { Vec::new() } else { normalized }, include, exclude: parse(exclude)? })
    }

    /// Whether the file at `path` (relative, `/`-separated) is in scope.
    pub fn selects(&self, path: &str) -> bool {
        let path = clean(path);
        !path.is_empty()
            && self.roots_cover(path)
            && (self.include.is_empty() || self.include.iter().any(|g| g.matches(path)))
            && !self.exclude.iter().any(|g| g.matches(path))
    }

    /// Whether the directory `dir` (relative; `""` or `.` for the project root) may hold a selected file, so a
    /// host must walk into it. Errs towards `true`: a directory is pruned only when nothing below it can match.
    pub fn enters(&self, dir: &str) -> bool {
        let dir = clean(dir);
        if dir.is_empty() {
            return true;
        }
        let below_root = self.roots_cover(dir) || self.roots.iter().any(|root| is_under(root, dir));
        let excluded = self.exclude.iter().any(|g| excludes_below(g, dir));
        below_root && !excluded && (self.include.is_empty() || self.include.iter().any(|g| may_match_below(g, dir)))
    }

    fn roots_cover(&self, path: &str) -> bool {
        self.roots.is_empty() || self.roots.iter().any(|root| is_under(path, root))
    }
}

/// `./a/b/` → `a/b`; `.` → ``.
fn clean(path: &str) -> &str {
    let mut path = path.trim_end_matches('/');
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.trim_start_matches('/');
    }
    if path == "." {
        ""
    } else {
        path
    }
}

/// Whether `path` is `dir` or lies below it.
fn is_under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether `glob` matches everything below `dir`: it matches the directory itself (a glob that matches a directory
/// matches all below it), or it is `<prefix>/**` and its prefix does.
fn excludes_below(glob: &Glob, dir: &str) -> bool {
    let as_directory = format!("{dir}/");
    if glob.matches(&as_directory) {
        return true;
    }
    let Some(prefix) = glob.as_str().strip_suffix("/**") else { return false };
    // `a/**` is anchored at the root; `a` alone would match at any depth.
    let prefix = if prefix.contains('/') || prefix == "**" { prefix.to_string() } else { format!("/{prefix}") };
    Glob::parse(&prefix).is_ok_and(|g| g.matches(&as_directory))
}

/// Whether some path below `dir` could match `glob`: its leading segments agree with the directory's.
fn may_match_below(glob: &Glob, dir: &str) -> bool {
    let pattern = glob.as_str().trim_end_matches('/');
    let anchored = pattern.starts_with('/') || pattern.contains('/');
    if !anchored {
        return true;
    }
    let segments: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    for (i, part) in dir.split('/').enumerate() {
        let Some(segment) = segments.get(i) else { return true };
        if *segment == "**" {
            return true;
        }
        match Glob::parse(&format!("/{segment}")) {
            Ok(one) if !one.matches(part) => return false,
            _ => {}
        }
    }
    true
}

/// What a task is about: a file, a symbol (by name or qualified name), or a symbol within a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub file: Option<String>,
    pub symbol: Option<String>,
}

/// The items for `files`: one `symbol` item per top-level definition and method, in path order then source
/// order, and one `code` item (the head of the file) for a file without symbols. Target items come first.
///
/// The target: with `symbol`, the symbols whose qualified name equals it, or failing that whose last segment
/// does (`push` finds `Stack.push`), within `file` when one is given; with only `file` (or a symbol not found in
/// it), every item of that file.
pub fn collect_items(files: &[SourceFile], target: &Target, snippet_limit: usize) -> Vec<Item> {
    let mut files: Vec<&SourceFile> = files.iter().collect();
    files.sort_by(|a, b| a.path.cmp(b.path));
    let extracted: Vec<Vec<Symbol>> = files.iter().map(|f| extract_symbols(f.path, f.text)).collect();

    // Short name → qualified names, for the deps heuristic. `impl X` is not an identifier anyone writes.
    let mut by_short_name: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for symbol in extracted.iter().flatten().filter(|s| s.kind != SymbolKind::Impl) {
        by_short_name.entry(symbol.short_name()).or_default().insert(&symbol.name);
    }

    let mut items = Vec::new();
    for (file, symbols) in files.iter().zip(&extracted) {
        let hash = Some(file.digest.to_string());
        if symbols.is_empty() {
            let head = truncate(file.text, snippet_limit);
            let kept = file.text.char_indices().nth(snippet_limit).map_or(file.text, |(cut, _)| &file.text[..cut]);
            let shown = kept.lines().count() as u64;
            items.push(Item {
                name: file.path.to_string(),
                path: Some(file.path.to_string()),
                item_type: ItemType::Code,
                signature: None,
                span: (shown > 0).then_some(Span { start: 1, end: shown }),
                summary: None,
                snippet: (!file.text.is_empty()).then_some(head),
                deps: Vec::new(),
                hash,
                source: SOURCE_FILESYSTEM.to_string(),
                tokens_est: None,
                priority: None,
                target: false,
            });
            continue;
        }
        if let Some((span, text)) = outside_symbols(file.text, symbols) {
            items.push(Item {
                name: file.path.to_string(),
                path: Some(file.path.to_string()),
                item_type: ItemType::Code,
                signature: None,
                span: Some(span),
                summary: Some(MODULE_SUMMARY.to_string()),
                snippet: Some(truncate(&text, snippet_limit)),
                deps: Vec::new(),
                hash: hash.clone(),
                source: SOURCE_FILESYSTEM.to_string(),
                tokens_est: None,
                priority: None,
                target: false,
            });
        }
        let lines = LineIndex::new(file.text);
        for symbol in symbols {
            let text = lines.slice(file.text, symbol.span);
            // A class's own methods are part of it, not dependencies.
            let inside = |name: &str| {
                symbols
                    .iter()
                    .any(|s| s.name == name && s.span.start >= symbol.span.start && s.span.end <= symbol.span.end)
            };
            let mut deps = BTreeSet::new();
            for word in identifiers(text) {
                for name in by_short_name.get(word).into_iter().flatten() {
                    if !inside(name) {
                        deps.insert(name.to_string());
                    }
                }
            }
            items.push(Item {
                name: symbol.name.clone(),
                path: Some(file.path.to_string()),
                item_type: ItemType::Symbol,
                signature: Some(symbol.signature.clone()),
                span: Some(symbol.span),
                summary: symbol.doc.clone(),
                snippet: Some(truncate(text, snippet_limit)),
                deps: deps.into_iter().take(MAX_DEPS).collect(),
                hash: hash.clone(),
                source: SOURCE_FILESYSTEM.to_string(),
                tokens_est: None,
                priority: None,
                target: false,
            });
        }
    }
    mark_targets(&mut items, target);
    // A stable partition: targets first, each group in its collected order.
    let (mut ordered, rest): (Vec<Item>, Vec<Item>) = items.into_iter().partition(|item| item.target);
    ordered.extend(rest);
    ordered
}

/// The `summary` of the item holding a file's code outside its symbols.
pub const MODULE_SUMMARY: &str = "module-level code: imports, constants and statements outside the symbols";

/// The lines of `text` that no symbol covers (imports, constants, module docstrings, top-level statements), with
/// runs of blank lines collapsed, and the span from the first to the last of them; `None` when only blank lines
/// are left. Without this item a packet would show a file's functions but not the imports and constants they use.
fn outside_symbols(text: &str, symbols: &[Symbol]) -> Option<(Span, String)> {
    let covered = |line: u64| symbols.iter().any(|s| s.span.start <= line && line <= s.span.end);
    let mut kept = String::new();
    let (mut first, mut last) = (None, 0);
    let mut blank_pending = false;
    for (index, line) in text.lines().enumerate() {
        let number = index as u64 + 1;
        if covered(number) {
            blank_pending = first.is_some();
            continue;
        }
        if line.trim().is_empty() {
            blank_pending = first.is_some();
            continue;
        }
        if blank_pending {
            kept.push('\n');
            blank_pending = false;
        }
        first.get_or_insert(number);
        last = number;
        kept.push_str(line);
        kept.push('\n');
    }
    first.map(|start| (Span { start, end: last }, kept))
}

fn mark_targets(items: &mut [Item], target: &Target) {
    let file = target.file.as_deref().map(clean);
    let in_file = |item: &Item| file.is_none_or(|f| item.path.as_deref() == Some(f));
    let mut found = false;
    if let Some(symbol) = target.symbol.as_deref() {
        let is_symbol = |item: &Item| item.item_type == ItemType::Symbol && in_file(item);
        let exact: Vec<usize> = (0..items.len()).filter(|&i| is_symbol(&items[i]) && items[i].name == symbol).collect();
        let chosen = if exact.is_empty() {
            let short = |name: &str| name.rsplit('.').next() == Some(symbol);
            (0..items.len()).filter(|&i| is_symbol(&items[i]) && short(&items[i].name)).collect()
        } else {
            exact
        };
        for i in chosen {
            items[i].target = true;
            found = true;
        }
    }
    if !found && file.is_some() {
        for item in items.iter_mut().filter(|item| in_file(item)) {
            item.target = true;
        }
    }
}

/// The words of `text` that could be identifiers.
fn identifiers(text: &str) -> BTreeSet<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| w.chars().next().is_some_and(|c| !c.is_ascii_digit()))
        .collect()
}

/// `text` cut to at most `limit` characters (on a character boundary), then a [`TRUNCATED_MARKER`] line.
pub fn truncate(text: &str, limit: usize) -> String {
    let Some((cut, _)) = text.char_indices().nth(limit) else { return text.to_string() };
    let mut out = text[..cut].to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(TRUNCATED_MARKER);
    out
}

/// Byte offsets of line starts, to cut a [`Span`] out of a file.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex(starts)
    }

    /// Lines `span.start..=span.end` without the last newline.
    fn slice<'t>(&self, text: &'t str, span: Span) -> &'t str {
        let offset = |line: u64| self.0.get(line as usize).copied().unwrap_or(text.len());
        let start = offset(span.start.saturating_sub(1)).min(text.len());
        let end = offset(span.end).min(text.len()).max(start);
        let lines = text.get(start..end).unwrap_or("");
        lines.strip_suffix('\n').unwrap_or(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn scope(roots: &[&str], include: &[&str], exclude: &[&str], globs: &[&str]) -> ScopeMatcher {
        ScopeMatcher::new(&strings(roots), &strings(include), &strings(exclude), &strings(globs)).unwrap()
    }

    #[test]
    fn roots_include_and_exclude() {
        let all = scope(&["."], &[], &[], &[]);
        assert!(all.selects("a/b.rs") && all.selects("README.md") && all.enters("") && all.enters("deep/dir"));

        let s = scope(&["src", "./lib/"], &["*.rs", "lib/**"], &["**/generated/**", "*.snap"], &[]);
        assert!(s.selects("src/main.rs"));
        assert!(s.selects("lib/any.txt"));
        assert!(!s.selects("src/readme.md"), "not included");
        assert!(!s.selects("tests/a.rs"), "outside the roots");
        assert!(!s.selects("srcx/a.rs"), "a root is a directory, not a prefix");
        assert!(!s.selects("src/generated/x.rs"), "exclude wins");
        assert!(!s.selects("lib/x.snap"), "exclude wins");
        assert!(s.enters("src") && s.enters("src/deep") && s.enters("lib"));
        assert!(!s.enters("tests") && !s.enters("src/generated") && !s.enters("srcx"));

        let globs = scope(&[], &[], &[], &["docs/**/*.md"]);
        assert!(globs.selects("docs/a/b.md") && !globs.selects("docs/a/b.rs") && !globs.selects("x/docs/a.md"));
        assert!(globs.enters("docs") && globs.enters("docs/a") && !globs.enters("src"));
    }

    #[test]
    fn roots_deeper_than_a_directory_still_enter_it() {
        let s = scope(&["packages/core/src"], &[], &[], &[]);
        assert!(s.enters("packages") && s.enters("packages/core") && s.enters("packages/core/src/x"));
        assert!(!s.enters("packages/web") && !s.selects("packages/core/README.md"));
        assert!(s.selects("packages/core/src/lib.rs"));
    }

    #[test]
    fn bad_patterns_and_roots_are_errors() {
        assert!(ScopeMatcher::new(&strings(&["../up"]), &[], &[], &[]).is_err());
        assert!(ScopeMatcher::new(&strings(&["."]), &strings(&["a**b"]), &[], &[]).is_err());
        assert!(ScopeMatcher::new(&[], &[], &strings(&["!x"]), &[]).is_err());
    }

    const LIB: &str = "pub struct Stack {\n    items: Vec<u8>,\n}\n\nimpl Stack {\n    /// Adds one.\n    pub fn push(&mut self, v: u8) {\n        helper(v);\n        self.items.push(v);\n    }\n}\n\nfn helper(v: u8) -> u8 {\n    v\n}\n";
    const APP: &str = "from lib import Stack\n\ndef main():\n    s = Stack()\n    s.push(1)\n";

    fn build(target: Target, limit: usize) -> Vec<Item> {
        let files = [
            SourceFile::new("src/lib.rs", LIB),
            SourceFile::new("README.md", "# Title\n"),
            SourceFile::new("app.py", APP),
        ];
        collect_items(&files, &target, limit)
    }

    fn names(items: &[Item]) -> Vec<(&str, bool)> {
        items.iter().map(|i| (i.name.as_str(), i.target)).collect()
    }

    #[test]
    fn items_per_symbol_and_per_plain_file() {
        let items = build(Target::default(), 10_000);
        assert_eq!(
            names(&items),
            vec![
                ("README.md", false),
                ("app.py", false),
                ("main", false),
                ("Stack", false),
                ("impl Stack", false),
                ("Stack.push", false),
                ("helper", false),
            ]
        );
        let readme = &items[0];
        assert_eq!(readme.item_type, ItemType::Code);
        assert_eq!(readme.snippet.as_deref(), Some("# Title\n"));
        assert_eq!(readme.span, Some(Span { start: 1, end: 1 }));
        // The import outside app.py's only function is its own item.
        let module = &items[1];
        assert_eq!((module.item_type, module.snippet.as_deref()), (ItemType::Code, Some("from lib import Stack\n")));
        assert_eq!((module.span, module.summary.as_deref()), (Some(Span { start: 1, end: 1 }), Some(MODULE_SUMMARY)));
        let push = items.iter().find(|i| i.name == "Stack.push").unwrap();
        assert_eq!(push.item_type, ItemType::Symbol);
        assert_eq!(push.path.as_deref(), Some("src/lib.rs"));
        assert_eq!(push.signature.as_deref(), Some("pub fn push(&mut self, v: u8)"));
        assert_eq!(push.summary.as_deref(), Some("Adds one."));
        assert_eq!(push.span, Some(Span { start: 7, end: 10 }));
        assert!(push.snippet.as_deref().unwrap().starts_with("    pub fn push"));
        assert!(push.snippet.as_deref().unwrap().ends_with("    }"));
        assert_eq!(push.deps, vec!["helper"]);
        assert_eq!(push.hash, Some(Digest::of(LIB.as_bytes()).to_string()));
        assert_eq!(push.source, "filesystem");
        // The impl's own method is not a dependency of it; the python caller depends on both.
        let imp = items.iter().find(|i| i.name == "impl Stack").unwrap();
        assert_eq!(imp.deps, vec!["Stack", "helper"]);
        let main = items.iter().find(|i| i.name == "main").unwrap();
        assert_eq!(main.deps, vec!["Stack", "Stack.push"]);
    }

    #[test]
    fn targets_come_first() {
        let by_symbol = build(Target { file: None, symbol: Some("push".into()) }, 10_000);
        assert_eq!(names(&by_symbol)[0], ("Stack.push", true));
        assert_eq!(by_symbol.iter().filter(|i| i.target).count(), 1);

        let qualified = build(Target { file: Some("src/lib.rs".into()), symbol: Some("Stack".into()) }, 10_000);
        assert_eq!(names(&qualified)[..2], [("Stack", true), ("README.md", false)]);

        let by_file = build(Target { file: Some("./src/lib.rs".into()), symbol: None }, 10_000);
        assert_eq!(
            names(&by_file)[..5],
            [("Stack", true), ("impl Stack", true), ("Stack.push", true), ("helper", true), ("README.md", false)]
        );

        // A symbol missing from the target file: the whole file is the target.
        let missing = build(Target { file: Some("app.py".into()), symbol: Some("nope".into()) }, 10_000);
        assert_eq!(names(&missing)[..2], [("app.py", true), ("main", true)]);
        assert_eq!(missing.iter().filter(|i| i.target).count(), 2);
    }

    #[test]
    fn code_outside_symbols_keeps_its_lines_and_collapses_blank_runs() {
        let text =
            "import os\n\n\nLIMIT = 3\n\n\ndef f():\n    return LIMIT\n\n\nif __name__ == '__main__':\n    f()\n";
        let symbols = extract_symbols("m.py", text);
        let (span, kept) = outside_symbols(text, &symbols).unwrap();
        assert_eq!(span, Span { start: 1, end: 12 });
        assert_eq!(kept, "import os\n\nLIMIT = 3\n\nif __name__ == '__main__':\n    f()\n");
        assert_eq!(outside_symbols("def f():\n    pass\n\n", &extract_symbols("m.py", "def f():\n    pass\n\n")), None);
    }

    #[test]
    fn snippets_are_cut_on_char_boundaries() {
        assert_eq!(truncate("héllo wörld", 4), "héll\n[TRUNCATED]");
        assert_eq!(truncate("ab\ncd", 3), "ab\n[TRUNCATED]");
        assert_eq!(truncate("short", 5), "short");
        assert_eq!(truncate("x", 0), "[TRUNCATED]");
        let items = build(Target::default(), 12);
        let push = items.iter().find(|i| i.name == "Stack.push").unwrap();
        assert_eq!(push.snippet.as_deref(), Some("    pub fn p\n[TRUNCATED]"));
    }

    #[test]
    fn output_is_deterministic_whatever_the_input_order() {
        let a = [SourceFile::new("b.py", "def f():\n    g()\n"), SourceFile::new("a.py", "def g():\n    f()\n")];
        let b = [a[1].clone(), a[0].clone()];
        let target = Target::default();
        assert_eq!(collect_items(&a, &target, 100), collect_items(&b, &target, 100));
        assert_eq!(collect_items(&a, &target, 100)[0].deps, vec!["f"]);
    }

    #[test]
    fn a_cut_file_head_spans_the_lines_kept() {
        let text = "a\nb\nc\nd\n";
        let items = collect_items(&[SourceFile::new("notes.txt", text)], &Target::default(), 4);
        assert_eq!(items[0].snippet.as_deref(), Some("a\nb\n[TRUNCATED]"));
        assert_eq!(items[0].span, Some(Span { start: 1, end: 2 }));
    }

    #[test]
    fn empty_files_have_no_snippet() {
        let items = collect_items(&[SourceFile::new("empty.txt", "")], &Target::default(), 100);
        assert_eq!(items.len(), 1);
        assert_eq!((items[0].snippet.as_ref(), items[0].span), (None, None));
    }
}
