use super::*;
use crate::context::detect::tests::{base64_encode, fake};

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &str = "0123456789abcdef";

fn found(text: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    scan(text, &[], |rule, start, end| out.push((rule, text[start..end].to_owned())));
    out
}

#[test]
fn every_syntax_of_an_assignment_is_read() {
    let secret = fake(ALNUM, 24, 1);
    let forms = [
        format!("API_TOKEN={secret}"),
        format!("export API_TOKEN=\"{secret}\""),
        format!("os.environ[\"API_TOKEN\"] = \"{secret}\""),
        format!("os.environ.setdefault(\"API_TOKEN\", \"{secret}\")"),
        format!("const apiToken: string = \"{secret}\";"),
        format!("apiToken := \"{secret}\""),
        format!("{{\"api_token\": \"{secret}\"}}"),
        format!("  \"source\": [\"os.environ[\\\"API_TOKEN\\\"] = \\\"{secret}\\\"\\n\"]"),
        format!("api_token: {secret}"),
        format!("env:\n  - name: API_TOKEN\n    value: \"{secret}\""),
        format!("<apiToken>{secret}</apiToken>"),
        format!("<credentials user=\"ci\" apiToken=\"{secret}\"/>"),
        format!("<add key=\"ApiToken\" value=\"{secret}\" />"),
        format!("app.api.key={secret}"),
        format!("[default]\napi_token = {secret}"),
        format!(":api_token => \"{secret}\","),
        format!("$api_token = '{secret}';"),
        format!("deploy --api-token {secret} --force"),
        format!("private static final String API_TOKEN = \"{secret}\";"),
    ];
    for form in forms {
        assert_eq!(found(&form), [(API_TOKEN, secret.clone())], "{form}");
    }
}

#[test]
fn the_name_decides_the_category() {
    let token = fake(ALNUM, 24, 2);
    assert_eq!(found(&format!("DB_PASSWORD=Maple{}!", 1990))[0], (PASSWORD, "Maple1990!".to_owned()));
    assert_eq!(found("password: hunter2"), [(PASSWORD, "hunter2".to_owned())]);
    assert_eq!(found(&format!("client_secret: {token}")), [(SECRET, token.clone())]);
    assert_eq!(found(&format!("STRIPE_KEY={token}")), [(API_TOKEN, token.clone())]);
    assert_eq!(found(&format!("dd.api.key={}", fake(HEX, 32, 3))), [(DATADOG_API_KEY, fake(HEX, 32, 3))]);
    assert_eq!(found(&format!("DD_APP_KEY={}", fake(HEX, 40, 4))), [(DATADOG_APP_KEY, fake(HEX, 40, 4))]);
    let hex = fake(HEX, 32, 5);
    assert_eq!(found(&format!("# twilio\nAUTH_TOKEN={hex}")), [(TWILIO_AUTH_TOKEN, hex)]);
    let uuid = "6f2c1d7e-4b3a-4c9d-8e1f-2a3b4c5d6e7f";
    assert_eq!(found(&format!("HEROKU_API_KEY={uuid}")), [(HEROKU_LEGACY_API_KEY, uuid.to_owned())]);
    assert!(found(&format!("API_KEY={uuid}")).is_empty(), "a UUID is an id unless Heroku's");
    let auth = base64_encode(format!("deploy:{}", fake(ALNUM, 14, 6)).as_bytes());
    assert_eq!(
        found(&format!("{{\"auths\": {{\"ghcr.io\": {{\"auth\": \"{auth}\"}}}}}}")),
        [(DOCKER_CONFIG_AUTH, auth)]
    );
    let azure = format!("{}==", fake(&format!("{ALNUM}+/"), 86, 7));
    assert_eq!(found(&format!("azure.storage.account-key: {azure}")), [(AZURE_STORAGE_KEY, azure)]);
}

#[test]
fn names_that_say_something_else_and_values_that_are_not_secrets_are_refused() {
    let sha = fake(HEX, 40, 8);
    let negatives = [
        format!("api_key_id={}", "6f2c1d7e-4b3a-4c9d-8e1f-2a3b4c5d6e7f"),
        format!("secret_sha256 = \"{}\"", fake(HEX, 64, 9)),
        format!("checksum/secret: {}", fake(HEX, 64, 10)),
        format!("cache_key: {sha}"),
        "token_url: https://oauth2.example.org/token".to_owned(),
        "API_TOKEN_FILE=/run/secrets/api_token".to_owned(),
        "password_min_length = 12".to_owned(),
        "password = get_password()".to_owned(),
        "password: ${DB_PASSWORD}".to_owned(),
        "password: \"{{ .Values.db.password }}\"".to_owned(),
        "DB_PASSWORD=changeme".to_owned(),
        "api_key = '<your-api-key>'".to_owned(),
        "token: process.env.API_TOKEN,".to_owned(),
        "password: str".to_owned(),
        "password: Optional[str] = None".to_owned(),
        "const token = os.environ[\"TOKEN\"]".to_owned(),
        "SECRET_KEY = os.environ.get('SECRET_KEY', default=None)".to_owned(),
        "        - name: DB_PASSWORD\n          valueFrom:\n            secretKeyRef:\n              key: password"
            .to_owned(),
        "max_tokens: 4096".to_owned(),
        "tokenizer: cl100k_base".to_owned(),
        "public_key: AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl".to_owned(),
        "key: linux-cargo-3f9a1c2b7d".to_owned(),
        "\"password\": \"Enter your password (8+ characters)\"".to_owned(),
        "password = password".to_owned(),
        "PASSWORD_HASHERS = [\"django.contrib.auth.hashers.Argon2PasswordHasher\"]".to_owned(),
        "\ttoken := r.Header.Get(\"X-Request-Token\")".to_owned(),
        "api_key = config.get(\"STRIPE_API_KEY_PRIMARY\")".to_owned(),
        "  DBUS_SESSION_BUS_ADDRESS=\"unix:path=$XDG_RUNTIME_DIR/bus\"".to_owned(),
        "cvkey = r'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion'".to_owned(),
        "    \"minipass\": \"^7.1.3\",".to_owned(),
        "jdk.tls.keyLimits=AES/GCM/NoPadding KeyUpdate 2^37".to_owned(),
        format!("token: {}", "ab".repeat(12)),
    ];
    for text in negatives {
        assert!(found(&text).is_empty(), "{text}: {:?}", found(&text));
    }
}

#[test]
fn literals_behind_references_conversions_and_other_syntaxes_are_read() {
    let password = format!("{}!{}", fake(ALNUM, 8, 11), fake(ALNUM, 6, 12));
    let cases = [
        format!("'password' => $_ENV['DB_PASSWORD'] ?? '{password}',"),
        format!("DB_PASSWORD = os.getenv(\"DB_PASSWORD\", \"{password}\")"),
        format!("const password = process.env.DB_PASSWORD || '{password}';"),
        format!("var dbPassword = []byte(\"{password}\")"),
        format!("CREATE ROLE app WITH LOGIN PASSWORD '{password}';"),
        format!("command: [\"redis-server\", \"--requirepass\", \"{password}\"]"),
        format!("\tdsn := \"ingest:{password}@tcp(mysql.internal:3306)/events\""),
    ];
    for text in cases {
        assert_eq!(found(&text), [(PASSWORD, password.clone())], "{text}");
    }
    let session = fake(ALNUM, 40, 13);
    assert_eq!(found(&format!("set-cookie: session={session}; Path=/")), [(API_TOKEN, session)]);
    assert!(found("auth=\"Bearer abcdefghijklmnopqrstuvwxyz0123456789\"").is_empty(), "the HTTP rules judge these");
    assert!(found("STRIPE_PUBLISHABLE_KEY = \"pk_live_51Ew90Pt4gdOsdt9CsSSy30e1z9wHxwFpVa1nC\"").is_empty());
}

#[test]
fn names_are_split_into_words() {
    assert_eq!(segments("smtpPass"), ["smtp", "pass"]);
    assert_eq!(segments("dd.api.key"), ["dd", "api", "key"]);
    assert_eq!(segments("checksum/secret"), ["checksum", "secret"]);
    assert_eq!(segments("AWS_SESSION_TOKEN"), ["aws", "session", "token"]);
    let classify_name = |name: &str| classify(&segments(name), &segments_of_last_part(name));
    assert_eq!(classify_name("bypass_cache"), None);
    assert_eq!(classify_name("compass_heading"), None);
    assert_eq!(classify_name("RABBITMQ_DEFAULT_PASS"), Some(Category::Password));
    assert_eq!(classify_name("header.db_password"), Some(Category::Password), "a prefix says nothing of the value");
    assert_eq!(classify_name("password.max_age"), None);
    assert_eq!(classify_name("checksum/secret"), None);
}

#[test]
fn a_dotted_prefix_does_not_hide_a_password() {
    assert_eq!(found("header.db_password=Zq8g7cbDTsUlHXOTlb8b: unknown field").len(), 1);
}
