//! Secret masking on arbitrary text: `redact` and `redact_field` never panic and are
//! idempotent (a report may be redacted twice, and a second pass finding more would
//! mean the first one missed something).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logtriage::report::redact::{is_secret_name, redact, redact_field};
use logtriage::report::sanitize;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let once = redact(&text);
    assert_eq!(redact(&once), once, "redact is not idempotent on {text:?}");
    let _ = sanitize(&once);
    // The first line is used as a field name for the rest.
    let (name, value) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = is_secret_name(name);
    let masked = redact_field(name, value);
    if is_secret_name(name) {
        assert_eq!(
            redact_field(name, &masked),
            masked,
            "redact_field not idempotent"
        );
    }
});
