//! What API consumers rely on: the schema holds under fuzzing, and the
//! guide's example really runs.

use crate::base_url;
use crate::tools::{run_python, transcript};

/// The seed of the schemathesis run in `make test`, so a run is repeatable;
/// `make api-fuzz` explores with a fresh seed each time.
const FUZZ_SEED: &str = "20261204";

pub async fn schemathesis_finds_no_server_error_or_schema_mismatch() {
    let out = run_python("tests/api-fuzz/run.py", &[base_url(), "--seed", FUZZ_SEED]).await;
    let text = transcript(&out);
    assert!(out.status.success(), "schemathesis failed:\n{text}");
    // The count of cases, for the test log.
    let summary = text
        .lines()
        .skip_while(|l| !l.starts_with("Test cases:"))
        .nth(1)
        .unwrap_or("no summary")
        .trim();
    eprintln!("schemathesis: {summary}");
}

pub async fn guide_example_chats_over_a_socket() {
    let script = include_str!("../../docs/examples/chat.py");
    let guide = include_str!("../../docs/guide.md");
    assert!(
        guide.contains(script.trim()),
        "docs/guide.md must show docs/examples/chat.py exactly as it is"
    );
    let out = run_python("docs/examples/chat.py", &[base_url()]).await;
    let text = transcript(&out);
    assert!(out.status.success(), "the example failed:\n{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("seq 1, durably stored"),
        "{text}"
    );
}
