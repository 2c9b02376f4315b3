//! `baton history` over real git histories whose commits carry set dates: merge commits, squash
//! merges, Baton's trailers, edits by hand, several versions moving at once, files moved, and
//! shallow clones.

use crate::common::{baton, json_of, stderr_of, stdout_of, write_tree};
use crate::gitrepo::{git, git_at};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const VPC: &str = "acme/terraform-aws-vpc";
const SQS: &str = "acme/terraform-aws-sqs/queue";
const BOT: &str = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>";
const ALICE: &str = "Alice Admin <alice@example.com>";
const BOB: &str = "Bob Builder <bob@example.com>";
const CAROL: &str = "Carol Coder <carol@example.com>";

pub fn unit(version: &str) -> String {
    format!(
        "terraform {{\n  source = \"git::https://github.com/{VPC}.git?ref={version}\"\n}}\n\ninputs = {{\n  cidr = \"10.0.0.0/16\"\n}}\n"
    )
}

fn queue(version: &str) -> String {
    format!(
        "module \"queue\" {{\n  source = \"github.com/acme/terraform-aws-sqs//modules/queue?ref={version}\"\n}}\n"
    )
}

/// Writes files and commits them on the current branch at `date` as `author`.
pub fn commit(dir: &Path, date: &str, author: &str, message: &str, files: &[(&str, String)]) {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (*p, c.as_bytes())).collect();
    write_tree(dir, &files);
    git(dir, &["add", "-A"]);
    git_at(
        dir,
        date,
        author,
        &["commit", "-q", "--allow-empty", "-m", message],
    );
}

/// A live repository with a month of history:
///
/// 1. Nov 1: dev, stage and prod at vpc v1.0.0 (dev twice: `vpc` and `vpc-eu`), sqs v0.8.0 in dev.
/// 2. Nov 2: Baton's dev update of `dev/vpc` to v1.1.0, merged with a merge commit (#1) by Alice.
/// 3. Nov 3: the promotion to stage, squash-merged (#2) by Bob.
/// 4. Nov 4: Carol edits sqs to v0.9.0 by hand, straight on main.
/// 5. Nov 5: Baton moves both dev usages (v1.0.0 and v1.1.0) to v1.2.0 (#3, squash).
/// 6. Nov 6: Baton's rollback of dev to v1.1.0 (#4, merge commit).
/// 7. Nov 7: stage's folder is renamed and the README changes: no version changed.
pub fn live_history(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    commit(
        dir,
        "2026-11-01T09:00:00Z",
        ALICE,
        "Initial live repository",
        &[
            ("dev/vpc/terragrunt.hcl", unit("v1.0.0")),
            ("dev/vpc-eu/terragrunt.hcl", unit("v1.0.0")),
            ("dev/app/main.tf", queue("v0.8.0")),
            ("stage/vpc/terragrunt.hcl", unit("v1.0.0")),
            ("prod/vpc/terragrunt.hcl", unit("v1.0.0")),
            ("README.md", "live\n".into()),
        ],
    );
    let branch = format!("baton-dev-updates-{VPC}");
    git(dir, &["checkout", "-q", "-b", &branch]);
    commit(
        dir,
        "2026-11-02T10:00:00Z",
        BOT,
        &format!(
            "Update {VPC} to 1.1.0\n\n- dev/vpc/terragrunt.hcl:2: v1.0.0 → v1.1.0\n\nBaton-Kind: update\nBaton-Environment: dev\n"
        ),
        &[("dev/vpc/terragrunt.hcl", unit("v1.1.0"))],
    );
    git(dir, &["checkout", "-q", "main"]);
    git_at(
        dir,
        "2026-11-02T12:00:00Z",
        ALICE,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            &format!("Merge pull request #1 from acme/{branch}\n\nUpdate {VPC} to 1.1.0"),
            &branch,
        ],
    );
    commit(
        dir,
        "2026-11-03T08:00:00Z",
        BOB,
        &format!(
            "[stage] Update {VPC} to 1.1.0 (#2)\n\n* Update {VPC} to 1.1.0\n\nBaton-Kind: promotion\nBaton-Promoted-From: dev\nBaton-Environment: stage\n"
        ),
        &[("stage/vpc/terragrunt.hcl", unit("v1.1.0"))],
    );
    commit(
        dir,
        "2026-11-04T15:30:00Z",
        CAROL,
        "Pin the queue module to 0.9.0",
        &[("dev/app/main.tf", queue("v0.9.0"))],
    );
    commit(
        dir,
        "2026-11-05T11:00:00Z",
        ALICE,
        &format!("Update {VPC} to 1.2.0 (#3)\n\nBaton-Kind: update\n"),
        &[
            ("dev/vpc/terragrunt.hcl", unit("v1.2.0")),
            ("dev/vpc-eu/terragrunt.hcl", unit("v1.2.0")),
        ],
    );
    let rollback = format!("baton-dev-rollback-{VPC}");
    git(dir, &["checkout", "-q", "-b", &rollback]);
    commit(
        dir,
        "2026-11-06T09:00:00Z",
        BOT,
        &format!("Roll back {VPC} to 1.1.0\n\nBaton-Kind: rollback\n"),
        &[
            ("dev/vpc/terragrunt.hcl", unit("v1.1.0")),
            ("dev/vpc-eu/terragrunt.hcl", unit("v1.1.0")),
        ],
    );
    // A reviewer's commit on top: Baton's trailer is found below it.
    commit(
        dir,
        "2026-11-06T09:30:00Z",
        CAROL,
        "Add a comment",
        &[(
            "dev/vpc-eu/terragrunt.hcl",
            format!("# rolled back\n{}", unit("v1.1.0")),
        )],
    );
    git(dir, &["checkout", "-q", "main"]);
    git_at(
        dir,
        "2026-11-06T10:00:00Z",
        BOB,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            &format!("Merge pull request #4 from acme/{rollback}"),
            &rollback,
        ],
    );
    git(dir, &["mv", "stage/vpc", "stage/network"]);
    commit(
        dir,
        "2026-11-07T08:00:00Z",
        CAROL,
        "Rename stage's vpc folder",
        &[("README.md", "live repository\n".into())],
    );
}

const ENVS: [&str; 6] = [
    "--env",
    "dev=dev/**",
    "--env",
    "stage=stage/**",
    "--env",
    "prod=prod/**",
];

fn history(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    baton()
        .arg("history")
        .arg("--working-dir")
        .arg(dir)
        .args(args)
        .env_remove("BATON_CONFIG")
        .env_remove("BATON_DEPENDENCY")
        .assert()
}

#[test]
fn history_in_three_formats() {
    let tmp = tempfile::tempdir().unwrap();
    live_history(tmp.path());
    for format in ["text", "markdown", "json"] {
        let mut args = ENVS.to_vec();
        args.extend(["--format", format]);
        let out = stdout_of(&history(tmp.path(), &args).success());
        insta::assert_snapshot!(format!("history_{format}"), out);
    }
}

#[test]
fn history_lists_every_change_with_its_kind_pull_request_and_merger() {
    let tmp = tempfile::tempdir().unwrap();
    live_history(tmp.path());
    let mut args = ENVS.to_vec();
    args.extend(["--format", "json"]);
    let v = json_of(&history(tmp.path(), &args).success());
    assert_eq!(v["environments"], json!(["dev", "stage", "prod"]));
    let rows: Vec<(String, String, Value, Value, String, Value, String)> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["environment"].as_str().unwrap().to_string(),
                c["dependency"].as_str().unwrap().to_string(),
                c["from"].clone(),
                c["to"].clone(),
                c["kind"].as_str().unwrap().to_string(),
                c["pull_request"].clone(),
                c["time"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let row = |env: &str, dep: &str, from: Value, to: Value, kind: &str, pr: Value, t: &str| {
        (
            env.to_string(),
            dep.to_string(),
            from,
            to,
            kind.to_string(),
            pr,
            t.to_string(),
        )
    };
    assert_eq!(
        rows,
        vec![
            row(
                "dev",
                VPC,
                json!(["v1.2.0"]),
                json!(["v1.1.0"]),
                "rollback",
                json!(4),
                "2026-11-06T10:00:00Z"
            ),
            // Two usages at two versions, moved to one.
            row(
                "dev",
                VPC,
                json!(["v1.0.0", "v1.1.0"]),
                json!(["v1.2.0"]),
                "update",
                json!(3),
                "2026-11-05T11:00:00Z"
            ),
            row(
                "dev",
                SQS,
                json!(["v0.8.0"]),
                json!(["v0.9.0"]),
                "edit",
                Value::Null,
                "2026-11-04T15:30:00Z"
            ),
            row(
                "dev",
                VPC,
                json!(["v1.0.0"]),
                json!(["v1.1.0"]),
                "update",
                json!(1),
                "2026-11-02T12:00:00Z"
            ),
            row(
                "dev",
                SQS,
                json!([]),
                json!(["v0.8.0"]),
                "edit",
                Value::Null,
                "2026-11-01T09:00:00Z"
            ),
            row(
                "dev",
                VPC,
                json!([]),
                json!(["v1.0.0"]),
                "edit",
                Value::Null,
                "2026-11-01T09:00:00Z"
            ),
            row(
                "stage",
                VPC,
                json!(["v1.0.0"]),
                json!(["v1.1.0"]),
                "promotion",
                json!(2),
                "2026-11-03T08:00:00Z"
            ),
            row(
                "stage",
                VPC,
                json!([]),
                json!(["v1.0.0"]),
                "edit",
                Value::Null,
                "2026-11-01T09:00:00Z"
            ),
            row(
                "prod",
                VPC,
                json!([]),
                json!(["v1.0.0"]),
                "edit",
                Value::Null,
                "2026-11-01T09:00:00Z"
            ),
        ]
    );
    let changes = v["changes"].as_array().unwrap();
    // The merger of a merge commit is its author; the promotion names where it came from.
    assert_eq!(changes[0]["merged_by"], "Bob Builder");
    assert_eq!(changes[3]["merged_by"], "Alice Admin");
    assert_eq!(changes[6]["promoted_from"], "dev");
    let head = git(tmp.path(), &["rev-parse", "HEAD~1"]);
    assert_eq!(changes[0]["commit"], head.trim(), "the merge commit");
}

#[test]
fn history_filters_by_dependency_environment_limit_and_date() {
    let tmp = tempfile::tempdir().unwrap();
    live_history(tmp.path());
    let ids = |v: &Value| -> Vec<(String, String)> {
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["environment"].as_str().unwrap().to_string(),
                    c["time"].as_str().unwrap()[..10].to_string(),
                )
            })
            .collect()
    };
    let mut args = ENVS.to_vec();
    args.extend(["--dependency", SQS, "--format", "json"]);
    let v = json_of(&history(tmp.path(), &args).success());
    assert!(
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["dependency"] == SQS)
    );
    assert_eq!(ids(&v).len(), 2);

    let mut args = ENVS.to_vec();
    args.extend(["--limit", "1", "--format", "json"]);
    let v = json_of(&history(tmp.path(), &args).success());
    assert_eq!(
        ids(&v),
        vec![
            ("dev".into(), "2026-11-06".into()),
            ("stage".into(), "2026-11-03".into()),
            ("prod".into(), "2026-11-01".into())
        ]
    );
    let text = stdout_of(
        &history(
            tmp.path(),
            &[ENVS[0], ENVS[1], "--limit", "2", "--format", "text"],
        )
        .success(),
    );
    assert!(
        text.contains("4 older changes in dev not shown (--limit)"),
        "{text}"
    );

    let mut args = ENVS.to_vec();
    args.extend(["--since", "2026-11-04", "--format", "json"]);
    let v = json_of(&history(tmp.path(), &args).success());
    assert_eq!(
        ids(&v),
        vec![
            ("dev".into(), "2026-11-06".into()),
            ("dev".into(), "2026-11-05".into()),
            ("dev".into(), "2026-11-04".into())
        ]
    );

    // One environment by its folders.
    let v = json_of(
        &history(
            tmp.path(),
            &["--include-dirs", "stage/**", "--format", "json"],
        )
        .success(),
    );
    assert_eq!(v["environments"], json!(["stage/**"]));
    assert_eq!(ids(&v).len(), 2);

    // Environments from baton.toml, one picked by name.
    std::fs::write(
        tmp.path().join("baton.toml"),
        "[[environments]]\nname = \"dev\"\ninclude = [\"dev/**\"]\n\n[[environments]]\nname = \"prod\"\ninclude = [\"prod/**\"]\n",
    )
    .unwrap();
    let v = json_of(&history(tmp.path(), &["--env", "prod", "--format", "json"]).success());
    assert_eq!(v["environments"], json!(["prod"]));
    let assert = history(tmp.path(), &["--env", "qa"]).code(2);
    assert!(
        stderr_of(&assert).contains("no environment \"qa\" in"),
        "{}",
        stderr_of(&assert)
    );
}

#[test]
fn history_of_a_folder_outside_git_exits_2_and_bad_dates_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let assert = history(tmp.path(), &ENVS).code(2);
    assert!(
        stderr_of(&assert).contains("not inside a git repository"),
        "{}",
        stderr_of(&assert)
    );
    let assert = history(tmp.path(), &["--env", "dev=dev/**", "--since", "last week"]).code(2);
    assert!(
        stderr_of(&assert).contains("is not a date"),
        "{}",
        stderr_of(&assert)
    );
}

/// A clone of `full` with the last `depth` commits only, in `dir/shallow`.
pub fn shallow_clone(dir: &Path, full: &Path, depth: u32) -> PathBuf {
    let shallow = dir.join("shallow");
    git(
        dir,
        &[
            "clone",
            "-q",
            "--depth",
            &depth.to_string(),
            &format!("file://{}", full.display()),
            shallow.to_str().unwrap(),
        ],
    );
    shallow
}

#[test]
fn a_shallow_clone_says_its_history_is_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    std::fs::create_dir_all(&full).unwrap();
    live_history(&full);
    let shallow = shallow_clone(tmp.path(), &full, 1);
    let mut args = ENVS.to_vec();
    args.extend(["--format", "json"]);
    let assert = history(&shallow, &args).success();
    assert!(
        stderr_of(&assert).contains("shallow clone"),
        "{}",
        stderr_of(&assert)
    );
    let v = json_of(&assert);
    assert_eq!(v["shallow"], true);
    // Everything counts as added at the one commit there is.
    assert!(
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["from"] == json!([]))
    );
}

/// `baton status` over the same history, at a set time.
fn status_at(dir: &Path, now: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    baton()
        .arg("status")
        .arg("--working-dir")
        .arg(dir)
        .args(ENVS)
        .args(args)
        .env("BATON_NOW", now)
        .env_remove("BATON_CONFIG")
        .env_remove("BATON_DEPENDENCY")
        .env_remove("BATON_MIN_SOAK")
        .env_remove("BATON_AGES")
        .assert()
}

#[test]
fn status_shows_soak_ages_and_the_gates_holding_promotions() {
    let tmp = tempfile::tempdir().unwrap();
    live_history(tmp.path());
    for format in ["text", "markdown", "json"] {
        let out = stdout_of(
            &status_at(
                tmp.path(),
                "2026-11-08T10:00:00Z",
                &["--min-soak", "6d", "--format", format],
            )
            .success(),
        );
        insta::assert_snapshot!(format!("status_soak_{format}"), out);
    }
    let v = json_of(
        &status_at(
            tmp.path(),
            "2026-11-08T10:00:00Z",
            &["--ages", "--format", "json"],
        )
        .success(),
    );
    let vpc = &v["dependencies"][1];
    assert_eq!(vpc["id"], VPC);
    assert_eq!(
        vpc["held_since"],
        json!({"dev": "2026-11-06T10:00:00Z", "stage": "2026-11-03T08:00:00Z", "prod": "2026-11-01T09:00:00Z"})
    );
    assert_eq!(vpc["gated"], json!([]), "no soak time asked");
}

#[test]
fn status_filters_by_dependency_and_environment() {
    let tmp = tempfile::tempdir().unwrap();
    live_history(tmp.path());
    let v = json_of(
        &status_at(
            tmp.path(),
            "2026-11-08T10:00:00Z",
            &["--dependency", SQS, "--format", "json"],
        )
        .success(),
    );
    let ids: Vec<&str> = v["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [SQS]);
    assert!(
        v["dependencies"][0].get("held_since").is_none(),
        "ages only when asked"
    );

    let text = stdout_of(
        &status_at(
            tmp.path(),
            "2026-11-08T10:00:00Z",
            &["--env", "prod", "--ages", "--format", "text"],
        )
        .success(),
    );
    let header = text.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["DEPENDENCY", "prod", "STATUS"]
    );
    assert!(
        text.contains("v1.0.0 (7d 1h)  pending promotion: stage → prod"),
        "{text}"
    );
    assert!(!text.contains(SQS), "sqs is not used in prod: {text}");
    let assert = status_at(tmp.path(), "2026-11-08T10:00:00Z", &["--env", "qa"]).code(2);
    assert!(stderr_of(&assert).contains("--env qa: no such environment"));
}

#[test]
fn a_version_that_does_not_parse_is_reported_and_the_history_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    live_history(tmp.path());
    commit(
        tmp.path(),
        "2026-11-08T09:00:00Z",
        CAROL,
        "Half an edit",
        &[("dev/vpc/terragrunt.hcl", "terraform {\n  source = \"git::https://github.com/acme/terraform-aws-vpc.git?ref=v1.2.0\"\n".into())],
    );
    commit(
        tmp.path(),
        "2026-11-08T10:00:00Z",
        CAROL,
        "Finish the edit",
        &[("dev/vpc/terragrunt.hcl", unit("v1.2.0"))],
    );
    let assert = history(
        tmp.path(),
        &["--env", "dev=dev/**", "--format", "json", "--limit", "2"],
    )
    .success();
    let stderr = stderr_of(&assert);
    assert!(stderr.contains("dev/vpc/terragrunt.hcl"), "{stderr}");
    assert!(stderr.contains("cannot be parsed"), "{stderr}");
    let v = json_of(&assert);
    let first = &v["changes"][0];
    assert_eq!(first["time"], "2026-11-08T10:00:00Z");
    assert_eq!(first["to"], json!(["v1.2.0"]));
}
