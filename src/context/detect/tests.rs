//! Every built-in rule gets a true positive and a look-alike that must not match. Fake credentials are built
//! here from a seeded generator so this file contains nothing that looks like a live secret.

use super::*;

pub(super) const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(super) const UPPER_BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub(super) const HEX: &str = "0123456789abcdef";
pub(super) const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub(super) const URL_SAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
pub(super) const DIGITS: &str = "0123456789";
pub(super) const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Django's `get_random_secret_key` alphabet.
pub(super) const DJANGO: &str = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)";

/// Standard base64 with padding.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let table = BASE64.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(table[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Deterministic pseudo-random characters (xorshift), so fixtures are realistic mixes but reproducible.
pub(crate) fn fake(alphabet: &str, length: usize, seed: u64) -> String {
    let alphabet = alphabet.as_bytes();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(alphabet[(state % alphabet.len() as u64) as usize])
        })
        .collect()
}

/// (rule id, text, the secret the rule must report).
pub(super) fn positives() -> Vec<(&'static str, String, String)> {
    let mut cases = Vec::new();
    let mut add = |rule: &'static str, secret: String, wrap: &dyn Fn(&str) -> String| {
        let text = wrap(&secret);
        cases.push((rule, text, secret));
    };
    let plain = |secret: &str| format!("value: {secret}\n");
    add("aws-access-key-id", format!("AKIA{}", fake(UPPER_BASE32, 16, 1)), &|s| format!("aws_access_key_id = {s}"));
    add("aws-secret-access-key", fake(BASE64, 40, 2), &|s| format!("aws_secret_access_key = \"{s}\""));
    add(
        "gcp-service-account-private-key",
        format!("-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n", fake(BASE64, 120, 3)),
        &|s| format!("{{\"type\": \"service_account\", \"private_key\": \"{s}\"}}"),
    );
    add("gcp-api-key", format!("AIza{}", fake(URL_SAFE, 35, 4)), &|s| format!("key={s}&q=1"));
    add("azure-storage-account-key", format!("{}==", fake(BASE64, 86, 5)), &|s| {
        format!("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={s};EndpointSuffix=core.windows.net")
    });
    add("digitalocean-token", format!("dop_v1_{}", fake(HEX, 64, 6)), &plain);
    add("heroku-api-key", format!("HRKU-{}", fake(URL_SAFE, 60, 7)), &plain);
    add(
        "heroku-legacy-api-key",
        format!(
            "{}-{}-{}-{}-{}",
            fake(HEX, 8, 8),
            fake(HEX, 4, 9),
            fake(HEX, 4, 10),
            fake(HEX, 4, 11),
            fake(HEX, 12, 12)
        ),
        &|s| format!("HEROKU_API_KEY={s}"),
    );
    add("cloudflare-api-token", fake(URL_SAFE, 40, 13), &|s| format!("CLOUDFLARE_API_TOKEN=\"{s}\""));
    add("cloudflare-global-api-key", fake(HEX, 37, 14), &|s| format!("cloudflare_global_key: {s}"));
    add("cloudflare-origin-ca-key", format!("v1.0-{}-{}", fake(HEX, 24, 15), fake(HEX, 146, 16)), &plain);
    add("databricks-token", format!("dapi{}", fake(HEX, 32, 17)), &plain);
    add("vault-service-token", format!("hvs.{}", fake(URL_SAFE, 95, 18)), &plain);
    add("vault-batch-token", format!("hvb.{}", fake(URL_SAFE, 140, 19)), &plain);
    for (rule, prefix, seed) in [
        ("github-personal-access-token", "ghp_", 20),
        ("github-oauth-token", "gho_", 21),
        ("github-user-to-server-token", "ghu_", 22),
        ("github-server-to-server-token", "ghs_", 23),
        ("github-refresh-token", "ghr_", 24),
    ] {
        add(rule, format!("{prefix}{}", fake(ALNUM, 36, seed)), &|s| format!("Authorization: token {s}"));
    }
    add("github-fine-grained-token", format!("github_pat_{}_{}", fake(ALNUM, 22, 25), fake(ALNUM, 59, 26)), &plain);
    add("gitlab-personal-access-token", format!("glpat-{}", fake(URL_SAFE, 20, 27)), &plain);
    add("gitlab-runner-token", format!("glrt-{}", fake(URL_SAFE, 20, 28)), &plain);
    add("gitlab-deploy-token", format!("gldt-{}", fake(URL_SAFE, 20, 29)), &plain);
    add("bitbucket-app-password", format!("ATBB{}", fake(ALNUM, 32, 30)), &plain);
    add("atlassian-api-token", format!("ATATT3xFfGF0{}", fake(URL_SAFE, 170, 31)), &plain);
    add("npm-access-token", format!("npm_{}", fake(ALNUM, 36, 32)), &|s| {
        format!("//registry.npmjs.org/:_authToken={s}")
    });
    add("pypi-upload-token", format!("pypi-AgEIcHlwaS5vcmc{}", fake(URL_SAFE, 80, 33)), &plain);
    add("dockerhub-access-token", format!("dckr_pat_{}", fake(URL_SAFE, 27, 34)), &plain);
    add("openai-api-key", format!("sk-proj-{}", fake(URL_SAFE, 120, 35)), &|s| format!("OPENAI_API_KEY={s}"));
    add("anthropic-api-key", format!("sk-ant-api03-{}AA", fake(URL_SAFE, 93, 36)), &|s| format!("x-api-key: {s}"));
    add("huggingface-access-token", format!("hf_{}", fake(ALNUM, 34, 37)), &plain);
    add("groq-api-key", format!("gsk_{}", fake(ALNUM, 52, 38)), &plain);
    add("replicate-api-token", format!("r8_{}", fake(ALNUM, 37, 39)), &plain);
    add("cohere-api-key", fake(ALNUM, 40, 40), &|s| format!("COHERE_API_KEY={s}"));
    add("mistral-api-key", fake(ALNUM, 32, 41), &|s| format!("mistral_api_key: \"{s}\""));
    add("stripe-secret-key", format!("sk_live_{}", fake(ALNUM, 24, 42)), &plain);
    add("stripe-restricted-key", format!("rk_live_{}", fake(ALNUM, 24, 43)), &plain);
    add("stripe-webhook-secret", format!("whsec_{}", fake(ALNUM, 32, 44)), &plain);
    add("square-access-token", format!("EAAA{}", fake(URL_SAFE, 60, 45)), &|s| format!("token \"{s}\""));
    add("square-oauth-secret", format!("sq0csp-{}", fake(URL_SAFE, 43, 46)), &|s| format!("\"{s}\""));
    add(
        "braintree-access-token",
        format!(
            "access_token$production${}${}",
            fake("abcdefghijklmnopqrstuvwxyz0123456789", 16, 47),
            fake(HEX, 32, 48)
        ),
        &plain,
    );
    add(
        "slack-bot-token",
        format!("xoxb-{}-{}-{}", fake(DIGITS, 12, 49), fake(DIGITS, 13, 50), fake(ALNUM, 24, 51)),
        &plain,
    );
    add(
        "slack-user-token",
        format!(
            "xoxp-{}-{}-{}-{}",
            fake(DIGITS, 12, 52),
            fake(DIGITS, 12, 53),
            fake(DIGITS, 13, 54),
            fake(HEX, 32, 55)
        ),
        &plain,
    );
    add(
        "slack-app-token",
        format!("xapp-1-A{}-{}-{}", fake(UPPER_DIGITS, 10, 56), fake(DIGITS, 13, 57), fake(HEX, 64, 58)),
        &plain,
    );
    add("slack-legacy-token", format!("xoxa-2-{}-{}", fake(DIGITS, 12, 59), fake(ALNUM, 32, 60)), &plain);
    add(
        "slack-webhook-url",
        format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            fake(UPPER_DIGITS, 8, 61),
            fake(UPPER_DIGITS, 10, 62),
            fake(ALNUM, 24, 63)
        ),
        &plain,
    );
    add(
        "discord-bot-token",
        format!("MT{}.{}.{}", fake(URL_SAFE, 22, 64), fake(URL_SAFE, 6, 65), fake(URL_SAFE, 38, 66)),
        &|s| format!("client.login(\"{s}\")"),
    );
    add(
        "discord-webhook-url",
        format!("https://discord.com/api/webhooks/{}/{}", fake(DIGITS, 18, 67), fake(URL_SAFE, 68, 68)),
        &plain,
    );
    add("telegram-bot-token", format!("{}:AA{}", fake(DIGITS, 10, 69), fake(URL_SAFE, 33, 70)), &plain);
    add("twilio-api-key", format!("SK{}", fake(HEX, 32, 71)), &plain);
    add("twilio-auth-token", fake(HEX, 32, 72), &|s| format!("TWILIO_AUTH_TOKEN={s}"));
    add("sendgrid-api-key", format!("SG.{}.{}", fake(URL_SAFE, 22, 73), fake(URL_SAFE, 43, 74)), &plain);
    add("mailgun-api-key", format!("key-{}", fake(HEX, 32, 75)), &plain);
    add("shopify-access-token", format!("shpat_{}", fake(HEX, 32, 76)), &plain);
    add("shopify-shared-secret", format!("shpss_{}", fake(HEX, 32, 77)), &plain);
    add("linear-api-key", format!("lin_api_{}", fake(ALNUM, 40, 78)), &plain);
    add("notion-integration-token", format!("ntn_{}", fake(ALNUM, 46, 79)), &plain);
    add("jwt", format!("eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}", fake(URL_SAFE, 40, 80), fake(URL_SAFE, 43, 81)), &|s| {
        format!("Authorization: Bearer {s}")
    });
    add(
        "openssh-private-key",
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n{}\n-----END OPENSSH PRIVATE KEY-----",
            fake(BASE64, 70, 82),
            fake(BASE64, 70, 83)
        ),
        &plain,
    );
    add(
        "pgp-private-key",
        format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{}\n={}\n-----END PGP PRIVATE KEY BLOCK-----",
            fake(BASE64, 64, 84),
            fake(BASE64, 4, 85)
        ),
        &plain,
    );
    add(
        "private-key",
        format!(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{}\n\n{}\n-----END RSA PRIVATE KEY-----",
            fake(HEX, 32, 86).to_uppercase(),
            fake(BASE64, 64, 87)
        ),
        &plain,
    );
    add(
        "putty-private-key",
        format!(
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: key\nPublic-Lines: 2\n{}\nPrivate-Lines: 1\n{}\nPrivate-MAC: {}",
            fake(BASE64, 64, 88),
            fake(BASE64, 44, 89),
            fake(HEX, 64, 90)
        ),
        &plain,
    );
    add("connection-string-password", fake(ALNUM, 16, 91), &|s| {
        format!("DATABASE_URL=postgres://app:{s}@db.internal:5432/app")
    });
    add("generic-password", fake(ALNUM, 14, 92), &|s| format!("db_password = \"{s}\""));
    add("generic-secret", fake(BASE64, 32, 93), &|s| format!("client_secret: {s}"));
    add("generic-api-token", fake(ALNUM, 32, 94), &|s| format!("{{\"api_key\": \"{s}\"}}"));
    // Quoted values run to the closing quote: brackets (Django's key alphabet has `(` and `)`) and spaces.
    add(
        "generic-secret",
        format!("django-insecure-{}({}){}", fake(DJANGO, 20, 95), fake(ALNUM, 6, 96), fake(DJANGO, 20, 97)),
        &|s| format!("SECRET_KEY = '{s}'\n"),
    );
    add("generic-secret", format!("{} {}", fake(ALNUM, 12, 98), fake(ALNUM, 12, 99)), &|s| {
        format!("client_secret = \"{s}\", timeout = 30")
    });
    add("generic-api-token", format!("{}[{}]", fake(ALNUM, 16, 100), fake(ALNUM, 8, 101)), &|s| {
        format!("token: `{s}`")
    });
    add("generic-secret", fake(HEX, 64, 115), &|s| format!("shared_secret: {s}\n"));
    // `pass` as a name segment before an assignment.
    add("generic-password", fake(ALNUM, 16, 102), &|s| format!("DB_PASS={s}\n"));
    add("generic-password", fake(ALNUM, 16, 103), &|s| format!("  RABBITMQ_DEFAULT_PASS: {s}\n"));
    add("generic-password", fake(ALNUM, 16, 104), &|s| format!("smtpPass = \"{s}\";"));
    // Any URL scheme's userinfo.
    add("connection-string-password", fake(ALNUM, 16, 105), &|s| {
        format!("--extra-index-url https://deploy:{s}@pypi.acme-corp.io/simple")
    });
    add("connection-string-password", fake(ALNUM, 16, 106), &|s| format!("ftp://backup:{s}@files.acme-corp.io/"));
    // HTTP credentials.
    add("http-basic-auth", base64_encode(format!("deploy:{}", fake(ALNUM, 14, 107)).as_bytes()), &|s| {
        format!("curl -H 'Authorization: Basic {s}' https://api.acme-corp.io/v1")
    });
    add("http-bearer-token", fake(URL_SAFE, 40, 108), &|s| format!("> Authorization: Bearer {s}\r\n"));
    add("curl-user-password", fake(ALNUM, 16, 109), &|s| format!("curl -u deploy:{s} https://api.acme-corp.io/v1"));
    add("curl-user-password", fake(ALNUM, 16, 110), &|s| {
        format!("curl -X POST \\\n  --user \"deploy:{s}\" \\\n  https://api.acme-corp.io/v1")
    });
    for (header, seed) in
        [("RSA PRIVATE KEY", 111), ("PRIVATE KEY", 112), ("OPENSSH PRIVATE KEY", 113), ("EC PRIVATE KEY", 114)]
    {
        let pem = format!("-----BEGIN {header}-----\n{}\n-----END {header}-----\n", fake(BASE64, 120, seed));
        add("private-key-base64", base64_encode(pem.as_bytes()), &|s| format!("    client-key-data: {s}\n"));
    }
    // Kinds that hold-out data built from real files found missing (issue 13).
    add("aws-session-token", format!("IQoJb3JpZ2luX2VjE{}", fake(BASE64, 300, 120)), &|s| {
        format!("aws_session_token = {s}\n")
    });
    add("datadog-api-key", fake(HEX, 32, 121), &|s| format!("dd.api.key={s}\n"));
    add("datadog-app-key", fake(HEX, 40, 122), &|s| format!("os.environ[\"DD_APP_KEY\"] = \"{s}\"\n"));
    add("new-relic-key", format!("NRAK-{}", fake(UPPER_DIGITS, 27, 123)), &plain);
    add("mailchimp-api-key", format!("{}-us12", fake(HEX, 32, 124)), &plain);
    add("sentry-dsn", fake(HEX, 32, 125), &|s| format!("SENTRY_DSN=https://{s}@o4504.ingest.sentry.io/4505\n"));
    add("supabase-access-token", format!("sbp_{}", fake(HEX, 40, 126)), &plain);
    add("grafana-token", format!("glsa_{}_{}", fake(ALNUM, 32, 127), fake(HEX, 8, 128)), &plain);
    add("doppler-token", format!("dp.pt.{}", fake(ALNUM, 43, 129)), &plain);
    add("age-secret-key", format!("AGE-SECRET-KEY-1{}", fake("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58, 130)), &plain);
    add("docker-config-auth", base64_encode(format!("ci-bot:{}", fake(ALNUM, 16, 131)).as_bytes()), &|s| {
        format!("{{\"auths\": {{\"ghcr.io\": {{\"auth\": \"{s}\"}}}}}}")
    });
    add("cli-password", fake(ALNUM, 14, 132), &|s| format!("mysql -u root -p{s} -h db.internal shop\n"));
    add("cli-password", fake(ALNUM, 14, 133), &|s| format!("docker login -u deploy -p {s} registry.acme-corp.io\n"));
    add("generic-password", "hunter2".to_owned(), &|s| format!("password: {s}\n"));
    add("azure-sas-signature", format!("{}%3D", fake(BASE64, 43, 136)), &|s| {
        format!("https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig={s}\n")
    });
    add("generic-api-token", fake(ALNUM, 32, 134), &|s| format!("const apiToken: string = \"{s}\";\n"));
    add("generic-secret", fake(ALNUM, 32, 135), &|s| format!("  - name: CLIENT_SECRET\n    value: \"{s}\"\n"));
    add("email-address", "jane.doe+ctx@mail.example-corp.org".replace("example-", "acme-"), &|s| {
        format!("From: <{s}>")
    });
    add("payment-card-number", "4111 1111 1111 1111".to_owned(), &|s| format!("card: {s}, exp 12/30"));
    add("iban", "DE89 3704 0044 0532 0130 00".to_owned(), &|s| format!("IBAN: {s}\n"));
    cases
}

/// (rule id, look-alike text the rule must not report).
pub(super) fn negatives() -> Vec<(&'static str, String)> {
    let uuid = "123e4567-e89b-12d3-a456-426614174000";
    let sha = "9fceb02d0ae598e95dc970b74767f19372d61af8";
    vec![
        ("aws-access-key-id", "AKIAEXAMPLE and AKIAIOSFODNN7EXAMPLE".to_owned()),
        ("aws-secret-access-key", format!("aws_secret_access_key = {}", "A".repeat(40))),
        ("gcp-service-account-private-key", "\"private_key_id\": \"abc\", \"private_key\": \"\"".to_owned()),
        ("gcp-api-key", "AIzaSyShort".to_owned()),
        ("azure-storage-account-key", "AccountKey=<your key>".to_owned()),
        ("digitalocean-token", format!("dop_v1_{}", "0".repeat(64))),
        ("heroku-api-key", "HRKU-short".to_owned()),
        ("heroku-legacy-api-key", format!("request_id = {uuid}")),
        ("cloudflare-api-token", "CLOUDFLARE_API_TOKEN=${{ secrets.CF }}".to_owned()),
        ("cloudflare-global-api-key", format!("cloudflare_key: {}", "f".repeat(37))),
        ("cloudflare-origin-ca-key", "v1.0-abc".to_owned()),
        ("databricks-token", "dapi_version = 2".to_owned()),
        ("vault-service-token", "hvs.short".to_owned()),
        ("vault-batch-token", "hvb.short".to_owned()),
        ("github-personal-access-token", format!("ghp_{}", "x".repeat(36))),
        ("github-oauth-token", "gho_1234".to_owned()),
        ("github-user-to-server-token", format!("ghu_{}", "ab".repeat(18))),
        ("github-server-to-server-token", format!("ghs_{}", "0".repeat(36))),
        ("github-refresh-token", "ghr_ and gh_r".to_owned()),
        ("github-fine-grained-token", "github_pat_<TOKEN>".to_owned()),
        ("gitlab-personal-access-token", "glpat-xxxxxxxxxxxxxxxxxxxx".to_owned()),
        ("gitlab-runner-token", "glrt-short".to_owned()),
        ("gitlab-deploy-token", "gldt-short".to_owned()),
        ("bitbucket-app-password", "ATBBshort".to_owned()),
        ("atlassian-api-token", "ATATT3xFfGF0".to_owned()),
        ("npm-access-token", "npm_config_registry=https://registry.npmjs.org".to_owned()),
        ("pypi-upload-token", "pypi-AgEIcHlwaS5vcmc".to_owned()),
        ("dockerhub-access-token", "dckr_pat_xxxxxxxxxxxxxxxxxxxxxxxxxxx".to_owned()),
        ("openai-api-key", "OPENAI_API_KEY=sk-xxxx and sk-proj-... and sk-1234".to_owned()),
        ("anthropic-api-key", "sk-ant-api03-...".to_owned()),
        ("huggingface-access-token", "hf_hub_download(repo_id)".to_owned()),
        ("groq-api-key", "gsk_xxxxxxxxxxxx".to_owned()),
        ("replicate-api-token", "r8_short".to_owned()),
        ("cohere-api-key", format!("cohere_api_key = {sha}")),
        ("mistral-api-key", "mistral_api_key = os.environ[\"MISTRAL_API_KEY\"]".to_owned()),
        ("stripe-secret-key", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx".to_owned()),
        ("stripe-restricted-key", "rk_live_...".to_owned()),
        ("stripe-webhook-secret", "whsec_...".to_owned()),
        ("square-access-token", "EAAAxxxx".to_owned()),
        ("square-oauth-secret", "sq0csp-short".to_owned()),
        ("braintree-access-token", "access_token$production$<merchant>$<key>".to_owned()),
        ("slack-bot-token", "xoxb-your-token-here".to_owned()),
        ("slack-user-token", "xoxp-123-456".to_owned()),
        ("slack-app-token", "xapp-1-...".to_owned()),
        ("slack-legacy-token", "xoxa-2-".to_owned()),
        ("slack-webhook-url", "https://hooks.slack.com/services/T000/B000/XXXX".to_owned()),
        ("discord-bot-token", "NzkyNz.abc.def and version 1.2.3".to_owned()),
        ("discord-webhook-url", "https://discord.com/api/webhooks/{id}/{token}".to_owned()),
        ("telegram-bot-token", "12345678:AAxxxx".to_owned()),
        ("twilio-api-key", format!("SK{}", "0".repeat(32))),
        ("twilio-auth-token", "TWILIO_AUTH_TOKEN=your_auth_token".to_owned()),
        ("sendgrid-api-key", "SG.xxxxx.yyyyy".to_owned()),
        ("mailgun-api-key", "primary-key-value".to_owned()),
        ("shopify-access-token", "shpat_...".to_owned()),
        ("shopify-shared-secret", "shpss_...".to_owned()),
        ("linear-api-key", "lin_api_xxxx".to_owned()),
        ("notion-integration-token", format!("secret_{}", "a".repeat(43))),
        ("jwt", "eyJhbGciOiJIUzI1NiJ9 only a header".to_owned()),
        (
            "openssh-private-key",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----".to_owned(),
        ),
        ("pgp-private-key", "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBF...".to_owned()),
        ("private-key", "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----".to_owned()),
        ("putty-private-key", "PuTTY-User-Key-File-3: ssh-ed25519 (truncated)".to_owned()),
        (
            "connection-string-password",
            "postgres://app@db.internal/app and https://user:pass@host and postgres://app:<password>@localhost/app \
             and amqp://guest:guest@rabbitmq:5672/"
                .to_owned(),
        ),
        (
            "generic-password",
            "password = \"changeme\"\npassword = get_password()\npassword: ${DB_PASSWORD}\n\
             const password = process.env.DB_PASSWORD ?? read()"
                .to_owned(),
        ),
        (
            "generic-secret",
            format!(
                "secret_name = \"db-credentials\"\nsecret: {}\nsecretName = 'prod/api/credentials'\n",
                "ab".repeat(10)
            ),
        ),
        (
            "generic-api-token",
            format!(
                "max_tokens = 4096\ntoken_id = {uuid}\ntokenizer: cl100k_base\nAPI_TOKEN_FILE=/run/secrets/api_token\n\
                 \"token_uri\": \"https://oauth2.googleapis.com/token\"\n\"debugToken\": \"テスト用トークン 🔑\"\n"
            ),
        ),
        ("email-address", "git@localhost and @decorator and pkg@1.2.3 and git@github.com:acme/repo.git".to_owned()),
        (
            "payment-card-number",
            "4111 1111 1111 1112 and 1700000000000 and 1234567890123456 and /v2/orders/49993502327905098".to_owned(),
        ),
        (
            "generic-password",
            "    pass\nbypass_cache = 'Xk9mL2qP0rZt'\ncompass_heading: Nq8Zr2LmV0x\npassthrough=Zq8r2LmV0xWc\n\
             password: \"{{ vault_db_password }}\"\nDB_PASS=\"${DB_PASSWORD}\"\n\
             \"password\": \"Enter your password (8+ characters)\"\nsecret: 'ENC[AES256_GCM,data:q8Zr2Lm,iv:x0]'\n"
                .to_owned(),
        ),
        ("generic-secret", "SECRET_KEY = os.environ.get('SECRET_KEY', default=None)\nsecret = '<your-secret>'".to_owned()),
        (
            "generic-secret",
            format!(
                "      checksum/secret: {}\nsecret_sha256 = \"{}\"\nsecrets.digest: {}\n",
                fake(HEX, 64, 707),
                fake(HEX, 64, 708),
                fake(HEX, 40, 709)
            ),
        ),
        ("email-address", format!("SENTRY_DSN=https://{}@o1.ingest.sentry.io/1", fake(HEX, 32, 700))),
        ("email-address", format!("https://deploy:{}@pypi.acme-corp.io/simple", fake(ALNUM, 16, 701))),
        (
            "http-basic-auth",
            format!(
                "Authorization: Basic {} and Basic authentication and Basic {}",
                base64_encode(b"user:password"),
                base64_encode(b"authentication without colon")
            ),
        ),
        (
            "http-bearer-token",
            format!(
                "Authorization: Bearer <token>\nBearer YOUR_ACCESS_TOKEN_HERE\nBearer ${{TOKEN}}\nBearer eyJ{}.eyJ{}.{}",
                fake(URL_SAFE, 20, 702),
                fake(URL_SAFE, 30, 703),
                fake(URL_SAFE, 43, 704)
            ),
        ),
        (
            "curl-user-password",
            "curl -u \"$API_USER:$API_PASS\" https://x.io\ncurl -u admin https://x.io\ncurl --user user:password https://x.io\n\
             ssh -u deploy:q8Zr2LmV0xWc"
                .to_owned(),
        ),
        (
            "private-key-base64",
            format!(
                "client-certificate-data: {}\ntls.pub: {}",
                base64_encode(format!("-----BEGIN CERTIFICATE-----\n{}\n", fake(BASE64, 120, 705)).as_bytes()),
                base64_encode(format!("-----BEGIN PUBLIC KEY-----\n{}\n", fake(BASE64, 120, 706)).as_bytes())
            ),
        ),
        ("aws-session-token", "IQoJb3JpZ2lu and FwoGZXIvYXdzE only a prefix".to_owned()),
        ("azure-sas-signature", "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=<signature>".to_owned()),
        ("datadog-api-key", format!("dd.trace.id={}\ndd_api_key: ${{DD_API_KEY}}", fake(HEX, 32, 140))),
        ("datadog-app-key", format!("dd_git_commit_sha: {}", fake(HEX, 40, 141))),
        ("new-relic-key", "NRAK-SHORT and nral".to_owned()),
        ("mailchimp-api-key", format!("{}-use", fake(HEX, 32, 142))),
        ("sentry-dsn", "SENTRY_DSN=https://<key>@o0.ingest.sentry.io/0".to_owned()),
        ("supabase-access-token", "sbp_short".to_owned()),
        ("grafana-token", "glsa_short_1234".to_owned()),
        ("doppler-token", "dp.pt.short".to_owned()),
        ("age-secret-key", "AGE-SECRET-KEY-1 (your key here)".to_owned()),
        ("docker-config-auth", format!("\"auth\": \"{}\"", base64_encode(b"no colon in here at all"))),
        ("cli-password", "mysql -u root -p -P 3306 shop\ndocker login -u ci --password-stdin\nmysql -p$MYSQL_PWD".to_owned()),
        (
            "jwt",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c".to_owned(),
        ),
        ("payment-card-number", "call +49 151 23456787 or +4915123456787".to_owned()),
        ("iban", "GB82WEST12345698765433 and ISBN 9780306406157".to_owned()),
    ]
}

fn secrets_found(detector: &Detector, rule: &str, text: &str) -> Vec<String> {
    detector
        .find(text)
        .iter()
        .filter(|finding| finding.rule_id == rule)
        .map(|finding| text[finding.start..finding.end].to_owned())
        .collect()
}

#[test]
fn every_builtin_rule_has_a_true_positive_and_a_look_alike() {
    let detector = Detector::builtin();
    let positives = positives();
    let negatives = negatives();
    for rule in detector.rules() {
        assert!(positives.iter().any(|(id, _, _)| *id == rule.id), "no true positive for {}", rule.id);
        assert!(negatives.iter().any(|(id, _)| *id == rule.id), "no look-alike for {}", rule.id);
    }
    for (rule, text, secret) in &positives {
        assert_eq!(secrets_found(&detector, rule, text), vec![secret.clone()], "{rule} on {text:?}");
    }
    for (rule, text) in &negatives {
        assert!(secrets_found(&detector, rule, text).is_empty(), "{rule} matched the look-alike {text:?}");
    }
}

#[test]
fn builtin_set_is_large_and_ids_are_unique_and_marker_safe() {
    let detector = Detector::builtin_with(PiiOptions { ipv4: true, ..PiiOptions::default() });
    let credentials = detector.rules().iter().filter(|rule| rule.kind == RuleKind::Credential).count();
    assert!(credentials >= 40, "{credentials} credential rules");
    let mut ids: Vec<&str> = detector.rules().iter().map(|rule| rule.id.as_str()).collect();
    ids.sort_unstable();
    let count = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate rule ids");
    for id in ids {
        assert!(id.bytes().all(|byte| matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-')), "{id}");
        assert!(detector.find(&marker(id)).is_empty(), "a rule matches the marker of {id}");
    }
}

#[test]
fn ipv4_is_off_by_default() {
    let text = "connect to 192.168.10.254 now";
    assert!(Detector::builtin().find(text).is_empty());
    let with_ipv4 = Detector::builtin_with(PiiOptions { ipv4: true, ..PiiOptions::default() });
    assert_eq!(secrets_found(&with_ipv4, "ipv4-address", text), vec!["192.168.10.254"]);
    assert!(secrets_found(&with_ipv4, "ipv4-address", "256.1.1.1").is_empty());
}

#[test]
fn redaction_replaces_counts_and_is_idempotent() {
    let detector = Detector::builtin();
    let github = format!("ghp_{}", fake(ALNUM, 36, 200));
    let stripe = format!("sk_live_{}", fake(ALNUM, 24, 201));
    let text = format!("a={github}\nb={github}\nc={stripe}\nmail ops@acme.io\n");
    let redacted = detector.redact(&text);
    assert_eq!(
        redacted.text,
        "a=[REDACTED:github-personal-access-token]\nb=[REDACTED:github-personal-access-token]\n\
         c=[REDACTED:stripe-secret-key]\nmail [REDACTED:email-address]\n"
    );
    let expected: BTreeMap<String, usize> =
        [("email-address", 1), ("github-personal-access-token", 2), ("stripe-secret-key", 1)]
            .into_iter()
            .map(|(id, count)| (id.to_owned(), count))
            .collect();
    assert_eq!(redacted.counts, expected);
    let again = detector.redact(&redacted.text);
    assert_eq!(again.text, redacted.text);
    assert!(again.counts.is_empty());
    assert!(detector.find(&redacted.text).is_empty());
}

#[test]
fn every_positive_redacts_to_a_fixpoint_without_leaking() {
    let detector = Detector::builtin();
    for (rule, text, secret) in positives() {
        let redacted = detector.redact(&text);
        assert!(!redacted.text.contains(&secret), "{rule} leaked");
        assert!(redacted.counts.contains_key(rule), "{rule} not counted: {:?}", redacted.counts);
        assert_eq!(detector.redact(&redacted.text).text, redacted.text, "{rule} not idempotent");
    }
}

#[test]
fn overlaps_resolve_leftmost_then_longest_then_credentials_first() {
    let detector = Detector::builtin();
    // The OpenSSH block also matches the generic PEM rule over the same span: the earlier rule wins.
    let key =
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----", fake(BASE64, 70, 300));
    let findings = detector.find(&key);
    assert_eq!(findings.len(), 1);
    assert_eq!(
        (findings[0].rule_id.as_str(), findings[0].start, findings[0].end),
        ("openssh-private-key", 0, key.len())
    );
    // `pass@db.internal` looks like an e-mail address; the connection-string password wins.
    let password = fake(ALNUM, 12, 301);
    let url = format!("mysql://root:{password}@db.internal/app");
    let ids: Vec<String> = detector.find(&url).into_iter().map(|finding| finding.rule_id).collect();
    assert_eq!(ids, vec!["connection-string-password"]);
    assert_eq!(detector.redact(&url).text, "mysql://root:[REDACTED:connection-string-password]@db.internal/app");
    // A token assigned to `api_key` is reported once, by its specific rule (longest from the same start).
    let token = format!("ghp_{}", fake(ALNUM, 36, 302));
    let ids: Vec<String> =
        detector.find(&format!("api_key = \"{token}\"")).into_iter().map(|finding| finding.rule_id).collect();
    assert_eq!(ids.len(), 1);
    // Same input, same findings.
    assert_eq!(detector.find(&url), detector.find(&url));
}

#[test]
fn findings_do_not_carry_the_secret() {
    let token = format!("npm_{}", fake(ALNUM, 36, 400));
    let findings = Detector::builtin().find(&token);
    assert_eq!(findings.len(), 1);
    assert!(!format!("{findings:?}").contains(&token[4..]));
}

#[test]
fn non_ascii_text_is_scanned_and_redacted_on_char_boundaries() {
    let token = format!("glpat-{}", fake(URL_SAFE, 24, 500));
    let text = format!("clé: «{token}» — fin");
    let redacted = Detector::builtin().redact(&text);
    assert_eq!(redacted.text, "clé: «[REDACTED:gitlab-personal-access-token]» — fin");
}

#[test]
fn a_token_inside_a_url_is_reported_by_its_own_rule_not_the_generic_one() {
    let detector = Detector::builtin();
    let token = format!("ghs_{}", fake(ALNUM, 36, 600));
    let text = format!("git remote add mirror https://x-access-token:{token}@github.com/acme/mirror.git\n");
    let ids: Vec<String> = detector.find(&text).into_iter().map(|finding| finding.rule_id).collect();
    assert_eq!(ids, vec!["github-server-to-server-token"]);
    assert_eq!(secrets_found(&detector, "github-server-to-server-token", &text), vec![token]);
}

#[test]
fn an_e_mail_address_in_a_query_string_is_still_found_but_a_url_userinfo_is_not() {
    let detector = Detector::builtin();
    let text = "see https://acme-corp.io/contact?to=ops@acme-corp.io and mailto:ops@acme-corp.io";
    assert_eq!(secrets_found(&detector, "email-address", text), vec!["ops@acme-corp.io", "ops@acme-corp.io"]);
    assert!(secrets_found(&detector, "email-address", "redis://ops@cache.acme-corp.io:6379/0").is_empty());
    assert_eq!(
        secrets_found(&detector, "email-address", "url=\"https://acme-corp.io\",owner=ops@acme-corp.io"),
        vec!["ops@acme-corp.io"]
    );
    // A phone number is no card, a card after a word is.
    assert_eq!(
        secrets_found(&detector, "payment-card-number", "tel +49 151 23456787, card 4111 1111 1111 1111").len(),
        1
    );
}

#[test]
fn an_e_mail_address_is_still_found_before_a_colon_and_a_space() {
    let detector = Detector::builtin();
    assert_eq!(secrets_found(&detector, "email-address", "Owner: ops@acme-corp.io: on call"), vec!["ops@acme-corp.io"]);
    assert_eq!(secrets_found(&detector, "email-address", "to ops@acme-corp.io."), vec!["ops@acme-corp.io"]);
    assert!(secrets_found(&detector, "email-address", "git clone git@github.com:acme/repo.git").is_empty());
}
