//! Typed errors with stable codes. Every failure the core reports carries a code that scripts can match,
//! a message that names what was wrong, and a hint that says what to do next.

use std::fmt;

/// Stable error codes. The string form (`CTX_…`) is part of the public interface: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A `ctx://` URI, digest or reference is malformed.
    UriInvalid,
    /// A document is not valid JSON (or not the JSON shape that was expected).
    JsonInvalid,
    /// A JSON object repeats a key; canonical JSON cannot represent it.
    JsonDuplicateKey,
    /// A JSON number would be hashed as another value: the canonical form of its nearest IEEE-754 double
    /// (RFC 8785) is not the number written.
    JsonNumberUnrepresentable,
    /// The contract breaks a rule of `contract/v1`.
    ContractInvalid,
    /// An input or code path named by a contract does not exist.
    InputMissing,
    /// A path inside a tree or pack is not acceptable (absolute, `..`, empty segment, control character).
    PathInvalid,
    /// A file name is not valid UTF-8.
    PathNotUtf8,
    /// Two paths are equal after NFC normalisation, or a path is both a file and a directory.
    PathCollision,
    /// A symlink points outside the tree.
    SymlinkEscapes,
    /// A device, socket, FIFO or hard link where only files and symlinks are allowed.
    UnsupportedEntryType,
    /// `manifest.json` is missing, malformed or breaks a rule of `pack/v1`.
    ManifestInvalid,
    /// The URI does not re-derive from the contract.
    UriMismatch,
    /// Content does not hash to the digest recorded for it.
    DigestMismatch,
    /// Content is not the size recorded for it.
    SizeMismatch,
    /// An entry recorded in the manifest is missing from the pack.
    EntryMissing,
    /// The pack holds an entry the manifest does not record.
    EntryUnexpected,
    /// The pack holds the same entry twice.
    EntryDuplicate,
    /// A configured limit (entry size, total size, entry count, compression ratio) was exceeded.
    LimitExceeded,
    /// The gzip stream is corrupt.
    GzipCorrupt,
    /// The tar stream is corrupt.
    TarCorrupt,
    /// The stream ended before the pack was complete.
    Truncated,
    /// An OCI layout document (`index.json`, image manifest) is malformed.
    OciInvalid,
    /// The API was called out of order (a host bug, not bad input).
    InvalidState,
    /// A pack, manifest, blob or tag does not exist where it was looked for.
    NotFound,
    /// A registry reference (`<host>[:port]/<repository>`) is malformed.
    RegistryInvalid,
    /// Plain `http://` to a registry that is not on loopback, without the user allowing it.
    RegistryInsecure,
    /// The registry or its token service refused the credentials (401).
    AuthFailed,
    /// The credentials are valid but lack the permission asked for (403).
    AuthDenied,
    /// The registry could not be reached (DNS, connection refused or reset), after retries.
    RegistryUnreachable,
    /// The registry stopped answering or sending: no progress within the deadline, across retries.
    RegistryTimeout,
    /// The TLS connection to the registry failed: untrusted or expired certificate, wrong host name, or TLS
    /// spoken to a plain-HTTP server (and the reverse). Not retried.
    RegistryTls,
    /// The registry kept answering 5xx, after retries.
    RegistryUnavailable,
    /// The registry kept answering 429 Too Many Requests, after retries.
    RateLimited,
    /// The registry rejected a request as invalid (an OCI error such as MANIFEST_INVALID, 4xx).
    RegistryRejected,
    /// The registry answered something the distribution spec does not allow (missing header, wrong status).
    RegistryProtocol,
    /// An execution log breaks a rule of `execution/v1`; the message lists every problem, one per line.
    ExecutionInvalid,
    /// A context packet breaks the schema or one of its rules; the message lists every violation, one per line.
    PacketInvalid,
    /// A task spec (the input of `context build`) is incomplete or malformed.
    TaskInvalid,
    /// A context policy file (policy.yaml, schema.yaml or a gitleaks TOML) cannot be used.
    PolicyInvalid,
    /// A document is not valid YAML (or JSON).
    YamlInvalid,
    /// A packet may not be sent where it is going: it still holds a secret or breaks a routing rule.
    PacketBlocked,
    /// The items a packet cannot drop (its target) alone exceed the token budget.
    BudgetExceeded,
    /// The audit log's hash chain is broken: a line was edited, removed, reordered or appended to by hand.
    AuditBroken,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            UriInvalid => "CTX_URI_INVALID",
            JsonInvalid => "CTX_JSON_INVALID",
            JsonDuplicateKey => "CTX_JSON_DUPLICATE_KEY",
            JsonNumberUnrepresentable => "CTX_JSON_NUMBER_UNREPRESENTABLE",
            ContractInvalid => "CTX_CONTRACT_INVALID",
            InputMissing => "CTX_INPUT_MISSING",
            PathInvalid => "CTX_PATH_INVALID",
            PathNotUtf8 => "CTX_PATH_NOT_UTF8",
            PathCollision => "CTX_PATH_COLLISION",
            SymlinkEscapes => "CTX_SYMLINK_ESCAPES",
            UnsupportedEntryType => "CTX_UNSUPPORTED_ENTRY_TYPE",
            ManifestInvalid => "CTX_MANIFEST_INVALID",
            UriMismatch => "CTX_URI_MISMATCH",
            DigestMismatch => "CTX_DIGEST_MISMATCH",
            SizeMismatch => "CTX_SIZE_MISMATCH",
            EntryMissing => "CTX_ENTRY_MISSING",
            EntryUnexpected => "CTX_ENTRY_UNEXPECTED",
            EntryDuplicate => "CTX_ENTRY_DUPLICATE",
            LimitExceeded => "CTX_LIMIT_EXCEEDED",
            GzipCorrupt => "CTX_GZIP_CORRUPT",
            TarCorrupt => "CTX_TAR_CORRUPT",
            Truncated => "CTX_TRUNCATED",
            OciInvalid => "CTX_OCI_INVALID",
            InvalidState => "CTX_INVALID_STATE",
            NotFound => "CTX_NOT_FOUND",
            RegistryInvalid => "CTX_REGISTRY_INVALID",
            RegistryInsecure => "CTX_REGISTRY_INSECURE",
            AuthFailed => "CTX_AUTH_FAILED",
            AuthDenied => "CTX_AUTH_DENIED",
            RegistryUnreachable => "CTX_REGISTRY_UNREACHABLE",
            RegistryTimeout => "CTX_REGISTRY_TIMEOUT",
            RegistryTls => "CTX_REGISTRY_TLS",
            RegistryUnavailable => "CTX_REGISTRY_UNAVAILABLE",
            RateLimited => "CTX_RATE_LIMITED",
            RegistryRejected => "CTX_REGISTRY_REJECTED",
            RegistryProtocol => "CTX_REGISTRY_PROTOCOL",
            ExecutionInvalid => "CTX_EXECUTION_INVALID",
            PacketInvalid => "CTX_PACKET_INVALID",
            TaskInvalid => "CTX_TASK_INVALID",
            PolicyInvalid => "CTX_POLICY_INVALID",
            YamlInvalid => "CTX_YAML_INVALID",
            PacketBlocked => "CTX_PACKET_BLOCKED",
            BudgetExceeded => "CTX_BUDGET_EXCEEDED",
            AuditBroken => "CTX_AUDIT_BROKEN",
        }
    }

    /// The default next step for this kind of failure; call sites may give a sharper one.
    fn default_hint(self) -> &'static str {
        use ErrorCode::*;
        match self {
            UriInvalid => "write it as ctx://sha256:<64 lowercase hex digits>",
            JsonInvalid => "fix the JSON syntax at the position given",
            JsonDuplicateKey => "remove the repeated key so every object key is unique",
            JsonNumberUnrepresentable => {
                "write a number a double holds (the message says what it would become), or put it in a string"
            }
            ContractInvalid => "fix the contract field named in the message (see docs/spec.md, Contract)",
            InputMissing => "create the path or correct it; paths are relative to the contract file's directory",
            PathInvalid => "use relative, '/'-separated paths without '.', '..' or empty segments",
            PathNotUtf8 => "rename the file so its name is valid UTF-8",
            PathCollision => "rename one of the two entries so they differ after NFC normalisation",
            SymlinkEscapes => "make the link point inside the tree, or ask to follow links",
            UnsupportedEntryType => "remove the device, socket, FIFO or hard link; packs hold files and symlinks",
            ManifestInvalid => "the pack is damaged or not a ctxpack pack; re-export it from a trusted pantry",
            UriMismatch => "the pack claims an identity its contract does not give; do not trust it",
            DigestMismatch | SizeMismatch | EntryMissing | EntryUnexpected | EntryDuplicate => {
                "the pack is corrupt or was tampered with; fetch it again from a trusted source"
            }
            LimitExceeded => "raise the limit if you trust this pack, otherwise discard it",
            GzipCorrupt | TarCorrupt => "the pack is damaged; fetch or export it again",
            Truncated => "the download or file was cut short; fetch it again",
            OciInvalid => "the OCI layout is damaged; run `ctxpack gc` or re-seed the pack",
            InvalidState => "this is a bug in the host program; please report it",
            NotFound => "check the URI and the registry; `ctxpack resolve <uri>` shows where a pack is",
            RegistryInvalid => {
                "write it as <host>[:port]/<repository>, e.g. ghcr.io/acme/packs or localhost:5000/packs"
            }
            RegistryInsecure => "use https://, or pass --insecure if you trust the network to this registry",
            AuthFailed => "log in to the registry with valid credentials",
            AuthDenied => "ask for pull (and push) permission on the repository, or use a token that has it",
            RegistryUnreachable => "check the registry address and your network, then try again",
            RegistryTimeout => "the registry or the network is stalled; try again later, or allow longer waits",
            RegistryTls => "trust the registry's certificate authority (a CA file), or check the address and scheme",
            RegistryUnavailable => "the registry is failing; try again later",
            RateLimited => "the registry is rate-limiting you; wait, log in (higher limits), or try again later",
            RegistryRejected => {
                "the registry refused the request; see its message, some registries restrict media types"
            }
            RegistryProtocol => "the registry broke the distribution spec; report it with the message above",
            ExecutionInvalid => "fix every field listed; see docs/spec.md, Execution packs",
            PacketInvalid => "fix every violation listed (path: code message); see docs/spec.md, Context packets",
            TaskInvalid => "fix the task spec fields listed; see `ctxpack context build --help`",
            PolicyInvalid => "fix the policy file named in the message; see docs/spec.md, Context policy",
            YamlInvalid => "fix the YAML syntax at the line and column given",
            PacketBlocked => "remove or redact what is listed, or keep the packet local_only",
            BudgetExceeded => "raise constraints.max_tokens, or narrow the target (a symbol instead of a file)",
            AuditBroken => "the audit log was altered; restore it from a backup and investigate the lines named",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from the ctxpack core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub hint: String,
    /// The entry, path or field the error is about, when there is one.
    pub subject: Option<String>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), hint: code.default_hint().to_string(), subject: None }
    }

    /// Names the entry, path or field the error is about (also prefixed to the message).
    pub fn at(mut self, subject: impl Into<String>) -> Self {
        let subject = subject.into();
        self.message = format!("{subject}: {}", self.message);
        self.subject = Some(subject);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_carries_code_subject_and_hint() {
        let e = Error::new(ErrorCode::DigestMismatch, "content hashes to sha256:ab").at("artifacts/x.bin");
        assert_eq!(e.code.as_str(), "CTX_DIGEST_MISMATCH");
        assert_eq!(e.subject.as_deref(), Some("artifacts/x.bin"));
        assert!(e.message.starts_with("artifacts/x.bin: "));
        assert!(e.hint.contains("fetch it again"));
        assert_eq!(e.to_string(), "CTX_DIGEST_MISMATCH artifacts/x.bin: content hashes to sha256:ab");
    }
}
