//! The built-in rule set. Each pattern is written from the credential issuer's documented token format (prefix,
//! alphabet, length); rules without a distinctive prefix require an assignment to a name that says what the
//! value is, plus an entropy floor. Group 1 is the secret; a pattern whose alternatives hold it in different groups
//! (a quoted or an unquoted value) reports the first that matched, and a branch with no group consumes context
//! that must not be reported (a URL's userinfo for the e-mail rule, a phone number for the card rule).

use super::checks::{is_basic_credentials, is_connection_password, is_iban, is_payment_card, is_secret_shaped};
use super::{compile_pattern, Allowlist, Rule, RuleKind};

pub(super) const EMAIL: &str = "email-address";
pub(super) const IPV4: &str = "ipv4-address";
pub(super) const PAYMENT_CARD: &str = "payment-card-number";
pub(super) const IBAN: &str = "iban";
/// The first branch consumes an international phone number (`+49 151 2345 6789`) without a secret.
pub(super) const PAYMENT_CARD_PATTERN: &str = r"\+[0-9](?:[ -]?[0-9])*|\b([2-6](?:[ -]?[0-9]){12,18})\b";
pub(super) const IBAN_PATTERN: &str = r"\b([A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30})\b";

pub(super) struct BuiltinRule {
    pub id: &'static str,
    description: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    min_entropy: Option<f64>,
    kind: RuleKind,
    value_check: Option<fn(&str) -> bool>,
}

/// A rule with a built-in id and that rule's exact pattern (a user rule reusing an id is not one).
pub(super) fn is_builtin(rule: &Rule) -> bool {
    BUILTIN.iter().any(|builtin| builtin.id == rule.id && builtin.pattern == rule.pattern.as_str())
}

impl BuiltinRule {
    pub(super) fn compile(&self) -> Rule {
        Rule {
            id: self.id.to_owned(),
            description: self.description.to_owned(),
            keywords: self.keywords.iter().map(|keyword| (*keyword).to_owned()).collect(),
            pattern: compile_pattern(self.pattern).expect("built-in patterns compile (tested)"),
            secret_group: 1,
            min_entropy: self.min_entropy,
            kind: self.kind,
            value_check: self.value_check,
            allowlist: Allowlist::default(),
        }
    }
}

const fn credential(
    id: &'static str,
    description: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    min_entropy: Option<f64>,
) -> BuiltinRule {
    BuiltinRule { id, description, keywords, pattern, min_entropy, kind: RuleKind::Credential, value_check: None }
}

/// An assignment rule: the value must also be shaped like a secret, not like a name or an id.
const fn assigned(
    id: &'static str,
    description: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    min_entropy: f64,
) -> BuiltinRule {
    BuiltinRule {
        id,
        description,
        keywords,
        pattern,
        min_entropy: Some(min_entropy),
        kind: RuleKind::Credential,
        value_check: Some(is_secret_shaped),
    }
}

const fn pii(
    id: &'static str,
    description: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    value_check: Option<fn(&str) -> bool>,
) -> BuiltinRule {
    BuiltinRule { id, description, keywords, pattern, min_entropy: None, kind: RuleKind::Pii, value_check }
}

// Fragments repeated below, spelled out because `concat!` takes only literals:
//   (?:(?u-i:[^A-Za-z0-9_-])|$)          the token ends (its alphabet includes `-`, so `\b` would not do)
//   ["']?\s*(?::=|=>|[:=])\s*["']?     an assignment in shell, YAML, JSON, TOML, Python, Go or Ruby syntax
//   (?u-i:[^\x00-\x20"'`;,\[\]{}()<>\\]) one character of an assigned value (brackets excluded: markers, `${VAR}`)
pub(super) const BUILTIN: &[BuiltinRule] = &[
    // Cloud providers.
    credential(
        "aws-access-key-id",
        "AWS access key id (AKIA long-term, ASIA temporary): 4-letter prefix and 16 base32 characters",
        &["akia", "asia", "abia", "acca", "a3t"],
        r"\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b",
        Some(3.0),
    ),
    credential(
        "aws-secret-access-key",
        "AWS secret access key (40 base64 characters) assigned to an aws_secret_access_key-like name",
        &["aws"],
        r#"(?i)aws_?(?:secret_?access_?key|secret_?key)["']?\s*(?::=|=>|[:=])\s*["']?([A-Za-z0-9/+]{40})(?:["'\s,;]|$)"#,
        Some(4.0),
    ),
    credential(
        "aws-session-token",
        "AWS STS session token (IQoJb3JpZ2lu…, FwoGZXIvYXdzE…: the base64 of its binary header)",
        &["iqojb3jpz2lu", "fwogzxivyxdz"],
        r"\b((?:IQoJb3JpZ2lu|FwoGZXIvYXdz)[A-Za-z0-9+/]{100,}={0,2})",
        Some(4.0),
    ),
    credential(
        "gcp-service-account-private-key",
        "Google Cloud service-account JSON private_key (PEM with escaped newlines)",
        &["private_key"],
        r#""private_key"\s*:\s*"(-----BEGIN PRIVATE KEY-----(?:\\n|[A-Za-z0-9+/=]){64,}-----END PRIVATE KEY-----(?:\\n)?)""#,
        None,
    ),
    credential(
        "gcp-api-key",
        "Google API key: AIza and 35 characters of [A-Za-z0-9_-]",
        &["aiza"],
        r"\b(AIza[A-Za-z0-9_-]{35})(?:(?u-i:[^A-Za-z0-9_-])|$)",
        Some(3.0),
    ),
    credential(
        "azure-storage-account-key",
        "Azure Storage account key (88 base64 characters) in a connection string's AccountKey",
        &["accountkey"],
        r"(?i)AccountKey=([A-Za-z0-9+/]{86}==)",
        Some(4.0),
    ),
    credential(
        "azure-sas-signature",
        "Azure shared access signature: the sig= of a SAS URL or token (base64 HMAC, often percent-encoded)",
        &["sig="],
        r"[?&]sig=((?:[A-Za-z0-9+/]|%2[BbFf]|%3[Dd]|=){30,})",
        Some(3.5),
    ),
    credential(
        "digitalocean-token",
        "DigitalOcean personal access, OAuth or refresh token: do[por]_v1_ and 64 hex digits",
        &["dop_v1_", "doo_v1_", "dor_v1_"],
        r"\b(do[por]_v1_[a-f0-9]{64})\b",
        Some(3.0),
    ),
    credential(
        "heroku-api-key",
        "Heroku API key in the HRKU- format",
        &["hrku-"],
        r"\b(HRKU-[A-Za-z0-9_-]{50,})",
        Some(3.5),
    ),
    // The key/value scanner (assignments.rs) runs this and the other rules for values that only the name, or a
    // vendor's name nearby, makes a secret; their patterns describe the simplest form they find.
    credential(
        "heroku-legacy-api-key",
        "Heroku legacy API key (a UUID) assigned to a name with heroku in it or just before it",
        &["heroku"],
        r#"(?i)heroku[A-Za-z0-9_]*?(?:api_?key|token|key)["']?\s*(?::=|=>|[:=])\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"#,
        None,
    ),
    credential(
        "cloudflare-api-token",
        "Cloudflare API token (40 characters) assigned to a cloudflare/CF API token name",
        &["cloudflare", "cf_"],
        r#"(?i)(?:cloudflare|cf)_?api_?(?:token|key)["']?\s*(?::=|=>|[:=])\s*["']?([A-Za-z0-9_-]{40})(?:(?u-i:[^A-Za-z0-9_-])|$)"#,
        Some(3.5),
    ),
    credential(
        "cloudflare-global-api-key",
        "Cloudflare global API key (37 hex digits) assigned to a cloudflare…key name",
        &["cloudflare"],
        r#"(?i)cloudflare[A-Za-z0-9_]*?key["']?\s*(?::=|=>|[:=])\s*["']?([a-f0-9]{37})\b"#,
        Some(3.0),
    ),
    credential(
        "cloudflare-origin-ca-key",
        "Cloudflare Origin CA key: v1.0-, 24 and 146 hex digits",
        &["v1.0-"],
        r"\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b",
        Some(3.0),
    ),
    credential(
        "databricks-token",
        "Databricks personal access token: dapi and 32 hex digits",
        &["dapi"],
        r"\b(dapi[a-f0-9]{32}(?:-[0-9])?)\b",
        Some(3.0),
    ),
    credential(
        "vault-service-token",
        "HashiCorp Vault service token (hvs.)",
        &["hvs."],
        r"\b(hvs\.[A-Za-z0-9_-]{90,})",
        Some(3.5),
    ),
    credential(
        "vault-batch-token",
        "HashiCorp Vault batch token (hvb.)",
        &["hvb."],
        r"\b(hvb\.[A-Za-z0-9_-]{90,})",
        Some(3.5),
    ),
    // Source hosting and package registries.
    credential(
        "github-personal-access-token",
        "GitHub classic personal access token: ghp_ and 36 alphanumerics",
        &["ghp_"],
        r"\b(ghp_[A-Za-z0-9]{36})\b",
        Some(3.0),
    ),
    credential(
        "github-oauth-token",
        "GitHub OAuth access token: gho_ and 36 alphanumerics",
        &["gho_"],
        r"\b(gho_[A-Za-z0-9]{36})\b",
        Some(3.0),
    ),
    credential(
        "github-user-to-server-token",
        "GitHub App user-to-server token: ghu_ and 36 alphanumerics",
        &["ghu_"],
        r"\b(ghu_[A-Za-z0-9]{36})\b",
        Some(3.0),
    ),
    credential(
        "github-server-to-server-token",
        "GitHub App installation token: ghs_ and 36 alphanumerics",
        &["ghs_"],
        r"\b(ghs_[A-Za-z0-9]{36})\b",
        Some(3.0),
    ),
    credential(
        "github-refresh-token",
        "GitHub App refresh token: ghr_ and 36 or more alphanumerics",
        &["ghr_"],
        r"\b(ghr_[A-Za-z0-9]{36,})\b",
        Some(3.0),
    ),
    credential(
        "github-fine-grained-token",
        "GitHub fine-grained personal access token: github_pat_, 22 and 59 alphanumerics",
        &["github_pat_"],
        r"\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        Some(3.0),
    ),
    credential(
        "gitlab-personal-access-token",
        "GitLab personal, project or group access token (glpat-)",
        &["glpat-"],
        r"\b(glpat-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*)",
        Some(3.0),
    ),
    credential(
        "gitlab-runner-token",
        "GitLab runner authentication token (glrt-)",
        &["glrt-"],
        r"\b(glrt-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*)",
        Some(3.0),
    ),
    credential(
        "gitlab-deploy-token",
        "GitLab deploy token (gldt-)",
        &["gldt-"],
        r"\b(gldt-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*)",
        Some(3.0),
    ),
    credential(
        "bitbucket-app-password",
        "Bitbucket app password: ATBB and 28–40 alphanumerics",
        &["atbb"],
        r"\b(ATBB[A-Za-z0-9]{28,40})\b",
        Some(3.0),
    ),
    credential(
        "atlassian-api-token",
        "Atlassian API token (ATATT)",
        &["atatt"],
        r"\b(ATATT[A-Za-z0-9_=-]{150,})",
        Some(3.5),
    ),
    credential(
        "npm-access-token",
        "npm access token: npm_ and 36 alphanumerics",
        &["npm_"],
        r"\b(npm_[A-Za-z0-9]{36})\b",
        Some(3.0),
    ),
    credential(
        "pypi-upload-token",
        "PyPI or TestPyPI API token: pypi- and a macaroon whose base64 names the index",
        &["pypi-ag"],
        r"\b(pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})",
        Some(3.0),
    ),
    credential(
        "dockerhub-access-token",
        "Docker Hub personal or organisation access token (dckr_pat_, dckr_oat_)",
        &["dckr_"],
        r"\b(dckr_(?:pat|oat)_[A-Za-z0-9_-]{24,})",
        Some(3.0),
    ),
    // LLM providers.
    credential(
        "openai-api-key",
        "OpenAI API key: sk-proj-/sk-svcacct-/sk-admin- keys, or legacy sk- keys with the T3BlbkFJ marker",
        &["sk-"],
        r"\b(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})",
        Some(3.5),
    ),
    credential(
        "anthropic-api-key",
        "Anthropic API or admin key (sk-ant-api03-, sk-ant-admin01-)",
        &["sk-ant-"],
        r"\b(sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{80,})",
        Some(3.5),
    ),
    credential(
        "huggingface-access-token",
        "Hugging Face user access token: hf_ and 34 alphanumerics",
        &["hf_"],
        r"\b(hf_[A-Za-z0-9]{34})\b",
        Some(3.0),
    ),
    credential(
        "groq-api-key",
        "Groq API key: gsk_ and 52 alphanumerics",
        &["gsk_"],
        r"\b(gsk_[A-Za-z0-9]{52})\b",
        Some(3.0),
    ),
    credential(
        "replicate-api-token",
        "Replicate API token: r8_ and 37 alphanumerics",
        &["r8_"],
        r"\b(r8_[A-Za-z0-9]{37})\b",
        Some(3.0),
    ),
    credential(
        "cohere-api-key",
        "Cohere API key (40 alphanumerics) assigned to a cohere…key/token name",
        &["cohere"],
        r#"(?i)cohere[A-Za-z0-9_]*?(?:key|token)["']?\s*(?::=|=>|[:=])\s*["']?([A-Za-z0-9]{40})\b"#,
        // Above 4 bits: a 40-digit hex value (a git SHA) cannot reach it; a mixed-case key scores about 5.
        Some(4.2),
    ),
    credential(
        "mistral-api-key",
        "Mistral API key (32 alphanumerics) assigned to a mistral…key/token name",
        &["mistral"],
        r#"(?i)mistral[A-Za-z0-9_]*?(?:key|token)["']?\s*(?::=|=>|[:=])\s*["']?([A-Za-z0-9]{32})\b"#,
        Some(3.5),
    ),
    // Payments.
    credential(
        "stripe-secret-key",
        "Stripe secret key (sk_live_, sk_test_)",
        &["sk_live_", "sk_test_"],
        r"\b(sk_(?:live|test)_[A-Za-z0-9]{24,247})\b",
        Some(3.0),
    ),
    credential(
        "stripe-restricted-key",
        "Stripe restricted key (rk_live_, rk_test_)",
        &["rk_live_", "rk_test_"],
        r"\b(rk_(?:live|test)_[A-Za-z0-9]{24,247})\b",
        Some(3.0),
    ),
    credential(
        "stripe-webhook-secret",
        "Stripe webhook signing secret (whsec_)",
        &["whsec_"],
        r"\b(whsec_[A-Za-z0-9+/=]{32,})",
        Some(3.0),
    ),
    credential(
        "square-access-token",
        "Square access token: EAAA and 60 characters of [A-Za-z0-9_-]",
        &["eaaa"],
        r"\b(EAAA[A-Za-z0-9_-]{60})(?:(?u-i:[^A-Za-z0-9_-])|$)",
        Some(3.0),
    ),
    credential(
        "square-oauth-secret",
        "Square OAuth application secret: sq0csp- and 43 characters",
        &["sq0csp-"],
        r"\b(sq0csp-[A-Za-z0-9_-]{43})(?:(?u-i:[^A-Za-z0-9_-])|$)",
        Some(3.0),
    ),
    credential(
        "braintree-access-token",
        "PayPal Braintree access token: access_token$<environment>$<merchant id>$<32 hex>",
        &["access_token$"],
        r"\b(access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32})\b",
        None,
    ),
    // Chat, e-mail and webhooks.
    credential(
        "slack-bot-token",
        "Slack bot token (xoxb-)",
        &["xoxb-"],
        r"\b(xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,})",
        Some(3.0),
    ),
    credential(
        "slack-user-token",
        "Slack user token (xoxp-, xoxe-)",
        &["xoxp-", "xoxe-"],
        r"\b(xox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[a-f0-9]{32})\b",
        Some(3.0),
    ),
    credential(
        "slack-app-token",
        "Slack app-level token (xapp-)",
        &["xapp-"],
        r"\b(xapp-[0-9]+-[A-Z0-9]+-[0-9]+-[a-f0-9]{32,})\b",
        Some(3.0),
    ),
    credential(
        "slack-legacy-token",
        "Slack legacy workspace, refresh or session token (xoxa-, xoxr-, xoxs-, xoxo-)",
        &["xoxa-", "xoxr-", "xoxs-", "xoxo-"],
        r"\b(xox[aors]-(?:[0-9]{1,13}-)+[A-Za-z0-9]{20,})",
        Some(3.0),
    ),
    credential(
        "slack-webhook-url",
        "Slack incoming webhook URL (hooks.slack.com/services/T…/B…/…)",
        &["hooks.slack.com"],
        r"(https://hooks\.slack\.com/services/T[A-Z0-9]{8,}/B[A-Z0-9]{8,}/[A-Za-z0-9]{24})",
        None,
    ),
    credential(
        "discord-bot-token",
        "Discord bot token: base64 user id, timestamp and HMAC, dot-separated",
        &[],
        r"\b([MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})",
        Some(3.5),
    ),
    credential(
        "discord-webhook-url",
        "Discord webhook URL (discord.com/api/webhooks/<id>/<token>)",
        &["discord"],
        r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68})",
        None,
    ),
    credential(
        "telegram-bot-token",
        "Telegram bot token: bot id, colon, AA and 33 characters",
        &[":aa"],
        r"\b([0-9]{8,10}:AA[A-Za-z0-9_-]{33})(?:(?u-i:[^A-Za-z0-9_-])|$)",
        Some(3.0),
    ),
    credential(
        "twilio-api-key",
        "Twilio API key SID: SK and 32 hex digits",
        &["sk"],
        r"\b(SK[0-9a-fA-F]{32})\b",
        Some(3.0),
    ),
    credential(
        "twilio-auth-token",
        "Twilio auth token (32 hex digits) assigned to a token/secret name with twilio in it or just before it",
        &["twilio"],
        r#"(?i)twilio[A-Za-z0-9_]*?(?:token|secret)["']?\s*(?::=|=>|[:=])\s*["']?([a-f0-9]{32})\b"#,
        Some(3.0),
    ),
    credential(
        "datadog-api-key",
        "Datadog API key (32 hex digits) assigned to a dd/datadog key name (DD_API_KEY, dd.api.key)",
        &["datadog", "dd"],
        r#"(?i)(?:dd|datadog)[A-Za-z0-9_.-]*?api[_.-]?key["']?\s*(?::=|=>|[:=])\s*["']?([a-f0-9]{32})\b"#,
        Some(3.0),
    ),
    credential(
        "datadog-app-key",
        "Datadog application key (40 hex digits) assigned to a dd/datadog key name (DD_APP_KEY)",
        &["datadog", "dd"],
        r#"(?i)(?:dd|datadog)[A-Za-z0-9_.-]*?app(?:lication)?[_.-]?key["']?\s*(?::=|=>|[:=])\s*["']?([a-f0-9]{40})\b"#,
        Some(3.0),
    ),
    credential(
        "new-relic-key",
        "New Relic user API key (NRAK-), browser key (NRJS-), insights insert key (NRII-) or license key (…NRAL)",
        &["nrak-", "nrjs-", "nrii-", "nral"],
        r"\b(NRAK-[A-Z0-9]{27}|NRJS-[a-f0-9]{19}|NRII-[A-Za-z0-9_-]{32}|[a-f0-9]{36}NRAL)\b",
        Some(3.0),
    ),
    credential(
        "mailchimp-api-key",
        "Mailchimp API key: 32 hex digits, -us and the data-centre number",
        &["-us"],
        r"\b([a-f0-9]{32}-us[0-9]{1,2})\b",
        Some(3.0),
    ),
    credential(
        "sentry-dsn",
        "The key of a Sentry DSN (https://<32 hex>@<host>/<project id>), which lets anyone post events",
        &["sentry", "dsn"],
        r"\bhttps?://([a-f0-9]{32})(?::[a-f0-9]{32})?@[A-Za-z0-9.-]+(?::[0-9]+)?/(?:[A-Za-z0-9_-]+/)*[0-9]+\b",
        Some(3.0),
    ),
    credential(
        "sendgrid-api-key",
        "SendGrid API key: SG., 22 and 43 characters",
        &["sg."],
        r"\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?:(?u-i:[^A-Za-z0-9_-])|$)",
        Some(3.0),
    ),
    credential(
        "mailgun-api-key",
        "Mailgun private API key: key- and 32 hex digits",
        &["key-"],
        r"\b(key-[0-9a-f]{32})\b",
        Some(3.0),
    ),
    // SaaS.
    credential(
        "supabase-access-token",
        "Supabase personal access token: sbp_ and 40 hex digits",
        &["sbp_"],
        r"\b(sbp_[a-f0-9]{40})\b",
        Some(3.0),
    ),
    credential(
        "grafana-token",
        "Grafana service-account token (glsa_) or Grafana Cloud access policy token (glc_)",
        &["glsa_", "glc_"],
        r"\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,2})",
        Some(3.0),
    ),
    credential(
        "doppler-token",
        "Doppler personal, service, CLI, service-account, SCIM or audit token (dp.pt., dp.st., …)",
        &["dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."],
        r"\b(dp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44})\b",
        Some(3.0),
    ),
    credential(
        "shopify-access-token",
        "Shopify Admin API, custom-app or partner access token (shpat_, shpca_, shppa_)",
        &["shpat_", "shpca_", "shppa_"],
        r"\b(shp(?:at|ca|pa)_[a-fA-F0-9]{32})\b",
        Some(3.0),
    ),
    credential(
        "shopify-shared-secret",
        "Shopify app shared secret (shpss_)",
        &["shpss_"],
        r"\b(shpss_[a-fA-F0-9]{32})\b",
        Some(3.0),
    ),
    credential(
        "linear-api-key",
        "Linear API key: lin_api_ and 40 alphanumerics",
        &["lin_api_"],
        r"\b(lin_api_[A-Za-z0-9]{40})\b",
        Some(3.0),
    ),
    credential(
        "notion-integration-token",
        "Notion integration token (secret_ and 43 alphanumerics, or ntn_)",
        &["secret_", "ntn_"],
        r"\b(secret_[A-Za-z0-9]{43}|ntn_[A-Za-z0-9]{40,})\b",
        Some(3.5),
    ),
    // Structured secrets.
    credential(
        "age-secret-key",
        "age (file encryption) secret key: AGE-SECRET-KEY-1 and 58 bech32 characters",
        &["age-secret-key-1"],
        r"\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",
        Some(3.0),
    ),
    credential(
        "jwt",
        "JSON Web Token: base64url header and payload (both JSON objects, so eyJ) and a signature",
        &["eyj"],
        r"\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})",
        Some(3.0),
    ),
    // The three key-block rules accept a truncated block (no END line): the body alone is secret. A hyphen in
    // the body must be followed by a letter or digit (`Proc-Type`, `AES-128-CBC`), which stops it at `-----END`.
    credential(
        "openssh-private-key",
        "OpenSSH private key block",
        &["begin openssh private key"],
        r"(-----BEGIN OPENSSH PRIVATE KEY-----[A-Za-z0-9+/=\s\\]{40,}(?:-----END OPENSSH PRIVATE KEY-----)?)",
        None,
    ),
    credential(
        "pgp-private-key",
        "OpenPGP private key block",
        &["begin pgp private key block"],
        r"(-----BEGIN PGP PRIVATE KEY BLOCK-----(?:[A-Za-z0-9+/=\s\\:.,()]|-[A-Za-z0-9]){40,}(?:-----END PGP PRIVATE KEY BLOCK-----)?)",
        None,
    ),
    credential(
        "private-key",
        "PEM private key block (PKCS#1, PKCS#8, EC, DSA, encrypted)",
        &["private key-----"],
        r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:[A-Za-z0-9+/=\s\\:,]|-[A-Za-z0-9]){40,}(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----)?)",
        None,
    ),
    credential(
        "putty-private-key",
        "PuTTY private key file (PPK version 2 or 3), header to Private-MAC",
        &["putty-user-key-file-"],
        r"(PuTTY-User-Key-File-[23]: [ -~\t\r\n]*?Private-MAC: [0-9a-f]{40,64})",
        None,
    ),
    credential(
        "private-key-base64",
        "Base64 of a PEM private key block (kubeconfig client-key-data, a Kubernetes Secret's tls.key)",
        &["ls0tls1crudjti"],
        // The base64 of `-----BEGIN ` and (RSA |EC |OPENSSH |DSA |ENCRYPTED |)`PRIVATE KEY-----`, up to its last
        // fully determined character: certificates and public keys encode differently after `-----BEGIN `.
        r"\b(LS0tLS1CRUdJTi(?:BSU0EgUFJJVkFURSBLRVktLS0tL|BFQyBQUklWQVRFIEtFWS0tLS0t|BPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS|BEU0EgUFJJVkFURSBLRVktLS0tL|BFTkNSWVBURUQgUFJJVkFURSBLRVktLS0tL|BQUklWQVRFIEtFWS0tLS0t)[A-Za-z0-9+/]{64,}={0,2})",
        None,
    ),
    BuiltinRule {
        id: "connection-string-password",
        description: "Password in a URL's userinfo, any scheme (scheme://user:password@host)",
        keywords: &["://"],
        // Any scheme (RFC 3986: a letter, then letters, digits, `+`, `.`, `-`): https, ftp, amqp and redis URLs
        // carry inline passwords as often as database DSNs do.
        pattern: r"\b[A-Za-z][A-Za-z0-9+.-]*://(?u-i:[^ \t\r\n:@/]*):((?u-i:[^ \t\r\n@/]+))@",
        min_entropy: None,
        kind: RuleKind::Credential,
        // `<password>`, `${DB_PASSWORD}` and RabbitMQ's `guest` are not secrets.
        value_check: Some(is_connection_password),
    },
    BuiltinRule {
        id: "http-basic-auth",
        description: "HTTP Basic credentials: Basic and the base64 of user:password (Authorization header)",
        keywords: &["basic"],
        // No end boundary: one that rejects `=` before a letter but not before a marker's `[` would make a
        // redaction pass uncover a match (see `Detector::redact`); the base64 check rejects a cut-off value.
        pattern: r"(?i)\bbasic[ \t]+((?-i:[A-Za-z0-9+/]){8,}={0,2})",
        min_entropy: None,
        kind: RuleKind::Credential,
        value_check: Some(is_basic_credentials),
    },
    BuiltinRule {
        id: "http-bearer-token",
        description: "Opaque HTTP bearer token (Authorization: Bearer, 20+ random characters)",
        keywords: &["bearer"],
        pattern: r"(?i)\bbearer[ \t]+((?-i:[A-Za-z0-9._~+/-]){20,}=*)",
        min_entropy: Some(3.5),
        kind: RuleKind::Credential,
        value_check: Some(is_secret_shaped),
    },
    BuiltinRule {
        id: "curl-user-password",
        description: "Password in curl -u/--user user:password (backslash-continued lines included)",
        keywords: &["curl"],
        pattern: r#"(?i)\bcurl\b(?:(?u-i:[^\r\n\\])|\\\r?\n|\\)*?[ \t](?:-u|--user)(?:[ \t]+|=)?["']?(?u-i:[^\x00-\x20:"'])*:((?u-i:[^\x00-\x20"'])+)"#,
        min_entropy: None,
        kind: RuleKind::Credential,
        value_check: Some(is_connection_password),
    },
    BuiltinRule {
        id: "docker-config-auth",
        description: "Docker config.json auths entry: the base64 of user:password (run by the key/value scanner)",
        keywords: &["auth"],
        pattern: r#""auth"\s*:\s*"([A-Za-z0-9+/]{8,}={0,2})""#,
        min_entropy: None,
        kind: RuleKind::Credential,
        value_check: Some(is_basic_credentials),
    },
    BuiltinRule {
        id: "cli-password",
        description:
            "Password on a command line: mysql -p<password>, docker/podman/helm login -p, sshpass -p, redis-cli -a",
        keywords: &["mysql", "mariadb", "login", "sshpass", "redis-cli"],
        // `-p` only in lowercase: mysql's `-P` is the port. mysql takes the password glued to `-p` (`-p secret`
        // prompts and names a database); the others take it after a blank.
        pattern: r#"(?i)\b(?:mysql|mysqldump|mysqladmin|mariadb)\b(?u-i:[^\r\n])*?[ \t](?-i:-p)(?:assword=)?["']?((?u-i:[^\x00-\x20"'`;|&]){4,})|\b(?:sshpass|redis-cli)\b(?u-i:[^\r\n])*?[ \t](?-i:-p|-a)[ \t]+["']?((?u-i:[^\x00-\x20"'`;|&]){4,})|\blogin\b(?u-i:[^\r\n])*?[ \t](?-i:-p|--password)(?:[ \t]+|=)["']?((?u-i:[^\x00-\x20"'`;|&]){4,})"#,
        min_entropy: None,
        kind: RuleKind::Credential,
        value_check: Some(is_connection_password),
    },
    // Assignments to a name that says "secret" (run by the key/value scanner). The value must be 8+ characters, random-looking, and end at a
    // quote, space, separator or the end of text (not `(`: a call): names alone match too much code
    // (`password = get_password()`, `max_tokens: 4096`).
    assigned(
        "generic-password",
        "A high-entropy value assigned to a password/passwd/passphrase/pwd name",
        &["pass", "pwd"],
        r#"(?i)(?:(?:password|passwd|passphrase|pwd)[A-Za-z0-9_.-]{0,20}|(?:\b|[_.-])pass(?:[_.-][A-Za-z0-9_.-]{0,20})?|(?-i:[a-z0-9]Pass)(?:[_.-][A-Za-z0-9_.-]{0,20})?)["']?[ \t]*(?::=|=>|[:=])[ \t]*(?:"((?u-i:[^"\r\n]){8,})"|'((?u-i:[^'\r\n]){8,})'|`((?u-i:[^`\r\n]){8,})`|["'`]?((?u-i:[^\x00-\x20"'`;,\[\]{}()<>\\]){8,})(?:["'`\s;,]|$))"#,
        3.0,
    ),
    assigned(
        "generic-secret",
        "A high-entropy value assigned to a name containing secret",
        &["secret", "checksum", "digest", "sha"],
        // The first two branches consume a hex digest under a checksum/digest/sha name (Helm's
        // `checksum/secret: <sha256>`, `secret_sha256 = …`) without a secret: it is a hash of a secret, not one.
        r#"(?i)(?:\b|[_./-])(?:checksum|digest|sha(?:1|224|256|384|512)?)(?:[_./-][A-Za-z0-9_./-]{0,40})?["']?[ \t]*(?::=|=>|[:=])[ \t]*["']?[0-9a-fA-F]{32,128}(?:["'`\s;,]|$)|secret[A-Za-z0-9_.-]{0,20}?(?:checksum|digest|sha(?:1|224|256|384|512)?)(?:[_./-][A-Za-z0-9_./-]{0,40})?["']?[ \t]*(?::=|=>|[:=])[ \t]*["']?[0-9a-fA-F]{32,128}(?:["'`\s;,]|$)|secret[A-Za-z0-9_.-]{0,20}["']?[ \t]*(?::=|=>|[:=])[ \t]*(?:"((?u-i:[^"\r\n]){8,})"|'((?u-i:[^'\r\n]){8,})'|`((?u-i:[^`\r\n]){8,})`|["'`]?((?u-i:[^\x00-\x20"'`;,\[\]{}()<>\\]){8,})(?:["'`\s;,]|$))"#,
        3.5,
    ),
    assigned(
        "generic-api-token",
        "A high-entropy value assigned to an api_key/access_key/token name",
        &["token", "api_key", "apikey", "api-key", "access_key", "access-key"],
        r#"(?i)(?:api[_-]?key|access[_-]?key|token)[A-Za-z0-9_.-]{0,20}["']?[ \t]*(?::=|=>|[:=])[ \t]*(?:"((?u-i:[^"\r\n]){8,})"|'((?u-i:[^'\r\n]){8,})'|`((?u-i:[^`\r\n]){8,})`|["'`]?((?u-i:[^\x00-\x20"'`;,\[\]{}()<>\\]){8,})(?:["'`\s;,]|$))"#,
        3.5,
    ),
    // PII.
    pii(
        EMAIL,
        "E-mail address",
        &["@"],
        // Not `git@github.com:acme/repo.git`: an address followed by `:` and a path or port is an SSH remote.
        // The first branch consumes a URL's userinfo (`https://<key>@o1.ingest.sentry.io/1`,
        // `https://user:pass@host`) without a secret, so its `user@host` is not taken for an address.
        r#"[A-Za-z][A-Za-z0-9+.-]*://(?u-i:[^\x00-\x20"'`<>()\[\]{}\\,;/@]*)@|\b([A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24})(?:(?u-i:[^A-Za-z0-9_:])|:(?u-i:[^A-Za-z0-9_~./-])|:$|$)"#,
        None,
    ),
    pii(
        IPV4,
        "IPv4 address (off by default)",
        &["."],
        r"\b((?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})\b",
        None,
    ),
    pii(
        PAYMENT_CARD,
        "Payment card number (issuer prefix and Luhn check digit)",
        &[],
        // Issuer prefixes start with 2–6 (checked in full by `is_payment_card`); fewer digits start a candidate.
        PAYMENT_CARD_PATTERN,
        Some(is_payment_card),
    ),
    pii(IBAN, "International bank account number (ISO 13616 mod-97 checksum)", &[], IBAN_PATTERN, Some(is_iban)),
];
