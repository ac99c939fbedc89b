//! A rule's regular expression, compiled when a search first needs it. Compiling the ~80 built-in patterns
//! took ~100 ms of every context command in wasm (and as much again of V8 optimising the compiler's code),
//! while a scan reaches most of them only through the prefilter, which searches with its own automata: a
//! built-in pattern is now compiled on its rule's first whole-text search. A user's pattern is compiled when
//! the policy loads, so a bad one is still refused there.

use std::sync::{Arc, OnceLock};

use regex::Regex;

use super::compile_pattern;

/// The source of a rule's pattern and, once compiled, its regex; clones share the compiled regex.
#[derive(Clone)]
pub struct Pattern {
    source: &'static str,
    compiled: Arc<OnceLock<Regex>>,
}

impl Pattern {
    /// A built-in pattern, compiled on first use (the built-in tests compile every one).
    pub(super) fn builtin(source: &'static str) -> Self {
        Pattern { source, compiled: Arc::default() }
    }

    /// The pattern's text, without compiling it.
    pub fn as_str(&self) -> &str {
        match self.compiled.get() {
            Some(regex) => regex.as_str(),
            None => self.source,
        }
    }

    /// The compiled regex.
    pub fn regex(&self) -> &Regex {
        self.compiled.get_or_init(|| compile_pattern(self.source).expect("built-in patterns compile (tested)"))
    }
}

/// A pattern compiled already (a user's rule).
impl From<Regex> for Pattern {
    fn from(regex: Regex) -> Self {
        Pattern { source: "", compiled: Arc::new(OnceLock::from(regex)) }
    }
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pattern").field(&self.as_str()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builtin_pattern_compiles_on_first_use_and_clones_share_it() {
        let pattern = Pattern::builtin(r"\b(ab+c)\b");
        let clone = pattern.clone();
        assert_eq!(pattern.as_str(), r"\b(ab+c)\b");
        assert!(clone.compiled.get().is_none());
        assert!(pattern.regex().is_match("x abbc y"));
        assert!(clone.compiled.get().is_some());
        assert_eq!(clone.as_str(), r"\b(ab+c)\b");
    }

    #[test]
    fn every_builtin_pattern_compiles() {
        for rule in super::super::rules::builtin_rules() {
            assert!(compile_pattern(rule.pattern).is_ok(), "{} does not compile", rule.id);
        }
    }

    #[test]
    fn a_compiled_pattern_keeps_its_text() {
        let pattern = Pattern::from(compile_pattern("a(b)").unwrap());
        assert_eq!(pattern.as_str(), "a(b)");
        assert_eq!(pattern.regex().captures_len(), 2);
    }
}
