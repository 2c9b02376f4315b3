//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

/// The path of a fixture tree under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The variables of a CI runner (and Baton's own) that no test may inherit.
pub const CLEARED_ENV: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_EVENT_PATH",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "RUST_LOG",
    "BATON_WORKING_DIR",
    "BATON_INCLUDE_DIRS",
    "BATON_EXCLUDE_DIRS",
    "BATON_FORMAT",
    "BATON_ENV",
    "BATON_CONFIG",
    "BATON_CACHE_DIR",
];

/// The `baton` binary with an environment free of the CI runner's variables.
pub fn baton() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("baton").expect("binary built");
    for var in CLEARED_ENV {
        cmd.env_remove(var);
    }
    cmd.env("BATON_LOG", "warn");
    cmd
}

/// Runs the binary with `args` and `envs` off the async runtime, so the stand-ins keep answering.
pub async fn run_with(
    args: Vec<String>,
    envs: Vec<(String, String)>,
) -> assert_cmd::assert::Assert {
    tokio::task::spawn_blocking(move || {
        let mut cmd = baton();
        cmd.args(&args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.assert()
    })
    .await
    .expect("command ran")
}

/// Standard output of a successful run, as UTF-8.
pub fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).expect("UTF-8 stdout")
}

/// Standard output of a run, parsed as JSON.
pub fn json_of(assert: &assert_cmd::assert::Assert) -> serde_json::Value {
    let out = stdout_of(assert);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {out}"))
}

/// `baton scan --working-dir <dir>`, which must succeed, as JSON.
pub fn scan_of(dir: &Path) -> serde_json::Value {
    json_of(
        &baton()
            .args(["scan", "--working-dir"])
            .arg(dir)
            .assert()
            .success(),
    )
}

/// Standard error of a run, as UTF-8.
pub fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// Writes files into a directory, creating parents.
pub fn write_tree(root: &Path, files: &[(&str, &[u8])]) {
    for (rel, content) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
}
