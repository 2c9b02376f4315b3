//! `baton update`: byte-exact edits of the fixture tree, and publishing to a real local bare
//! `origin` with the GitHub API stand-in.

use crate::common::{baton, fixture, stderr_of, stdout_of, write_tree};
use crate::fake_github::FakeGitHub;
use crate::gitrepo::git;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Copies a fixture tree into a temp dir (so tests may edit it).
fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap()
}

fn spec(deps: Value) -> String {
    json!({"IncludeDirPattern": "dev/**", "ExcludeDirPattern": "", "Dependencies": deps})
        .to_string()
}

fn dep(id: &str, safe: Option<&str>, breaking: Option<&str>) -> Value {
    let (org, rest) = id.split_once('/').unwrap();
    let (repo, module) = rest.split_once('/').unwrap_or((rest, ""));
    json!({"ID": id, "Org": org, "Repo": repo, "Module": module, "Constraints": null,
           "TargetSafeVersion": safe, "TargetBreakingVersion": breaking})
}

/// Asserts `rel` now equals its fixture original with `from` replaced by `to` (all bytes else
/// the same).
fn assert_only_version_changed(dir: &Path, rel: &str, from: &str, to: &str) {
    let original = std::fs::read(fixture("live").join(rel)).unwrap();
    let original = String::from_utf8(original).unwrap();
    let expected = original.replace(from, to);
    assert_ne!(expected, original, "{rel} has no {from}");
    assert_eq!(
        String::from_utf8(read(dir, rel)).unwrap(),
        expected,
        "{rel}"
    );
}

#[test]
fn edits_only_the_version_bytes_in_every_usage() {
    let dir = copy_fixture("live");
    let spec = spec(json!([
        dep(
            "gruntwork-io/terraform-aws-messaging/sqs",
            Some("0.9.1"),
            None
        ),
        dep(
            "acme/terraform-aws-lambda/function",
            Some("3.3.0"),
            Some("4.0.0")
        ),
        dep(
            "terraform-aws-modules/iam/aws//modules/iam-user",
            Some("5.30.2"),
            None
        ),
        dep("terraform-aws-modules/vpc/aws", None, Some("6.0.1")),
    ]));
    let assert = baton()
        .args([
            "update",
            "--include-dirs",
            "dev/**",
            "--spec",
            &spec,
            "--working-dir",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    insta::assert_json_snapshot!("update_output", out);
    // The interpolated envcommon source: the literal `?ref=` part only.
    assert_only_version_changed(
        dir.path(),
        "dev/us-east-1/sqs/terragrunt.hcl",
        "v0.8.0",
        "v0.9.1",
    );
    // A heredoc-heavy file: the heredocs mention `ref=v0.0.0` and stay as they are.
    assert_only_version_changed(
        dir.path(),
        "dev/us-east-1/heredoc/main.tf",
        "ref=v0.7.1",
        "ref=v0.9.1",
    );
    // CRLF stays CRLF.
    assert_only_version_changed(
        dir.path(),
        "dev/us-east-1/crlf/terragrunt.hcl",
        "v3.2.1",
        "v4.0.0",
    );
    // BOM kept; tfr `?version=`.
    assert_only_version_changed(
        dir.path(),
        "dev/us-east-1/bom/terragrunt.hcl",
        "5.30.0",
        "5.30.2",
    );
    // A registry range moves in its own form.
    assert_only_version_changed(
        dir.path(),
        "dev/us-east-1/app/main.tf",
        "\"~> 5.1\"",
        "\"~> 6.0\"",
    );
    // Other environments are untouched.
    assert_eq!(
        read(dir.path(), "stage/us-east-1/sqs/terragrunt.hcl"),
        std::fs::read(fixture("live/stage/us-east-1/sqs/terragrunt.hcl")).unwrap()
    );
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let dir = copy_fixture("live");
    let spec = spec(json!([dep(
        "gruntwork-io/terraform-aws-service-catalog/networking/vpc",
        Some("0.95.1"),
        Some("0.96.0")
    )]));
    let args = [
        "--dry-run",
        "--update-strategy",
        "next-safe",
        "--include-dirs",
        "{*dev*}/**",
        "--spec",
        &spec,
        "--working-dir",
    ];
    // The default, JSON, carries the same diff as `--format text` prints.
    let json = crate::common::json_of(
        &baton()
            .arg("update")
            .args(args)
            .arg(dir.path())
            .assert()
            .success(),
    );
    assert!(!json["updated"].as_array().unwrap().is_empty(), "{json}");
    let json_diff = json["diff"].as_str().unwrap().to_string();
    let assert = baton()
        .args(["update", "--format", "text"])
        .args(args)
        .arg(dir.path())
        .assert()
        .success();
    let diff = stdout_of(&assert);
    assert_eq!(diff, json_diff);
    assert!(
        diff.contains("--- a/dev/us-east-1/vpc/terragrunt.hcl"),
        "{diff}"
    );
    assert!(
        diff.contains("--- a/gruntwork-dev-account1/vpc/terragrunt.hcl"),
        "{diff}"
    );
    assert!(diff.contains("-  source = \"git::git@github.com:gruntwork-io/terraform-aws-service-catalog.git//modules/networking/vpc?ref=v0.95.0\""));
    assert!(diff.contains("+  source = \"git::git@github.com:gruntwork-io/terraform-aws-service-catalog.git//modules/networking/vpc?ref=v0.95.1\""));
    assert_eq!(
        read(dir.path(), "dev/us-east-1/vpc/terragrunt.hcl"),
        std::fs::read(fixture("live/dev/us-east-1/vpc/terragrunt.hcl")).unwrap()
    );
}

#[test]
fn a_patcher_spec_file_works() {
    let dir = copy_fixture("live");
    let spec_path = dir.path().join("patcher-spec.json");
    std::fs::write(
        &spec_path,
        r#"{"IncludeDirPattern":"{*dev*}/**","ExcludeDirPattern":"","Dependencies":[
 {"ID":"gruntwork-io/terraform-aws-service-catalog/networking/vpc","Org":"gruntwork-io",
  "Repo":"terraform-aws-service-catalog","Module":"networking/vpc","Constraints":null,
  "TargetSafeVersion":"0.95.1","TargetBreakingVersion":"0.96.0"}]}"#,
    )
    .unwrap();
    // A checkout, as in Patcher's workflow: the spec's globs are read from the repository root,
    // where Patcher's report runs, while the update works in the environment's folder.
    git(dir.path(), &["init", "-q"]);
    baton()
        .args(["update", "--working-dir"])
        .arg(dir.path().join("dev"))
        .arg("--spec-file")
        .arg(&spec_path)
        .args([
            "--dependency",
            "gruntwork-io/terraform-aws-service-catalog/networking/vpc",
        ])
        .assert()
        .success();
    assert_only_version_changed(
        dir.path(),
        "dev/us-east-1/vpc/terragrunt.hcl",
        "v0.95.0",
        "v0.96.0",
    );
}

#[test]
fn unknown_dependency_exits_2_and_writes_nothing() {
    let dir = copy_fixture("live");
    let spec = spec(json!([dep(
        "gruntwork-io/terraform-aws-messaging/sqs",
        Some("0.9.1"),
        None
    )]));
    let assert = baton()
        .args([
            "update",
            "--dependency",
            "acme/nope",
            "--spec",
            &spec,
            "--working-dir",
        ])
        .arg(dir.path())
        .assert()
        .code(2);
    assert!(stderr_of(&assert).contains("acme/nope"));
    assert_eq!(
        read(dir.path(), "dev/us-east-1/sqs/terragrunt.hcl"),
        std::fs::read(fixture("live/dev/us-east-1/sqs/terragrunt.hcl")).unwrap()
    );
}

#[test]
fn malformed_specs_are_refused_before_any_file_is_touched() {
    let dir = copy_fixture("live");
    for bad in [
        "not json",
        r#"{"Dependencies": {"ID": "x"}}"#,
        r#"{"Dependencies": [{"Org": "no-id"}]}"#,
        r#"{"Dependencies": [{"ID": "gruntwork-io/terraform-aws-messaging/sqs", "TargetSafeVersion": "0.9.1 && curl evil"}]}"#,
        r#"{"Dependencies": [{"ID": "gruntwork-io/terraform-aws-messaging/sqs", "TargetSafeVersion": "0.9.1", "Usages": [{"File": "../../etc/passwd", "Line": 1, "Current": "v1"}]}]}"#,
    ] {
        let assert = baton()
            .args(["update", "--spec", bad, "--working-dir"])
            .arg(dir.path())
            .assert()
            .code(2);
        assert!(
            stderr_of(&assert).contains("invalid spec"),
            "{bad}: {}",
            stderr_of(&assert)
        );
    }
    assert_eq!(
        read(dir.path(), "dev/us-east-1/sqs/terragrunt.hcl"),
        std::fs::read(fixture("live/dev/us-east-1/sqs/terragrunt.hcl")).unwrap()
    );
}

#[test]
fn nothing_to_update_exits_0() {
    let dir = copy_fixture("live");
    let spec = spec(json!([dep(
        "gruntwork-io/terraform-aws-messaging/sqs",
        Some("0.8.0"),
        None
    )]));
    let assert = baton()
        .env("BATON_LOG", "info")
        .args([
            "update",
            "--include-dirs",
            "dev/us-east-1/sqs/**",
            "--spec",
            &spec,
            "--working-dir",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(out["updated"], json!([]));
    assert!(stderr_of(&assert).contains("nothing to update"));
}

#[test]
fn skipped_usages_of_the_dependency_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/a/terragrunt.hcl",
                b"terraform {\n  source = \"github.com/acme/m//x?ref=v1.0.0\"\n}\n",
            ),
            (
                "dev/b/terragrunt.hcl",
                b"terraform {\n  source = \"github.com/acme/m//x?ref=main\"\n}\n",
            ),
        ],
    );
    let spec = spec(json!([dep("acme/m/x", Some("1.1.0"), None)]));
    let assert = baton()
        .args(["update", "--spec", &spec, "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(out["updated"][0]["file"], "dev/a/terragrunt.hcl");
    assert_eq!(out["skipped"][0]["File"], "dev/b/terragrunt.hcl");
    assert!(
        out["skipped"][0]["Reason"]
            .as_str()
            .unwrap()
            .contains("main")
    );
}

/// A live repository with a bare `origin` holding `main`.
struct Live {
    _root: tempfile::TempDir,
    work: PathBuf,
    origin: PathBuf,
}

fn live_repo(files: &[(&str, &[u8])]) -> Live {
    let root = tempfile::tempdir().unwrap();
    let origin = root.path().join("origin.git");
    let work = root.path().join("live");
    std::fs::create_dir_all(&work).unwrap();
    git(
        root.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    git(&work, &["init", "-q"]);
    write_tree(&work, files);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "initial"]);
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    Live {
        _root: root,
        work,
        origin,
    }
}

async fn run_publish(
    live: &Live,
    gh: &FakeGitHub,
    spec: &str,
    title: &str,
) -> assert_cmd::assert::Assert {
    let args: Vec<String> = vec![
        "update".into(),
        "--publish".into(),
        "--include-dirs".into(),
        "dev/**".into(),
        "--spec".into(),
        spec.into(),
        "--pull-request-branch".into(),
        "baton-dev-updates-acme/mods/vpc".into(),
        "--pull-request-title".into(),
        title.into(),
        "--pull-request-labels".into(),
        "updates-dev".into(),
        "--pull-request-reviewers".into(),
        "octocat".into(),
        "--commit-author".into(),
        "Release Bot <bot@example.com>".into(),
        "--github-api-url".into(),
        gh.api_url(),
    ];
    let work = live.work.clone();
    tokio::task::spawn_blocking(move || {
        baton()
            .current_dir(&work)
            .env("GITHUB_REPOSITORY", "acme/live")
            .env("GITHUB_TOKEN", "ghs_FAKETOKENFORTESTS123")
            .args(&args)
            .assert()
    })
    .await
    .unwrap()
}

const TITLE: &str = "[dev] Update acme/mods/vpc";

fn vpc_files() -> Vec<(&'static str, &'static [u8])> {
    vec![
        (
            "dev/vpc/terragrunt.hcl",
            b"terraform {\n  source = \"github.com/acme/mods//modules/vpc?ref=v1.0.0\"\n}\n",
        ),
        (
            "prod/vpc/terragrunt.hcl",
            b"terraform {\n  source = \"github.com/acme/mods//modules/vpc?ref=v1.0.0\"\n}\n",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_pushes_one_commit_and_opens_one_pull_request_across_reruns() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mods", &["v1.1.0", "v1.0.0"]);
    gh.state
        .lock()
        .unwrap()
        .repos
        .get_mut("acme/mods")
        .unwrap()
        .releases = vec![("v1.1.0".into(), "Adds IPv6 support.".into())];
    let live = live_repo(&vpc_files());
    // The spec file sits in the working tree: it must never be committed.
    let spec = spec(json!([dep("acme/mods/vpc", Some("1.1.0"), None)]));
    std::fs::write(live.work.join("spec.json"), &spec).unwrap();

    let first = run_publish(&live, &gh, &spec, TITLE).await.success();
    let out: Value = serde_json::from_str(&stdout_of(&first)).unwrap();
    assert_eq!(out["pull_request"]["number"], 1);
    assert_eq!(out["pull_request"]["created"], true);
    assert_eq!(out["branch"], "baton-dev-updates-acme/mods/vpc");

    let second = run_publish(&live, &gh, &spec, TITLE).await.success();
    let out: Value = serde_json::from_str(&stdout_of(&second)).unwrap();
    assert_eq!(out["pull_request"]["number"], 1);
    assert_eq!(out["pull_request"]["created"], false);

    // One branch, one commit on top of main, touching only dev's file.
    let log = git(
        &live.origin,
        &[
            "log",
            "--format=%an <%ae>|%s",
            "main..baton-dev-updates-acme/mods/vpc",
        ],
    );
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(
        log.starts_with("Release Bot <bot@example.com>|Update acme/mods/vpc to 1.1.0"),
        "{log}"
    );
    let files = git(
        &live.origin,
        &[
            "diff",
            "--name-only",
            "main",
            "baton-dev-updates-acme/mods/vpc",
        ],
    );
    assert_eq!(files.trim(), "dev/vpc/terragrunt.hcl");
    let content = git(
        &live.origin,
        &[
            "show",
            "baton-dev-updates-acme/mods/vpc:dev/vpc/terragrunt.hcl",
        ],
    );
    assert!(content.contains("?ref=v1.1.0"));

    // One pull request, labelled, with the body Baton wrote.
    let pulls = gh.pulls("acme/live");
    assert_eq!(pulls.len(), 1);
    let pr = &pulls[0];
    assert_eq!(pr["title"], "[dev] Update acme/mods/vpc");
    assert_eq!(pr["base"]["ref"], "main");
    assert_eq!(pr["labels"][0]["name"], "updates-dev");
    let body = pr["body"].as_str().unwrap();
    assert!(
        body.contains("| `dev/vpc/terragrunt.hcl` | 2 | `v1.0.0` | `v1.1.0` |"),
        "{body}"
    );
    assert!(
        body.contains("[v1.1.0](https://github.com/acme/mods/releases/tag/v1.1.0)"),
        "{body}"
    );
    assert!(body.contains("Adds IPv6 support."), "{body}");
    let requests = gh.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("POST /repos/acme/live/pulls ")
                || *r == "POST /repos/acme/live/pulls")
            .count(),
        1,
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("PATCH /repos/acme/live/pulls/1"))
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("POST /repos/acme/live/pulls/1/requested_reviewers"))
    );
    // The token never reaches the repository's config.
    let config = std::fs::read_to_string(live.work.join(".git/config")).unwrap();
    assert!(!config.contains("ghs_FAKETOKENFORTESTS123"));
    assert!(!stderr_of(&second).contains("ghs_FAKETOKENFORTESTS123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_pull_request_422_reuses_the_open_one() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mods", &["v1.1.0", "v1.0.0"]);
    let live = live_repo(&vpc_files());
    let spec = spec(json!([dep("acme/mods/vpc", Some("1.1.0"), None)]));
    run_publish(&live, &gh, &spec, TITLE).await.success();
    // The next run does not see the open pull request when it first looks (as if another run
    // were opening it at the same moment): GitHub answers the create with 422.
    gh.state.lock().unwrap().hide_pulls = 1;
    let assert = run_publish(&live, &gh, &spec, "[dev] retitled")
        .await
        .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(out["pull_request"]["number"], 1);
    assert_eq!(out["pull_request"]["created"], false);
    assert_eq!(gh.pulls("acme/live").len(), 1);
    assert_eq!(gh.pulls("acme/live")[0]["title"], "[dev] retitled");
}

#[test]
fn publish_without_a_branch_exits_2() {
    let dir = copy_fixture("live");
    let spec = spec(json!([dep(
        "gruntwork-io/terraform-aws-messaging/sqs",
        Some("0.9.1"),
        None
    )]));
    let assert = baton()
        .args(["update", "--publish", "--spec", &spec, "--working-dir"])
        .arg(dir.path())
        .assert()
        .code(2);
    assert!(stderr_of(&assert).contains("--pull-request-branch"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_push_reports_gits_message() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    let live = live_repo(&vpc_files());
    let hook = live.origin.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'error: GH006: Protected branch update failed' >&2\nexit 1\n",
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&hook).unwrap().permissions(),
        0o755,
    );
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let spec = spec(json!([dep("acme/mods/vpc", Some("1.1.0"), None)]));
    let assert = run_publish(&live, &gh, &spec, TITLE).await.code(3);
    let err = stderr_of(&assert);
    assert!(err.contains("Protected branch update failed"), "{err}");
    assert!(!err.contains("ghs_FAKETOKENFORTESTS123"));
    assert!(gh.pulls("acme/live").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_spec_targets_are_resolved_like_report() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/mods", &["v2.0.0", "v1.1.0", "v1.0.0"]);
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &vpc_files());
    let api = gh.api_url();
    let path = dir.path().to_path_buf();
    let assert = tokio::task::spawn_blocking(move || {
        baton()
            .args([
                "update",
                "--include-dirs",
                "dev/**",
                "--update-strategy",
                "next-safe",
                "--github-api-url",
                &api,
                "--working-dir",
            ])
            .arg(&path)
            .assert()
    })
    .await
    .unwrap()
    .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(out["updated"][0]["to"], "v1.1.0");
    let text = std::fs::read_to_string(dir.path().join("dev/vpc/terragrunt.hcl")).unwrap();
    assert!(text.contains("?ref=v1.1.0"));
    let prod = std::fs::read_to_string(dir.path().join("prod/vpc/terragrunt.hcl")).unwrap();
    assert!(prod.contains("?ref=v1.0.0"), "prod is another environment");
}
