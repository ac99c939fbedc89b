//! Typed errors with stable codes. Every failure the core reports carries a code that scripts can match,
//! a message that names what was wrong, and a hint that says what to do next.

use std::fmt;

/// Defines `ErrorCode` from one table: each code's variant, its stable string and its default hint, so the enum,
/// `as_str`, `default_hint`, `ErrorCode::ALL` and the TypeScript union cannot disagree.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $code:literal, $hint:expr;)+) => {
        /// Stable error codes: every code the core and its hosts (the Node CLI and API) raise. The string form
        /// (`CTX_…`) is part of the public interface: never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// The default next step for this kind of failure, in words that fit every host; call sites may give
            /// a sharper one.
            pub fn default_hint(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $hint,)+
                }
            }
        }

        /// The codes as a TypeScript type, for the declarations of the wasm core.
        pub const ERROR_CODE_TS: &str = concat!("export type ErrorCode =", $("\n  | \"", $code, "\"",)+ ";");
    };
}

const TAMPERED: &str = "the pack is corrupt or was tampered with; fetch it again from a trusted source";
const DAMAGED: &str = "the pack is damaged; fetch or export it again";

error_codes! {
    /// A `ctx://` URI, digest or reference is malformed.
    UriInvalid = "CTX_URI_INVALID", "write it as ctx://sha256:<64 lowercase hex digits>";
    /// A document is not valid JSON (or not the JSON shape that was expected).
    JsonInvalid = "CTX_JSON_INVALID", "fix the JSON syntax at the position given";
    /// A JSON object repeats a key; canonical JSON cannot represent it.
    JsonDuplicateKey = "CTX_JSON_DUPLICATE_KEY", "remove the repeated key so every object key is unique";
    /// A JSON number would be hashed as another value: the canonical form of its nearest IEEE-754 double
    /// (RFC 8785) is not the number written.
    JsonNumberUnrepresentable = "CTX_JSON_NUMBER_UNREPRESENTABLE",
        "write a number a double holds (the message says what it would become), or put it in a string";
    /// The contract breaks a rule of `contract/v1`.
    ContractInvalid = "CTX_CONTRACT_INVALID", "fix the contract field named in the message (see docs/spec.md, Contract)";
    /// An input or code path named by a contract does not exist.
    InputMissing = "CTX_INPUT_MISSING",
        "create the path or correct it; paths are relative to the contract file's directory";
    /// A path inside a tree or pack is not acceptable (absolute, `..`, empty segment, control character).
    PathInvalid = "CTX_PATH_INVALID", "use relative, '/'-separated paths without '.', '..' or empty segments";
    /// A file name is not valid UTF-8.
    PathNotUtf8 = "CTX_PATH_NOT_UTF8", "rename the file so its name is valid UTF-8";
    /// Two paths are equal after NFC normalisation, or a path is both a file and a directory.
    PathCollision = "CTX_PATH_COLLISION", "rename one of the two entries so they differ after NFC normalisation";
    /// A symlink points outside the tree.
    SymlinkEscapes = "CTX_SYMLINK_ESCAPES", "make the link point inside the tree, or ask to follow links";
    /// A device, socket, FIFO or hard link where only files and symlinks are allowed.
    UnsupportedEntryType = "CTX_UNSUPPORTED_ENTRY_TYPE",
        "remove the device, socket, FIFO or hard link; packs hold files and symlinks";
    /// `manifest.json` is missing, malformed or breaks a rule of `pack/v1`.
    ManifestInvalid = "CTX_MANIFEST_INVALID",
        "the pack is damaged or not a ctxpack pack; re-export it from a trusted pantry";
    /// The URI does not re-derive from the contract.
    UriMismatch = "CTX_URI_MISMATCH", "the pack claims an identity its contract does not give; do not trust it";
    /// Content does not hash to the digest recorded for it.
    DigestMismatch = "CTX_DIGEST_MISMATCH", TAMPERED;
    /// Content is not the size recorded for it.
    SizeMismatch = "CTX_SIZE_MISMATCH", TAMPERED;
    /// An entry recorded in the manifest is missing from the pack.
    EntryMissing = "CTX_ENTRY_MISSING", TAMPERED;
    /// The pack holds an entry the manifest does not record.
    EntryUnexpected = "CTX_ENTRY_UNEXPECTED", TAMPERED;
    /// The pack holds the same entry twice.
    EntryDuplicate = "CTX_ENTRY_DUPLICATE", TAMPERED;
    /// A configured limit (entry size, total size, entry count, compression ratio) was exceeded.
    LimitExceeded = "CTX_LIMIT_EXCEEDED", "raise the limit if you trust this pack, otherwise discard it";
    /// The gzip stream is corrupt.
    GzipCorrupt = "CTX_GZIP_CORRUPT", DAMAGED;
    /// The tar stream is corrupt.
    TarCorrupt = "CTX_TAR_CORRUPT", DAMAGED;
    /// The stream ended before the pack was complete.
    Truncated = "CTX_TRUNCATED", "the download or file was cut short; fetch it again";
    /// An OCI layout document (`index.json`, image manifest) is malformed.
    OciInvalid = "CTX_OCI_INVALID", "the OCI layout is damaged; run `ctxpack gc` or re-seed the pack";
    /// The API was called out of order (a host bug, not bad input).
    InvalidState = "CTX_INVALID_STATE", "this is a bug in the host program; please report it";
    /// A pack, manifest, blob or tag does not exist where it was looked for.
    NotFound = "CTX_NOT_FOUND", "check the URI and the registry; `ctxpack resolve <uri>` shows where a pack is";
    /// A short reference (a hex prefix) names more than one pack.
    Ambiguous = "CTX_AMBIGUOUS", "give more hex digits of the URI, or the whole ctx://sha256:… URI";
    /// A registry reference (`<host>[:port]/<repository>`) is malformed.
    RegistryInvalid = "CTX_REGISTRY_INVALID",
        "write it as <host>[:port]/<repository>, e.g. ghcr.io/acme/packs or localhost:5000/packs";
    /// Plain `http://` to a registry that is not on loopback, without the user allowing it.
    RegistryInsecure = "CTX_REGISTRY_INSECURE",
        "use https://, or pass --insecure if you trust the network to this registry";
    /// The registry or its token service refused the credentials (401).
    AuthFailed = "CTX_AUTH_FAILED", "log in to the registry with valid credentials";
    /// The credentials are valid but lack the permission asked for (403).
    AuthDenied = "CTX_AUTH_DENIED", "ask for pull (and push) permission on the repository, or use a token that has it";
    /// The registry could not be reached (DNS, connection refused or reset), after retries.
    RegistryUnreachable = "CTX_REGISTRY_UNREACHABLE", "check the registry address and your network, then try again";
    /// The registry stopped answering or sending: no progress within the deadline, across retries.
    RegistryTimeout = "CTX_REGISTRY_TIMEOUT",
        "the registry or the network is stalled; try again later, or allow longer waits";
    /// The TLS connection to the registry failed: untrusted or expired certificate, wrong host name, or TLS
    /// spoken to a plain-HTTP server (and the reverse). Not retried.
    RegistryTls = "CTX_REGISTRY_TLS",
        "trust the registry's certificate authority (a CA file), or check the address and scheme";
    /// The registry kept answering 5xx, after retries.
    RegistryUnavailable = "CTX_REGISTRY_UNAVAILABLE", "the registry is failing; try again later";
    /// The registry kept answering 429 Too Many Requests, after retries.
    RateLimited = "CTX_RATE_LIMITED",
        "the registry is rate-limiting you; wait, log in (higher limits), or try again later";
    /// The registry rejected a request as invalid (an OCI error such as MANIFEST_INVALID, 4xx).
    RegistryRejected = "CTX_REGISTRY_REJECTED",
        "the registry refused the request; see its message, some registries restrict media types";
    /// The registry answered something the distribution spec does not allow (missing header, wrong status).
    RegistryProtocol = "CTX_REGISTRY_PROTOCOL", "the registry broke the distribution spec; report it with the message above";
    /// An execution log breaks a rule of `execution/v1`; the message lists every problem, one per line.
    ExecutionInvalid = "CTX_EXECUTION_INVALID", "fix every field listed; see docs/spec.md, Execution packs";
    /// A context packet breaks the schema or one of its rules; the message lists every violation, one per line.
    PacketInvalid = "CTX_PACKET_INVALID",
        "fix every violation listed (path: code message); see docs/spec.md, Context packets";
    /// A task spec (the input of `context build`) is incomplete or malformed.
    TaskInvalid = "CTX_TASK_INVALID", "fix the task spec fields listed; see `ctxpack context build --help`";
    /// A context policy file (policy.yaml, schema.yaml or a gitleaks TOML) cannot be used.
    PolicyInvalid = "CTX_POLICY_INVALID", "fix the policy file named in the message; see docs/spec.md, Context policy";
    /// A document is not valid YAML (or JSON).
    YamlInvalid = "CTX_YAML_INVALID", "fix the YAML syntax at the line and column given";
    /// A packet may not be sent where it is going: it still holds a secret or breaks a routing rule.
    PacketBlocked = "CTX_PACKET_BLOCKED", "remove or redact what is listed, or keep the packet local_only";
    /// The items a packet cannot drop (its target) alone exceed the token budget.
    BudgetExceeded = "CTX_BUDGET_EXCEEDED",
        "raise constraints.max_tokens, or narrow the target (a symbol instead of a file)";
    /// The audit log's hash chain is broken: a line was edited, removed, reordered or appended to by hand.
    AuditBroken = "CTX_AUDIT_BROKEN",
        "the audit log was altered; restore it from a backup and investigate the lines named";
    /// A pack had to carry a valid signature from a trusted key and carries none (`--require-signature` or the
    /// trust policy's `signatureRequired`).
    SignatureRequired = "CTX_SIGNATURE_REQUIRED",
        "ask the publisher to sign the pack (`ctxpack sign`), or drop --require-signature if you accept unsigned packs";
    /// A signature envelope is malformed, does not verify under the key it names, or signs another pack.
    SignatureInvalid = "CTX_SIGNATURE_INVALID",
        "the signature was altered or belongs to another pack; do not trust the pack, fetch it from its publisher";
    /// The pack is signed, but by no key the verifier trusts.
    KeyUntrusted = "CTX_KEY_UNTRUSTED",
        "if you trust the signer, add its public key (--trust-key <file.pub> or the trust policy); otherwise discard the pack";
    /// A key file is not an Ed25519 key in PEM (SPKI `PUBLIC KEY` or unencrypted PKCS#8 `PRIVATE KEY`).
    KeyInvalid = "CTX_KEY_INVALID",
        "give an Ed25519 key in PEM, as `ctxpack keygen` or `openssl genpkey -algorithm ed25519` writes it";
    /// A trust policy (trust.json) is malformed.
    TrustPolicyInvalid = "CTX_TRUST_POLICY_INVALID",
        "fix the trust policy field named in the message; see docs/spec.md, Signatures";
    /// The audit log is keyed and the key that checks it is not available.
    AuditKeyMissing = "CTX_AUDIT_KEY_MISSING",
        "restore the audit key file (CTXPACK_AUDIT_KEY_FILE, else ~/.config/ctxpack/audit.key) the log was written with";
    /// A command or function was called with arguments it does not accept (raised by hosts).
    Usage = "CTX_USAGE", "correct the arguments; `ctxpack help <command>` and the API's types say what is accepted";
    /// A file or folder could not be read or written (raised by hosts, naming the path).
    Io = "CTX_IO", "check that the path exists and that you may read and write it";
    /// Another process held the pantry's lock for longer than the wait allowed (raised by hosts).
    LockTimeout = "CTX_LOCK_TIMEOUT",
        "another ctxpack process holds the lock; wait for it, or remove the lock file if that process is gone";
    /// A destination already exists and would be overwritten (raised by hosts).
    TargetExists = "CTX_TARGET_EXISTS", "choose another destination, or empty or remove it first";
    /// The command ctxpack ran failed or wrote no outputs; nothing was stored (raised by hosts).
    CommandFailed = "CTX_COMMAND_FAILED", "fix the command so it exits with status 0; nothing was stored";
    /// The work was interrupted by a signal; its temporary files were removed (raised by hosts).
    Interrupted = "CTX_INTERRUPTED", "run the command again; nothing half-written was recorded";
    /// An unexpected failure: a bug in ctxpack (raised by hosts).
    Internal = "CTX_INTERNAL", "this is a bug in ctxpack; please report it with the error's stack trace";
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

    #[test]
    fn every_code_is_unique_well_formed_and_has_a_hint() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} is listed twice");
            let name = text.strip_prefix("CTX_").unwrap_or_else(|| panic!("{text} lacks the CTX_ prefix"));
            assert!(
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            );
            assert!(!code.default_hint().is_empty(), "{text} has no hint");
            assert!(ERROR_CODE_TS.contains(&format!("| \"{text}\"")), "{text} is missing from the TypeScript type");
        }
        assert_eq!(ERROR_CODE_TS.matches('|').count(), ErrorCode::ALL.len());
    }

    /// docs/spec.md §12 lists every code, in the order of the table, with its meaning.
    #[test]
    fn the_spec_lists_every_code() {
        let spec = include_str!("../docs/spec.md");
        let section = &spec[spec.find("## 12. Error codes").expect("spec §12")..spec.find("## 13.").expect("spec §13")];
        let listed: Vec<&str> =
            section.lines().filter_map(|line| line.strip_prefix("| `")?.split('`').next()).collect();
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(listed, codes, "docs/spec.md §12 and ErrorCode differ");
    }
}
