//! `baton status` over the fixture tree `tests/fixtures/live` and small trees written per test.

use crate::common::{baton, fixture, json_of, stderr_of, stdout_of, write_tree};
use std::path::Path;

const LIVE_ENVS: [&str; 6] = [
    "--env",
    "dev={*dev*}/**",
    "--env",
    "stage=stage/**",
    "--env",
    "prod=prod/**",
];

/// `baton status` with none of its own settings taken from the environment.
fn status() -> assert_cmd::Command {
    let mut cmd = baton();
    cmd.arg("status")
        .env_remove("BATON_CONFIG")
        .env_remove("BATON_FAIL_ON_DRIFT");
    cmd
}

fn live(args: &[&str]) -> assert_cmd::assert::Assert {
    status()
        .arg("--working-dir")
        .arg(fixture("live"))
        .args(LIVE_ENVS)
        .args(args)
        .assert()
}

fn module(version: &str) -> Vec<u8> {
    format!(
        "module \"vpc\" {{\n  source = \"github.com/acme/terraform-aws-vpc?ref={version}\"\n}}\n"
    )
    .into_bytes()
}

/// A tree with one module in dev, stage and prod at the given versions.
fn chain_tree(root: &Path, dev: &str, stage: &str, prod: &str) {
    let (dev, stage, prod) = (module(dev), module(stage), module(prod));
    write_tree(
        root,
        &[
            ("dev/vpc/main.tf", &dev),
            ("stage/vpc/main.tf", &stage),
            ("prod/vpc/main.tf", &prod),
        ],
    );
}

#[test]
fn live_tree_in_all_formats() {
    for format in ["text", "markdown", "json"] {
        let assert = live(&["--format", format]).success();
        insta::assert_snapshot!(format!("status_live_{format}"), stdout_of(&assert));
    }
}

#[test]
fn live_tree_drift_mixed_and_absence() {
    let v = json_of(&live(&["--format", "json"]).success());
    assert_eq!(
        v["environments"],
        serde_json::json!(["dev", "stage", "prod"])
    );
    assert_eq!(v["drift"], true);
    let deps = v["dependencies"].as_array().unwrap();
    let dep = |id: &str| {
        deps.iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    let vpc = dep("gruntwork-io/terraform-aws-service-catalog/networking/vpc");
    assert_eq!(
        vpc["drift"],
        serde_json::json!([{"from": "dev", "to": "stage", "behind": "v0.94.2", "ahead": "v0.95.0"}])
    );
    let sqs = dep("gruntwork-io/terraform-aws-messaging/sqs");
    assert_eq!(sqs["mixed"], serde_json::json!(["dev"]));
    assert_eq!(
        sqs["versions"]["dev"],
        serde_json::json!(["v0.7.1", "v0.8.0"])
    );
    assert_eq!(sqs["drift"], serde_json::json!([]));
    let alb = dep("acme/terraform-aws-alb");
    assert_eq!(alb["versions"]["prod"], serde_json::json!([]));
    assert_eq!(alb["drift"], serde_json::json!([]));
    // Branch and commit refs are not versions.
    assert!(
        !deps
            .iter()
            .any(|d| d["id"] == "acme/terraform-aws-ecs/service")
    );
}

#[test]
fn broken_file_is_a_warning_and_the_run_goes_on() {
    let assert = live(&["--format", "text"]).success();
    assert!(
        stderr_of(&assert).contains("warning: dev/us-east-1/broken/terragrunt.hcl:"),
        "{}",
        stderr_of(&assert)
    );
    assert!(stdout_of(&assert).contains("pending promotion: dev → stage"));
}

#[test]
fn fail_on_drift_exits_1_on_drift() {
    let assert = live(&["--fail-on-drift", "--format", "json"]).code(1);
    assert_eq!(
        json_of(&assert)["drift"],
        true,
        "the results are still printed"
    );
    status()
        .env("BATON_FAIL_ON_DRIFT", "true")
        .arg("--working-dir")
        .arg(fixture("live"))
        .args(LIVE_ENVS)
        .assert()
        .code(1);
}

#[test]
fn fail_on_drift_exits_0_without_drift() {
    let dir = tempfile::tempdir().unwrap();
    chain_tree(dir.path(), "v1.1.0", "v1.1.0", "1.1.0");
    let assert = status()
        .arg("--working-dir")
        .arg(dir.path())
        .args(LIVE_ENVS)
        .args(["--fail-on-drift", "--format", "json"])
        .assert()
        .success();
    let v = json_of(&assert);
    assert_eq!(v["drift"], false);
    assert_eq!(v["dependencies"][0]["mixed"], serde_json::json!([]));
}

#[test]
fn an_environment_ahead_is_flagged_but_is_not_drift() {
    let dir = tempfile::tempdir().unwrap();
    chain_tree(dir.path(), "v1.0.0", "v1.0.0", "v1.2.0");
    let assert = status()
        .arg("--working-dir")
        .arg(dir.path())
        .args(LIVE_ENVS)
        .args(["--fail-on-drift", "--format", "json"])
        .assert()
        .success();
    let v = json_of(&assert);
    assert_eq!(v["drift"], false);
    assert_eq!(
        v["dependencies"][0]["ahead"],
        serde_json::json!([{"from": "stage", "to": "prod", "behind": "v1.0.0", "ahead": "v1.2.0"}])
    );
}

#[test]
fn environments_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    chain_tree(dir.path(), "v2.0.0", "v1.0.0", "v1.0.0");
    let legacy = module("v0.1.0");
    let qa = module("v2.0.0");
    write_tree(
        dir.path(),
        &[
            ("prod/legacy/main.tf", &legacy),
            ("acme-qa-1/vpc/main.tf", &qa),
            (
                "baton.toml",
                br#"# Promotion order: dev, then stage, then prod.
[[environments]]
name = "dev"
include = ["{dev,*-qa-*}/**"]

[[environments]]
name = "stage"
include = ["stage/**"]

[[environments]]
name = "prod"
include = ["prod/**"]
exclude = ["prod/legacy/**"]
"#,
            ),
        ],
    );
    let assert = status()
        .arg("--working-dir")
        .arg(dir.path())
        .args(["--format", "json"])
        .assert()
        .success();
    let v = json_of(&assert);
    assert_eq!(
        v["environments"],
        serde_json::json!(["dev", "stage", "prod"])
    );
    let dep = &v["dependencies"][0];
    assert_eq!(dep["versions"]["dev"], serde_json::json!(["v2.0.0"]));
    assert_eq!(
        dep["versions"]["prod"],
        serde_json::json!(["v1.0.0"]),
        "the exclude glob applies"
    );
    assert_eq!(dep["drift"][0]["to"], "stage");

    // The same file named explicitly, from another working directory.
    let config = dir.path().join("baton.toml");
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::rename(&config, elsewhere.path().join("envs.toml")).unwrap();
    let assert = status()
        .arg("--working-dir")
        .arg(dir.path())
        .arg("--config")
        .arg(elsewhere.path().join("envs.toml"))
        .args(["--format", "json", "--fail-on-drift"])
        .assert()
        .code(1);
    assert_eq!(json_of(&assert)["environments"][2], "prod");
}

#[test]
fn invalid_config_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "baton.toml",
            b"[[environments]]\nname = \"dev\"\nincludes = [\"dev/**\"]\n",
        )],
    );
    let assert = status()
        .arg("--working-dir")
        .arg(dir.path())
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(
        err.contains("baton.toml") && err.contains("includes"),
        "{err}"
    );
    assert!(stdout_of(&assert).is_empty());

    // No --env and no config file.
    let empty = tempfile::tempdir().unwrap();
    let assert = status()
        .arg("--working-dir")
        .arg(empty.path())
        .assert()
        .code(2);
    assert!(
        stderr_of(&assert).contains("--env"),
        "{}",
        stderr_of(&assert)
    );

    // A config file named but missing.
    status()
        .arg("--working-dir")
        .arg(empty.path())
        .args(["--config", "/nonexistent/baton/baton.toml"])
        .assert()
        .code(2);
}

#[test]
fn bad_env_flag_exits_2() {
    for bad in ["dev", "=dev/**", "dev=", "dev={dev", "my dev=dev/**"] {
        let assert = status()
            .arg("--working-dir")
            .arg(fixture("live"))
            .args(["--env", bad])
            .assert()
            .code(2);
        assert!(stdout_of(&assert).is_empty(), "{bad}");
        assert!(
            stderr_of(&assert).contains("--env"),
            "{bad}: {}",
            stderr_of(&assert)
        );
    }
    let assert = status()
        .arg("--working-dir")
        .arg(fixture("live"))
        .args(["--env", "dev=dev/**", "--env", "dev=stage/**"])
        .assert()
        .code(2);
    assert!(stderr_of(&assert).contains("twice"));
    status()
        .args([
            "--working-dir",
            "/nonexistent/baton/dir",
            "--env",
            "dev=dev/**",
        ])
        .assert()
        .code(2);
}

#[test]
fn step_summary_is_written_under_actions() {
    let summary = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(summary.path(), "earlier step\n").unwrap();
    let assert = status()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.path())
        .arg("--working-dir")
        .arg(fixture("live"))
        .args(LIVE_ENVS)
        .args(["--format", "json"])
        .assert()
        .success();
    json_of(&assert);
    let written = std::fs::read_to_string(summary.path()).unwrap();
    assert!(written.starts_with("earlier step\n"), "appended: {written}");
    assert!(
        written.contains("| Dependency | dev | stage | prod | Status |"),
        "{written}"
    );
    assert!(written.contains("⚠ pending promotion: dev → stage"));
    assert!(
        stderr_of(&assert).contains("::warning file=dev/us-east-1/broken/terragrunt.hcl"),
        "scan problems are annotations under Actions"
    );

    // Outside Actions the summary file is left alone.
    let untouched = tempfile::NamedTempFile::new().unwrap();
    status()
        .env("GITHUB_STEP_SUMMARY", untouched.path())
        .arg("--working-dir")
        .arg(fixture("live"))
        .args(LIVE_ENVS)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(untouched.path()).unwrap(), "");
}
