//! Never silently wrong: `update` and `promote` change only what they should, or refuse with a
//! clear message and nothing written. Each test is named after the rule it pins (`pN_…` for the
//! numbered rule of the book's "Reliability" page, docs/src/reliability.md) and runs real git with a bare `origin`
//! and the local GitHub stand-in.

use crate::common::{baton, stderr_of, stdout_of, write_tree};
use crate::events;
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

// ---------------------------------------------------------------------------------------------
// 2. The spec's IncludeDirPattern and ExcludeDirPattern bound the update.
// ---------------------------------------------------------------------------------------------

fn four_envs() -> Vec<(&'static str, Vec<u8>)> {
    let u = || unit("github.com/acme/mods//modules/vpc?ref=v1.0.0");
    vec![
        ("dev/vpc/terragrunt.hcl", u()),
        ("gruntwork-dev-account1/vpc/terragrunt.hcl", u()),
        ("stage/vpc/terragrunt.hcl", u()),
        ("prod/vpc/terragrunt.hcl", u()),
    ]
}

fn live_of(files: &[(&'static str, Vec<u8>)]) -> Live {
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (*p, c.as_slice())).collect();
    live_with_origin(&refs)
}

/// The files of the working copy that differ from the last commit.
fn modified(work: &Path) -> Vec<String> {
    let mut out: Vec<String> = git(work, &["diff", "--name-only"])
        .lines()
        .map(str::to_string)
        .collect();
    out.sort();
    out
}

/// Bug pinned: `update --spec-file dev-spec.json --dependency X` without `--include-dirs`
/// scanned the whole working directory and changed dev, stage and prod.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2_an_update_never_edits_outside_the_environment_its_spec_was_made_for() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/mods", &["v1.1.0", "v1.0.0"]);
    let live = live_of(&four_envs());
    let spec_file = live.root.path().join("dev-spec.json");
    let spec_arg = spec_file.to_str().unwrap();
    baton_in(
        &live.work,
        &gh,
        &[
            "report",
            "--include-dirs",
            "{*dev*}/**",
            "--spec-file",
            spec_arg,
        ],
        &[],
    )
    .await
    .success();
    let dev = vec![
        "dev/vpc/terragrunt.hcl".to_string(),
        "gruntwork-dev-account1/vpc/terragrunt.hcl".to_string(),
    ];

    // Working directory ./ and no --include-dirs: the spec's pattern bounds the update.
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "update",
            "--spec-file",
            spec_arg,
            "--dependency",
            "acme/mods/vpc",
        ],
        &[],
    )
    .await
    .success();
    assert_eq!(json(&assert)["updated"].as_array().unwrap().len(), 2);
    assert_eq!(modified(&live.work), dev);
    git(&live.work, &["checkout", "-q", "--", "."]);

    // Patcher's update step: working_dir is the environment's folder, the spec was made at ./.
    baton_in(
        &live.work,
        &gh,
        &[
            "update",
            "--working-dir",
            "dev",
            "--spec-file",
            spec_arg,
            "--dependency",
            "acme/mods/vpc",
        ],
        &[],
    )
    .await
    .success();
    assert_eq!(modified(&live.work), vec!["dev/vpc/terragrunt.hcl"]);
    git(&live.work, &["checkout", "-q", "--", "."]);

    // A spec as Patcher writes it (no record of where it was made) is read from the repository
    // root, where Patcher's report runs.
    let patcher: Value =
        serde_json::from_str(&std::fs::read_to_string(&spec_file).unwrap()).unwrap();
    let patcher =
        json!({"IncludeDirPattern": patcher["IncludeDirPattern"], "ExcludeDirPattern": "",
        "Dependencies": [{"ID": "acme/mods/vpc", "Org": "acme", "Repo": "mods", "Module": "vpc",
        "Constraints": null, "TargetSafeVersion": "1.1.0", "TargetBreakingVersion": null}]})
        .to_string();
    baton_in(
        &live.work,
        &gh,
        &[
            "update",
            "--spec",
            &patcher,
            "--dependency",
            "acme/mods/vpc",
        ],
        &[],
    )
    .await
    .success();
    assert_eq!(modified(&live.work), dev);
    git(&live.work, &["checkout", "-q", "--", "."]);

    // A spec made for another folder than the working directory: Baton cannot tell which files
    // are the environment, so it refuses, names the flag, and writes nothing.
    let stage_spec = live.root.path().join("stage-spec.json");
    baton_in(
        &live.work,
        &gh,
        &[
            "report",
            "--working-dir",
            "stage",
            "--spec-file",
            stage_spec.to_str().unwrap(),
        ],
        &[],
    )
    .await
    .success();
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "update",
            "--working-dir",
            "dev",
            "--spec-file",
            stage_spec.to_str().unwrap(),
            "--dependency",
            "acme/mods/vpc",
        ],
        &[],
    )
    .await
    .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("--include-dirs"), "{err}");
    assert!(modified(&live.work).is_empty());

    // The spec's pattern matches nothing where it is read: refused the same way.
    let qa = json!({"IncludeDirPattern": "{*qa*}/**", "ExcludeDirPattern": "", "Dependencies": [
        {"ID": "acme/mods/vpc", "TargetSafeVersion": "1.1.0"}]})
    .to_string();
    let assert = baton_in(
        &live.work,
        &gh,
        &["update", "--spec", &qa, "--dependency", "acme/mods/vpc"],
        &[],
    )
    .await
    .code(2);
    assert!(
        stderr_of(&assert).contains("--include-dirs"),
        "{}",
        stderr_of(&assert)
    );
    assert!(modified(&live.work).is_empty());
}

/// Runs `baton action` in `workspace` as the Actions runner runs a container action: inputs as
/// `INPUT_*`, outputs through `GITHUB_OUTPUT`; returns the run and its outputs.
async fn action(
    workspace: &Path,
    gh: &FakeGitHub,
    inputs: &[(&str, &str)],
    env: &[(&str, &str)],
) -> (
    assert_cmd::assert::Assert,
    std::collections::HashMap<String, String>,
) {
    let files = tempfile::tempdir().unwrap();
    let output = files.path().join("output");
    std::fs::write(&output, "").unwrap();
    let mut cmd = baton();
    cmd.arg("action")
        .current_dir(workspace)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", files.path().join("summary.md"))
        .env("GITHUB_REPOSITORY", "acme/live")
        .env("GIT_CONFIG_GLOBAL", files.path().join("gitconfig"))
        .env("INPUT_GITHUB_BASE_URL", gh.api_url());
    for (name, value) in inputs {
        cmd.env(format!("INPUT_{}", name.to_uppercase()), value);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let assert = tokio::task::spawn_blocking(move || cmd.assert())
        .await
        .unwrap();
    let text = std::fs::read_to_string(&output).unwrap();
    let mut outputs = std::collections::HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delimiter) = line.split_once("<<").expect("name<<DELIMITER");
        let mut value = Vec::new();
        for l in lines.by_ref() {
            if l == delimiter {
                break;
            }
            value.push(l);
        }
        outputs.insert(name.to_string(), value.join("\n"));
    }
    (assert, outputs)
}

/// Scenario: the report and update steps of Patcher's own `update-dev.yml` (see
/// `../shared/patcher-examples/`), inputs copied as they are, played against `baton action`: the
/// report runs at `./` with `{*dev*}/**` and writes the spec file; the update runs with
/// `working_dir: dev`, no `include_dirs`, the spec file, the matrix's dependency and
/// `pull_request_branch: $PR_BRANCH_PREFIX$ID`. Only dev changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_patchers_update_dev_step_changes_only_dev() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mods", &["v1.1.0", "v1.0.0"]);
    let live = live_of(&four_envs());
    let spec_file = live.root.path().join("patcher-spec.json");
    let spec_file = spec_file.to_str().unwrap();
    // patcher-report
    let (assert, outputs) = action(
        &live.work,
        &gh,
        &[
            ("patcher_command", "report"),
            ("github_token", TOKEN),
            ("include_dirs", "{*dev*}/**"),
            ("working_dir", "./"),
            ("spec_file", spec_file),
        ],
        &[],
    )
    .await;
    assert.success();
    let spec: Value = serde_json::from_str(&outputs["spec"]).unwrap();
    let id = spec["Dependencies"][0]["ID"].as_str().unwrap().to_string();
    assert_eq!(id, "acme/mods/vpc");
    // update-env, one matrix job: `echo '<spec>' > /tmp/patcher-spec.json`, then the update.
    std::fs::write(spec_file, &outputs["spec"]).unwrap();
    let branch = format!("patcherv2-dev-updates-{id}");
    let title = format!("[Patcher] [dev] Update {id}");
    let (assert, outputs) = action(
        &live.work,
        &gh,
        &[
            ("patcher_command", "update"),
            ("github_token", TOKEN),
            ("working_dir", "dev"),
            ("dependency", &id),
            ("spec_file", spec_file),
            ("pull_request_title", &title),
            ("pull_request_branch", &branch),
        ],
        &[],
    )
    .await;
    assert.success();
    assert_eq!(outputs["pull_request_number"], "1");
    assert_eq!(changed(&live, &branch), vec!["dev/vpc/terragrunt.hcl"]);
    assert!(on_origin(&live, &branch, "dev/vpc/terragrunt.hcl").contains("?ref=v1.1.0"));
    for other in [
        "gruntwork-dev-account1/vpc/terragrunt.hcl",
        "stage/vpc/terragrunt.hcl",
        "prod/vpc/terragrunt.hcl",
    ] {
        assert_eq!(
            on_origin(&live, &branch, other),
            on_origin(&live, "main", other),
            "{other}"
        );
    }
    assert_eq!(gh.pulls("acme/live")[0]["title"], title);
}

// ---------------------------------------------------------------------------------------------
// 3. A re-run never erases a reviewer's commit.
// ---------------------------------------------------------------------------------------------

/// A reviewer's clone of origin pushes a commit to `branch` that sets `from` → `to` in `file`.
fn reviewer_pushes(live: &Live, branch: &str, file: &str, from: &str, to: &str) -> String {
    let clone = live.root.path().join("reviewer");
    if !clone.exists() {
        git(
            live.root.path(),
            &["clone", "-q", live.origin.to_str().unwrap(), "reviewer"],
        );
    }
    git(&clone, &["fetch", "-q", "origin"]);
    git(
        &clone,
        &["checkout", "-q", "-B", branch, &format!("origin/{branch}")],
    );
    let path = clone.join(file);
    let text = std::fs::read_to_string(&path).unwrap().replace(from, to);
    std::fs::write(&path, text).unwrap();
    git(&clone, &["commit", "-q", "-am", "Stay on 1.3 for now"]);
    git(&clone, &["push", "-q", "origin", branch]);
    git(&clone, &["rev-parse", "HEAD"]).trim().to_string()
}

fn branch_sha(live: &Live, branch: &str) -> String {
    git(
        &live.origin,
        &["rev-parse", &format!("refs/heads/{branch}")],
    )
    .trim()
    .to_string()
}

/// Bug pinned: a reviewer pushed `v1.3.0` instead of `v2.0.0` to the open update branch, and the
/// next scheduled run force-pushed over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_a_rerun_leaves_a_branch_holding_a_reviewers_commit_alone() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mods", &["v2.0.0", "v1.3.0", "v1.0.0"]);
    let live = live_with_origin(&[(
        "dev/vpc/terragrunt.hcl",
        &unit("github.com/acme/mods//modules/vpc?ref=v1.0.0"),
    )]);
    let spec = json!({"IncludeDirPattern": "{*dev*}/**", "ExcludeDirPattern": "", "Dependencies": [
        {"ID": "acme/mods/vpc", "Org": "acme", "Repo": "mods", "Module": "vpc", "Constraints": null,
         "TargetSafeVersion": null, "TargetBreakingVersion": "2.0.0"}]})
    .to_string();
    let inputs = |force: &'static str| {
        vec![
            ("patcher_command", "update"),
            ("github_token", TOKEN),
            ("include_dirs", "{*dev*}/**"),
            ("dependency", "acme/mods/vpc"),
            ("pull_request_branch_prefix", "baton-dev-updates-"),
            ("environment", "dev"),
            ("force_push_over_edits", force),
        ]
    };
    let branch = "baton-dev-updates-acme/mods/vpc";
    let file = "dev/vpc/terragrunt.hcl";
    let mut first = inputs("");
    first.push(("spec", &spec));
    let (assert, outputs) = action(&live.work, &gh, &first, &[]).await;
    assert.success();
    assert_eq!(outputs["pull_request_number"], "1");
    // Baton marks its commit: a trailer, and its author.
    let message = git(&live.origin, &["log", "-1", "--format=%an|%B", branch]);
    assert!(message.starts_with("github-actions[bot]|"), "{message}");
    assert!(
        message.contains("\nBaton-Update: acme/mods/vpc\n"),
        "{message}"
    );

    let reviewed = reviewer_pushes(&live, branch, file, "v2.0.0", "v1.3.0");
    let patches_before = gh
        .requests()
        .iter()
        .filter(|r| r.starts_with("PATCH"))
        .count();

    // The Monday run: same job, same inputs.
    git(&live.work, &["checkout", "-q", "main"]);
    let (assert, outputs) = action(&live.work, &gh, &first, &[]).await;
    let stderr = stderr_of(&assert);
    assert.success();
    assert_eq!(
        branch_sha(&live, branch),
        reviewed,
        "the reviewer's commit stays"
    );
    assert!(on_origin(&live, branch, file).contains("?ref=v1.3.0"));
    assert_eq!(outputs["pull_request_edited"], "true");
    assert_eq!(outputs["pull_request_number"], "1");
    assert!(
        stderr.contains(
            "::warning title=Baton::branch baton-dev-updates-acme/mods/vpc holds commits Baton did not make"
        ),
        "{stderr}"
    );
    assert_eq!(
        gh.requests()
            .iter()
            .filter(|r| r.starts_with("PATCH"))
            .count(),
        patches_before,
        "the pull request is left alone"
    );
    assert_eq!(gh.pulls("acme/live").len(), 1);

    // Asked for, the force-push replaces the branch.
    git(&live.work, &["checkout", "-q", "main"]);
    let mut forced = inputs("true");
    forced.push(("spec", &spec));
    let (assert, outputs) = action(&live.work, &gh, &forced, &[]).await;
    assert.success();
    assert_eq!(outputs["pull_request_edited"], "false");
    assert!(on_origin(&live, branch, file).contains("?ref=v2.0.0"));
    assert_eq!(
        git(
            &live.origin,
            &["rev-list", "--count", &format!("main..{branch}")]
        )
        .trim(),
        "1"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. A total failure is not green.
// ---------------------------------------------------------------------------------------------

/// Bug pinned: with every lookup failing (no network, a wrong token, the API down), `report`
/// exited 0 with an empty spec and `has_dependencies=false`: the update job was skipped and the
/// run was green.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p4_report_exits_3_when_no_dependency_could_be_checked() {
    let gh = FakeGitHub::start("").await;
    // acme/net and acme/data are unknown to the stand-in: every lookup answers 404.
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/net/terragrunt.hcl",
                &unit("github.com/acme/net//modules/vpc?ref=v1.0.0"),
            ),
            (
                "dev/data/terragrunt.hcl",
                &unit("github.com/acme/data//modules/db?ref=v1.0.0"),
            ),
        ],
    );
    let inputs = [
        ("patcher_command", "report"),
        ("github_token", TOKEN),
        ("include_dirs", "{*dev*}/**"),
    ];
    let (assert, outputs) = action(dir.path(), &gh, &inputs, &[]).await;
    let stderr = stderr_of(&assert);
    assert.code(3);
    assert!(
        stderr.contains("no dependency could be checked") && stderr.contains("acme/net/vpc"),
        "{stderr}"
    );
    assert!(stderr.contains("404"), "{stderr}");
    assert_eq!(outputs["has_dependencies"], "false");
    assert_eq!(outputs["unreachable"], r#"["acme/data/db","acme/net/vpc"]"#);
    let assert = baton_in(
        dir.path(),
        &gh,
        &["report", "--include-dirs", "{*dev*}/**"],
        &[],
    )
    .await
    .code(3);
    assert!(stderr_of(&assert).contains("no dependency could be checked"));
    // An update that resolves its own targets refuses the same way, before writing anything.
    baton_in(
        dir.path(),
        &gh,
        &["update", "--include-dirs", "{*dev*}/**"],
        &[],
    )
    .await
    .code(3);

    // Partial failure: exit 0 with annotations and the `unreachable` output, or 1 when asked.
    gh.add_repo("acme/net", &["v1.1.0", "v1.0.0"]);
    let (assert, outputs) = action(dir.path(), &gh, &inputs, &[]).await;
    let stderr = stderr_of(&assert);
    assert.success();
    assert!(
        stderr.contains("::warning file=dev/data/terragrunt.hcl"),
        "{stderr}"
    );
    assert_eq!(outputs["unreachable"], r#"["acme/data/db"]"#);
    assert_eq!(outputs["has_dependencies"], "true");
    let mut failing = inputs.to_vec();
    failing.push(("fail_on_unreachable", "true"));
    action(dir.path(), &gh, &failing, &[]).await.0.code(1);
    baton_in(
        dir.path(),
        &gh,
        &[
            "report",
            "--include-dirs",
            "{*dev*}/**",
            "--fail-on-unreachable",
        ],
        &[],
    )
    .await
    .code(1);
}

// ---------------------------------------------------------------------------------------------
// 5. A dependency that matches nothing is said plainly, with the closest ID.
// ---------------------------------------------------------------------------------------------

/// Bug pinned: a `--dependency` matching no usage (a typo, a truncated ID) gave an empty result
/// with exit 0 and not a word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p5_a_dependency_matching_no_usage_says_so_with_the_closest_id() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/terraform-aws-vpc", &["v1.1.0", "v1.0.0"]);
    let vpc = unit("github.com/acme/terraform-aws-vpc//modules/vpc?ref=v1.0.0");
    let old = unit("github.com/acme/terraform-aws-vpc//modules/vpc?ref=v0.9.0");
    let live = live_with_origin(&[
        ("dev/vpc/terragrunt.hcl", &vpc),
        ("stage/vpc/terragrunt.hcl", &old),
    ]);
    let hint = "did you mean acme/terraform-aws-vpc/vpc?";

    // report: the ID is named plainly, exit 2.
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "report",
            "--include-dirs",
            "{*dev*}/**",
            "--dependency",
            "acme/vpc/vpc",
        ],
        &[],
    )
    .await
    .code(2);
    let err = stderr_of(&assert);
    assert!(
        err.contains("no usage of acme/vpc/vpc in {*dev*}/**") && err.contains(hint),
        "{err}"
    );

    // update given an ID that is not in its spec: exit 2, nothing written.
    let spec = stdout_of(
        &baton_in(
            &live.work,
            &gh,
            &["report", "--include-dirs", "{*dev*}/**"],
            &[],
        )
        .await
        .success(),
    );
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "update",
            "--include-dirs",
            "{*dev*}/**",
            "--spec",
            spec.trim(),
            "--dependency",
            "acme/terraform-aws-vpc",
        ],
        &[],
    )
    .await
    .code(2);
    let err = stderr_of(&assert);
    assert!(
        err.contains("acme/terraform-aws-vpc") && err.contains(hint),
        "{err}"
    );
    assert!(modified(&live.work).is_empty());

    // On the promotion path the next environment may simply not use it: said, exit 0.
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "report",
            "--include-dirs",
            "{*stage*}/**",
            "--promote-from",
            "{*dev*}/**",
            "--dependency",
            "acme/vpc/vpc",
        ],
        &[],
    )
    .await
    .success();
    let err = stderr_of(&assert);
    assert!(
        err.contains("no usage of acme/vpc/vpc in {*stage*}/**") && err.contains(hint),
        "{err}"
    );
    assert_eq!(json(&assert)["Dependencies"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// 6. promote never guesses between versions.
// ---------------------------------------------------------------------------------------------

/// Pull request `number` from `branch` of `acme/live`, labelled `updates-dev`, merged as `sha`
/// (its head commit too), as GitHub's `pull_request` `closed` event carries it.
fn merged_event(number: u64, branch: &str, sha: &str) -> Value {
    events::pull_request_closed(
        number,
        branch,
        sha,
        sha,
        true,
        &["updates-dev"],
        "acme/live",
    )
}

fn write_event(live: &Live, name: &str, event: &Value) -> String {
    let path = live.root.path().join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec(event).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

/// Bug pinned: `promote` without `include_dirs` read the whole repository and dispatched prod's
/// 0.95.0 instead of dev's 0.97.0, after a garbled `warning: : …`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p6_promote_refuses_when_its_folders_hold_several_versions() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    let live = live_with_origin(&[
        (
            "dev/vpc/terragrunt.hcl",
            &unit("github.com/acme/mods//modules/vpc?ref=v0.97.0"),
        ),
        (
            "prod/vpc/terragrunt.hcl",
            &unit("github.com/acme/mods//modules/vpc?ref=v0.95.0"),
        ),
    ]);
    let sha = git(&live.work, &["rev-parse", "HEAD"]).trim().to_string();
    let event = write_event(
        &live,
        "closed",
        &merged_event(4, "baton-dev-updates-acme/mods/vpc", &sha),
    );
    let promote = [
        "promote",
        "--pull-request-branch-prefix",
        "baton-dev-updates-",
        "--environment",
        "dev",
    ];
    let assert = baton_in(&live.work, &gh, &promote, &[("GITHUB_EVENT_PATH", &event)])
        .await
        .code(2);
    let err = stderr_of(&assert);
    for needle in [
        "v0.95.0 (prod/vpc/terragrunt.hcl:2)",
        "v0.97.0 (dev/vpc/terragrunt.hcl:2)",
        "--include-dirs",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert!(!err.contains("warning: :"), "{err}");
    assert!(gh.state.lock().unwrap().dispatches.is_empty());

    // With include_dirs, as the examples pass it: dev's version is dispatched.
    let mut with_dirs = promote.to_vec();
    with_dirs.extend(["--include-dirs", "{*dev*}/**"]);
    baton_in(
        &live.work,
        &gh,
        &with_dirs,
        &[("GITHUB_EVENT_PATH", &event)],
    )
    .await
    .success();
    let dispatches = gh.state.lock().unwrap().dispatches.clone();
    assert_eq!(dispatches[0].1["client_payload"]["version"], "0.97.0");
}

// ---------------------------------------------------------------------------------------------
// 7. Forged or stale promotions are refused.
// ---------------------------------------------------------------------------------------------

/// Commits `file` with `from` replaced by `to` on main and pushes; returns the commit.
fn land(live: &Live, file: &str, from: &str, to: &str) -> String {
    let path = live.work.join(file);
    let text = std::fs::read_to_string(&path).unwrap().replace(from, to);
    std::fs::write(&path, text).unwrap();
    git(
        &live.work,
        &["commit", "-q", "-am", &format!("{file}: {to}")],
    );
    git(&live.work, &["push", "-q", "origin", "main"]);
    git(&live.work, &["rev-parse", "HEAD"]).trim().to_string()
}

/// Bugs pinned: `promote` relied on the workflow's `if:` to ignore pull requests from forks; a
/// `repository_dispatch` payload was believed as sent, whatever the previous environment ran at
/// its `sha`, pre-releases and unpublished versions included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p7_forged_or_stale_promotions_are_refused() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mods", &["v1.3.0-rc.1", "v1.2.0", "v1.1.0", "v1.0.0"]);
    let src = "github.com/acme/mods//modules/vpc?ref=";
    let live = live_with_origin(&[
        ("dev/vpc/terragrunt.hcl", &unit(&format!("{src}v1.0.0"))),
        ("stage/vpc/terragrunt.hcl", &unit(&format!("{src}v1.0.0"))),
    ]);
    let file = "dev/vpc/terragrunt.hcl";

    // A merged pull request from a fork, even on an update branch: nothing is sent.
    let fork = events::from_fork(
        merged_event(5, "baton-dev-updates-acme/mods/vpc", "abc"),
        events::FORK,
    );
    let event = write_event(&live, "fork", &fork);
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "promote",
            "--include-dirs",
            "{*dev*}/**",
            "--pull-request-branch-prefix",
            "baton-dev-updates-",
            "--environment",
            "dev",
        ],
        &[("GITHUB_EVENT_PATH", &event)],
    )
    .await
    .success();
    let out = json(&assert);
    assert_eq!(out["dispatched"], false);
    assert!(
        out["reason"].as_str().unwrap().contains("mallory/live"),
        "{out}"
    );
    assert!(gh.state.lock().unwrap().dispatches.is_empty());

    // dev lands 1.1.0 at `landed`, then main moves on to 1.2.0.
    let landed = land(&live, file, "v1.0.0", "v1.1.0");
    land(&live, file, "v1.1.0", "v1.2.0");
    let dispatch = |version: &str, sha: &str| {
        events::repository_dispatch(
            "dev_updates_merged",
            json!({
                "dependency": "acme/mods/vpc", "version": version, "ref": "refs/heads/main",
                "sha": sha, "branch": "baton-dev-updates-acme/mods/vpc", "environment": "dev",
                "pull_request": 7}),
            "acme/live",
        )
    };
    let run = |name: &str, version: &str, sha: &str, args: &'static [&'static str]| {
        let event = write_event(&live, name, &dispatch(version, sha));
        let gh = &gh;
        let work = live.work.clone();
        async move {
            baton_in(
                &work,
                gh,
                args,
                &[
                    ("GITHUB_EVENT_NAME", "repository_dispatch"),
                    ("GITHUB_EVENT_PATH", &event),
                ],
            )
            .await
        }
    };
    const STAGE_REPORT: &[&str] = &[
        "report",
        "--include-dirs",
        "{*stage*}/**",
        "--promote-from",
        "{*dev*}/**",
    ];
    const PAYLOAD_ONLY: &[&str] = &["report", "--include-dirs", "{*stage*}/**"];

    // What dev ran at the payload's commit counts, not what main holds now.
    let assert = run("ok", "1.1.0", &landed, STAGE_REPORT).await.success();
    assert_eq!(
        json(&assert)["Dependencies"][0]["TargetSafeVersion"],
        "1.1.0"
    );
    assert_eq!(
        git(&live.work, &["worktree", "list"]).lines().count(),
        1,
        "the commit was read in a worktree that is gone"
    );

    // A payload whose version is not what dev ran at its commit: refused.
    let assert = run("stale", "1.2.0", &landed, STAGE_REPORT).await.code(2);
    let err = stderr_of(&assert);
    assert!(
        err.contains("1.2.0") && err.contains("runs 1.1.0") && err.contains(&landed[..7]),
        "{err}"
    );

    // A pre-release, or a version that was never published: refused.
    let assert = run("rc", "1.3.0-rc.1", &landed, PAYLOAD_ONLY).await.code(2);
    assert!(
        stderr_of(&assert).contains("pre-release"),
        "{}",
        stderr_of(&assert)
    );
    let assert = run("ghost", "1.5.0", &landed, PAYLOAD_ONLY).await.code(2);
    assert!(
        stderr_of(&assert).contains("1.5.0 is not a published version of acme/mods/vpc"),
        "{}",
        stderr_of(&assert)
    );
    assert!(modified(&live.work).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 8. Branch names never collide, and never take over a branch Baton did not make.
// ---------------------------------------------------------------------------------------------

/// Bugs pinned: IDs `acme/vpc` (a repository's root module) and `acme/vpc/endpoints` gave the
/// branches `prefix-acme/vpc` and `prefix-acme/vpc/endpoints`, which git cannot hold both (the
/// second push failed, blaming token permissions); `pull_request_branch` naming a hotfix branch
/// was force-pushed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p8_branch_names_never_collide_or_take_over_other_branches() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/vpc", &["v1.1.0", "v1.0.0"]);
    let live = live_with_origin(&[
        (
            "dev/vpc/terragrunt.hcl",
            &unit("github.com/acme/vpc?ref=v1.0.0"),
        ),
        (
            "dev/endpoints/terragrunt.hcl",
            &unit("github.com/acme/vpc//modules/endpoints?ref=v1.0.0"),
        ),
    ]);
    let spec = stdout_of(
        &baton_in(
            &live.work,
            &gh,
            &["report", "--include-dirs", "{*dev*}/**"],
            &[],
        )
        .await
        .success(),
    );
    let spec = spec.trim().to_string();
    // The examples' update step: `pull_request_branch: $PREFIX$ID`, one job per dependency.
    for id in ["acme/vpc/endpoints", "acme/vpc"] {
        git(&live.work, &["checkout", "-q", "main"]);
        let branch = format!("baton-dev-updates-{id}");
        let (assert, _) = action(
            &live.work,
            &gh,
            &[
                ("patcher_command", "update"),
                ("github_token", TOKEN),
                ("include_dirs", "{*dev*}/**"),
                ("spec", &spec),
                ("dependency", id),
                ("pull_request_branch", &branch),
                ("environment", "dev"),
            ],
            &[],
        )
        .await;
        assert.success();
    }
    let branches = git(&live.origin, &["branch", "--format=%(refname:short)"]);
    let mut branches: Vec<&str> = branches.lines().collect();
    branches.sort_unstable();
    assert_eq!(
        branches,
        vec![
            "baton-dev-updates-acme/vpc/endpoints",
            "baton-dev-updates-acme/vpc@root",
            "main"
        ]
    );
    assert_eq!(
        changed(&live, "baton-dev-updates-acme/vpc@root"),
        vec!["dev/vpc/terragrunt.hcl"]
    );
    assert_eq!(gh.pulls("acme/live").len(), 2);

    // promote reads both schemes back: `$PREFIX$ID@root`, and `$PREFIX$ID` as Patcher names it.
    let sha = git(&live.work, &["rev-parse", "HEAD"]).trim().to_string();
    for (n, branch) in [
        (1, "baton-dev-updates-acme/vpc@root"),
        (2, "baton-dev-updates-acme/vpc"),
        (3, "baton-dev-updates-acme/vpc/endpoints"),
    ] {
        let event = write_event(&live, &format!("merged{n}"), &merged_event(n, branch, &sha));
        let assert = baton_in(
            &live.work,
            &gh,
            &[
                "promote",
                "--include-dirs",
                "{*dev*}/**",
                "--pull-request-branch-prefix",
                "baton-dev-updates-",
                "--environment",
                "dev",
            ],
            &[("GITHUB_EVENT_PATH", &event)],
        )
        .await
        .success();
        let want = if n == 3 {
            "acme/vpc/endpoints"
        } else {
            "acme/vpc"
        };
        assert_eq!(json(&assert)["payload"]["dependency"], want, "{branch}");
    }

    // Never the default branch, never a branch Baton did not make.
    git(&live.work, &["checkout", "-q", "-b", "hotfix", "main"]);
    std::fs::write(live.work.join("dev/vpc/README.md"), "urgent\n").unwrap();
    git(&live.work, &["add", "-A"]);
    git(&live.work, &["commit", "-q", "-m", "hotfix"]);
    git(&live.work, &["push", "-q", "origin", "hotfix"]);
    let hotfix = branch_sha(&live, "hotfix");
    git(&live.work, &["checkout", "-q", "main"]);
    for (branch, needle) in [("main", "default branch"), ("hotfix", "not made by Baton")] {
        let assert = baton_in(
            &live.work,
            &gh,
            &[
                "update",
                "--publish",
                "--include-dirs",
                "{*dev*}/**",
                "--spec",
                &spec,
                "--dependency",
                "acme/vpc",
                "--pull-request-branch",
                branch,
            ],
            &[],
        )
        .await
        .code(2);
        let err = stderr_of(&assert);
        assert!(err.contains(needle), "{branch}: {err}");
        assert!(modified(&live.work).is_empty());
    }
    assert_eq!(branch_sha(&live, "hotfix"), hotfix);
}

// ---------------------------------------------------------------------------------------------
// 9. No lost edit, no half-published update.
// ---------------------------------------------------------------------------------------------

fn thirty_units(live_dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for i in 0..30 {
        let rel = format!("dev/u{i:02}/terragrunt.hcl");
        write_tree(
            live_dir,
            &[(&rel, &unit("github.com/acme/mods//modules/vpc?ref=v1.0.0"))],
        );
        files.push(rel);
    }
    files
}

/// Bug pinned: a file edited by someone else between Baton's read and its write was overwritten
/// (852 of 1,500 files lost a concurrent change). The write must find the bytes it read, or
/// leave the file and report it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p9_a_file_changed_after_it_was_read_is_left_and_reported() {
    use baton::find::env::DirFilter;
    use baton::find::scan::{ScanRequest, scan};
    use baton::update::plan;
    let live = live_with_origin(&[]);
    let files = thirty_units(&live.work);
    let request = ScanRequest {
        working_dir: live.work.clone(),
        dirs: DirFilter::new(&["dev/**"], &[] as &[&str]).unwrap(),
    };
    let report = scan(&request).unwrap();
    let targets = std::collections::BTreeMap::from([(
        "acme/mods/vpc".to_string(),
        baton::version::Version::new(1, 1, 0),
    )]);
    let planned = plan::plan(&live.work, &report, &targets);
    assert_eq!(planned.files.len(), 30);
    // Someone edits ten of the files after Baton read them, before it writes.
    for rel in files.iter().take(10) {
        let path = live.work.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("# edited meanwhile\n{text}")).unwrap();
    }
    let failures = plan::write(&planned);
    let failed: Vec<&str> = failures.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(
        failed,
        files
            .iter()
            .take(10)
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert!(
        failures[0].message.contains("changed since Baton read it"),
        "{failures:?}"
    );
    for (i, rel) in files.iter().enumerate() {
        let text = std::fs::read_to_string(live.work.join(rel)).unwrap();
        if i < 10 {
            assert!(
                text.starts_with("# edited meanwhile\n"),
                "{rel}: the edit is kept"
            );
            assert!(text.contains("?ref=v1.0.0"), "{rel}");
        } else {
            assert!(text.contains("?ref=v1.1.0"), "{rel}");
        }
    }
    let leftovers = std::fs::read_dir(live.work.join("dev/u00"))
        .unwrap()
        .count();
    assert_eq!(leftovers, 1, "no temporary file left behind");
}

/// Bug pinned: after a killed `update --publish`, a re-run on the same tree pushed a pull
/// request with the files the first run had written left out (still at the old version on the
/// branch) and exit 0. A re-run finishes the job, or refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p9_a_rerun_after_a_killed_publish_finishes_the_job_or_refuses() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mods", &["v1.1.0", "v1.0.0"]);
    let live = live_with_origin(&[]);
    let files = thirty_units(&live.work);
    git(&live.work, &["add", "-A"]);
    git(&live.work, &["commit", "-q", "-m", "thirty units"]);
    git(&live.work, &["push", "-q", "origin", "main"]);
    let spec = json!({"IncludeDirPattern": "dev/**", "ExcludeDirPattern": "", "Dependencies": [
        {"ID": "acme/mods/vpc", "TargetSafeVersion": "1.1.0"}]})
    .to_string();
    let branch = "baton-dev-updates-acme/mods/vpc";
    let publish = [
        "update",
        "--publish",
        "--include-dirs",
        "dev/**",
        "--spec",
        &spec,
        "--pull-request-branch",
        branch,
    ];
    // What a run killed while writing leaves: a third of the files written, nothing committed.
    baton_in(
        &live.work,
        &gh,
        &["update", "--include-dirs", "dev/u0*/**", "--spec", &spec],
        &[],
    )
    .await
    .success();
    assert_eq!(modified(&live.work).len(), 10);

    let assert = baton_in(&live.work, &gh, &publish, &[]).await.success();
    assert_eq!(json(&assert)["updated"].as_array().unwrap().len(), 30);
    let mut on_branch = changed(&live, branch);
    on_branch.sort();
    assert_eq!(on_branch, files, "every file is in the pull request");
    for rel in &files {
        assert!(
            on_origin(&live, branch, rel).contains("?ref=v1.1.0"),
            "{rel}"
        );
    }
    let body = gh.pulls("acme/live")[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(body.contains("`dev/u00/terragrunt.hcl`"), "{body}");

    // An uncommitted change that is not Baton's edit: refused, nothing written or pushed.
    git(&live.work, &["checkout", "-q", "main"]);
    git(&live.work, &["checkout", "-q", "--", "."]);
    let path = live.work.join("dev/u05/terragrunt.hcl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}# a local change\n")).unwrap();
    let before = branch_sha(&live, branch);
    let assert = baton_in(&live.work, &gh, &publish, &[]).await.code(2);
    let err = stderr_of(&assert);
    assert!(
        err.contains("dev/u05/terragrunt.hcl") && err.contains("uncommitted"),
        "{err}"
    );
    assert_eq!(modified(&live.work), vec!["dev/u05/terragrunt.hcl"]);
    assert_eq!(branch_sha(&live, branch), before);
}

// ---------------------------------------------------------------------------------------------
// 10. What the pull request says.
// ---------------------------------------------------------------------------------------------

fn releases(tags: &[&str], body: impl Fn(&str) -> String) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.to_string(), body(t))).collect()
}

/// Publishes `spec` for `acme/mods/vpc` from `live` on `branch`, with extra flags.
async fn publish_vpc(
    live: &Live,
    gh: &FakeGitHub,
    spec: &str,
    branch: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> assert_cmd::assert::Assert {
    let mut args = vec![
        "update",
        "--publish",
        "--spec",
        spec,
        "--pull-request-branch",
        branch,
    ];
    args.extend_from_slice(extra);
    baton_in(&live.work, gh, &args, env).await
}

fn body_of(gh: &FakeGitHub, number: usize) -> String {
    gh.pulls("acme/live")[number - 1]["body"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Bugs pinned: the breaking mark was computed against the lowest version in use (so `v0.96.1`
/// was marked breaking, and a usage already past the break was warned about), and only the first
/// breaking release crossed was called out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p10_every_breaking_release_is_called_out_against_each_usages_own_version() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    let tags = ["v0.96.1", "v0.96.0", "v0.95.1", "v0.95.0", "v0.94.0"];
    gh.add_repo("acme/mods", &tags);
    gh.set_releases("acme/mods", releases(&tags, |t| format!("Notes of {t}.")));
    let src = "github.com/acme/mods//modules/vpc?ref=";
    let live = live_with_origin(&[
        ("dev/a/terragrunt.hcl", &unit(&format!("{src}v0.94.0"))),
        ("dev/b/terragrunt.hcl", &unit(&format!("{src}v0.96.0"))),
    ]);
    let spec = json!({"IncludeDirPattern": "dev/**", "Dependencies": [
        {"ID": "acme/mods/vpc", "TargetBreakingVersion": "0.96.1"}]})
    .to_string();
    publish_vpc(
        &live,
        &gh,
        &spec,
        "baton-dev-updates-acme/mods/vpc",
        &[],
        &[],
    )
    .await
    .success();
    let body = body_of(&gh, 1);
    let url = |t: &str| format!("[{t}](https://github.com/acme/mods/releases/tag/{t})");
    for t in ["v0.95.0", "v0.96.0"] {
        assert!(
            body.contains(&format!("{} — **breaking**", url(t))),
            "{t}: {body}"
        );
    }
    for t in ["v0.95.1", "v0.96.1"] {
        assert!(
            body.contains(&format!("{}\n", url(t))),
            "{t} is not breaking: {body}"
        );
    }
    let warning = body
        .split("> [!WARNING]")
        .nth(1)
        .and_then(|w| w.split("\n\n").next())
        .unwrap_or_else(|| panic!("a warning: {body}"));
    assert!(
        warning.contains("0.95.0") && warning.contains("0.96.0"),
        "every breaking release: {warning}"
    );
    assert!(warning.contains("`dev/a/terragrunt.hcl:2`"), "{warning}");
    assert!(
        !warning.contains("dev/b/terragrunt.hcl"),
        "dev/b moves from 0.96.0 to 0.96.1 and crosses no break: {warning}"
    );
}

/// Bugs pinned: a promoted pull request did not say where it came from, and the last
/// environment's pull request announced a next environment that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p10_a_promoted_pull_request_says_where_it_came_from() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mods", &["v1.1.0", "v1.0.0"]);
    let src = "github.com/acme/mods//modules/vpc?ref=";
    let live = live_with_origin(&[
        ("stage/vpc/terragrunt.hcl", &unit(&format!("{src}v1.1.0"))),
        ("prod/vpc/terragrunt.hcl", &unit(&format!("{src}v1.0.0"))),
    ]);
    let sha = git(&live.work, &["rev-parse", "HEAD"]).trim().to_string();
    let event = write_event(
        &live,
        "dispatch",
        &events::repository_dispatch(
            "stage_updates_merged",
            json!({
                "dependency": "acme/mods/vpc", "version": "1.1.0", "ref": "refs/heads/main",
                "sha": sha, "branch": "baton-stage-updates-acme/mods/vpc", "environment": "stage",
                "pull_request": 12}),
            "acme/live",
        ),
    );
    let env = [
        ("GITHUB_EVENT_NAME", "repository_dispatch"),
        ("GITHUB_EVENT_PATH", event.as_str()),
    ];
    baton_in(
        &live.work,
        &gh,
        &[
            "update",
            "--publish",
            "--include-dirs",
            "{*prod*}/**",
            "--promote-from",
            "{*stage*}/**",
            "--pull-request-branch",
            "baton-prod-updates-acme/mods/vpc",
            "--pull-request-labels",
            "updates-prod",
        ],
        &env,
    )
    .await
    .success();
    let body = body_of(&gh, 1);
    for needle in [
        "Promoted from **stage**",
        "[#12](https://github.com/acme/live/pull/12)",
        &format!(
            "[`{}`](https://github.com/acme/live/commit/{sha})",
            &sha[..7]
        ),
    ] {
        assert!(body.contains(needle), "{needle}: {body}");
    }
    assert!(
        !body.contains("next environment"),
        "prod is the last environment: {body}"
    );

    // An environment that knows the next one says so by name.
    let spec = json!({"IncludeDirPattern": "{*prod*}/**", "Dependencies": [
        {"ID": "acme/mods/vpc", "TargetSafeVersion": "1.1.0"}]})
    .to_string();
    git(&live.work, &["checkout", "-q", "main"]);
    publish_vpc(
        &live,
        &gh,
        &spec,
        "baton-x-updates-acme/mods/vpc",
        &["--next-environment", "stage"],
        &[],
    )
    .await
    .success();
    let body = body_of(&gh, 2);
    assert!(
        body.contains("in **stage**, at exactly the version merged here"),
        "{body}"
    );
    assert!(!body.contains("Promoted from"), "{body}");
}

/// Bug pinned: the open-pull-request lookup pasted the branch into the query string, so a
/// module path holding `&head=` made Baton rewrite an unrelated pull request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p10_the_open_pull_request_lookup_encodes_the_branch() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mods", &["v1.1.0", "v1.0.0"]);
    let unrelated = gh.open_pull("acme/live", "feature/login", "Login page");
    let live = live_with_origin(&[(
        "dev/vpc/terragrunt.hcl",
        &unit("github.com/acme/mods//modules/vpc&head=x?ref=v1.0.0"),
    )]);
    let id = "acme/mods/vpc&head=x";
    let spec = json!({"IncludeDirPattern": "dev/**", "Dependencies": [
        {"ID": id, "TargetSafeVersion": "1.1.0"}]})
    .to_string();
    let assert = publish_vpc(
        &live,
        &gh,
        &spec,
        &format!("baton-dev-updates-{id}"),
        &["--dependency", id],
        &[],
    )
    .await
    .success();
    assert_eq!(json(&assert)["pull_request"]["created"], true);
    let pulls = gh.pulls("acme/live");
    assert_eq!(pulls.len(), 2);
    assert_eq!(pulls[(unrelated - 1) as usize]["title"], "Login page");
    assert_eq!(pulls[(unrelated - 1) as usize]["body"], "opened by hand");
    assert!(
        gh.requests()
            .iter()
            .any(|r| r.contains("head=acme%3Abaton-dev-updates-acme%2Fmods%2Fvpc%26head%3Dx")),
        "{:?}",
        gh.requests()
    );
}

/// Bug pinned: 60 releases of release notes gave a 101,315-character body, over GitHub's limit
/// of 65,536, and the pull request could not be opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p10_a_body_stays_under_githubs_limit_cutting_release_notes_first() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    let tags: Vec<String> = (0..60).rev().map(|i| format!("v1.{i}.0")).collect();
    let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
    gh.add_repo("acme/mods", &tag_refs);
    gh.set_releases(
        "acme/mods",
        releases(&tag_refs, |t| {
            format!("## {t}\n\n{}", "A long change note. ".repeat(120))
        }),
    );
    let live = live_with_origin(&[(
        "dev/vpc/terragrunt.hcl",
        &unit("github.com/acme/mods//modules/vpc?ref=v1.0.0"),
    )]);
    let spec = json!({"IncludeDirPattern": "dev/**", "Dependencies": [
        {"ID": "acme/mods/vpc", "TargetSafeVersion": "1.59.0"}]})
    .to_string();
    publish_vpc(
        &live,
        &gh,
        &spec,
        "baton-dev-updates-acme/mods/vpc",
        &[],
        &[],
    )
    .await
    .success();
    let body = body_of(&gh, 1);
    assert!(body.chars().count() < 65_536, "{}", body.chars().count());
    // The file table and every release link stay; the notes are cut, with a link to the rest.
    assert!(body.contains("| `dev/vpc/terragrunt.hcl` | 2 | `v1.0.0` | `v1.59.0` |"));
    assert!(body.contains("[v1.59.0](https://github.com/acme/mods/releases/tag/v1.59.0)"));
    assert!(body.contains("[v1.1.0](https://github.com/acme/mods/releases/tag/v1.1.0)"));
    assert!(
        body.contains("https://github.com/acme/mods/releases") && body.contains("shortened"),
        "{}",
        &body[body.len().saturating_sub(3000)..]
    );
    assert!(body.contains("How to review"));
}

// ---------------------------------------------------------------------------------------------
// 11. Registry ranges are compared and promoted as written.
// ---------------------------------------------------------------------------------------------

fn module_block(name: &str, source: &str, version: &str) -> String {
    format!(
        "# {name}\nmodule \"{name}\" {{\n  source  = \"{source}\" # pinned by range\n  version = \"{version}\"\n\n  cidr = \"10.0.0.0/16\"\n}}\n"
    )
}

/// Bugs pinned: dev `~> 4.1` against stage `~> 3.15` showed "ok" in `status`, and
/// `--promote-from` dropped the dependency without a word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p11_registry_ranges_are_compared_and_promoted_as_written() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    let dev = format!(
        "{}{}",
        module_block("vpc", "acme/vpc/aws", "~> 4.1"),
        module_block("dns", "acme/dns/aws", "1.2.0")
    );
    let stage = module_block("vpc", "acme/vpc/aws", "~> 3.15");
    let live = live_with_origin(&[
        ("dev/main.tf", dev.as_bytes()),
        ("stage/main.tf", stage.as_bytes()),
    ]);

    // status compares the ranges.
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "status",
            "--env",
            "dev=dev/**",
            "--env",
            "stage=stage/**",
            "--format",
            "json",
        ],
        &[],
    )
    .await
    .success();
    let status = json(&assert);
    let vpc = status["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "acme/vpc/aws")
        .unwrap()
        .clone();
    assert_eq!(
        vpc["drift"],
        json!([{"from": "dev", "to": "stage", "behind": "~> 3.15", "ahead": "~> 4.1"}]),
        "{status}"
    );
    assert_eq!(status["drift"], true);

    // report --promote-from carries dev's range, and says what it does not promote and why.
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "report",
            "--include-dirs",
            "stage/**",
            "--promote-from",
            "dev/**",
        ],
        &[],
    )
    .await
    .success();
    let spec = json(&assert);
    assert_eq!(spec["Dependencies"][0]["ID"], "acme/vpc/aws", "{spec}");
    assert_eq!(spec["Dependencies"][0]["TargetConstraint"], "~> 4.1");
    assert_eq!(spec["Dependencies"][0]["TargetSafeVersion"], "4.1.0");
    assert_eq!(
        spec["NotPromoted"],
        json!([{"ID": "acme/dns/aws", "Reason": "not used in stage/**"}])
    );

    // The update writes dev's range as it is written, and nothing else.
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "update",
            "--publish",
            "--include-dirs",
            "stage/**",
            "--promote-from",
            "dev/**",
            "--pull-request-branch",
            "baton-stage-updates-acme/vpc/aws",
        ],
        &[],
    )
    .await
    .success();
    assert_eq!(json(&assert)["updated"][0]["to"], "~> 4.1");
    assert_eq!(
        on_origin(&live, "baton-stage-updates-acme/vpc/aws", "stage/main.tf"),
        stage.replace("\"~> 3.15\"", "\"~> 4.1\"")
    );

    // A stage ahead of dev is never moved down, and is listed with the reason.
    git(&live.work, &["checkout", "-q", "main"]);
    std::fs::write(
        live.work.join("stage/main.tf"),
        module_block("vpc", "acme/vpc/aws", "~> 5.0"),
    )
    .unwrap();
    let assert = baton_in(
        &live.work,
        &gh,
        &[
            "report",
            "--include-dirs",
            "stage/**",
            "--promote-from",
            "dev/**",
        ],
        &[],
    )
    .await
    .success();
    let spec = json(&assert);
    assert_eq!(spec["Dependencies"], json!([]));
    let reasons = spec["NotPromoted"].to_string();
    assert!(
        reasons.contains("already at ~> 5.0, newer than ~> 4.1 in dev/**"),
        "{reasons}"
    );
}
