//! Credential and PII detectors with stable rule ids, and redaction with `[REDACTED:<rule-id>]` markers.
