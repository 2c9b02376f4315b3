//! Never silently wrong: `update` and `promote` change only what they should, or refuse with a
//! clear message and nothing written. Each test is named after the rule it pins (`pN_…` for the
//! numbered rule of the README's "Reliability" section) and runs real git with a bare `origin`
//! and the local GitHub stand-in.

use crate::common::{baton, stderr_of, stdout_of, write_tree};
use crate::fake_github::FakeGitHub;
use crate::gitrepo::{Live, git, live_with_origin};
use serde_json::{Value, json};
use std::path::Path;

const TOKEN: &str = "ghs_NEVERWRONGTOKEN0123";

/// Runs `baton <args>` in `dir` off the async runtime (so the stand-in keeps answering), with
/// the repository `acme/live`, a token and the stand-in's URL.
async fn baton_in(
    dir: &Path,
    gh: &FakeGitHub,
    args: &[&str],
    env: &[(&str, &str)],
) -> assert_cmd::assert::Assert {
    let mut cmd = baton();
    cmd.current_dir(dir)
        .env("GITHUB_REPOSITORY", "acme/live")
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_API_URL", gh.api_url())
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.assert())
        .await
        .unwrap()
}

fn json(assert: &assert_cmd::assert::Assert) -> Value {
    let out = stdout_of(assert);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn unit(source: &str) -> Vec<u8> {
    format!("terraform {{\n  source = \"{source}\"\n}}\n\ninputs = {{}}\n").into_bytes()
}

/// Files that differ between `main` and `branch` on origin.
fn changed(live: &Live, branch: &str) -> Vec<String> {
    git(
        &live.origin,
        &["diff", "--name-only", &format!("main...{branch}")],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

fn on_origin(live: &Live, rev: &str, file: &str) -> String {
    git(&live.origin, &["show", &format!("{rev}:{file}")])
}

// ---------------------------------------------------------------------------------------------
// 1. Never downgrade.
// ---------------------------------------------------------------------------------------------

/// Bug pinned: targets were computed from the lowest version in use, and the unit already at
/// v0.97.0 was rewritten down to the next-safe target v0.95.1 without a word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p1_a_usage_newer_than_the_target_is_never_moved_down() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mods", &["v0.97.0", "v0.96.0", "v0.95.1", "v0.95.0"]);
    let live = live_with_origin(&[
        (
            "dev/a/terragrunt.hcl",
            &unit("github.com/acme/mods//modules/vpc?ref=v0.95.0"),
        ),
        (
            "dev/b/terragrunt.hcl",
            &unit("github.com/acme/mods//modules/vpc?ref=v0.97.0"),
        ),
    ]);
    let report = baton_in(
        &live.work,
        &gh,
        &[
            "report",
            "--include-dirs",
            "{*dev*}/**",
            "--update-strategy",
            "next-safe",
        ],
        &[],
    )
    .await
    .success();
    let spec = stdout_of(&report);
    let branch = "baton-dev-updates-acme/mods/vpc";
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "update",
            "--publish",
            "--include-dirs",
            "{*dev*}/**",
            "--update-strategy",
            "next-safe",
            "--spec",
            spec.trim(),
            "--dependency",
            "acme/mods/vpc",
            "--pull-request-branch",
            branch,
        ],
        &[],
    )
    .await
    .success();
    let out = json(&assert);
    assert_eq!(out["updated"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(out["updated"][0]["file"], "dev/a/terragrunt.hcl");
    assert_eq!(out["updated"][0]["to"], "v0.95.1");
    let skipped = out["skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| s["File"] == "dev/b/terragrunt.hcl"
            && s["Reason"] == "already at v0.97.0, newer than the target 0.95.1"),
        "{out}"
    );
    assert!(
        stderr_of(&assert).contains("already at v0.97.0, newer than the target 0.95.1"),
        "{}",
        stderr_of(&assert)
    );
    assert_eq!(changed(&live, branch), vec!["dev/a/terragrunt.hcl"]);
    assert!(on_origin(&live, branch, "dev/b/terragrunt.hcl").contains("?ref=v0.97.0"));

    // The same without a spec (targets resolved as report does), and for a registry range that
    // already admits only newer versions: nothing moves down.
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/a/terragrunt.hcl",
                &unit("github.com/acme/mods//modules/vpc?ref=v0.95.0"),
            ),
            (
                "dev/b/terragrunt.hcl",
                &unit("github.com/acme/mods//modules/vpc?ref=v0.97.0"),
            ),
        ],
    );
    let assert = baton_in(
        dir.path(),
        &gh,
        &["update", "--update-strategy", "next-safe"],
        &[],
    )
    .await
    .success();
    let out = json(&assert);
    assert_eq!(out["updated"].as_array().unwrap().len(), 1, "{out}");
    let b = std::fs::read_to_string(dir.path().join("dev/b/terragrunt.hcl")).unwrap();
    assert!(b.contains("?ref=v0.97.0"), "{b}");
}
