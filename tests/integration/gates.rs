//! Promotion gates and rollbacks along dev → stage → prod, with a real bare `origin`, merges
//! dated with `GIT_COMMITTER_DATE`, a clock set with `BATON_NOW`, and the GitHub stand-in
//! serving check runs, combined statuses and reviews.

use crate::common::{baton, stderr_of, stdout_of, write_tree};
use crate::events;
use crate::fake_github::FakeGitHub;
use crate::gitrepo::{git, git_at, tagged_repo};
use serde_json::{Value, json};
use std::path::PathBuf;

const DEP: &str = "acme/terraform-aws-vpc/vpc";
const REPO: &str = "acme/live";
const MERGER: &str = "Mona Merger <mona@example.com>";

struct Live {
    _root: tempfile::TempDir,
    work: PathBuf,
    origin: PathBuf,
    events: PathBuf,
    source: String,
    gh: FakeGitHub,
}

fn unit(source: &str, env: &str, version: &str) -> String {
    format!(
        "# {env}\nterraform {{\n  source = \"{source}?ref={version}\"\n}}\n\ninputs = {{\n  name = \"{env}\"\n}}\n"
    )
}

/// A live repository whose dev, stage and prod run `versions`, committed on 2026-11-01 and
/// pushed to a bare origin; the module has releases v1.0.0 to v1.2.0.
async fn live(versions: [&str; 3]) -> Live {
    let root = tempfile::tempdir().unwrap();
    let repo = tagged_repo(
        &root.path().join("modules"),
        "acme/terraform-aws-vpc",
        &["v1.0.0", "v1.1.0", "v1.2.0"],
    );
    let source = format!("git::file://{}//modules/vpc", repo.display());
    let origin = root.path().join("origin.git");
    let work = root.path().join("live");
    let events = root.path().join("events");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&events).unwrap();
    git(
        root.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    git(&work, &["init", "-q"]);
    let files: Vec<(String, String)> = ["dev", "stage", "prod"]
        .iter()
        .zip(versions)
        .map(|(env, v)| (format!("{env}/vpc/terragrunt.hcl"), unit(&source, env, v)))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_bytes()))
        .collect();
    write_tree(&work, &refs);
    git(&work, &["add", "-A"]);
    git_at(
        &work,
        "2026-11-01T09:00:00Z",
        MERGER,
        &["commit", "-q", "-m", "live"],
    );
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    let gh = FakeGitHub::start("").await;
    gh.add_repo(REPO, &[]);
    Live {
        _root: root,
        work,
        origin,
        events,
        source,
        gh,
    }
}

impl Live {
    async fn baton(&self, args: &[&str], envs: &[(&str, String)]) -> assert_cmd::assert::Assert {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.push("--github-api-url".into());
        all.push(self.gh.api_url());
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let work = self.work.clone();
        tokio::task::spawn_blocking(move || {
            let mut cmd = baton();
            cmd.current_dir(&work)
                .env("GITHUB_REPOSITORY", REPO)
                .env("GITHUB_TOKEN", "ghs_FAKEGATESTOKEN")
                .env_remove("BATON_NOW")
                .env_remove("GITHUB_EVENT_NAME")
                .env_remove("GITHUB_RUN_ID")
                .args(&all);
            for (k, v) in envs {
                cmd.env(k, v);
            }
            cmd.assert()
        })
        .await
        .unwrap()
    }

    fn event(&self, name: &str, event: &Value) -> String {
        let path = self.events.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(event).unwrap()).unwrap();
        path.display().to_string()
    }

    /// The tip of a branch on origin.
    fn tip(&self, branch: &str) -> String {
        git(&self.origin, &["rev-parse", branch]).trim().to_string()
    }

    /// Merges a branch into main on origin at `date`, as the merge button would (a merge commit
    /// "Merge pull request #N"); returns the merge commit.
    fn merge(&self, branch: &str, number: u64, date: &str) -> String {
        git(&self.work, &["fetch", "-q", "origin"]);
        git(&self.work, &["checkout", "-q", "-B", "main", "origin/main"]);
        git_at(
            &self.work,
            date,
            MERGER,
            &[
                "merge",
                "-q",
                "--no-ff",
                "-m",
                &format!("Merge pull request #{number} from acme/{branch}"),
                &format!("origin/{branch}"),
            ],
        );
        git(&self.work, &["push", "-q", "origin", "main"]);
        git(&self.work, &["rev-parse", "HEAD"]).trim().to_string()
    }

    fn on_main(&self, rel: &str) -> String {
        git(&self.origin, &["show", &format!("main:{rel}")])
    }

    fn dispatches(&self) -> Vec<Value> {
        self.gh
            .state
            .lock()
            .unwrap()
            .dispatches
            .iter()
            .map(|(_, body)| body.clone())
            .collect()
    }

    /// Publishes the update of one environment (Baton's update job).
    async fn update(&self, env: &str, extra: &[&str], envs: &[(&str, String)]) -> Value {
        let branch = format!("baton-{env}-updates-{DEP}");
        let include = format!("{{*{env}*}}/**");
        let label = format!("updates-{env}");
        let mut args = vec![
            "update",
            "--publish",
            "--include-dirs",
            &include,
            "--dependency",
            DEP,
            "--pull-request-branch",
            &branch,
            "--pull-request-labels",
            &label,
        ];
        args.extend(extra);
        git(&self.work, &["checkout", "-q", "main"]);
        git(&self.work, &["pull", "-q", "origin", "main"]);
        let assert = self.baton(&args, envs).await.success();
        serde_json::from_str(&stdout_of(&assert)).unwrap()
    }

    /// Runs `baton promote` for a merged pull request of `env`.
    async fn promote(
        &self,
        env: &str,
        number: u64,
        merge: &str,
        head: &str,
        extra: &[&str],
    ) -> (Value, String) {
        let branch = format!("baton-{env}-updates-{DEP}");
        let event = self.event(
            &format!("{env}-closed-{number}"),
            &merged_at(
                events::pull_request_closed(
                    number,
                    &branch,
                    head,
                    merge,
                    true,
                    &[&format!("updates-{env}")],
                    REPO,
                ),
                "2026-12-03T11:00:00Z",
            ),
        );
        git(&self.work, &["checkout", "-q", merge]);
        let include = format!("{{*{env}*}}/**");
        let prefix = format!("baton-{env}-updates-");
        let mut args = vec![
            "promote",
            "--include-dirs",
            &include,
            "--pull-request-branch-prefix",
            &prefix,
            "--environment",
            env,
        ];
        args.extend(extra);
        let assert = self
            .baton(
                &args,
                &[
                    ("GITHUB_EVENT_PATH", event),
                    ("GITHUB_RUN_ID", "999".into()),
                    ("BATON_LOG", "info".into()),
                ],
            )
            .await
            .success();
        git(&self.work, &["checkout", "-q", "main"]);
        (
            serde_json::from_str(&stdout_of(&assert)).unwrap(),
            stderr_of(&assert),
        )
    }

    /// The environment variables of a run started by a `repository_dispatch` event.
    fn dispatched(&self, name: &str, body: &Value) -> Vec<(&'static str, String)> {
        let path = self.event(
            name,
            &events::repository_dispatch(
                body["event_type"].as_str().expect("event_type"),
                body["client_payload"].clone(),
                REPO,
            ),
        );
        vec![
            ("GITHUB_EVENT_NAME", "repository_dispatch".into()),
            ("GITHUB_EVENT_PATH", path),
        ]
    }

    async fn report(&self, args: &[&str], envs: &[(&str, String)]) -> Value {
        git(&self.work, &["checkout", "-q", "main"]);
        git(&self.work, &["pull", "-q", "origin", "main"]);
        let mut all = vec!["report"];
        all.extend(args);
        serde_json::from_str(&stdout_of(&self.baton(&all, envs).await.success())).unwrap()
    }
}

/// A merged pull request's event, merged (and closed) at `at`.
fn merged_at(mut event: Value, at: &str) -> Value {
    event["pull_request"]["merged_at"] = json!(at);
    event["pull_request"]["closed_at"] = json!(at);
    event
}

fn with_now(mut envs: Vec<(&'static str, String)>, now: &str) -> Vec<(&'static str, String)> {
    envs.push(("BATON_NOW", now.into()));
    envs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_then_checks_gate_the_chain_from_dev_to_prod() {
    let l = live(["v1.0.0", "v1.0.0", "v1.0.0"]).await;

    // dev: Baton's update, green checks on its head, merged on Dec 1 at 10:00.
    let out = l
        .update("dev", &["--update-strategy", "next-safe"], &[])
        .await;
    assert_eq!(out["updated"][0]["to"], "v1.2.0");
    let dev_branch = format!("baton-dev-updates-{DEP}");
    let dev_head = l.tip(&dev_branch);
    l.gh.add_check_run(
        REPO,
        &dev_head,
        "plan",
        "completed",
        Some("success"),
        "https://github.com/acme/live/actions/runs/1/job/1",
    );
    let merge = l.merge(&dev_branch, 1, "2026-12-01T10:00:00Z");
    let (promoted, _) = l
        .promote("dev", 1, &merge, &dev_head, &["--require-checks"])
        .await;
    assert_eq!(promoted["dispatched"], true, "{promoted}");
    let dispatch = l.dispatches()[0].clone();
    assert_eq!(dispatch["client_payload"]["version"], "1.2.0");

    // stage, 5 hours later: held by the soak time, nothing proposed, and Gated says when.
    let stage = [
        "--include-dirs",
        "{*stage*}/**",
        "--promote-from",
        "{*dev*}/**",
        "--min-soak",
        "2d",
    ];
    let envs = with_now(
        l.dispatched("dev-dispatch", &dispatch),
        "2026-12-01T15:00:00Z",
    );
    let spec = l.report(&stage, &envs).await;
    assert_eq!(spec["Dependencies"], json!([]), "{spec}");
    assert_eq!(
        spec["Gated"],
        json!([{
            "ID": DEP,
            "Version": "1.2.0",
            "Gate": "soak",
            "Reason": format!("{DEP} 1.2.0: in dev for 5h of 2d; ready after 2026-12-03T10:00Z"),
            "ReadyAt": "2026-12-03T10:00:00Z"
        }])
    );

    // The clock moves past it: the scheduled stage run (no dispatch) proposes it.
    let spec = l
        .report(&stage, &[("BATON_NOW", "2026-12-03T10:30:00Z".into())])
        .await;
    assert_eq!(spec["Dependencies"][0]["ID"], DEP, "{spec}");
    assert_eq!(spec["Dependencies"][0]["TargetBreakingVersion"], "1.2.0");
    assert!(spec.get("Gated").is_none(), "{spec}");

    // The stage pull request merges with a failing check: nothing is dispatched to prod.
    let spec_text = serde_json::to_string(&spec).unwrap();
    let out = l.update("stage", &["--spec", &spec_text], &[]).await;
    assert_eq!(out["updated"][0]["to"], "v1.2.0");
    let stage_branch = format!("baton-stage-updates-{DEP}");
    let stage_head = l.tip(&stage_branch);
    l.gh.add_check_run(
        REPO,
        &stage_head,
        "plan",
        "completed",
        Some("failure"),
        "https://github.com/acme/live/actions/runs/2/job/1",
    );
    l.gh.add_check_run(
        REPO,
        &stage_head,
        "tflint",
        "completed",
        Some("success"),
        "https://github.com/acme/live/actions/runs/2/job/2",
    );
    // The promote job's own run is in progress on the same commit: it is not waited for.
    l.gh.add_check_run(
        REPO,
        &stage_head,
        "Promote to prod",
        "in_progress",
        None,
        "https://github.com/acme/live/actions/runs/999/job/7",
    );
    l.gh.add_status(REPO, &stage_head, "ci/external", "success");
    // Another workflow the closing of the pull request started, still queued: it checks nothing
    // that was merged.
    l.gh.add_check_run(
        REPO,
        &stage_head,
        "Report prod updates",
        "queued",
        None,
        "https://github.com/acme/live/actions/runs/1000/job/1",
    );
    l.gh.state
        .lock()
        .unwrap()
        .repos
        .get_mut(REPO)
        .unwrap()
        .check_started
        .insert(
            (stage_head.clone(), "Report prod updates".into()),
            "2026-12-03T11:00:05Z".into(),
        );
    let merge = l.merge(&stage_branch, 2, "2026-12-03T11:00:00Z");
    let (held, stderr) = l
        .promote("stage", 2, &merge, &stage_head, &["--require-checks"])
        .await;
    assert_eq!(held["dispatched"], false, "{held}");
    assert_eq!(held["gated"], true);
    assert_eq!(held["held"], json!(["checks: plan concluded failure"]));
    assert!(
        held["reason"].as_str().unwrap().contains("#2 is gated"),
        "{held}"
    );
    assert!(
        stderr.contains("promotion held: checks: plan concluded failure"),
        "{stderr}"
    );
    assert_eq!(l.dispatches().len(), 1, "nothing sent to prod");

    // A fix merges as another pull request with green checks: dispatched to prod.
    git(&l.work, &["fetch", "-q", "origin"]);
    git(
        &l.work,
        &["checkout", "-q", "-B", &stage_branch, "origin/main"],
    );
    let file = l.work.join("stage/vpc/terragrunt.hcl");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("# stage", "# stage (plan fixed)");
    std::fs::write(&file, text).unwrap();
    git(&l.work, &["commit", "-q", "-am", "Fix the stage plan"]);
    git(&l.work, &["push", "-q", "-f", "origin", &stage_branch]);
    let fixed_head = l.tip(&stage_branch);
    l.gh.add_check_run(
        REPO,
        &fixed_head,
        "plan",
        "completed",
        Some("success"),
        "https://github.com/acme/live/actions/runs/3/job/1",
    );
    l.gh.add_check_run(
        REPO,
        &fixed_head,
        "tflint",
        "completed",
        Some("skipped"),
        "https://github.com/acme/live/actions/runs/3/job/2",
    );
    let merge = l.merge(&stage_branch, 3, "2026-12-03T13:00:00Z");
    let (sent, _) = l
        .promote(
            "stage",
            3,
            &merge,
            &fixed_head,
            &["--required-checks", "plan,tflint"],
        )
        .await;
    assert_eq!(sent["dispatched"], true, "{sent}");
    assert_eq!(sent["gated"], false);
    let dispatches = l.dispatches();
    assert_eq!(dispatches.len(), 2);
    assert_eq!(dispatches[1]["event_type"], "stage_updates_merged");
    assert_eq!(dispatches[1]["client_payload"]["version"], "1.2.0");
    assert!(
        l.on_main("stage/vpc/terragrunt.hcl")
            .contains("?ref=v1.2.0")
    );
    assert!(!l.source.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_checks_and_approvals_hold_the_dispatch_and_say_why() {
    let l = live(["v1.0.0", "v1.0.0", "v1.0.0"]).await;
    l.update("dev", &["--update-strategy", "next-safe"], &[])
        .await;
    let branch = format!("baton-dev-updates-{DEP}");
    let head = l.tip(&branch);
    let merge = l.merge(&branch, 1, "2026-12-01T10:00:00Z");

    // No check ran at all (the default token starts no workflow): held, and the run says why.
    let (held, _) = l
        .promote("dev", 1, &merge, &head, &["--require-checks"])
        .await;
    assert_eq!(held["gated"], true, "{held}");
    let why = held["held"][0].as_str().unwrap();
    assert!(why.contains("no check ran on"), "{why}");
    assert!(
        why.contains("default GITHUB_TOKEN starts no workflow"),
        "{why}"
    );

    // A named check that never ran is missing; a pending status holds too.
    l.gh.add_status(REPO, &head, "ci/plan", "pending");
    let (held, _) = l
        .promote(
            "dev",
            1,
            &merge,
            &head,
            &["--required-checks", "ci/plan,tflint"],
        )
        .await;
    assert_eq!(
        held["held"],
        json!([
            format!("checks: ci/plan is pending on {}", &head[..12]),
            format!(
                "checks: tflint is missing (no check run or status of that name) on {}",
                &head[..12]
            )
        ])
    );

    // Approvals: each reviewer's latest review counts; a comment does not undo an approval.
    l.gh.add_review(REPO, 1, "alice", "APPROVED");
    l.gh.add_review(REPO, 1, "bob", "APPROVED");
    l.gh.add_review(REPO, 1, "bob", "CHANGES_REQUESTED");
    l.gh.add_review(REPO, 1, "alice", "COMMENTED");
    let (held, _) = l
        .promote("dev", 1, &merge, &head, &["--require-approvals", "2"])
        .await;
    assert_eq!(
        held["held"],
        json!(["approvals: pull request #1 has 1 approving review (alice), 2 required"])
    );
    assert!(l.dispatches().is_empty());
    l.gh.add_review(REPO, 1, "carol", "APPROVED");
    let (sent, _) = l
        .promote("dev", 1, &merge, &head, &["--require-approvals", "2"])
        .await;
    assert_eq!(sent["dispatched"], true, "{sent}");
    assert_eq!(l.dispatches().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_in_dev_is_promoted_to_stage_as_a_rollback() {
    let l = live(["v1.1.0", "v1.1.0", "v1.1.0"]).await;
    // dev and stage moved to v1.2.0 through pull requests #7 and #8 (squash merges).
    for (env, number, date) in [
        ("dev", 7, "2026-11-10T10:00:00Z"),
        ("stage", 8, "2026-11-12T10:00:00Z"),
    ] {
        let file = l.work.join(format!("{env}/vpc/terragrunt.hcl"));
        std::fs::write(&file, unit(&l.source, env, "v1.2.0")).unwrap();
        git(&l.work, &["add", "-A"]);
        let message = format!("Update {DEP} to 1.2.0 (#{number})\n\nBaton-Kind: update\n");
        git_at(&l.work, date, MERGER, &["commit", "-q", "-m", &message]);
    }
    git(&l.work, &["push", "-q", "origin", "main"]);

    // Only published versions: nothing written, nothing pushed.
    let branch = format!("baton-dev-updates-{DEP}");
    let assert = l
        .baton(
            &[
                "update",
                "--publish",
                "--include-dirs",
                "{*dev*}/**",
                "--dependency",
                DEP,
                "--to-version",
                "1.1.5",
                "--pull-request-branch",
                &branch,
            ],
            &[],
        )
        .await
        .code(2);
    assert!(
        stderr_of(&assert)
            .contains("1.1.5 is not a published version of acme/terraform-aws-vpc/vpc"),
        "{}",
        stderr_of(&assert)
    );
    assert!(l.gh.pulls(REPO).is_empty());
    assert!(
        std::fs::read_to_string(l.work.join("dev/vpc/terragrunt.hcl"))
            .unwrap()
            .contains("v1.2.0")
    );

    // dev: roll back to exactly 1.1.0, titled and described as a rollback.
    let out = l.update("dev", &["--to-version", "v1.1.0"], &[]).await;
    assert_eq!(out["updated"][0]["from"], "v1.2.0");
    assert_eq!(out["updated"][0]["to"], "v1.1.0");
    let pr = &l.gh.pulls(REPO)[0];
    assert_eq!(pr["title"], format!("Roll back {DEP} to 1.1.0"));
    let body = pr["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("## Roll back `{DEP}` from 1.2.0 to 1.1.0")),
        "{body}"
    );
    assert!(
        body.contains("1.2.0 came with #7 (update, 2026-11-10T10:00Z by Mona Merger"),
        "{body}"
    );
    let message = git(&l.origin, &["log", "-1", "--format=%B", &branch]);
    assert!(
        message.starts_with(&format!("Roll back {DEP} to 1.1.0")),
        "{message}"
    );
    assert!(
        message.contains("Baton-Kind: rollback\nBaton-Environment: dev\n"),
        "{message}"
    );

    // Merged: promote marks the dispatch as a rollback.
    let head = l.tip(&branch);
    let merge = l.merge(&branch, 1, "2026-12-01T10:00:00Z");
    let (promoted, _) = l.promote("dev", 1, &merge, &head, &[]).await;
    assert_eq!(promoted["payload"]["rollback"], true, "{promoted}");
    assert_eq!(promoted["payload"]["version"], "1.1.0");
    let dispatch = l.dispatches()[0].clone();
    assert_eq!(dispatch["client_payload"]["rollback"], true);

    // stage is proposed the same version, down from 1.2.0, even with a soak time (a rollback
    // is not held) ...
    let envs = with_now(
        l.dispatched("dev-dispatch", &dispatch),
        "2026-12-01T10:05:00Z",
    );
    let spec = l
        .report(
            &[
                "--include-dirs",
                "{*stage*}/**",
                "--promote-from",
                "{*dev*}/**",
                "--min-soak",
                "2d",
            ],
            &envs,
        )
        .await;
    assert_eq!(
        spec["Dependencies"][0]["TargetBreakingVersion"], "1.1.0",
        "{spec}"
    );
    assert_eq!(spec["Dependencies"][0]["CurrentVersions"], json!(["1.2.0"]));

    // ... and its pull request is a rollback promoted from dev.
    let spec_text = serde_json::to_string(&spec).unwrap();
    l.update(
        "stage",
        &[
            "--spec",
            &spec_text,
            "--pull-request-title",
            "[stage] Update x",
        ],
        &envs,
    )
    .await;
    let pr = &l.gh.pulls(REPO)[1];
    assert_eq!(pr["title"], "[stage] Roll back x");
    let body = pr["body"].as_str().unwrap();
    assert!(body.contains("A rollback of"), "{body}");
    assert!(body.contains("merged in **dev**"), "{body}");
    assert!(body.contains("1.2.0 came with #8"), "{body}");
    let stage_branch = format!("baton-stage-updates-{DEP}");
    let message = git(&l.origin, &["log", "-1", "--format=%B", &stage_branch]);
    assert!(
        message
            .contains("Baton-Kind: rollback\nBaton-Environment: stage\nBaton-Promoted-From: dev\n"),
        "{message}"
    );
    let head = l.tip(&stage_branch);
    let merge = l.merge(&stage_branch, 2, "2026-12-01T12:00:00Z");
    let (promoted, _) = l.promote("stage", 2, &merge, &head, &[]).await;
    assert_eq!(promoted["payload"]["rollback"], true, "{promoted}");
    assert!(
        l.on_main("stage/vpc/terragrunt.hcl")
            .contains("?ref=v1.1.0")
    );

    // The history tells the story.
    let history = baton()
        .current_dir(&l.work)
        .args([
            "history",
            "--env",
            "dev={*dev*}/**",
            "--env",
            "stage={*stage*}/**",
            "--format",
            "json",
        ])
        .assert()
        .success();
    let h: Value = serde_json::from_str(&stdout_of(&history)).unwrap();
    let kinds: Vec<(&str, &str)> = h["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["environment"].as_str().unwrap(),
                c["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("dev", "rollback"),
            ("dev", "update"),
            ("dev", "edit"),
            ("stage", "rollback"),
            ("stage", "update"),
            ("stage", "edit")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_never_moves_an_environment_down() {
    // dev went down to 1.1.0 by hand; stage runs 1.2.0.
    let l = live(["v1.1.0", "v1.2.0", "v1.2.0"]).await;
    let stage = [
        "--include-dirs",
        "{*stage*}/**",
        "--promote-from",
        "{*dev*}/**",
    ];
    // The scheduled run: nothing proposed, and it says why.
    git(&l.work, &["checkout", "-q", "main"]);
    let assert = l
        .baton(
            &{
                let mut a = vec!["report"];
                a.extend(stage);
                a
            },
            &[],
        )
        .await
        .success();
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(spec["Dependencies"], json!([]), "{spec}");
    assert!(
        stderr_of(&assert).contains("runs v1.2.0, newer than 1.1.0 in {*dev*}/**; not moved down"),
        "{}",
        stderr_of(&assert)
    );
    // A dispatch that is not a rollback does not move it down either.
    let envs = l.dispatched(
        "update",
        &json!({"event_type": "dev_updates_merged", "client_payload": {"dependency": DEP, "version": "1.1.0", "environment": "dev"}}),
    );
    let spec = l.report(&stage, &envs).await;
    assert_eq!(spec["Dependencies"], json!([]), "{spec}");
    let out = l
        .update("stage", &["--promote-from", "{*dev*}/**"], &envs)
        .await;
    assert_eq!(out["updated"], json!([]));
    assert!(l.gh.pulls(REPO).is_empty());
    // Neither does prod's catch-up from stage.
    let spec = l
        .report(
            &[
                "--include-dirs",
                "{*prod*}/**",
                "--promote-from",
                "{*stage*}/**",
            ],
            &[],
        )
        .await;
    assert_eq!(spec["Dependencies"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn young_releases_are_not_targets_and_undated_ones_are_held() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo(
        "acme/terraform-aws-vpc",
        &["v1.3.0", "v1.2.0", "v1.1.0", "v1.0.0"],
    );
    {
        let mut state = gh.state.lock().unwrap();
        let repo = state.repos.get_mut("acme/terraform-aws-vpc").unwrap();
        repo.releases = vec![
            ("v1.1.0".into(), "old enough".into()),
            ("v1.2.0".into(), "fresh".into()),
        ];
        repo.release_dates
            .insert("v1.1.0".into(), "2026-11-20T10:00:00Z".into());
        repo.release_dates
            .insert("v1.2.0".into(), "2026-12-01T08:00:00Z".into());
        // v1.3.0 is a tag without a release: its commit's date counts.
        repo.tag_dates
            .insert("v1.3.0".into(), "2026-11-30T00:00:00Z".into());
    }
    let tmp = tempfile::tempdir().unwrap();
    let modules = tagged_repo(
        &tmp.path().join("modules"),
        "acme/terraform-aws-sqs",
        &["v1.0.0", "v1.1.0"],
    );
    let dir = tmp.path().join("live");
    let vpc =
        "terraform {\n  source = \"github.com/acme/terraform-aws-vpc?ref=v1.0.0\"\n}\n".to_string();
    let sqs = format!(
        "terraform {{\n  source = \"git::file://{}//modules/vpc?ref=v1.0.0\"\n}}\n",
        modules.display()
    );
    write_tree(
        &dir,
        &[
            ("dev/vpc/terragrunt.hcl", vpc.as_bytes()),
            ("dev/sqs/terragrunt.hcl", sqs.as_bytes()),
        ],
    );
    let api = gh.api_url();
    let assert = tokio::task::spawn_blocking(move || {
        baton()
            .args(["report", "--working-dir"])
            .arg(&dir)
            .args(["--github-api-url", &api, "--min-release-age", "2d"])
            .env("BATON_NOW", "2026-12-01T12:00:00Z")
            .assert()
            .success()
    })
    .await
    .unwrap();
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let deps = spec["Dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{spec}");
    assert_eq!(deps[0]["ID"], "acme/terraform-aws-vpc");
    assert_eq!(
        deps[0]["TargetSafeVersion"], "1.1.0",
        "the newest release old enough"
    );
    let sqs_id = format!(
        "{}/terraform-aws-sqs/vpc",
        modules
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
    );
    assert_eq!(
        spec["Gated"],
        json!([
            {
                "ID": sqs_id,
                "Version": "1.1.0",
                "Gate": "release-age",
                "Reason": format!(
                    "{sqs_id} 1.1.0: no publication date: file://{} is read with `git ls-remote`, which gives tags without dates; held back while min_release_age is set",
                    modules.display()
                ),
                "ReadyAt": null
            },
            {
                "ID": "acme/terraform-aws-vpc",
                "Version": "1.3.0",
                "Gate": "release-age",
                "Reason": "acme/terraform-aws-vpc 1.3.0: released 1d 12h ago (2026-11-30T00:00Z), younger than min_release_age 2d; ready after 2026-12-02T00:00Z (targeting 1.1.0 instead)",
                "ReadyAt": "2026-12-02T00:00:00Z"
            }
        ])
    );
}

#[test]
fn gate_and_rollback_flags_that_cannot_work_exit_2_before_anything_is_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let unit = "terraform {\n  source = \"github.com/acme/terraform-aws-vpc?ref=v1.0.0\"\n}\n";
    write_tree(tmp.path(), &[("dev/vpc/terragrunt.hcl", unit.as_bytes())]);
    let run = |args: &[&str]| {
        let assert = baton()
            .args(args)
            .arg("--working-dir")
            .arg(tmp.path())
            .assert()
            .code(2);
        stderr_of(&assert)
    };
    assert!(
        run(&["update", "--to-version", "1.1.0"]).contains("--to-version 1.1.0 needs --dependency")
    );
    assert!(
        run(&[
            "update",
            "--to-version",
            "1.1.0",
            "--dependency",
            "acme/terraform-aws-vpc",
            "--spec",
            "{\"Dependencies\":[]}"
        ])
        .contains("takes its target from the command, not from a spec")
    );
    assert!(
        run(&[
            "update",
            "--to-version",
            "one",
            "--dependency",
            "acme/terraform-aws-vpc"
        ])
        .contains("\"one\" is not a version")
    );
    assert!(
        run(&["report", "--min-soak", "2d"]).contains("--min-soak (min_soak) needs --promote-from")
    );
    assert!(run(&["report", "--min-soak", "2 days"]).contains("is not a duration"));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("dev/vpc/terragrunt.hcl")).unwrap(),
        unit
    );
}
