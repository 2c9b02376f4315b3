//! The config file (`.github/baton.toml`): every command driven by `--env NAME`, flags winning
//! over it, and errors that name the file, the line and the key.

use crate::common::{baton, json_of, stderr_of, stdout_of, write_tree};
use crate::events;
use crate::fake_github::FakeGitHub;
use crate::gitrepo::{git, tagged_repo};
use serde_json::{Value, json};
use std::path::PathBuf;

const DEP: &str = "acme/terraform-aws-vpc/vpc";

/// A config of the three environments with a few of every kind of key.
pub const CONFIG: &str = r#"#:schema https://raw.githubusercontent.com/baton-dev/baton/main/schema/baton.schema.json
# Promotion order: dev, then stage, then prod.

[defaults]
update_strategy = "next-safe"
exclude = ["**/legacy/**"]

[[environments]]
name = "dev"
include = ["dev/**"]
branch_prefix = "upd-dev-"
labels = ["deps", "updates-dev"]
reviewers = ["octo-org/platform"]

[[environments]]
name = "stage"
include = ["stage/**"]
dispatch_event = "go_stage"

[[environments]]
name = "prod"
include = ["prod/**"]
github_environment = "production"

[environments.gates]
min_soak = "24h"
require_approvals = 1
"#;

struct Live {
    _root: tempfile::TempDir,
    work: PathBuf,
    origin: PathBuf,
    gh: FakeGitHub,
}

/// A live repository (dev, stage and prod at v1.0.0 of a git module with releases up to
/// v2.0.0, and a legacy unit in prod) with a bare origin and the config file.
async fn live() -> Live {
    let root = tempfile::tempdir().unwrap();
    let repo = tagged_repo(
        &root.path().join("modules"),
        "acme/terraform-aws-vpc",
        &["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"],
    );
    let source = format!("git::file://{}//modules/vpc", repo.display());
    let origin = root.path().join("origin.git");
    let work = root.path().join("live");
    std::fs::create_dir_all(&work).unwrap();
    git(
        root.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    git(&work, &["init", "-q"]);
    let unit = |v: &str| format!("terraform {{\n  source = \"{source}?ref={v}\"\n}}\n");
    let (v1, v0) = (unit("v1.0.0"), unit("v0.1.0"));
    write_tree(
        &work,
        &[
            ("dev/vpc/terragrunt.hcl", v1.as_bytes()),
            ("stage/vpc/terragrunt.hcl", v1.as_bytes()),
            ("prod/vpc/terragrunt.hcl", v1.as_bytes()),
            ("prod/legacy/vpc/terragrunt.hcl", v0.as_bytes()),
            (".github/baton.toml", CONFIG.as_bytes()),
        ],
    );
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "live"]);
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    Live {
        _root: root,
        work,
        origin,
        gh,
    }
}

impl Live {
    async fn baton(&self, args: &[&str], envs: &[(&str, &str)]) -> assert_cmd::assert::Assert {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if !matches!(args.first(), Some(&"scan") | Some(&"status")) {
            all.push("--github-api-url".into());
            all.push(self.gh.api_url());
        }
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let work = self.work.clone();
        tokio::task::spawn_blocking(move || {
            let mut cmd = baton();
            cmd.current_dir(&work)
                .env("GITHUB_REPOSITORY", "acme/live")
                .env("GITHUB_TOKEN", "ghs_FAKECONFIGTOKEN")
                .env_remove("GITHUB_EVENT_NAME")
                .args(&all);
            for (k, v) in envs {
                cmd.env(k, v);
            }
            cmd.assert()
        })
        .await
        .unwrap()
    }
}

fn files_of(scan: &Value) -> Vec<String> {
    let mut files: Vec<String> = scan["usages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    files.dedup();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_is_driven_by_env() {
    let l = live().await;

    // scan: the environment's folders, less the default exclude.
    let prod = json_of(&l.baton(&["scan", "--env", "prod"], &[]).await.success());
    assert_eq!(files_of(&prod), ["prod/vpc/terragrunt.hcl"]);
    // BATON_ENV does the same, and a flag wins over the config.
    let stage = json_of(
        &l.baton(&["scan"], &[("BATON_ENV", "stage")])
            .await
            .success(),
    );
    assert_eq!(files_of(&stage), ["stage/vpc/terragrunt.hcl"]);
    let flagged = json_of(
        &l.baton(
            &["scan", "--env", "prod", "--exclude-dirs", "nothing/**"],
            &[],
        )
        .await
        .success(),
    );
    assert_eq!(
        files_of(&flagged),
        ["prod/legacy/vpc/terragrunt.hcl", "prod/vpc/terragrunt.hcl"]
    );

    // report: dev targets releases with the default strategy (next-safe: 1.2.0, not 2.0.0).
    let spec = json_of(&l.baton(&["report", "--env", "dev"], &[]).await.success());
    assert_eq!(spec["IncludeDirPattern"], "dev/**");
    assert_eq!(spec["Dependencies"][0]["TargetSafeVersion"], "1.2.0");
    // The flag wins over the config's strategy.
    let breaking = l
        .baton(
            &[
                "update",
                "--env",
                "dev",
                "--dry-run",
                "--update-strategy",
                "next-breaking",
            ],
            &[],
        )
        .await
        .success();
    assert!(
        stdout_of(&breaking).contains("+  source = "),
        "{}",
        stdout_of(&breaking)
    );
    assert!(stdout_of(&breaking).contains("?ref=v2.0.0"));

    // update --publish: the config's branch prefix, labels and reviewers.
    let out = json_of(
        &l.baton(
            &["update", "--env", "dev", "--publish", "--dependency", DEP],
            &[],
        )
        .await
        .success(),
    );
    assert_eq!(out["branch"], format!("upd-dev-{DEP}"));
    let pr = &l.gh.pulls("acme/live")[0];
    let labels: Vec<&str> = pr["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["deps", "updates-dev"]);
    assert!(
        l.gh.requests()
            .iter()
            .any(|r| r.contains("/pulls/1/requested_reviewers")),
        "reviewers requested: {:?}",
        l.gh.requests()
    );
    let on_branch = git(
        &l.origin,
        &["show", &format!("upd-dev-{DEP}:dev/vpc/terragrunt.hcl")],
    );
    assert!(on_branch.contains("?ref=v1.2.0"), "{on_branch}");

    // The dev pull request merges; promote --env dev reads the prefix and event from the config.
    git(&l.work, &["fetch", "-q", "origin"]);
    git(&l.work, &["checkout", "-q", "-B", "main", "origin/main"]);
    git(
        &l.work,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge",
            &format!("origin/upd-dev-{DEP}"),
        ],
    );
    let event = l.work.join("../event.json");
    std::fs::write(
        &event,
        events::pull_request_closed(
            1,
            &format!("upd-dev-{DEP}"),
            "c0ffee",
            "abc",
            true,
            &[],
            "acme/live",
        )
        .to_string(),
    )
    .unwrap();
    let event = event.to_str().unwrap().to_string();
    let promoted = json_of(
        &l.baton(
            &["promote", "--env", "dev"],
            &[("GITHUB_EVENT_PATH", &event)],
        )
        .await
        .success(),
    );
    assert_eq!(promoted["event_type"], "dev_updates_merged");
    assert_eq!(promoted["payload"]["dependency"], DEP);
    assert_eq!(promoted["payload"]["version"], "1.2.0");
    assert_eq!(promoted["payload"]["environment"], "dev");

    // stage: promotes from dev (the environment before it), with no --promote-from.
    let spec = json_of(&l.baton(&["report", "--env", "stage"], &[]).await.success());
    assert_eq!(spec["Dependencies"][0]["TargetSafeVersion"], "1.2.0");
    let diff = l
        .baton(&["update", "--env", "stage", "--dry-run"], &[])
        .await
        .success();
    let diff = stdout_of(&diff);
    assert!(diff.contains("stage/vpc/terragrunt.hcl"), "{diff}");
    assert!(
        !diff.contains("dev/vpc") && !diff.contains("prod/"),
        "{diff}"
    );

    // status: by names from the config, and every environment of the config.
    let status = json_of(
        &l.baton(
            &[
                "status", "--env", "dev", "--env", "prod", "--format", "json",
            ],
            &[],
        )
        .await
        .success(),
    );
    assert_eq!(status["environments"], json!(["dev", "prod"]));
    assert_eq!(
        status["dependencies"][0]["versions"]["dev"],
        json!(["v1.2.0"])
    );
    let all = json_of(
        &l.baton(&["status", "--format", "json"], &[])
            .await
            .success(),
    );
    assert_eq!(all["environments"], json!(["dev", "stage", "prod"]));
    assert_eq!(
        all["dependencies"][0]["versions"]["prod"],
        json!(["v1.0.0"]),
        "the legacy folder is excluded by [defaults]"
    );
    // The old NAME=GLOB form still works beside names.
    let mixed = json_of(
        &l.baton(
            &[
                "status",
                "--env",
                "dev",
                "--env",
                "legacy=prod/legacy/**",
                "--format",
                "json",
            ],
            &[],
        )
        .await
        .success(),
    );
    assert_eq!(mixed["environments"], json!(["dev", "legacy"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_applies_the_next_environments_gates_from_the_config() {
    // The config's prod gates (require_approvals = 1) hold stage's promotion until the merged
    // pull request has an approving review; once it has one, the dispatch goes out.
    let l = live().await;
    let event = l.work.join("../event.json");
    std::fs::write(
        &event,
        events::pull_request_closed(
            1,
            "baton-stage-updates-acme/terraform-aws-vpc/vpc",
            "c0ffee",
            "abc",
            true,
            &[],
            "acme/live",
        )
        .to_string(),
    )
    .unwrap();
    let promote = || async {
        json_of(
            &l.baton(
                &["promote", "--env", "stage"],
                &[("GITHUB_EVENT_PATH", event.to_str().unwrap())],
            )
            .await
            .success(),
        )
    };
    let held = promote().await;
    assert_eq!(held["dispatched"], false, "{held}");
    assert!(held.to_string().contains("approvals"), "{held}");
    l.gh.add_review("acme/live", 1, "alice", "APPROVED");
    let sent = promote().await;
    assert_eq!(sent["dispatched"], true, "{sent}");
    assert_eq!(sent["event_type"], "go_stage");
}

/// Runs `baton scan --env dev` on a directory holding `files`, and returns its stderr with the
/// directory replaced by `[DIR]`; the run must exit 2 and print nothing on stdout.
fn error_of(files: &[(&str, &str)], args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    write_tree(dir.path(), &files);
    let assert = baton().current_dir(dir.path()).args(args).assert().code(2);
    assert!(stdout_of(&assert).is_empty());
    stderr_of(&assert)
        .replace(&dir.path().display().to_string(), "[DIR]")
        .trim_end()
        .to_string()
}

fn config_error(text: &str) -> String {
    error_of(&[(".github/baton.toml", text)], &["scan", "--env", "dev"])
}

#[test]
fn config_errors_name_the_file_the_line_and_the_key() {
    let dev = "[[environments]]\nname = \"dev\"\ninclude = [\"dev/**\"]\n";
    let cases: Vec<(&str, String)> = vec![
        ("unknown key", format!("{dev}includes = [\"x\"]\n")),
        (
            "wrong type",
            "[[environments]]\nname = \"dev\"\ninclude = \"dev/**\"\n".into(),
        ),
        ("not TOML", "[[environments]\nname = \"dev\"\n".into()),
        (
            "bad glob",
            "[[environments]]\nname = \"dev\"\ninclude = [\"{dev\"]\n".into(),
        ),
        (
            "duplicate name",
            format!("{dev}\n[[environments]]\nname = \"dev\"\ninclude = [\"d2/**\"]\n"),
        ),
        (
            "bad name",
            "[[environments]]\nname = \"my dev\"\ninclude = [\"dev/**\"]\n".into(),
        ),
        (
            "no include",
            "[[environments]]\nname = \"dev\"\ninclude = []\n".into(),
        ),
        (
            "promote_from later",
            format!(
                "{dev}promote_from = \"prod\"\n\n[[environments]]\nname = \"prod\"\ninclude = [\"prod/**\"]\n"
            ),
        ),
        (
            "overlapping prefixes",
            format!(
                "{dev}branch_prefix = \"upd-\"\n\n[[environments]]\nname = \"prod\"\ninclude = [\"prod/**\"]\nbranch_prefix = \"upd-prod-\"\n"
            ),
        ),
        (
            "bad min_soak",
            format!("{dev}\n[environments.gates]\nmin_soak = \"a day\"\n"),
        ),
        (
            "bad strategy",
            format!("[defaults]\nupdate_strategy = \"newest\"\n\n{dev}"),
        ),
        ("bad schedule", format!("{dev}schedule = \"weekly\"\n")),
        ("bad author", format!("{dev}commit_author = \"bot\"\n")),
        ("no environments", "[defaults]\ndraft = true\n".into()),
        (
            "unknown environment",
            "[[environments]]\nname = \"stage\"\ninclude = [\"stage/**\"]\n".into(),
        ),
    ];
    let mut report = String::new();
    for (what, text) in &cases {
        report.push_str(&format!("--- {what}\n{}\n", config_error(text)));
    }
    report.push_str(&format!(
        "--- two config files\n{}\n",
        error_of(
            &[(".github/baton.toml", dev), ("baton.toml", dev)],
            &["scan", "--env", "dev"]
        )
    ));
    report.push_str(&format!(
        "--- no config file\n{}\n",
        error_of(&[("dev/main.tf", "")], &["report", "--env", "dev"])
    ));
    report.push_str(&format!(
        "--- status names an environment the config lacks\n{}\n",
        error_of(&[("baton.toml", dev)], &["status", "--env", "qa"])
    ));
    insta::assert_snapshot!("config_errors", report);
}

#[test]
fn an_explicit_config_file_is_read_from_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/vpc/main.tf",
                b"module \"v\" {\n  source = \"github.com/acme/terraform-aws-vpc?ref=v1.0.0\"\n}\n",
            ),
            (
                "stage/vpc/main.tf",
                b"module \"v\" {\n  source = \"github.com/acme/terraform-aws-vpc?ref=v0.9.0\"\n}\n",
            ),
        ],
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let config = elsewhere.path().join("envs.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let scan = json_of(
        &baton()
            .args(["scan", "--env", "stage", "--working-dir"])
            .arg(dir.path())
            .arg("--config")
            .arg(&config)
            .assert()
            .success(),
    );
    assert_eq!(files_of(&scan), ["stage/vpc/main.tf"]);
}

/// The config file the action reads gives the `environment` input its folders, branch and
/// labels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_environment_input_reads_the_config() {
    let l = live().await;
    let runner = tempfile::tempdir().unwrap();
    let output = runner.path().join("output");
    std::fs::write(&output, "").unwrap();
    let (work, api) = (l.work.clone(), l.gh.api_url());
    let gitconfig = runner.path().join("gitconfig");
    let assert = tokio::task::spawn_blocking(move || {
        baton()
            .arg("action")
            .current_dir(&work)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", &work)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_REPOSITORY", "acme/live")
            .env("GIT_CONFIG_GLOBAL", gitconfig)
            .env("BATON_LOG", "info")
            .env("INPUT_GITHUB_TOKEN", "ghs_FAKEACTIONTOKEN")
            .env("INPUT_PATCHER_COMMAND", "update")
            .env("INPUT_ENVIRONMENT", "dev")
            .env("INPUT_DEPENDENCY", DEP)
            .env("INPUT_GITHUB_BASE_URL", api)
            .assert()
    })
    .await
    .unwrap()
    .success();
    assert!(
        stderr_of(&assert).contains("environment dev: its settings come from the config file"),
        "{}",
        stderr_of(&assert)
    );
    let pr = &l.gh.pulls("acme/live")[0];
    assert_eq!(pr["head"]["ref"], format!("upd-dev-{DEP}"));
    assert_eq!(pr["labels"][0]["name"], "deps");
    let changed = git(
        &l.origin,
        &["diff", "--name-only", &format!("main...upd-dev-{DEP}")],
    );
    assert_eq!(changed.trim(), "dev/vpc/terragrunt.hcl");
}
