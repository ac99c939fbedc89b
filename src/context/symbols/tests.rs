use super::*;

/// (name, kind, start, end) of every symbol.
fn outline(path: &str, text: &str) -> Vec<(String, SymbolKind, u64, u64)> {
    extract_symbols(path, text).into_iter().map(|s| (s.name, s.kind, s.span.start, s.span.end)).collect()
}

fn find<'s>(symbols: &'s [Symbol], name: &str) -> &'s Symbol {
    symbols.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no {name} in {symbols:#?}"))
}

fn o(name: &str, kind: SymbolKind, start: u64, end: u64) -> (String, SymbolKind, u64, u64) {
    (name.to_string(), kind, start, end)
}

use SymbolKind::*;

const PYTHON: &str = r#"import functools

BRACES = "{ not a block }"


def plain(a, b=1):
    """Add two numbers.

    Longer explanation that is not part of the summary.
    """
    return a + b


@functools.lru_cache(
    maxsize=None,
)
@staticmethod
async def fetch(
    url: str,
    *,
    timeout: float = 3.0,
) -> bytes:
    text = """
def not_a_function():
    pass
"""
    return text.encode()


class Outer(Base, metaclass=Meta):
    '''An outer class.'''

    x = 1

    class Inner:
        def method(self):  # def in a comment: def fake():
            def local():
                return 1
            return local()

    @property
    def value(self) -> int:
        return self.x

    # trailing comment inside the class


def after():
    pass
"#;

#[test]
fn python_functions_classes_decorators_and_nesting() {
    assert_eq!(
        outline("pkg/mod.py", PYTHON),
        vec![
            o("plain", Function, 6, 11),
            o("fetch", Function, 14, 27),
            o("Outer", Class, 30, 43),
            o("Outer.Inner", Class, 35, 39),
            o("Outer.Inner.method", Method, 36, 39),
            o("Outer.value", Method, 41, 43),
            o("after", Function, 48, 49),
        ]
    );
    let symbols = extract_symbols("pkg/mod.py", PYTHON);
    assert_eq!(find(&symbols, "plain").doc.as_deref(), Some("Add two numbers."));
    assert_eq!(find(&symbols, "plain").signature, "def plain(a, b=1)");
    assert_eq!(find(&symbols, "fetch").signature, "async def fetch(url: str, *, timeout: float = 3.0) -> bytes");
    assert_eq!(find(&symbols, "Outer").doc.as_deref(), Some("An outer class."));
    assert_eq!(find(&symbols, "Outer").signature, "class Outer(Base, metaclass=Meta)");
    assert_eq!(find(&symbols, "Outer.value").doc, None);
}

#[test]
fn python_one_liners_and_tabs() {
    let text = "def a(): return 1\ndef b():\n\tif x:\n\t\treturn 2\n\treturn 3\nclass C: pass\n";
    assert_eq!(outline("x.py", text), vec![o("a", Function, 1, 1), o("b", Function, 2, 5), o("C", Class, 6, 6)]);
}

const RUST: &str = r##"//! Module docs are not item docs.

use std::fmt;

/// A stack of things.
///
/// More detail.
#[derive(Debug, Clone)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize)
)]
pub struct Stack<T> {
    items: Vec<T>,
}

pub(crate) const LIMIT: usize = 10;

impl<T: Clone> Stack<T> {
    /// Pushes `item` — braces in docs: {.
    pub fn push(&mut self, item: T) {
        let s = "}}}";
        let c = '}';
        let r = r#"raw " } string"#;
        let lifetime: &'static str = "x";
        self.items.push(item);
    }

    pub async unsafe fn pop<'a>(
        &'a mut self,
        limit: usize,
    ) -> Option<T>
    where
        T: Default,
    {
        /* nested /* comment } */ still comment } */
        self.items.pop()
    }
}

impl<T> fmt::Display for Stack<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.items.len())
    }
}

pub trait Shape {
    fn area(&self) -> f64;
    fn name(&self) -> String {
        String::from("shape")
    }
}

enum Kind { A, B }

type Pair = (u8, u8);

fn main() {
    fn helper() {}
    helper();
}

#[cfg(test)]
mod tests {
    #[test]
    fn it_works() {}
}
"##;

#[test]
fn rust_items_impls_traits_and_docs() {
    assert_eq!(
        outline("src/lib.rs", RUST),
        vec![
            o("Stack", Struct, 8, 15),
            o("LIMIT", Const, 17, 17),
            o("impl Stack", Impl, 19, 39),
            o("Stack.push", Method, 21, 27),
            o("Stack.pop", Method, 29, 38),
            o("impl Display for Stack", Impl, 41, 45),
            o("Stack.fmt", Method, 42, 44),
            o("Shape", Trait, 47, 52),
            o("Shape.area", Method, 48, 48),
            o("Shape.name", Method, 49, 51),
            o("Kind", Enum, 54, 54),
            o("Pair", Type, 56, 56),
            o("main", Function, 58, 61),
            o("tests", Module, 63, 67),
            o("tests.it_works", Function, 65, 66),
        ]
    );
    let symbols = extract_symbols("src/lib.rs", RUST);
    assert_eq!(find(&symbols, "Stack").doc.as_deref(), Some("A stack of things."));
    assert_eq!(find(&symbols, "Stack").signature, "pub struct Stack<T>");
    assert_eq!(find(&symbols, "Stack.push").doc.as_deref(), Some("Pushes `item` — braces in docs: {."));
    assert_eq!(
        find(&symbols, "Stack.pop").signature,
        "pub async unsafe fn pop<'a>(&'a mut self, limit: usize) -> Option<T> where T: Default,"
    );
    assert_eq!(find(&symbols, "Shape.area").signature, "fn area(&self) -> f64");
    assert_eq!(find(&symbols, "LIMIT").signature, "pub(crate) const LIMIT: usize = 10");
    assert_eq!(find(&symbols, "impl Stack").signature, "impl<T: Clone> Stack<T>");
    assert_eq!(find(&symbols, "main").doc, None);
}

#[test]
fn rust_tuple_structs_statics_and_raw_identifiers() {
    let text = "pub struct Meters(pub f64);\nstatic mut COUNT: u32 = 0;\nfn r#match() {}\nmod external;\n";
    assert_eq!(
        outline("a.rs", text),
        vec![o("Meters", Struct, 1, 1), o("COUNT", Const, 2, 2), o("match", Function, 3, 3)]
    );
}

const TYPESCRIPT: &str = r#"import { x } from "./x";

/**
 * Greets someone.
 * @param name who
 */
export async function greet(name: string): Promise<{ text: string }> {
  const t = `hello ${name} } ${ { a: "}" }.a }`;
  return { text: t };
}

export const add = (a: number, b: number): number => {
  return a + b;
};

export const double = (n: number) => n * 2;

const notAFunction = (1 + 2) * 3;

@Component({ selector: "app" })
export default class Widget extends Base<{ id: string }> implements Thing {
  private count = 0;
  static create(
    id: string,
  ): Widget {
    return new Widget(id);
  }
  get size(): number { return this.count; }
  #secret() { return /}/.test("}"); }
  handle = async (e: Event) => {
    this.count++;
  };
  abstract render(): void;
}

export interface Options {
  depth: number;
  nested: { a: string };
}

export type Mode = "a" | "b" | { custom: string };

export enum Color { Red, Green }

function* gen() { yield 1; }
"#;

#[test]
fn typescript_functions_classes_arrows_interfaces() {
    assert_eq!(
        outline("web/app.ts", TYPESCRIPT),
        vec![
            o("greet", Function, 7, 10),
            o("add", Function, 12, 14),
            o("double", Function, 16, 16),
            o("Widget", Class, 20, 34),
            o("Widget.create", Method, 23, 27),
            o("Widget.size", Method, 28, 28),
            o("Widget.#secret", Method, 29, 29),
            o("Widget.handle", Method, 30, 32),
            o("Widget.render", Method, 33, 33),
            o("Options", Interface, 36, 39),
            o("Mode", Type, 41, 41),
            o("Color", Enum, 43, 43),
            o("gen", Function, 45, 45),
        ]
    );
    let symbols = extract_symbols("web/app.ts", TYPESCRIPT);
    let greet = find(&symbols, "greet");
    assert_eq!(greet.doc.as_deref(), Some("Greets someone."));
    assert_eq!(greet.signature, "export async function greet(name: string): Promise<{ text: string }>");
    assert_eq!(find(&symbols, "Widget.create").signature, "static create(id: string): Widget");
    assert_eq!(find(&symbols, "Mode").signature, r#"export type Mode = "a" | "b" | { custom: string }"#);
}

#[test]
fn javascript_without_semicolons_and_with_jsx() {
    let text = "export default function () {\n  return <div className=\"{\">{x}</div>\n}\n\nconst f = async x => {\n  return x\n}\nconst g = function named() { return 1 }\nclass A {\n  constructor() {}\n  static async *items() {}\n}\nmodule.exports = { f, g }\n";
    assert_eq!(
        outline("a.jsx", text),
        vec![
            o("default", Function, 1, 3),
            o("f", Function, 5, 7),
            o("g", Function, 8, 8),
            o("A", Class, 9, 12),
            o("A.constructor", Method, 10, 10),
            o("A.items", Method, 11, 11),
        ]
    );
}

const GO: &str = r#"package stack

import (
	"fmt"
)

// Stack holds values.
// It is not safe for concurrent use.
type Stack[T any] struct {
	items []T // a comment with }
}

type Handler func(ctx string) error

type Shape interface {
	Area() float64
}

// Push adds v.
func (s *Stack[T]) Push(v T) {
	s.items = append(s.items, v)
	_ = `raw } string`
	_ = '}'
}

func New[T any](
	capacity int,
) *Stack[T] {
	return &Stack[T]{items: make([]T, 0, capacity)}
}

func (Stack[T]) Len() int { return 0 }
"#;

#[test]
fn go_funcs_methods_and_types() {
    assert_eq!(
        outline("stack/stack.go", GO),
        vec![
            o("Stack", Struct, 9, 11),
            o("Handler", Type, 13, 13),
            o("Shape", Interface, 15, 17),
            o("Stack.Push", Method, 20, 24),
            o("New", Function, 26, 30),
            o("Stack.Len", Method, 32, 32),
        ]
    );
    let symbols = extract_symbols("stack/stack.go", GO);
    assert_eq!(find(&symbols, "Stack").doc.as_deref(), Some("Stack holds values. It is not safe for concurrent use."));
    assert_eq!(find(&symbols, "New").signature, "func New[T any](capacity int) *Stack[T]");
    assert_eq!(find(&symbols, "Stack.Push").doc.as_deref(), Some("Push adds v."));
}

#[test]
fn unknown_extensions_have_no_symbols() {
    assert!(extract_symbols("README.md", "def f():\n  pass\n").is_empty());
    assert!(extract_symbols("Makefile", "fn main() {}").is_empty());
    assert!(extract_symbols("a.PY", "def f(): pass\n").len() == 1);
}

#[test]
fn long_docs_are_cut_to_the_limit() {
    let text = format!("def f():\n    \"\"\"{}\"\"\"\n", "word ".repeat(100));
    let doc = extract_symbols("a.py", &text)[0].doc.clone().unwrap();
    assert_eq!(doc.chars().count(), DOC_MAX_CHARS);
    assert!(doc.ends_with('…'));
}

/// Every prefix of every sample (a file cut off mid-write) and pseudo-random bytes: no panic, sane spans.
#[test]
fn never_panics_on_truncated_or_garbage_input() {
    let samples = [("a.py", PYTHON), ("a.rs", RUST), ("a.ts", TYPESCRIPT), ("a.go", GO)];
    for (path, text) in samples {
        for (cut, _) in text.char_indices() {
            check_sane(path, &text[..cut]);
        }
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let alphabet: &[&str] = &[
        "{", "}", "(", ")", "[", "]", "\"", "'", "`", "${", "/*", "*/", "//", "#", "r#\"", "\n", " ", "def ", "fn ",
        "class ", "func ", "impl ", "=>", "@", "\\", "é", "x", ":", ";", "\"\"\"", "\t",
    ];
    for round in 0..400 {
        let mut text = String::new();
        let mut bytes = Vec::new();
        for _ in 0..200 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(alphabet[(state % alphabet.len() as u64) as usize]);
            bytes.push((state >> 32) as u8);
        }
        let noise = String::from_utf8_lossy(&bytes);
        for path in ["a.py", "a.rs", "a.ts", "a.js", "a.go"] {
            check_sane(path, &text);
            check_sane(path, &noise);
            if round % 50 == 0 {
                check_sane(path, &text.repeat(20));
            }
        }
    }
}

fn check_sane(path: &str, text: &str) {
    let lines = text.split('\n').count() as u64;
    for symbol in extract_symbols(path, text) {
        assert!(1 <= symbol.span.start && symbol.span.start <= symbol.span.end, "{path}: {symbol:?}");
        assert!(symbol.span.end <= lines, "{path}: {symbol:?} beyond {lines} lines in {text:?}");
    }
}

#[test]
fn large_inputs_stay_linear() {
    let body = "fn f() { let x = \"{\"; }\n".repeat(20_000);
    assert_eq!(extract_symbols("a.rs", &body).len(), 20_000);
    let open = "{".repeat(100_000);
    assert!(extract_symbols("a.ts", &open).is_empty());
    let blank_run = format!("const x = (1)\n{}  .y\nfunction f() {{}}\n", "\n".repeat(200_000));
    assert_eq!(outline("a.js", &blank_run), vec![o("f", Function, 200_003, 200_003)]);
    let parens = "const f = (\n".repeat(20_000);
    assert!(extract_symbols("a.ts", &parens).is_empty());
    let py = "class A:\n".repeat(5_000);
    assert_eq!(extract_symbols("a.py", &py).len(), 5_000);
}

#[test]
fn edge_cases_across_languages() {
    let py = "@app.route(\"/x\")\ndef view():\n    '''Doc.'''\n    return 1\n\nclass A(\n    B,\n):\n    async def m(self): ...\n";
    assert_eq!(outline("a.py", py), vec![o("view", Function, 1, 4), o("A", Class, 6, 9), o("A.m", Method, 9, 9)]);
    assert_eq!(extract_symbols("a.py", py)[1].signature, "class A(B)");

    let rs = "impl<'a, T> From<Vec<T>> for &'a mut Stack<T> where T: Clone {\n    fn from(v: Vec<T>) -> Self { todo!() }\n}\npub(in crate::x) const fn f() -> u8 { b'}' as u8 }\nunsafe impl Send for X {}\n";
    assert_eq!(
        outline("a.rs", rs),
        vec![
            o("impl From for Stack", Impl, 1, 3),
            o("Stack.from", Method, 2, 2),
            o("f", Function, 4, 4),
            o("impl Send for X", Impl, 5, 5),
        ]
    );

    // Object-literal methods and namespaces are not reported; a type literal in a generic bound is not a body.
    let ts = "export default {\n  foo() { function inner() {} }\n};\nnamespace N { export function g() {} }\nexport abstract class Q<T extends { a: 1 }> {\n  protected abstract run(x: T): Promise<void>;\n  private cb: (x: number) => void;\n  static {\n    init();\n  }\n}\n";
    assert_eq!(outline("a.ts", ts), vec![o("Q", Class, 5, 11), o("Q.run", Method, 6, 6)]);

    // `type ( … )` groups are a known gap; methods with multi-value results are not.
    let go = "type (\n  A int\n)\nfunc (r *Repo) Get(ctx context.Context, id string) (*Item, error) {\n  return nil, nil\n}\n";
    assert_eq!(outline("a.go", go), vec![o("Repo.Get", Method, 4, 6)]);
}
