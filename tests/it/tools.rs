//! Running the Python tools of the `.venv` that `make venv` creates.

use std::path::{Path, PathBuf};
use std::process::Output;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's Python; panics with the fix when `make venv` has not run.
fn python() -> PathBuf {
    let python = root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make venv` (or `make it`) first",
        python.display()
    );
    python
}

/// Runs `script` (a path from the repository root) with `args`, from the root.
pub async fn run_python(script: &str, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(python());
    cmd.current_dir(root())
        .arg(root().join(script))
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .kill_on_drop(true);
    cmd.output()
        .await
        .unwrap_or_else(|e| panic!("run {script}: {e}"))
}

/// stdout and stderr as one text, for failure messages.
pub fn transcript(out: &Output) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
