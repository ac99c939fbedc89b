//! Token estimates per content class (prose, code, JSON, logs, hex, base64, CJK).
