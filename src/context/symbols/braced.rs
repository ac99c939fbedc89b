//! Pass 2 for brace languages (JavaScript, TypeScript, Rust, Go): declarations at statement starts.

use super::*;

/// How a definition's text ends.
pub(super) enum Body {
    /// `{ … }`: the offsets of both braces.
    Block { open: usize, close: usize },
    /// No body: the definition ends before `end` (after its `;`, or at the end of its last line).
    Statement { end: usize },
}

/// A declaration recognised at a statement start.
pub(super) struct Decl {
    pub(super) name: String,
    pub(super) kind: SymbolKind,
    /// Whether a `{` after the head opens the body (`fn`, `class`), or is part of the statement (`const X = {`).
    pub(super) block: bool,
}

pub(super) struct Container {
    pub(super) close: usize,
    /// What members are qualified with.
    pub(super) prefix: String,
    pub(super) kind: SymbolKind,
}

pub(super) fn braced(src: &Source, lang: Lang) -> Vec<Symbol> {
    let code = src.code.as_bytes();
    let n = code.len();
    let mut symbols = Vec::new();
    let mut containers: Vec<Container> = Vec::new();
    // Where the attributes or decorators before the next declaration began.
    let mut attributes: Option<usize> = None;
    let mut pos = 0;
    while pos < n {
        let Some(start) = (pos..n).find(|&i| !code[i].is_ascii_whitespace()) else { break };
        while containers.last().is_some_and(|c| c.close <= start) {
            containers.pop();
        }
        if let Some(after) = attribute(src, lang, start) {
            attributes.get_or_insert(start);
            pos = after.max(start + 1);
            continue;
        }
        let parent = containers.last();
        let line = src.code.get(start..src.line_end(start)).unwrap_or("");
        let Some(decl) = declaration(src, lang, start, line, parent) else {
            attributes = None;
            pos = match scan_body(src, start, false) {
                Body::Statement { end } => end,
                Body::Block { close, .. } => close + 1,
            }
            .max(start + 1);
            continue;
        };
        let first = attributes.take().unwrap_or(start);
        let body = scan_body(src, start, decl.block);
        let (head_end, last, next) = match body {
            Body::Block { open, close } => (open, close, if decl.kind.is_container() { open + 1 } else { close + 1 }),
            Body::Statement { end } => (end, end.saturating_sub(1).max(start), end.max(start + 1)),
        };
        let mut signature = src.signature(start, head_end);
        if let Some(stripped) = signature.strip_suffix(';') {
            signature = stripped.trim_end().to_string();
        }
        let qualify = |name: &str| match parent {
            Some(p) => format!("{}.{name}", p.prefix),
            None => name.to_string(),
        };
        let (name, prefix) = if decl.kind == SymbolKind::Impl {
            let (name, self_type) = impl_names(&signature);
            (qualify(&name), qualify(&self_type))
        } else {
            let name = qualify(&decl.name);
            (name.clone(), name)
        };
        let line = src.line_of(first);
        symbols.push(Symbol {
            name,
            kind: decl.kind,
            signature,
            span: src.span(first, last),
            doc: doc_comment(src, lang, line),
        });
        if let (Body::Block { close, .. }, true) = (&body, decl.kind.is_container()) {
            containers.push(Container { close: *close, prefix, kind: decl.kind });
        }
        pos = next;
    }
    symbols
}

/// The end of a Rust attribute (`#[…]`) or a TypeScript decorator (`@x.y(…)`) starting at `start`.
pub(super) fn attribute(src: &Source, lang: Lang, start: usize) -> Option<usize> {
    let code = src.code.as_bytes();
    let at = |i: usize| code.get(i).copied().unwrap_or(0);
    match lang {
        Lang::Rust
            if at(start) == b'#' && (at(start + 1) == b'[' || (at(start + 1) == b'!' && at(start + 2) == b'[')) =>
        {
            let open = if at(start + 1) == b'[' { start + 1 } else { start + 2 };
            Some(closing(code, open, usize::MAX).map_or(code.len(), |c| c + 1))
        }
        Lang::JavaScript | Lang::TypeScript if at(start) == b'@' && is_ident(at(start + 1)) => {
            let mut j = start + 1;
            while is_ident(at(j)) || at(j) == b'.' {
                j += 1;
            }
            if at(j) == b'(' {
                j = closing(code, j, usize::MAX).map_or(code.len(), |c| c + 1);
            }
            Some(j)
        }
        _ => None,
    }
}

/// The bracket closing the `(` or `[` at `open`, counting both kinds together, looking at most `limit` bytes.
pub(super) fn closing(code: &[u8], open: usize, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in code.iter().enumerate().skip(open).take(limit) {
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Finds where the definition starting at `start` ends. With `block`, the first `{` outside brackets opens its
/// body (except a TypeScript type literal such as `(): { a: number } {`); otherwise braces are skipped whole.
pub(super) fn scan_body(src: &Source, start: usize, block: bool) -> Body {
    let code = src.code.as_bytes();
    let n = code.len();
    let indent = indent_of(src.line_text(&src.code, src.line_of(start)));
    let mut depth = 0usize;
    let (mut prev, mut before_prev) = (0u8, 0u8);
    let mut j = start;
    while j < n {
        let c = code[j];
        match c {
            b'(' | b'[' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => return Body::Statement { end: j },
            b')' | b']' => depth -= 1,
            b'{' if depth == 0 => {
                let close = src.braces.get(&j).copied().unwrap_or(n);
                let type_literal = matches!(src.lang, Lang::JavaScript | Lang::TypeScript)
                    && (b":|&<,=?".contains(&prev) || word_before(code, j) == b"extends");
                if block && !type_literal {
                    return Body::Block { open: j, close };
                }
                j = close.saturating_add(1);
                (before_prev, prev) = (prev, b'}');
                continue;
            }
            b';' if depth == 0 => return Body::Statement { end: j + 1 },
            b'\n' if depth == 0 && statement_ends(src, j, indent, prev, before_prev) => {
                return Body::Statement { end: j };
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            (before_prev, prev) = (prev, c);
        }
        j += 1;
    }
    Body::Statement { end: n }
}

/// The identifier that ends right before `pos` (spaces skipped), or nothing.
pub(super) fn word_before(code: &[u8], pos: usize) -> &[u8] {
    let before = &code[..pos.min(code.len())];
    let end = before.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |p| p + 1);
    let start = before[..end].iter().rposition(|b| !is_ident(*b)).map_or(0, |p| p + 1);
    &before[start..end]
}

/// Whether the newline at `newline` ends a statement that began at `indent`: the line does not end in an operator
/// and the next line neither is indented deeper nor starts with one (`.then(`, `-> T`, `where`, a lone `{`).
pub(super) fn statement_ends(src: &Source, newline: usize, indent: usize, last: u8, before_last: u8) -> bool {
    let arrow = last == b'>' && matches!(before_last, b'=' | b'-');
    if b",([{=+-*/%&|^<?:.\\!".contains(&last) || arrow {
        return false;
    }
    let line = src.next_code.get(src.line_of(newline) + 1).copied().unwrap_or(src.line_count());
    let next = src.line_text(&src.code, line);
    let trimmed = next.trim_start();
    if trimmed.is_empty() {
        return true;
    }
    let continues = trimmed.starts_with(['.', ')', ']', '?', ':', '|', '&', '+', '-', '*', '/', '=', '>', '{'])
        || trimmed.starts_with("where")
        || indent_of(next) > indent;
    !continues
}

pub(super) fn indent_of(line: &str) -> usize {
    let mut width = 0;
    for c in line.chars() {
        match c {
            ' ' => width += 1,
            '\t' => width = (width / 8 + 1) * 8,
            _ => break,
        }
    }
    width
}

pub(super) const JS_NAME: &str = "[A-Za-z_$][A-Za-z0-9_$]*";

pub(super) fn declaration(
    src: &Source,
    lang: Lang,
    start: usize,
    line: &str,
    parent: Option<&Container>,
) -> Option<Decl> {
    let parent = parent.map(|p| p.kind);
    let decl = |name: &str, kind, block| Some(Decl { name: name.to_string(), kind, block });
    match lang {
        Lang::Rust => {
            let re = regex!(
                r#"^(?:pub(?:[ \t]*\([^)]*\))?[ \t]+)?(?:(?:default|const|async|unsafe|extern(?:[ \t]+"[^"]*")?)[ \t]+)*(fn|struct|enum|union|trait|type|const|static|mod|impl)(?-u:\b)(?:[ \t]+(?:mut[ \t]+)?(?:r#)?([A-Za-z_][A-Za-z0-9_]*))?"#
            );
            let caps = re.captures(line)?;
            let keyword = caps.get(1)?.as_str();
            let name = caps.get(2).map_or("", |m| m.as_str());
            let in_impl = matches!(parent, Some(SymbolKind::Impl | SymbolKind::Trait));
            if in_impl && keyword != "fn" {
                return None;
            }
            if name.is_empty() && keyword != "impl" {
                return None;
            }
            match keyword {
                "fn" if in_impl => decl(name, SymbolKind::Method, true),
                "fn" => decl(name, SymbolKind::Function, true),
                "struct" | "union" => decl(name, SymbolKind::Struct, true),
                "enum" => decl(name, SymbolKind::Enum, true),
                "trait" => decl(name, SymbolKind::Trait, true),
                "type" => decl(name, SymbolKind::Type, false),
                "const" | "static" => decl(name, SymbolKind::Const, false),
                "impl" => decl("impl", SymbolKind::Impl, true),
                // `mod x;` declares a file elsewhere: nothing to show here.
                _ => match scan_body(src, start, true) {
                    Body::Block { .. } => decl(name, SymbolKind::Module, true),
                    Body::Statement { .. } => None,
                },
            }
        }
        Lang::Go => {
            if parent.is_some() {
                return None;
            }
            let func = regex!(
                r"^func[ \t]*(?:\([ \t]*(?:[A-Za-z_][A-Za-z0-9_]*[ \t]+)?\*?[ \t]*([A-Za-z_][A-Za-z0-9_]*)[^)]*\)[ \t]*)?([A-Za-z_][A-Za-z0-9_]*)"
            );
            if let Some(caps) = func.captures(line) {
                let name = caps.get(2)?.as_str();
                return match caps.get(1) {
                    Some(receiver) => decl(&format!("{}.{name}", receiver.as_str()), SymbolKind::Method, true),
                    None => decl(name, SymbolKind::Function, true),
                };
            }
            let caps = regex!(
                r"^type[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?:\[[^\]]*\])?[ \t]*(=[ \t]*)?(struct|interface)?(?-u:\b)"
            )
            .captures(line)?;
            let kind = match caps.get(3).map(|m| m.as_str()) {
                Some("struct") => SymbolKind::Struct,
                Some("interface") => SymbolKind::Interface,
                _ => SymbolKind::Type,
            };
            decl(caps.get(1)?.as_str(), kind, true)
        }
        Lang::JavaScript | Lang::TypeScript => js_declaration(src, lang, start, line, parent),
        Lang::Python => None,
    }
}

pub(super) fn js_declaration(
    src: &Source,
    lang: Lang,
    start: usize,
    line: &str,
    parent: Option<SymbolKind>,
) -> Option<Decl> {
    let decl = |name: Option<regex::Match>, kind, block| {
        Some(Decl { name: name.map_or("default", |m| m.as_str()).to_string(), kind, block })
    };
    // `= (a, b) =>` is an arrow function; `= (a + b) * c` is not.
    let arrow_at = |caps: &regex::Captures, group: usize| match caps.get(group) {
        Some(m) if m.as_str() == "(" => is_arrow(src, start + m.start()),
        Some(_) => true,
        None => false,
    };
    if parent == Some(SymbolKind::Class) {
        let method = regex!(&format!(
            r"^(?:(?:public|private|protected|static|readonly|async|override|abstract|declare|accessor|get|set)[ \t]+)*\*?[ \t]*(#?{JS_NAME})[ \t]*\??[ \t]*(?:<[^>]*>[ \t]*)?\("
        ));
        if let Some(caps) = method.captures(line) {
            return decl(caps.get(1), SymbolKind::Method, true);
        }
        let field = regex!(&format!(
            r"^(?:(?:public|private|protected|static|readonly|override|declare)[ \t]+)*(#?{JS_NAME})[ \t]*(?::[^=]*)?=[ \t]*(?:async[ \t]+)?(function(?-u:\b)|\(|<|{JS_NAME}[ \t]*=>)"
        ));
        let caps = field.captures(line)?;
        return if arrow_at(&caps, 2) { decl(caps.get(1), SymbolKind::Method, true) } else { None };
    }
    let function = regex!(&format!(
        r"^(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:async[ \t]+)?function(?-u:\b)[ \t]*\*?[ \t]*({JS_NAME})?"
    ));
    if let Some(caps) = function.captures(line) {
        return decl(caps.get(1), SymbolKind::Function, true);
    }
    let class = regex!(&format!(
        r"^(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:abstract[ \t]+)?class(?-u:\b)[ \t]*({JS_NAME})?"
    ));
    if let Some(caps) = class.captures(line) {
        let name = caps.get(1).filter(|m| !matches!(m.as_str(), "extends" | "implements"));
        return decl(name, SymbolKind::Class, true);
    }
    let arrow = regex!(&format!(
        r"^(?:export[ \t]+)?(?:const|let|var)[ \t]+({JS_NAME})[ \t]*(?::[^=]*)?=[ \t]*(?:async[ \t]+)?(function(?-u:\b)|\(|<|{JS_NAME}[ \t]*=>)"
    ));
    if let Some(caps) = arrow.captures(line) {
        return if arrow_at(&caps, 2) { decl(caps.get(1), SymbolKind::Function, true) } else { None };
    }
    if lang != Lang::TypeScript {
        return None;
    }
    let typed = regex!(&format!(
        r"^(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:const[ \t]+)?(interface|type|enum)[ \t]+({JS_NAME})"
    ));
    let caps = typed.captures(line)?;
    match caps.get(1)?.as_str() {
        "interface" => decl(caps.get(2), SymbolKind::Interface, true),
        "enum" => decl(caps.get(2), SymbolKind::Enum, true),
        _ => decl(caps.get(2), SymbolKind::Type, false),
    }
}

/// Whether the parenthesis at `open` holds arrow-function parameters: `=>` follows it, perhaps after a type.
pub(super) fn is_arrow(src: &Source, open: usize) -> bool {
    let code = src.code.as_bytes();
    // Bounded, so a file full of unclosed `(` stays linear.
    let Some(close) = closing(code, open, 4096) else { return false };
    let rest = src.code.get(close + 1..(close + 1 + 200).min(code.len())).unwrap_or("");
    let rest = rest.split(['{', ';']).next().unwrap_or("");
    rest.contains("=>")
}

/// `impl<T> fmt::Display for Stack<T>` → (`impl Display for Stack`, `Stack`).
pub(super) fn impl_names(signature: &str) -> (String, String) {
    let head = signature.split_once("impl").map_or(signature, |(_, rest)| rest).trim_start();
    let head = if head.starts_with('<') { skip_angles(head) } else { head };
    let head = head.split(" where ").next().unwrap_or(head).trim();
    let mut depth = 0i32;
    let mut split = None;
    for (i, c) in head.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            _ if depth == 0 && head[i..].starts_with(" for ") => {
                split = Some(i);
                break;
            }
            _ => {}
        }
    }
    match split {
        Some(i) => {
            let (trait_name, self_type) = (base_name(&head[..i]), base_name(&head[i + 5..]));
            (format!("impl {trait_name} for {self_type}"), self_type)
        }
        None => {
            let self_type = base_name(head);
            (format!("impl {self_type}"), self_type)
        }
    }
}

pub(super) fn skip_angles(text: &str) -> &str {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    return &text[i + 1..];
                }
            }
            _ => {}
        }
    }
    ""
}

/// `&'a mut fmt::Formatter<'b>` → `Formatter`.
pub(super) fn base_name(ty: &str) -> String {
    let mut ty = ty.trim();
    loop {
        let before = ty;
        ty = ty.trim_start_matches(['&', '!', '*']).trim_start();
        if ty.starts_with('\'') {
            ty = ty.split_once(' ').map_or("", |(_, rest)| rest).trim_start();
        }
        for prefix in ["mut ", "const ", "dyn ", "impl "] {
            ty = ty.strip_prefix(prefix).unwrap_or(ty).trim_start();
        }
        if ty == before {
            break;
        }
    }
    let ty = ty.split('<').next().unwrap_or(ty);
    let ty = ty.rsplit("::").next().unwrap_or(ty).trim();
    if ty.is_empty() {
        "?".to_string()
    } else {
        ty.to_string()
    }
}
