//! Pass 2 for Python: declarations by indentation.

use super::*;

pub(super) fn python(src: &Source) -> Vec<Symbol> {
    let code = src.code.as_bytes();
    // A line continues the previous statement when it starts inside brackets or a multi-line string.
    let mut continuation = src.continues.clone();
    let mut depth = 0i64;
    for (line, flag) in continuation.iter_mut().enumerate() {
        *flag |= depth > 0;
        for b in src.line_text(&src.code, line).bytes() {
            match b {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = (depth - 1).max(0),
                _ => {}
            }
        }
    }
    let statement = |line: usize| !continuation[line] && !src.is_blank(line);
    let def = regex!(r"^([ \t]*)(?:async[ \t]+)?def[ \t]+([A-Za-z_][A-Za-z0-9_]*)");
    let class = regex!(r"^([ \t]*)class[ \t]+([A-Za-z_][A-Za-z0-9_]*)");

    let mut symbols = Vec::new();
    // Enclosing classes: (indent, qualified name).
    let mut classes: Vec<(usize, String)> = Vec::new();
    let mut line = 0;
    while line < src.line_count() {
        if !statement(line) {
            line += 1;
            continue;
        }
        let text = src.line_text(&src.code, line);
        let indent = indent_of(text);
        while classes.last().is_some_and(|(i, _)| *i >= indent) {
            classes.pop();
        }
        let (caps, kind) = match (def.captures(text), class.captures(text)) {
            (Some(caps), _) => (caps, SymbolKind::Function),
            (None, Some(caps)) => (caps, SymbolKind::Class),
            (None, None) => {
                line += 1;
                continue;
            }
        };
        let (Some(lead), Some(name)) = (caps.get(1), caps.get(2)) else {
            line += 1;
            continue;
        };
        let start = src.line_starts[line] + lead.end();
        let colon = header_end(code, start);
        let header_line = src.line_of(colon);
        // The body: every later line that is blank, a continuation, or indented deeper than the header.
        let mut last = header_line;
        for (next, continues) in continuation.iter().enumerate().skip(header_line + 1) {
            if src.is_blank(next) {
                continue;
            }
            if *continues || indent_of(src.line_text(&src.code, next)) > indent {
                last = next;
            } else {
                break;
            }
        }
        let mut first = line;
        while first > 0 {
            let above = src.line_text(&src.code, first - 1);
            if statement(first - 1) && indent_of(above) == indent && above.trim_start().starts_with('@') {
                first -= 1;
            } else if continuation[first - 1] && first >= 2 {
                // A multi-line decorator argument: keep going up to its `@` line.
                first -= 1;
            } else {
                break;
            }
        }
        // A continuation line that did not lead to a decorator belongs to something else.
        while first < line && !src.line_text(&src.code, first).trim_start().starts_with('@') {
            first += 1;
        }
        let qualified = match classes.last() {
            Some((_, parent)) => format!("{parent}.{}", name.as_str()),
            None => name.as_str().to_string(),
        };
        let kind = if kind == SymbolKind::Function && !classes.is_empty() { SymbolKind::Method } else { kind };
        let end_line = last.min(src.line_count() - 1);
        let end = src.line_starts[end_line] + src.line_text(&src.code, end_line).len();
        symbols.push(Symbol {
            name: qualified.clone(),
            kind,
            signature: src.signature(start, colon),
            span: src.span(src.line_starts[first], end.max(src.line_starts[first])),
            doc: docstring(src, colon + 1),
        });
        if kind == SymbolKind::Class {
            classes.push((indent, qualified));
            line = header_line + 1;
        } else {
            line = last + 1;
        }
    }
    symbols
}

/// The offset of the `:` ending a `def` or `class` header (or of the newline where a broken header stops).
pub(super) fn header_end(code: &[u8], start: usize) -> usize {
    let mut depth = 0i64;
    for (i, b) in code.iter().enumerate().skip(start) {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b':' | b'\n' if depth <= 0 => return i,
            _ => {}
        }
    }
    code.len()
}

/// The first paragraph of the string literal that opens a body at `from`, if it starts with one.
pub(super) fn docstring(src: &Source, from: usize) -> Option<String> {
    let code = src.code.as_bytes();
    let mut i = (from..code.len()).find(|&i| !code[i].is_ascii_whitespace())?;
    while i < code.len() && matches!(code[i], b'r' | b'R' | b'u' | b'U') {
        i += 1;
    }
    let quote = *code.get(i).filter(|q| matches!(q, b'"' | b'\''))?;
    let width = if code.get(i + 1) == Some(&quote) && code.get(i + 2) == Some(&quote) { 3 } else { 1 };
    // The contents are blanked in `code`, so the next quote is the closing one.
    let open = i + width;
    let close = (open..code.len()).find(|&j| code[j] == quote).unwrap_or(code.len());
    first_paragraph(src.text.get(open..close)?.lines())
}
