//! GitHub's published contract, as the tests read it: `@octokit/openapi` (the REST description)
//! and `@octokit/webhooks-examples` (real event payloads), installed at the versions pinned in
//! `tests/contract/package-lock.json` by `scripts/github-contract.sh`. A run that finds them
//! missing installs them once (from the npm registry, like cargo fetching the crates); a run that
//! cannot install them fails, it never skips the checks.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The folder holding `node_modules/@octokit/…`.
pub fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = std::env::var_os("BATON_GITHUB_CONTRACT")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/github-contract"));
        let status = std::process::Command::new("bash")
            .arg(root.join("scripts/github-contract.sh"))
            .env("BATON_GITHUB_CONTRACT", &dir)
            .status()
            .expect("bash runs scripts/github-contract.sh");
        assert!(
            status.success(),
            "GitHub's contract is not installed in {} and scripts/github-contract.sh failed",
            dir.display()
        );
        dir
    })
}

/// A file of an installed package, e.g. `("openapi", "generated/api.github.com.json")`.
pub fn package_file(package: &str, file: &str) -> PathBuf {
    dir().join("node_modules/@octokit").join(package).join(file)
}

/// The pinned version of an installed package.
pub fn package_version(package: &str) -> String {
    let text =
        std::fs::read_to_string(package_file(package, "package.json")).expect("package.json");
    let json: Value = serde_json::from_str(&text).expect("package.json is JSON");
    json["version"].as_str().expect("version").to_string()
}

fn webhook_examples() -> &'static Vec<Value> {
    static EXAMPLES: OnceLock<Vec<Value>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let path = package_file("webhooks-examples", "api.github.com/index.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("webhooks examples are JSON")
    })
}

/// The first real payload of webhook event `name` (`pull_request`, `repository_dispatch`,
/// `workflow_dispatch`, `release`, …) whose `action` is `action` (any action when `None`), as
/// GitHub documents it. Tests change only the fields their scenario needs.
pub fn webhook(name: &str, action: Option<&str>) -> Value {
    let event = webhook_examples()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no webhook examples for {name:?}"));
    event["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .find(|x| action.is_none_or(|a| x["action"] == a))
        .unwrap_or_else(|| panic!("no {name:?} example with action {action:?}"))
        .clone()
}
