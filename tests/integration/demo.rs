//! `baton demo`: the README's first command runs the whole chain offline.

use crate::common::{baton, stdout_of};
use crate::gitrepo::git;

#[test]
fn demo_runs_the_chain_and_stage_follows_the_reviewers_edit() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = dir.path().join("sandbox");
    let assert = baton()
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["demo", "--dir"])
        .arg(&sandbox)
        .assert()
        .success();
    let out = stdout_of(&assert);
    assert!(out.contains("(no token, no network)"), "{out}");
    assert!(
        out.contains("dev/us-east-1/vpc/terragrunt.hcl:3  v1.0.0 → v1.2.0"),
        "{out}"
    );
    assert!(out.contains("pending promotion: dev → stage"), "{out}");
    assert!(out.contains("\"version\": \"1.1.0\""), "{out}");
    assert!(
        out.contains("stage/us-east-1/vpc/terragrunt.hcl:3  v1.0.0 → v1.1.0"),
        "{out}"
    );
    assert!(
        out.contains("prod/us-east-1/vpc/terragrunt.hcl:3  v1.0.0 → v1.1.0"),
        "{out}"
    );
    // What landed on origin's main: every environment at the reviewer's version.
    for env in ["dev", "stage", "prod"] {
        let unit = git(
            &sandbox.join("origin.git"),
            &["show", &format!("main:{env}/us-east-1/vpc/terragrunt.hcl")],
        );
        assert!(unit.contains("?ref=v1.1.0"), "{env}: {unit}");
    }
    // sqs was reported but not part of the rollout.
    let sqs = git(
        &sandbox.join("origin.git"),
        &["show", "main:prod/us-east-1/sqs/terragrunt.hcl"],
    );
    assert!(sqs.contains("?ref=v0.8.0"));
}

#[test]
fn demo_without_a_dir_prints_no_path_it_removes() {
    let assert = baton().arg("demo").assert().success();
    let out = stdout_of(&assert);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.contains("in a temporary directory (removed at the end"),
        "{first}"
    );
    assert!(!out.contains("baton-demo-"), "no temporary path: {out}");
}

#[test]
fn status_works_in_the_kept_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = dir.path().join("sandbox");
    baton()
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["demo", "--dir"])
        .arg(&sandbox)
        .assert()
        .success();
    let assert = baton()
        .current_dir(sandbox.join("live"))
        .args(["status", "--format", "text"])
        .assert()
        .success();
    let out = stdout_of(&assert);
    assert!(out.contains("acme/terraform-aws-vpc/vpc"), "{out}");
    assert!(out.contains("DEPENDENCY") && out.contains("prod"), "{out}");
}
