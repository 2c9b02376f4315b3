//! The fleet with groups: a module repository releases two modules at once, `baton notify` hands
//! the release to two consumer repositories, and each consumer's dev workflow (run as the
//! generated workflow runs it, through the action) moves the modules of a group in one pull
//! request with auto-merge, the others alone; the merge is promoted, and stage gets exactly what
//! landed, the group again in one pull request. Real git and the API stand-in throughout.

use crate::action::Runner;
use crate::common::{baton, json_of, write_tree};
use crate::events;
use crate::fake_github::FakeGitHub;
use crate::gitrepo::{Live, git, live_with_origin};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const MODULE: &str = "acme/terraform-aws-network";
const VPC: &str = "acme/terraform-aws-network/vpc";
const SUBNETS: &str = "acme/terraform-aws-network/subnets";
const ZONE: &str = "acme/terraform-aws-dns/zone";
const DEV_GROUP: &str = "baton-dev-updates-group/network";
const STAGE_GROUP: &str = "baton-stage-updates-group/network";

/// Consumer a: one group of the released repository and another module repository.
const CONFIG_A: &str = r#"
[[environments]]
name = "dev"
include = ["dev/**"]
auto_merge = true

[[environments]]
name = "stage"
include = ["stage/**"]

[[groups]]
name = "network"
dependencies = ["acme/terraform-aws-network/**", "acme/terraform-aws-dns/**"]
"#;

/// Consumer b: the group holds vpc only; subnets belongs to no group.
const CONFIG_B: &str = r#"
[[environments]]
name = "dev"
include = ["dev/**"]
auto_merge = true

[[environments]]
name = "stage"
include = ["stage/**"]

[[groups]]
name = "network"
dependencies = ["acme/terraform-aws-network/vpc"]
"#;

/// The module repository's checkout: two modules, no listed consumers (they are discovered).
fn module_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("modules/vpc/main.tf", b"variable \"cidr\" {}\n"),
            ("modules/subnets/main.tf", b"variable \"vpc_id\" {}\n"),
            (".github/baton.toml", b""),
        ],
    );
    dir
}

/// A consumer: dev and stage each use vpc, subnets and the dns zone at v1.0.0.
fn consumer(config: &str) -> Live {
    let unit = |env: &str, source: &str| {
        format!("# {env}\nterraform {{\n  source = \"github.com/{source}?ref=v1.0.0\"\n}}\n")
    };
    let mut files: Vec<(String, String)> = vec![(".github/baton.toml".into(), config.into())];
    for env in ["dev", "stage"] {
        for (name, source) in [
            ("vpc", "acme/terraform-aws-network//modules/vpc"),
            ("subnets", "acme/terraform-aws-network//modules/subnets"),
            ("zone", "acme/terraform-aws-dns//modules/zone"),
        ] {
            files.push((format!("{env}/{name}/terragrunt.hcl"), unit(env, source)));
        }
    }
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_bytes()))
        .collect();
    live_with_origin(&files)
}

fn event_file(dir: &Path, name: &str, event: &Value) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(event).unwrap()).unwrap();
    path
}

/// Merges `branch` into main on the consumer's origin, as GitHub's auto-merge does once the
/// required checks pass; the merge commit.
fn merge(live: &Live, branch: &str) -> String {
    git(&live.work, &["fetch", "-q", "origin"]);
    git(&live.work, &["checkout", "-q", "-B", "main", "origin/main"]);
    let from = format!("origin/{branch}");
    git(
        &live.work,
        &["merge", "-q", "--no-ff", "-m", "Merge", &from],
    );
    git(&live.work, &["push", "-q", "origin", "main"]);
    git(&live.work, &["rev-parse", "HEAD"]).trim().to_string()
}

/// A job's fresh checkout of the default branch, as `actions/checkout` gives each job.
fn checkout(live: &Live) {
    git(&live.work, &["fetch", "-q", "origin"]);
    git(
        &live.work,
        &["checkout", "-q", "-f", "-B", "main", "origin/main"],
    );
    git(&live.work, &["clean", "-q", "-fdx"]);
}

fn on_branch(live: &Live, branch: &str, rel: &str) -> String {
    git(&live.origin, &["show", &format!("{branch}:{rel}")])
}

fn changed(live: &Live, branch: &str) -> Vec<String> {
    git(
        &live.origin,
        &["diff", "--name-only", &format!("main...{branch}")],
    )
    .lines()
    .map(str::to_string)
    .collect()
}

/// One environment's workflow run on an event, through the action: the report job, then one
/// `update` per group (the update-groups job) and one per ungrouped dependency (the update
/// job), each with the report's spec. The groups and ungrouped dependencies the report named,
/// and each update's outputs.
struct EnvRun {
    groups: Vec<String>,
    ungrouped: Vec<String>,
    updates: Vec<std::collections::HashMap<String, String>>,
    summaries: Vec<String>,
}

async fn workflow_run(
    gh: &FakeGitHub,
    live: &Live,
    repo: &str,
    env: &str,
    event: Option<&Path>,
) -> EnvRun {
    let api = gh.api_url();
    let event = event.map(|e| e.display().to_string());
    let mut vars = vec![("GITHUB_REPOSITORY", repo), ("BATON_IMPACT", "off")];
    if let Some(event) = &event {
        vars.push(("GITHUB_EVENT_NAME", "repository_dispatch"));
        vars.push(("GITHUB_EVENT_PATH", event.as_str()));
    }
    let inputs = [("environment", env), ("github_base_url", api.as_str())];
    let report = Runner::new();
    let with = [&[("patcher_command", "report")][..], &inputs[..]].concat();
    checkout(live);
    report.run(&live.work, &with, &vars).await.success();
    let outputs = report.outputs();
    let groups: Vec<String> = serde_json::from_str(&outputs["groups"]).unwrap();
    let ungrouped: Vec<Value> = serde_json::from_str(&outputs["ungrouped"]).unwrap();
    let ungrouped: Vec<String> = ungrouped
        .iter()
        .map(|d| d["ID"].as_str().unwrap().to_string())
        .collect();
    let spec = outputs["spec"].clone();
    let mut updates = Vec::new();
    let mut summaries = Vec::new();
    let jobs = groups
        .iter()
        .map(|g| ("group", g.as_str()))
        .chain(ungrouped.iter().map(|d| ("dependency", d.as_str())));
    for (key, value) in jobs {
        checkout(live);
        let runner = Runner::new();
        let with = [
            &[
                ("patcher_command", "update"),
                ("spec", spec.as_str()),
                (key, value),
            ][..],
            &inputs[..],
        ]
        .concat();
        runner.run(&live.work, &with, &vars).await.success();
        updates.push(runner.outputs());
        summaries.push(runner.summary());
    }
    EnvRun {
        groups,
        ungrouped,
        updates,
        summaries,
    }
}

/// The merge of dev's pull request `number` on `branch`, and dev's promote job on it, through
/// the action; the payload it dispatched to stage.
async fn merge_and_promote(
    gh: &FakeGitHub,
    live: &Live,
    repo: &str,
    number: u64,
    branch: &str,
) -> Value {
    let sha = merge(live, branch);
    let closed =
        events::pull_request_closed(number, branch, &sha, &sha, true, &["updates-dev"], repo);
    let closed = event_file(live.root.path(), &format!("closed-{number}"), &closed);
    let closed = closed.display().to_string();
    let api = gh.api_url();
    let before = gh.dispatches().len();
    Runner::new()
        .run(
            &live.work,
            &[
                ("patcher_command", "promote"),
                ("environment", "dev"),
                ("github_base_url", api.as_str()),
            ],
            &[
                ("GITHUB_EVENT_NAME", "pull_request"),
                ("GITHUB_EVENT_PATH", closed.as_str()),
                ("GITHUB_REPOSITORY", repo),
            ],
        )
        .await
        .success();
    let sent = gh.dispatches();
    assert_eq!(sent.len(), before + 1, "one dispatch for {branch}");
    let (to, body) = sent.last().unwrap().clone();
    assert_eq!(to, repo);
    assert_eq!(body["event_type"], "dev_updates_merged");
    assert_eq!(body["client_payload"]["sha"], sha);
    body["client_payload"].clone()
}

/// The pull request of `repo` on `branch`.
fn pull(gh: &FakeGitHub, repo: &str, branch: &str) -> Value {
    gh.pulls(repo)
        .into_iter()
        .find(|p| p["head"]["ref"] == branch)
        .unwrap_or_else(|| panic!("no pull request on {branch}"))
}

fn no_listing(gh: &FakeGitHub) {
    let listed: Vec<String> = gh
        .requests()
        .into_iter()
        .filter(|r| r.contains("/tags") || r.contains("/releases"))
        .collect();
    assert!(listed.is_empty(), "a version listing was sent: {listed:?}");
}

/// Consumer a: the release moves the group's two modules of the released repository in one
/// pull request; the dns zone, a member from another module repository, stays, and the body
/// says why. Stage gets the group with exactly what landed.
async fn consumer_a(gh: &FakeGitHub, live: &Live, dispatched: &Value) {
    let repo = "acme/live-a";
    let event = events::repository_dispatch("new_module_release", dispatched.clone(), repo);
    let event = event_file(live.root.path(), "release", &event);
    gh.state.lock().unwrap().requests.clear();
    let dev = workflow_run(gh, live, repo, "dev", Some(&event)).await;
    // Exactly the release, never the newest tag (v2.0.0): dev listed no version.
    no_listing(gh);
    assert_eq!(dev.groups, ["network"]);
    assert!(dev.ungrouped.is_empty(), "{:?}", dev.ungrouped);
    assert_eq!(dev.updates[0]["pull_request_number"], "1");
    assert_eq!(
        changed(live, DEV_GROUP),
        ["dev/subnets/terragrunt.hcl", "dev/vpc/terragrunt.hcl"]
    );
    for m in ["subnets", "vpc"] {
        let text = on_branch(live, DEV_GROUP, &format!("dev/{m}/terragrunt.hcl"));
        assert!(text.contains("?ref=v1.3.0"), "{m}: {text}");
    }
    let pr = pull(gh, repo, DEV_GROUP);
    assert_eq!(
        pr["title"],
        format!("Update group network: {SUBNETS} to 1.3.0, {VPC} to 1.3.0")
    );
    let body = pr["body"].as_str().unwrap();
    for section in [
        format!("### `{SUBNETS}` from 1.0.0 to 1.3.0"),
        format!("### `{VPC}` from 1.0.0 to 1.3.0"),
    ] {
        assert!(body.contains(&section), "{section}: {body}");
    }
    // The member of another module repository is left where it is, and the body says why.
    let left = format!(
        "`{ZONE}`: not part of the release being answered ({MODULE} v1.3.0); left at its version (v1.0.0)"
    );
    assert!(body.contains(&left), "{left}: {body}");
    assert!(dev.summaries[0].contains(ZONE), "{}", dev.summaries[0]);
    assert!(
        dev.summaries[0].contains("GitHub auto-merge on (squash)"),
        "{}",
        dev.summaries[0]
    );

    let payload = merge_and_promote(gh, live, repo, 1, DEV_GROUP).await;
    assert_eq!(payload["group"], "network");
    assert_eq!(
        payload["dependencies"],
        json!([
            {"dependency": ZONE, "version": "1.0.0"},
            {"dependency": SUBNETS, "version": "1.3.0"},
            {"dependency": VPC, "version": "1.3.0"},
        ]),
        "what landed for each member"
    );
    let event = events::repository_dispatch("dev_updates_merged", payload, repo);
    let event = event_file(live.root.path(), "stage", &event);
    let stage = workflow_run(gh, live, repo, "stage", Some(&event)).await;
    assert_eq!(stage.groups, ["network"]);
    assert!(stage.ungrouped.is_empty(), "{:?}", stage.ungrouped);
    assert_eq!(
        changed(live, STAGE_GROUP),
        ["stage/subnets/terragrunt.hcl", "stage/vpc/terragrunt.hcl"]
    );
    for m in ["subnets", "vpc"] {
        let text = on_branch(live, STAGE_GROUP, &format!("stage/{m}/terragrunt.hcl"));
        assert!(text.contains("?ref=v1.3.0"), "{m}: {text}");
    }
    let pr = pull(gh, repo, STAGE_GROUP);
    assert_eq!(pr["labels"][0]["name"], "updates-stage");
    let body = pr["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("`{ZONE}`: not promoted: already at 1.0.0")),
        "{body}"
    );
    assert_eq!(gh.pulls(repo).len(), 2, "dev's group and stage's group");
}

/// Consumer b: the release's modules are split, vpc in the group and subnets in none: one group
/// pull request and one for subnets, both with auto-merge; each merge is promoted on its own.
async fn consumer_b(gh: &FakeGitHub, live: &Live, dispatched: &Value) {
    let repo = "acme/live-b";
    let event = events::repository_dispatch("new_module_release", dispatched.clone(), repo);
    let event = event_file(live.root.path(), "release", &event);
    gh.state.lock().unwrap().requests.clear();
    let dev = workflow_run(gh, live, repo, "dev", Some(&event)).await;
    // Exactly the release, never the newest tag (v2.0.0): dev listed no version.
    no_listing(gh);
    assert_eq!(dev.groups, ["network"]);
    assert_eq!(dev.ungrouped, [SUBNETS]);
    assert_eq!(changed(live, DEV_GROUP), ["dev/vpc/terragrunt.hcl"]);
    let single = format!("baton-dev-updates-{SUBNETS}");
    assert_eq!(changed(live, &single), ["dev/subnets/terragrunt.hcl"]);
    assert!(on_branch(live, &single, "dev/subnets/terragrunt.hcl").contains("?ref=v1.3.0"));
    assert_eq!(pull(gh, repo, DEV_GROUP)["number"], 1);
    assert_eq!(pull(gh, repo, &single)["number"], 2);

    let payload = merge_and_promote(gh, live, repo, 1, DEV_GROUP).await;
    assert_eq!(payload["group"], "network");
    assert_eq!(
        payload["dependencies"],
        json!([{"dependency": VPC, "version": "1.3.0"}])
    );
    let event = events::repository_dispatch("dev_updates_merged", payload, repo);
    let event = event_file(live.root.path(), "stage-group", &event);
    let stage = workflow_run(gh, live, repo, "stage", Some(&event)).await;
    assert_eq!(stage.groups, ["network"]);
    assert!(stage.ungrouped.is_empty(), "{:?}", stage.ungrouped);
    assert_eq!(changed(live, STAGE_GROUP), ["stage/vpc/terragrunt.hcl"]);

    let payload = merge_and_promote(gh, live, repo, 2, &single).await;
    assert_eq!(payload["dependency"], SUBNETS);
    assert_eq!(payload["version"], "1.3.0");
    let event = events::repository_dispatch("dev_updates_merged", payload, repo);
    let event = event_file(live.root.path(), "stage-single", &event);
    let stage = workflow_run(gh, live, repo, "stage", Some(&event)).await;
    assert!(stage.groups.is_empty(), "{:?}", stage.groups);
    assert_eq!(stage.ungrouped, [SUBNETS]);
    let single = format!("baton-stage-updates-{SUBNETS}");
    assert_eq!(changed(live, &single), ["stage/subnets/terragrunt.hcl"]);
    assert!(on_branch(live, &single, "stage/subnets/terragrunt.hcl").contains("?ref=v1.3.0"));
    assert_eq!(gh.pulls(repo).len(), 4);
}

/// The dev workflow `baton init` writes for a consumer with groups: a `new_module_release`
/// starts its report job, whose spec feeds the update job (dependencies of no group, one by one)
/// and the update-groups job (one run per group), as [`workflow_run`] runs them.
fn generated_dev_workflow_routes_a_release(config: &str) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (".github/baton.toml", config.as_bytes()),
            ("dev/vpc/terragrunt.hcl", b""),
            ("stage/vpc/terragrunt.hcl", b""),
        ],
    );
    baton()
        .env_remove("BATON_INIT_ACTION")
        .args(["init", "--working-dir", dir.path().to_str().unwrap()])
        .assert()
        .success();
    let dev = std::fs::read_to_string(dir.path().join(".github/workflows/baton-dev.yml")).unwrap();
    for line in [
        "  repository_dispatch:\n",
        "    types: [new_module_release]\n",
        "    if: github.event_name != 'pull_request'\n",
        "          patcher_command: report\n",
        "        dependency: ${{ fromJson(needs.report.outputs.ungrouped) }}\n",
        "          spec: ${{ needs.report.outputs.spec }}\n          dependency: ${{ matrix.dependency.ID }}\n",
        "        group: ${{ fromJson(needs.report.outputs.groups) }}\n",
        "          spec: ${{ needs.report.outputs.spec }}\n          # One commit, one branch (<prefix>group/<name>) and one pull request for the group.\n          group: ${{ matrix.group }}\n",
    ] {
        assert!(dev.contains(line), "{line}: {dev}");
    }
    // Neither update job is kept from a repository_dispatch.
    for job in dev.split("\n  update").skip(1) {
        let condition = job.lines().find(|l| l.starts_with("    if:")).unwrap();
        assert!(!condition.contains("event_name"), "{condition}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_of_two_modules_moves_a_group_together_from_notify_to_stage_in_two_consumers() {
    for config in [CONFIG_A, CONFIG_B] {
        generated_dev_workflow_routes_a_release(config);
    }
    let module = module_repository();
    let gh = FakeGitHub::start("").await;
    gh.add_repo(MODULE, &["v2.0.0", "v1.3.0", "v1.0.0"]);
    gh.add_repo("acme/terraform-aws-dns", &["v1.1.0", "v1.0.0"]);
    let live_a = consumer(CONFIG_A);
    let live_b = consumer(CONFIG_B);
    for repo in ["acme/live-a", "acme/live-b"] {
        gh.add_repo(repo, &[]);
        gh.set_merge_settings(repo, [true, true, true, true]);
        let file = "source = \"github.com/acme/terraform-aws-network//modules/vpc?ref=v1.0.0\"";
        gh.add_code(repo, "dev/vpc/terragrunt.hcl", file);
    }

    // The release: notify finds both consumers by code search and dispatches to each.
    let release = events::release_published("v1.3.0", MODULE);
    let release = event_file(module.path(), "release", &release);
    let out = json_of(&run_notify(&gh, module.path(), &release).await.success());
    assert_eq!(out["consumers"].as_array().unwrap().len(), 2, "{out}");
    let sent = gh.dispatches();
    assert_eq!(sent.len(), 2);
    let payload = json!({
        "repository": MODULE,
        "tag": "v1.3.0",
        "version": "1.3.0",
        "modules": ["modules/subnets", "modules/vpc"]
    });
    for (_, body) in &sent {
        assert_eq!(body["event_type"], "new_module_release");
        assert_eq!(body["client_payload"], payload);
    }

    consumer_a(&gh, &live_a, &payload).await;
    consumer_b(&gh, &live_b, &payload).await;
    let merged: Vec<(String, u64)> = gh
        .auto_merged()
        .into_iter()
        .map(|(r, n, _)| (r, n))
        .collect();
    assert_eq!(
        merged,
        [
            ("acme/live-a".to_string(), 1),
            ("acme/live-b".to_string(), 1),
            ("acme/live-b".to_string(), 2),
        ],
        "dev's pull requests, and none of stage's"
    );
}

async fn run_notify(gh: &FakeGitHub, dir: &Path, event: &Path) -> assert_cmd::assert::Assert {
    let dir = dir.to_path_buf();
    let event = event.to_path_buf();
    let api = gh.api_url();
    tokio::task::spawn_blocking(move || {
        baton()
            .current_dir(&dir)
            .env("GITHUB_TOKEN", "ghs_FAKEFLEETTOKEN")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_REPOSITORY", MODULE)
            .env_remove("GITHUB_EVENT_NAME")
            .args(["notify", "--discover", "--github-api-url", &api])
            .assert()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_answered_while_the_group_s_scheduled_pull_request_is_open_rewrites_it_and_says_so()
 {
    let gh = FakeGitHub::start("").await;
    gh.add_repo(MODULE, &["v2.0.0", "v1.3.0", "v1.0.0"]);
    gh.add_repo("acme/terraform-aws-dns", &["v1.1.0", "v1.0.0"]);
    let repo = "acme/live-a";
    gh.add_repo(repo, &[]);
    let live = consumer(CONFIG_A);
    // The scheduled run: the group to the newest versions, the dns zone included.
    let scheduled = workflow_run(&gh, &live, repo, "dev", None).await;
    assert_eq!(scheduled.groups, ["network"]);
    assert!(on_branch(&live, DEV_GROUP, "dev/zone/terragrunt.hcl").contains("?ref=v1.1.0"));
    assert!(on_branch(&live, DEV_GROUP, "dev/vpc/terragrunt.hcl").contains("?ref=v2.0.0"));
    // The release of 1.3.0 arrives: the same branch and pull request now carry exactly the
    // release, and the zone, no longer moved, is named with why.
    let payload = json!({
        "repository": MODULE,
        "tag": "v1.3.0",
        "version": "1.3.0",
        "modules": ["modules/subnets", "modules/vpc"]
    });
    let event = events::repository_dispatch("new_module_release", payload, repo);
    let event = event_file(live.root.path(), "release", &event);
    let dev = workflow_run(&gh, &live, repo, "dev", Some(&event)).await;
    assert_eq!(dev.groups, ["network"]);
    assert_eq!(dev.updates[0]["pull_request_number"], "1");
    assert_eq!(
        changed(&live, DEV_GROUP),
        ["dev/subnets/terragrunt.hcl", "dev/vpc/terragrunt.hcl"]
    );
    assert!(on_branch(&live, DEV_GROUP, "dev/vpc/terragrunt.hcl").contains("?ref=v1.3.0"));
    let pulls = gh.pulls(repo);
    assert_eq!(pulls.len(), 1, "the pull request is reused");
    let body = pulls[0]["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("`{ZONE}`: not part of the release being answered")),
        "{body}"
    );
}
