//! The promotion chain end to end: dev → stage → prod with a real bare `origin`, local module
//! repositories, event payloads built from GitHub's real webhooks ([`crate::events`]), and the
//! API stand-in recording
//! pull requests and dispatches. A reviewer's edit to the dev pull request is what stage gets.

use crate::common::{baton, stderr_of, stdout_of, write_tree};
use crate::events;
use crate::fake_github::FakeGitHub;
use crate::gitrepo::{git, tagged_repo};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const DEP: &str = "acme/terraform-aws-vpc/vpc";
const REPO: &str = "acme/live";

struct Chain {
    _root: tempfile::TempDir,
    /// A cache directory every command of the chain uses, if any.
    cache: Option<PathBuf>,
    work: PathBuf,
    origin: PathBuf,
    events: PathBuf,
    gh: FakeGitHub,
}

async fn chain() -> Chain {
    let root = tempfile::tempdir().unwrap();
    let modules = root.path().join("modules");
    let repo = tagged_repo(
        &modules,
        "acme/terraform-aws-vpc",
        &["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"],
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
    let unit = |env: &str| {
        format!(
            "# {env}\nterraform {{\n  source = \"{source}?ref=v1.0.0\"\n}}\n\ninputs = {{\n  name = \"{env}\"\n}}\n"
        )
    };
    let (dev, stage, prod) = (unit("dev"), unit("stage"), unit("prod"));
    write_tree(
        &work,
        &[
            ("dev/vpc/terragrunt.hcl", dev.as_bytes()),
            ("stage/vpc/terragrunt.hcl", stage.as_bytes()),
            ("prod/vpc/terragrunt.hcl", prod.as_bytes()),
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
    Chain {
        _root: root,
        cache: None,
        work,
        origin,
        events,
        gh,
    }
}

impl Chain {
    async fn baton(&self, args: &[&str], envs: &[(&str, String)]) -> assert_cmd::assert::Assert {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.push("--github-api-url".into());
        all.push(self.gh.api_url());
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let work = self.work.clone();
        let cache = self.cache.clone();
        tokio::task::spawn_blocking(move || {
            let mut cmd = baton();
            if let Some(dir) = &cache {
                cmd.env("BATON_CACHE_DIR", dir);
            }
            cmd.current_dir(&work)
                .env("GITHUB_REPOSITORY", "acme/live")
                .env("GITHUB_TOKEN", "ghs_FAKECHAINTOKEN")
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

    /// Merges a branch into main on origin, as the merge button would; returns the merge commit.
    fn merge(&self, branch: &str) -> String {
        git(&self.work, &["fetch", "-q", "origin"]);
        git(&self.work, &["checkout", "-q", "-B", "main", "origin/main"]);
        git(
            &self.work,
            &[
                "merge",
                "-q",
                "--no-ff",
                "-m",
                "Merge",
                &format!("origin/{branch}"),
            ],
        );
        git(&self.work, &["push", "-q", "origin", "main"]);
        git(&self.work, &["rev-parse", "HEAD"]).trim().to_string()
    }

    fn on_main(&self, rel: &str) -> String {
        git(&self.origin, &["show", &format!("main:{rel}")])
    }

    fn on_branch(&self, branch: &str, rel: &str) -> String {
        git(&self.origin, &["show", &format!("{branch}:{rel}")])
    }

    fn changed(&self, branch: &str) -> Vec<String> {
        git(
            &self.origin,
            &["diff", "--name-only", &format!("main...{branch}")],
        )
        .lines()
        .map(str::to_string)
        .collect()
    }
}

fn update_args<'a>(env: &'a str, branch: &'a str, label: &'a str) -> Vec<&'a str> {
    vec![
        "update",
        "--publish",
        "--include-dirs",
        env,
        "--dependency",
        DEP,
        "--pull-request-branch",
        branch,
        "--pull-request-labels",
        label,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_to_stage_to_prod_follows_what_landed() {
    whole_chain(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_spares_the_chain_the_requests_whose_answers_did_not_change() {
    let (sent, counted) = whole_chain(false).await;
    assert_eq!(sent, counted, "without a cache every request counts");
    let (sent_cached, counted_cached) = whole_chain(true).await;
    // The repository, asked again by stage and prod, answers 304 (If-Modified-Since).
    assert!(counted_cached < counted, "{counted_cached} of {counted}");
    assert_eq!(sent_cached, sent, "the same requests, conditional");
}

/// The whole chain, dev → stage → prod, with a cache for every command or none; returns the
/// requests sent and those that counted against the rate limit.
async fn whole_chain(cached: bool) -> (usize, usize) {
    let mut c = chain().await;
    if cached {
        c.cache = Some(c._root.path().join("cache"));
    }

    // dev: Baton opens the update to the newest non-breaking release.
    let dev_branch = format!("baton-dev-updates-{DEP}");
    let mut args = update_args("{*dev*}/**", &dev_branch, "updates-dev");
    args.extend(["--update-strategy", "next-safe"]);
    let out: Value =
        serde_json::from_str(&stdout_of(&c.baton(&args, &[]).await.success())).unwrap();
    assert_eq!(out["updated"][0]["to"], "v1.2.0");
    assert_eq!(out["pull_request"]["number"], 1);
    assert_eq!(c.changed(&dev_branch), vec!["dev/vpc/terragrunt.hcl"]);

    // A reviewer edits the pull request to 1.1.0 before merging.
    git(&c.work, &["checkout", "-q", &dev_branch]);
    let file = c.work.join("dev/vpc/terragrunt.hcl");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("v1.2.0", "v1.1.0");
    std::fs::write(&file, text).unwrap();
    git(&c.work, &["commit", "-q", "-am", "Use 1.1.0 for now"]);
    git(&c.work, &["push", "-q", "-f", "origin", &dev_branch]);
    let sha = c.merge(&dev_branch);

    // promote (dev): the merged pull request dispatches exactly 1.1.0.
    let event = c.event(
        "dev-closed",
        &events::pull_request_closed(1, &dev_branch, &sha, &sha, true, &["updates-dev"], REPO),
    );
    let promote = [
        "promote",
        "--include-dirs",
        "{*dev*}/**",
        "--pull-request-branch-prefix",
        "baton-dev-updates-",
        "--environment",
        "dev",
    ];
    c.baton(
        &promote,
        &[
            ("GITHUB_EVENT_PATH", event),
            ("GITHUB_REF", "refs/pull/1/merge".into()),
        ],
    )
    .await
    .success();
    let dispatches = c.gh.state.lock().unwrap().dispatches.clone();
    assert_eq!(dispatches.len(), 1);
    let (repo, body) = &dispatches[0];
    assert_eq!(repo, "acme/live");
    assert_eq!(body["event_type"], "dev_updates_merged");
    let payload = &body["client_payload"];
    assert_eq!(payload["dependency"], DEP);
    assert_eq!(
        payload["version"], "1.1.0",
        "the reviewer's edit is what landed"
    );
    assert_eq!(payload["sha"], sha);
    assert_eq!(payload["branch"], dev_branch);
    assert_eq!(payload["environment"], "dev");

    // stage: the dispatch event runs report and update with promote_from dev.
    let dispatch = c.event(
        "dev-dispatch",
        &events::repository_dispatch("dev_updates_merged", payload.clone(), REPO),
    );
    let dispatch_env = [
        ("GITHUB_EVENT_NAME", "repository_dispatch".to_string()),
        ("GITHUB_EVENT_PATH", dispatch.clone()),
    ];
    git(&c.work, &["checkout", "-q", "main"]);
    let report: Value = serde_json::from_str(&stdout_of(
        &c.baton(
            &[
                "report",
                "--include-dirs",
                "{*stage*}/**",
                "--promote-from",
                "{*dev*}/**",
            ],
            &dispatch_env,
        )
        .await
        .success(),
    ))
    .unwrap();
    assert_eq!(report["Dependencies"].as_array().unwrap().len(), 1);
    assert_eq!(report["Dependencies"][0]["ID"], DEP);
    assert_eq!(report["Dependencies"][0]["TargetBreakingVersion"], "1.1.0");
    // Without promote_from the payload's version is used, and the report is limited to it.
    let from_payload: Value = serde_json::from_str(&stdout_of(
        &c.baton(&["report", "--include-dirs", "{*stage*}/**"], &dispatch_env)
            .await
            .success(),
    ))
    .unwrap();
    assert_eq!(
        from_payload["Dependencies"][0]["TargetSafeVersion"],
        "1.1.0"
    );

    let stage_branch = format!("baton-stage-updates-{DEP}");
    let mut args = update_args("{*stage*}/**", &stage_branch, "updates-stage");
    args.extend(["--promote-from", "{*dev*}/**"]);
    c.baton(&args, &dispatch_env).await.success();
    assert_eq!(c.changed(&stage_branch), vec!["stage/vpc/terragrunt.hcl"]);
    let staged = c.on_branch(&stage_branch, "stage/vpc/terragrunt.hcl");
    assert_eq!(
        staged,
        c.on_main("stage/vpc/terragrunt.hcl")
            .replace("v1.0.0", "v1.1.0")
    );
    let sha = c.merge(&stage_branch);

    // promote (stage) → prod.
    let event = c.event(
        "stage-closed",
        &events::pull_request_closed(2, &stage_branch, &sha, &sha, true, &["updates-stage"], REPO),
    );
    let promote = [
        "promote",
        "--include-dirs",
        "{*stage*}/**",
        "--pull-request-branch-prefix",
        "baton-stage-updates-",
        "--environment",
        "stage",
    ];
    c.baton(&promote, &[("GITHUB_EVENT_PATH", event)])
        .await
        .success();
    let dispatches = c.gh.state.lock().unwrap().dispatches.clone();
    assert_eq!(dispatches.len(), 2);
    assert_eq!(dispatches[1].1["event_type"], "stage_updates_merged");
    assert_eq!(dispatches[1].1["client_payload"]["version"], "1.1.0");
    let dispatch = c.event(
        "stage-dispatch",
        &events::repository_dispatch(
            "stage_updates_merged",
            dispatches[1].1["client_payload"].clone(),
            REPO,
        ),
    );
    let prod_branch = format!("baton-prod-updates-{DEP}");
    let mut args = update_args("{*prod*}/**", &prod_branch, "updates-prod");
    args.extend(["--promote-from", "{*stage*}/**"]);
    git(&c.work, &["checkout", "-q", "main"]);
    c.baton(
        &args,
        &[
            ("GITHUB_EVENT_NAME", "repository_dispatch".into()),
            ("GITHUB_EVENT_PATH", dispatch),
        ],
    )
    .await
    .success();
    assert_eq!(c.changed(&prod_branch), vec!["prod/vpc/terragrunt.hcl"]);
    assert!(
        c.on_branch(&prod_branch, "prod/vpc/terragrunt.hcl")
            .contains("?ref=v1.1.0")
    );

    // Three pull requests, one per environment, each labelled for its environment.
    let pulls = c.gh.pulls("acme/live");
    let heads: Vec<&str> = pulls
        .iter()
        .map(|p| p["head"]["ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        heads,
        vec![
            dev_branch.as_str(),
            stage_branch.as_str(),
            prod_branch.as_str()
        ]
    );
    for (pr, env) in pulls.iter().zip(["dev", "stage", "prod"]) {
        assert_eq!(pr["labels"][0]["name"], format!("updates-{env}"));
    }
    let sent = c.gh.requests().len();
    eprintln!(
        "the chain {} a cache: {sent} requests, {} counted: {:#?}",
        if cached { "with" } else { "without" },
        c.gh.counted(),
        c.gh.requests()
    );
    (sent, c.gh.counted())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_without_merge_triggers_nothing() {
    let c = chain().await;
    let event = c.event(
        "closed",
        &events::pull_request_closed(
            9,
            &format!("baton-dev-updates-{DEP}"),
            "abc",
            "abc",
            false,
            &["updates-dev"],
            REPO,
        ),
    );
    let assert = c
        .baton(
            &[
                "promote",
                "--include-dirs",
                "{*dev*}/**",
                "--pull-request-branch-prefix",
                "baton-dev-updates-",
                "--environment",
                "dev",
            ],
            &[("GITHUB_EVENT_PATH", event), ("BATON_LOG", "info".into())],
        )
        .await
        .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(out["dispatched"], false);
    assert!(out["reason"].as_str().unwrap().contains("without merging"));
    assert!(stderr_of(&assert).contains("nothing to promote"));
    assert!(c.gh.state.lock().unwrap().dispatches.is_empty());
    assert!(c.gh.requests().is_empty(), "no API call at all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_already_at_the_version_gets_no_update() {
    let c = chain().await;
    let dispatch = c.event(
        "dispatch",
        &events::repository_dispatch(
            "dev_updates_merged",
            json!({"dependency": DEP, "version": "1.0.0"}),
            REPO,
        ),
    );
    let assert = c
        .baton(
            &["update", "--include-dirs", "{*stage*}/**"],
            &[
                ("GITHUB_EVENT_NAME", "repository_dispatch".into()),
                ("GITHUB_EVENT_PATH", dispatch),
            ],
        )
        .await
        .success();
    let out: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(out["updated"], json!([]));
    assert_eq!(out["dependencies"], json!([]));
}

#[test]
fn promote_without_an_event_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let assert = baton()
        .current_dir(dir.path())
        .args(["promote", "--environment", "dev"])
        .assert()
        .code(2);
    assert!(stderr_of(&assert).contains("GITHUB_EVENT_PATH"));
    let _ = Path::new(".");
}
