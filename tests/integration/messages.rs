//! What people read: progress on long lookups, `--quiet`, `promote --dry-run`, counts that agree
//! with their nouns, and failures that blame the right thing.

use crate::common::{baton, json_of, stderr_of, stdout_of, write_tree};
use crate::events;
use crate::fake_github::FakeGitHub;
use serde_json::json;
use std::path::Path;

const UNIT: &[u8] =
    b"module \"vpc\" {\n  source = \"github.com/acme/terraform-aws-vpc?ref=v1.0.0\"\n}\n";

fn merged_event(dir: &Path) -> String {
    let path = dir.join("event.json");
    std::fs::write(
        &path,
        events::pull_request_closed(
            4,
            "baton-dev-updates-acme/terraform-aws-vpc",
            "c0ffee",
            "f00d",
            true,
            &[],
            "acme/live",
        )
        .to_string(),
    )
    .unwrap();
    path.display().to_string()
}

fn promote(dir: &Path, api: &str, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = baton();
    cmd.env("GITHUB_REPOSITORY", "acme/live")
        .env("GITHUB_TOKEN", "ghs_FAKEMESSAGESTOKEN")
        .env("BATON_HTTP_TIMEOUT_SECS", "2")
        .args(["promote", "--working-dir"])
        .arg(dir)
        .args([
            "--include-dirs",
            "dev/**",
            "--pull-request-branch-prefix",
            "baton-dev-updates-",
            "--environment",
            "dev",
            "--github-api-url",
            api,
            "--event-path",
        ])
        .arg(merged_event(dir))
        .args(args);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_dry_run_says_what_it_would_send_and_sends_nothing() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("dev/vpc/main.tf", UNIT)]);
    let api = gh.api_url();
    let path = dir.path().to_path_buf();
    let (text, json) = tokio::task::spawn_blocking(move || {
        let text = promote(&path, &api, &["--dry-run", "--format", "text"])
            .assert()
            .success();
        let json = promote(&path, &api, &["--dry-run"]).assert().success();
        (stdout_of(&text), json_of(&json))
    })
    .await
    .unwrap();
    assert_eq!(
        text,
        "Dry run: would send dev_updates_merged for acme/terraform-aws-vpc at 1.0.0 to acme/live; nothing was sent.\n"
    );
    assert_eq!(json["dispatched"], false);
    assert_eq!(json["event_type"], "dev_updates_merged");
    assert_eq!(json["payload"]["version"], "1.0.0");
    assert!(gh.state.lock().unwrap().dispatches.is_empty());
    assert!(
        gh.requests().iter().all(|r| !r.starts_with("POST")),
        "{:?}",
        gh.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_refusal_blames_the_token() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("dev/vpc/main.tf", UNIT)]);
    // Nothing listens on port 1: the request fails before GitHub says anything.
    let path = dir.path().to_path_buf();
    let unreachable = tokio::task::spawn_blocking(move || {
        promote(&path, "http://127.0.0.1:1", &[]).assert().code(3)
    })
    .await
    .unwrap();
    let err = stderr_of(&unreachable);
    assert!(err.contains("sending repository_dispatch"), "{err}");
    assert!(!err.contains("contents: write"), "{err}");

    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.state
        .lock()
        .unwrap()
        .fail_with
        .insert("/repos/acme/live/dispatches".into(), 403);
    let (path, api) = (dir.path().to_path_buf(), gh.api_url());
    let refused = tokio::task::spawn_blocking(move || promote(&path, &api, &[]).assert().code(3))
        .await
        .unwrap();
    assert!(
        stderr_of(&refused).contains("the token needs `contents: write`"),
        "{}",
        stderr_of(&refused)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lookups_log_progress_and_quiet_hides_it() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/terraform-aws-vpc", &["v1.1.0", "v1.0.0"]);
    // Longer than the progress interval (3 s).
    gh.state.lock().unwrap().delay = Some(std::time::Duration::from_millis(3500));
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("dev/vpc/main.tf", UNIT)]);
    let (path, api) = (dir.path().to_path_buf(), gh.api_url());
    let (loud, quiet) = tokio::task::spawn_blocking(move || {
        let run = |extra: &[&str]| {
            baton()
                .env("BATON_LOG", "info")
                .args(["report", "--working-dir"])
                .arg(&path)
                .args(["--github-api-url", &api])
                .args(extra)
                .assert()
                .success()
        };
        (run(&[]), run(&["--quiet"]))
    })
    .await
    .unwrap();
    let err = stderr_of(&loud);
    assert!(err.contains("checked 0 of 1 module repositories"), "{err}");
    assert!(
        err.contains("looked up 1 module repository (1 GitHub API request)"),
        "{err}"
    );
    assert!(stderr_of(&quiet).is_empty(), "{}", stderr_of(&quiet));
    assert_eq!(
        json_of(&quiet)["Dependencies"][0]["TargetSafeVersion"],
        "1.1.0"
    );
}

#[test]
fn counts_agree_with_their_nouns() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("dev/vpc/main.tf", UNIT)]);
    let assert = baton()
        .env("BATON_LOG", "info")
        .args(["scan", "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let err = stderr_of(&assert);
    assert!(err.contains("1 usage found in 1 file"), "{err}");
    let spec = json!({"IncludeDirPattern": "", "ExcludeDirPattern": "", "Dependencies": [
        {"ID": "acme/terraform-aws-vpc", "Org": "acme", "Repo": "terraform-aws-vpc", "Module": "",
         "Constraints": null, "TargetSafeVersion": "1.1.0", "TargetBreakingVersion": null}]})
    .to_string();
    let assert = baton()
        .env("BATON_LOG", "info")
        .args(["update", "--dry-run", "--spec", &spec, "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let err = stderr_of(&assert);
    assert!(
        err.contains("dry run: 1 version would change in 1 file"),
        "{err}"
    );
}

#[test]
fn the_report_summary_is_printed_once() {
    let root = tempfile::tempdir().unwrap();
    let repo =
        crate::gitrepo::tagged_repo(root.path(), "acme/terraform-aws-vpc", &["v1.0.0", "v1.1.0"]);
    let unit = format!(
        "terraform {{\n  source = \"git::file://{}//modules/vpc?ref=v1.0.0\"\n}}\n",
        repo.display()
    );
    let live = root.path().join("live");
    write_tree(&live, &[("dev/vpc/terragrunt.hcl", unit.as_bytes())]);
    let assert = baton()
        .env("BATON_LOG", "info")
        .args(["report", "--format", "text", "--working-dir"])
        .arg(&live)
        .assert()
        .success();
    let all = format!("{}{}", stdout_of(&assert), stderr_of(&assert));
    assert_eq!(all.matches("with updates").count(), 1, "{all}");
    assert!(
        stdout_of(&assert)
            .ends_with("1 dependency with updates; 0 unreachable; 0 usages skipped\n"),
        "{all}"
    );
}
