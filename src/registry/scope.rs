//! Token scopes (`repository:<name>:pull[,push]`, distribution `docs/spec/auth/scope.md`): what a request
//! needs, parsed from challenges, merged into one canonical list per token request.

use std::fmt;

pub const PULL: &str = "pull";
pub const PUSH: &str = "push";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    pub resource_type: String,
    pub name: String,
    /// Sorted, without repeats.
    pub actions: Vec<String>,
}

impl Scope {
    pub fn repository(name: &str, actions: &[&str]) -> Scope {
        let mut scope = Scope { resource_type: "repository".into(), name: name.into(), actions: Vec::new() };
        scope.add_actions(actions.iter().copied());
        scope
    }

    pub fn pull(name: &str) -> Scope {
        Scope::repository(name, &[PULL])
    }

    /// Pushing needs pull too: registries check blob existence and mount sources with it.
    pub fn push(name: &str) -> Scope {
        Scope::repository(name, &[PULL, PUSH])
    }

    /// `type:name:actions`; the name may itself hold ':' (e.g. a host with a port), so split at both ends.
    pub fn parse(text: &str) -> Option<Scope> {
        let (resource_type, rest) = text.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        if resource_type.is_empty() || name.is_empty() {
            return None;
        }
        let mut scope = Scope { resource_type: resource_type.into(), name: name.into(), actions: Vec::new() };
        scope.add_actions(actions.split(',').filter(|a| !a.is_empty()));
        Some(scope)
    }

    fn add_actions<'a>(&mut self, actions: impl Iterator<Item = &'a str>) {
        self.actions.extend(actions.map(str::to_string));
        self.actions.sort();
        self.actions.dedup();
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.resource_type, self.name, self.actions.join(","))
    }
}

/// A set of scopes, one per resource, with the union of their actions, sorted: the same needs always give
/// the same list (and so the same token cache key).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Scopes {
        let mut out = Scopes::default();
        for scope in scopes {
            out.add(scope);
        }
        out
    }

    pub fn add(&mut self, scope: Scope) {
        match self.0.iter_mut().find(|s| s.resource_type == scope.resource_type && s.name == scope.name) {
            Some(existing) => existing.add_actions(scope.actions.iter().map(String::as_str)),
            None => {
                self.0.push(scope);
                self.0.sort();
            }
        }
    }

    /// Adds the space-separated scopes of a challenge's `scope` parameter; unparsable ones are skipped
    /// (the registry will say so again if it really needs them).
    pub fn add_challenge_scopes(&mut self, text: &str) {
        for scope in text.split(' ').filter_map(Scope::parse) {
            self.add(scope);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// One string naming the whole set (for cache keys and messages).
    pub fn key(&self) -> String {
        self.0.iter().map(Scope::to_string).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_repository_scopes() {
        assert_eq!(Scope::pull("acme/packs").to_string(), "repository:acme/packs:pull");
        assert_eq!(Scope::push("acme/packs").to_string(), "repository:acme/packs:pull,push");
        assert_eq!(Scope::parse("repository:acme/packs:push,pull").unwrap(), Scope::push("acme/packs"));
        let with_port = Scope::parse("repository:localhost:5000/x:pull").unwrap();
        assert_eq!(
            (with_port.name.as_str(), with_port.actions.clone()),
            ("localhost:5000/x", vec!["pull".to_string()])
        );
        assert_eq!(Scope::parse("registry:catalog:*").unwrap().to_string(), "registry:catalog:*");
        assert_eq!(Scope::parse("nocolon"), None);
        assert_eq!(Scope::parse(":x:pull"), None);
    }

    #[test]
    fn merges_actions_per_resource_in_a_stable_order() {
        let mut scopes = Scopes::new([Scope::pull("b"), Scope::pull("a")]);
        scopes.add(Scope::repository("b", &["push"]));
        scopes.add_challenge_scopes("repository:a:pull repository:c:delete junk");
        assert_eq!(scopes.key(), "repository:a:pull repository:b:pull,push repository:c:delete");
        let same = Scopes::new([Scope::repository("c", &["delete"]), Scope::push("b"), Scope::pull("a")]);
        assert_eq!(same, scopes);
    }
}
