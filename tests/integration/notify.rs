//! The fleet: a module repository's release handed to its consumers (`baton notify`, listed and
//! found by code search), the consumer's first environment updating to exactly that version with
//! no version listing, and GitHub's auto-merge on update pull requests. Every exchange goes
//! through the stand-in, held against GitHub's REST description and GraphQL schema.

use crate::common::{baton, json_of, stderr_of, stdout_of, write_tree};
use crate::events;
use crate::fake_github::FakeGitHub;
use crate::gitrepo::{git, live_with_origin};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const MODULE: &str = "acme/terraform-aws-vpc";
const DEP: &str = "acme/terraform-aws-vpc/vpc";

/// A module repository's checkout: `modules/vpc` and a config listing `consumers`.
fn module_repository(consumers: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::new();
    for c in consumers {
        config.push_str(&format!("[[consumers]]\nrepository = \"{c}\"\n\n"));
    }
    write_tree(
        dir.path(),
        &[
            (
                "modules/vpc/main.tf",
                b"variable \"cidr\" {\n  type = string\n}\n",
            ),
            ("README.md", b"# vpc\n"),
            (".github/baton.toml", config.as_bytes()),
        ],
    );
    dir
}

/// Writes an event to a file of `dir`; its path.
fn event_file(dir: &Path, name: &str, event: &Value) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(event).unwrap()).unwrap();
    path
}

/// Runs baton in `dir` against the stand-in, off the async runtime.
async fn run(
    gh: &FakeGitHub,
    dir: &Path,
    args: &[&str],
    envs: &[(&str, String)],
) -> assert_cmd::assert::Assert {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.push("--github-api-url".into());
    all.push(gh.api_url());
    let envs: Vec<(String, String)> = envs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut cmd = baton();
        cmd.current_dir(&dir)
            .env("GITHUB_TOKEN", "ghs_FAKEFLEETTOKEN")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_hands_the_release_to_listed_and_discovered_consumers_and_says_who_refused() {
    let module = module_repository(&["acme/live-a", "acme/live-b", "acme/gone", "acme/locked"]);
    let gh = FakeGitHub::start("").await;
    for r in [
        "acme/live-a",
        "acme/live-b",
        "acme/live-c",
        "acme/locked",
        MODULE,
    ] {
        gh.add_repo(r, &[]);
    }
    gh.refuse_dispatch("acme/locked", 403);
    let source = "source = \"github.com/acme/terraform-aws-vpc//modules/vpc?ref=v1.0.0\"";
    gh.add_code("acme/live-a", "dev/vpc/main.tf", source);
    gh.add_code("acme/live-c", "dev/vpc/terragrunt.hcl", source);
    gh.add_code("acme/live-c", "prod/vpc/terragrunt.hcl", source);
    // Not Terraform, and not of the owner searched: neither is a consumer.
    gh.add_code("acme/docs", "README.md", source);
    gh.add_code("other/live", "dev/main.tf", source);
    // Small pages: the search follows its `Link` pages.
    gh.state.lock().unwrap().max_page = 2;
    let event = event_file(
        module.path(),
        "release",
        &events::release_published("v1.3.0", MODULE),
    );
    let assert = run(
        &gh,
        module.path(),
        &["notify", "--discover"],
        &[
            ("GITHUB_EVENT_PATH", event.display().to_string()),
            ("GITHUB_REPOSITORY", MODULE.to_string()),
            ("BATON_LOG", "info".into()),
        ],
    )
    .await;
    // One consumer refused and one lacked the permission: exit 3, after telling the others.
    let assert = assert.code(3);
    let out = json_of(&assert);
    let err = stderr_of(&assert);
    let query = "\"acme/terraform-aws-vpc\" in:file org:acme";
    assert!(err.contains(&format!("code search: {query}")), "{err}");
    assert_eq!(out["search_query"], query);
    assert_eq!(
        gh.search_queries(),
        [query, query],
        "two pages of two files"
    );
    let results: Vec<(String, String, String)> = out["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["repository"].as_str().unwrap().to_string(),
                c["found"].as_str().unwrap().to_string(),
                c["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |r: &str, f: &str, x: &str| (r.to_string(), f.to_string(), x.to_string());
    assert_eq!(
        results,
        [
            expect("acme/gone", "listed", "refused"),
            expect("acme/live-a", "listed, discovered", "sent"),
            expect("acme/live-b", "listed", "sent"),
            expect("acme/live-c", "discovered", "sent"),
            expect("acme/locked", "listed", "no-permission"),
        ]
    );
    let locked = &out["consumers"][4]["message"];
    assert!(
        locked
            .as_str()
            .unwrap()
            .contains("Contents: read and write"),
        "{locked}"
    );
    assert!(err.contains("acme/gone: refused"), "{err}");
    let payload = json!({
        "repository": MODULE,
        "tag": "v1.3.0",
        "version": "1.3.0",
        "modules": ["modules/vpc"]
    });
    let dispatches = gh.dispatches();
    assert_eq!(dispatches.len(), 3);
    for (repo, body) in &dispatches {
        assert!(repo.starts_with("acme/live-"), "{repo}");
        assert_eq!(body["event_type"], "new_module_release");
        assert_eq!(body["client_payload"], payload);
    }
    assert!(gh.exchanges_checked() >= 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_waits_for_code_search_s_own_rate_limit_between_pages() {
    let module = module_repository(&[]);
    let gh = FakeGitHub::start("").await;
    for r in ["acme/live-a", "acme/live-b", "acme/live-c"] {
        gh.add_repo(r, &[]);
        gh.add_code(
            r,
            "dev/main.tf",
            "github.com/acme/terraform-aws-vpc?ref=v1.0.0",
        );
    }
    {
        let mut state = gh.state.lock().unwrap();
        state.max_page = 1;
        // One search a window of 2 s (GitHub: 10 a minute).
        state.fleet.search_limit = Some((1, 2));
    }
    let started = std::time::Instant::now();
    let assert = run(
        &gh,
        module.path(),
        &[
            "notify",
            "--discover",
            "--tag",
            "v1.3.0",
            "--format",
            "text",
        ],
        &[("GITHUB_REPOSITORY", MODULE.to_string())],
    )
    .await
    .success();
    let out = stdout_of(&assert);
    assert!(out.contains("acme/live-c  sent"), "{out}");
    assert_eq!(gh.dispatches().len(), 3);
    // Three pages, each after the window reset: never a 403 from code search.
    assert_eq!(gh.search_queries().len(), 3);
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_sends_nothing_for_a_pre_release_and_refuses_without_consumers() {
    let module = module_repository(&["acme/live-a"]);
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live-a", &[]);
    let mut release = events::release_published("v1.4.0", MODULE);
    release["release"]["prerelease"] = json!(true);
    let event = event_file(module.path(), "pre", &release);
    let envs = [
        ("GITHUB_EVENT_PATH", event.display().to_string()),
        ("GITHUB_REPOSITORY", MODULE.to_string()),
    ];
    let out = json_of(&run(&gh, module.path(), &["notify"], &envs).await.success());
    assert!(
        out["skipped"].as_str().unwrap().contains("pre-release"),
        "{out}"
    );
    let rc = event_file(
        module.path(),
        "rc",
        &events::release_published("v1.4.0-rc.1", MODULE),
    );
    let rc_envs = [
        ("GITHUB_EVENT_PATH", rc.display().to_string()),
        ("GITHUB_REPOSITORY", MODULE.to_string()),
    ];
    run(&gh, module.path(), &["notify"], &rc_envs)
        .await
        .success();
    assert!(gh.dispatches().is_empty());
    assert!(gh.requests().is_empty(), "{:?}", gh.requests());
    // A dry run names the consumers and sends nothing.
    let dry = json_of(
        &run(
            &gh,
            module.path(),
            &["notify", "--tag", "v1.4.0", "--dry-run"],
            &envs[1..],
        )
        .await
        .success(),
    );
    assert_eq!(dry["consumers"][0]["result"], "would-send", "{dry}");
    assert!(gh.dispatches().is_empty());

    let bare = module_repository(&[]);
    let assert = run(&gh, bare.path(), &["notify", "--tag", "v1.4.0"], &envs[1..])
        .await
        .code(2);
    assert!(stderr_of(&assert).contains("[[consumers]]"));
    let assert = run(&gh, module.path(), &["notify", "--tag", "main"], &envs[1..])
        .await
        .code(2);
    assert!(stderr_of(&assert).contains("carries no version"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_runs_as_the_action_with_a_summary_and_outputs() {
    let module = module_repository(&["acme/live-a", "acme/gone"]);
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live-a", &[]);
    let event = event_file(
        module.path(),
        "release",
        &events::release_published("v1.3.0", MODULE),
    );
    let summary = module.path().join("summary.md");
    let output = module.path().join("output.txt");
    let dir = module.path().to_path_buf();
    let api = gh.api_url();
    let assert = tokio::task::spawn_blocking(move || {
        baton()
            .current_dir(&dir)
            .arg("action")
            .env("INPUT_PATCHER_COMMAND", "notify")
            .env("INPUT_GITHUB_TOKEN", "ghs_FAKEFLEETTOKEN")
            .env("GITHUB_API_URL", api)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_REPOSITORY", MODULE)
            .env("GITHUB_EVENT_NAME", "release")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
            .env("GITHUB_OUTPUT", dir.join("output.txt"))
            .assert()
    })
    .await
    .unwrap()
    .code(3);
    let summary = std::fs::read_to_string(summary).unwrap();
    assert!(summary.contains("### Baton notify"), "{summary}");
    assert!(
        summary.contains("Release `v1.3.0` (`1.3.0`) of acme/terraform-aws-vpc, handed to the consumers as `new_module_release`."),
        "{summary}"
    );
    assert!(summary.contains("1 of 2 consumers got it."), "{summary}");
    assert!(
        summary.contains("| acme/live-a | listed | sent |"),
        "{summary}"
    );
    assert!(
        summary.contains("| acme/gone | listed | refused |"),
        "{summary}"
    );
    let outputs = std::fs::read_to_string(output).unwrap();
    assert!(outputs.contains("\"result\":\"refused\""), "{outputs}");
    assert!(stderr_of(&assert).contains("::warning"));
}

/// A consumer repository: dev and prod use the released module and another one.
fn consumer(dev_vpc: &str) -> crate::gitrepo::Live {
    let vpc = |r: &str| {
        format!(
            "module \"vpc\" {{\n  source = \"github.com/acme/terraform-aws-vpc//modules/vpc?ref={r}\"\n}}\n"
        )
    };
    let alb = "module \"alb\" {\n  source = \"github.com/acme/terraform-aws-alb?ref=v1.0.0\"\n}\n";
    let (dev, prod) = (vpc(dev_vpc), vpc("v1.0.0"));
    live_with_origin(&[
        ("dev/vpc/main.tf", dev.as_bytes()),
        ("dev/alb/main.tf", alb.as_bytes()),
        ("prod/vpc/main.tf", prod.as_bytes()),
    ])
}

fn module_release(payload: Value) -> Value {
    events::repository_dispatch("new_module_release", payload, "acme/live")
}

fn release_payload(tag: &str, version: &str) -> Value {
    json!({"repository": MODULE, "tag": tag, "version": version, "modules": ["modules/vpc"]})
}

/// The stand-in with the module repositories (tags and releases that a listing would find).
async fn consumer_github() -> FakeGitHub {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo(MODULE, &["v2.0.0", "v1.3.0", "v1.0.0"]);
    gh.add_repo("acme/terraform-aws-alb", &["v1.1.0", "v1.0.0"]);
    gh
}

fn no_listing(gh: &FakeGitHub) {
    let listed: Vec<String> = gh
        .requests()
        .into_iter()
        .filter(|r| r.contains("/tags") || r.contains("/releases"))
        .collect();
    assert!(listed.is_empty(), "a version listing was sent: {listed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_release_moves_only_its_dependencies_to_exactly_that_version() {
    let live = consumer("v1.0.0");
    let gh = consumer_github().await;
    let event = event_file(
        live.root.path(),
        "dispatch",
        &module_release(release_payload("v1.3.0", "1.3.0")),
    );
    let envs = [
        ("GITHUB_EVENT_NAME", "repository_dispatch".to_string()),
        ("GITHUB_EVENT_PATH", event.display().to_string()),
        ("GITHUB_REPOSITORY", "acme/live".to_string()),
    ];
    let spec = json_of(
        &run(
            &gh,
            &live.work,
            &["report", "--include-dirs", "dev/**"],
            &envs,
        )
        .await
        .success(),
    );
    let deps = spec["Dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{spec}");
    assert_eq!(deps[0]["ID"], DEP);
    // Exactly the release, not the newest tag (v2.0.0), and nothing of the other module.
    assert_eq!(deps[0]["TargetBreakingVersion"], "1.3.0");
    assert_eq!(deps[0]["TargetSafeVersion"], "1.3.0");
    assert!(gh.requests().is_empty(), "{:?}", gh.requests());

    // The update job of the same run: it publishes the pull request, still listing nothing.
    let spec_text = spec.to_string();
    let args = [
        "update",
        "--publish",
        "--include-dirs",
        "dev/**",
        "--spec",
        &spec_text,
        "--dependency",
        DEP,
        "--pull-request-branch",
        "baton-dev-updates-acme/terraform-aws-vpc/vpc",
    ];
    let out = json_of(&run(&gh, &live.work, &args, &envs).await.success());
    assert_eq!(out["dependencies"][0]["target"], "1.3.0");
    let dev = git(
        &live.origin,
        &[
            "show",
            "baton-dev-updates-acme/terraform-aws-vpc/vpc:dev/vpc/main.tf",
        ],
    );
    assert!(dev.contains("?ref=v1.3.0"), "{dev}");
    let alb = git(
        &live.origin,
        &[
            "show",
            "baton-dev-updates-acme/terraform-aws-vpc/vpc:dev/alb/main.tf",
        ],
    );
    assert!(alb.contains("?ref=v1.0.0"), "{alb}");
    let pulls = gh.pulls("acme/live");
    assert_eq!(pulls.len(), 1);
    let body = pulls[0]["body"].as_str().unwrap();
    assert!(
        body.contains("https://github.com/acme/terraform-aws-vpc/releases/tag/v1.3.0"),
        "{body}"
    );
    no_listing(&gh);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_release_already_there_unused_or_early_is_said_and_moves_nothing() {
    let live = consumer("v1.3.0");
    let gh = consumer_github().await;
    gh.set_releases(MODULE, vec![("v1.3.0".into(), "notes".into())]);
    gh.state
        .lock()
        .unwrap()
        .repos
        .get_mut(MODULE)
        .unwrap()
        .release_dates
        .insert("v1.3.0".into(), "2026-12-04T10:00:00Z".into());
    let report = |payload: Value, extra: Vec<&'static str>| {
        let event = event_file(live.root.path(), "dispatch", &module_release(payload));
        let envs = vec![
            ("GITHUB_EVENT_NAME", "repository_dispatch".to_string()),
            ("GITHUB_EVENT_PATH", event.display().to_string()),
            ("BATON_NOW", "2026-12-05T10:00:00Z".to_string()),
            ("BATON_LOG", "info".to_string()),
        ];
        let mut args = vec!["report", "--include-dirs", "dev/**"];
        args.extend(extra);
        (args, envs)
    };
    // Already at the release: nothing to do, and said.
    let (args, envs) = report(release_payload("v1.3.0", "1.3.0"), vec![]);
    let assert = run(&gh, &live.work, &args, &envs).await.success();
    let spec = json_of(&assert);
    assert_eq!(spec["Dependencies"], json!([]));
    assert!(
        stderr_of(&assert).contains("already at 1.3.0 here, the release 1.3.0 or newer"),
        "{}",
        stderr_of(&assert)
    );
    // Older than what runs: not a downgrade.
    let (args, envs) = report(release_payload("v1.2.0", "1.2.0"), vec![]);
    let spec = json_of(&run(&gh, &live.work, &args, &envs).await.success());
    assert_eq!(spec["Dependencies"], json!([]));
    // Said once, not once per way of seeing it.
    let not_promoted = spec["NotPromoted"].as_array().unwrap();
    assert_eq!(not_promoted.len(), 1, "{spec}");
    assert_eq!(not_promoted[0]["ID"], DEP);
    // A repository no dependency uses.
    let other =
        json!({"repository": "acme/terraform-aws-eks", "tag": "v3.0.0", "version": "3.0.0"});
    let (args, envs) = report(other, vec![]);
    let assert = run(&gh, &live.work, &args, &envs).await.success();
    assert!(
        stderr_of(&assert).contains("no dependency of dev/** uses acme/terraform-aws-eks"),
        "{}",
        stderr_of(&assert)
    );
    // A pre-release is held.
    let (args, envs) = report(release_payload("v1.4.0-rc.1", "1.4.0-rc.1"), vec![]);
    let spec = json_of(&run(&gh, &live.work, &args, &envs).await.success());
    assert_eq!(spec["Gated"][0]["Gate"], "pre-release", "{spec}");
    no_listing(&gh);
    // Younger than min_release_age: held, dated by the release itself (one request).
    let prod = json!({"repository": MODULE, "tag": "v1.3.0", "version": "1.3.0"});
    let (mut args, envs) = report(prod, vec!["--min-release-age", "3d"]);
    args[2] = "prod/**";
    let spec = json_of(&run(&gh, &live.work, &args, &envs).await.success());
    assert_eq!(spec["Dependencies"], json!([]), "{spec}");
    assert_eq!(spec["Gated"][0]["Gate"], "release-age", "{spec}");
    assert!(
        spec["Gated"][0]["Reason"]
            .as_str()
            .unwrap()
            .contains("younger than min_release_age 3d"),
        "{spec}"
    );
    assert_eq!(
        gh.requests(),
        ["GET /repos/acme/terraform-aws-vpc/releases/tags/v1.3.0"]
    );
    // An empty payload (a release workflow of one's own) reports every update, as before.
    let (args, mut envs) = report(json!({}), vec![]);
    envs.push(("BATON_IMPACT", "off".to_string()));
    let spec = json_of(&run(&gh, &live.work, &args, &envs).await.success());
    assert_eq!(spec["Dependencies"][1]["ID"], DEP, "{spec}");
    assert_eq!(
        spec["Dependencies"][1]["TargetBreakingVersion"], "2.0.0",
        "{spec}"
    );
    // A payload that is not what notify sends is refused, nothing read.
    let forged = json!({"repository": "acme/../etc", "tag": "v1.3.0", "version": "1.3.0"});
    let (args, envs) = report(forged, vec![]);
    let assert = run(&gh, &live.work, &args, &envs).await.code(2);
    assert!(stderr_of(&assert).contains("not owner/name"));
}

/// A live repository whose dev environment turns on auto-merge in the config.
fn auto_merge_live(method: &str) -> crate::gitrepo::Live {
    let config = format!(
        "[[environments]]\nname = \"dev\"\ninclude = [\"dev/**\"]\nauto_merge = true\nmerge_method = \"{method}\"\n\n[[environments]]\nname = \"prod\"\ninclude = [\"prod/**\"]\n"
    );
    let vpc = "module \"vpc\" {\n  source = \"github.com/acme/terraform-aws-vpc//modules/vpc?ref=v1.0.0\"\n}\n";
    live_with_origin(&[
        (".github/baton.toml", config.as_bytes()),
        ("dev/vpc/main.tf", vpc.as_bytes()),
        ("prod/vpc/main.tf", vpc.as_bytes()),
    ])
}

async fn update_dev(gh: &FakeGitHub, live: &crate::gitrepo::Live) -> assert_cmd::assert::Assert {
    run(
        gh,
        &live.work,
        &["update", "--publish", "--env", "dev", "--dependency", DEP],
        &[
            ("GITHUB_REPOSITORY", "acme/live".to_string()),
            ("BATON_IMPACT", "off".to_string()),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_merge_is_turned_on_through_graphql_after_the_pull_request_opens() {
    let live = auto_merge_live("rebase");
    let gh = consumer_github().await;
    gh.set_merge_settings("acme/live", [true, true, true, true]);
    let out = json_of(&update_dev(&gh, &live).await.success());
    assert_eq!(out["auto_merge"]["enabled"], true, "{out}");
    assert_eq!(out["auto_merge"]["merge_method"], "rebase");
    assert_eq!(gh.auto_merged(), [("acme/live".into(), 1, "REBASE".into())]);
    let sent = gh.graphql_requests();
    assert_eq!(sent[0]["variables"]["pullRequestId"], "PR_acme_live_1");
    // prod has no auto_merge: its pull request waits for people.
    let prod = json_of(
        &run(
            &gh,
            &live.work,
            &["update", "--publish", "--env", "prod", "--dependency", DEP],
            &[
                ("GITHUB_REPOSITORY", "acme/live".to_string()),
                ("BATON_IMPACT", "off".to_string()),
            ],
        )
        .await
        .success(),
    );
    assert!(prod.get("auto_merge").is_none(), "{prod}");
    assert_eq!(gh.auto_merged().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_without_auto_merge_leaves_the_pull_request_for_a_human() {
    // The settings say so: no GraphQL request at all.
    let live = auto_merge_live("squash");
    let gh = consumer_github().await;
    gh.set_merge_settings("acme/live", [false, true, true, true]);
    let assert = update_dev(&gh, &live).await.success();
    let out = json_of(&assert);
    assert_eq!(out["auto_merge"]["enabled"], false);
    assert!(out["pull_request"]["number"].is_u64(), "{out}");
    let err = stderr_of(&assert);
    assert!(
        err.contains("auto-merge not turned on") && err.contains("does not allow auto-merge"),
        "{err}"
    );
    assert!(gh.graphql_requests().is_empty());
    // The job summary says it too.
    let summary = stdout_of(
        &run(
            &gh,
            &live.work,
            &[
                "update",
                "--publish",
                "--env",
                "dev",
                "--dependency",
                DEP,
                "--format",
                "markdown",
            ],
            &[
                ("GITHUB_REPOSITORY", "acme/live".to_string()),
                ("BATON_IMPACT", "off".to_string()),
            ],
        )
        .await
        .success(),
    );
    assert!(
        summary.contains("GitHub auto-merge not turned on, the pull request waits for a human"),
        "{summary}"
    );

    // A method the repository does not allow.
    let live = auto_merge_live("rebase");
    let gh = consumer_github().await;
    gh.set_merge_settings("acme/live", [true, true, true, false]);
    let out = json_of(&update_dev(&gh, &live).await.success());
    assert!(
        out["auto_merge"]["reason"]
            .as_str()
            .unwrap()
            .contains("allow_rebase_merge"),
        "{out}"
    );

    // The token sees no settings: GitHub's GraphQL answer says it.
    let live = auto_merge_live("squash");
    let gh = consumer_github().await;
    gh.set_merge_settings("acme/live", [false, true, true, true]);
    gh.state.lock().unwrap().fleet.hide_merge_settings = true;
    let out = json_of(&update_dev(&gh, &live).await.success());
    assert!(
        out["auto_merge"]["reason"]
            .as_str()
            .unwrap()
            .contains("Pull request Auto merge is not allowed for this repository"),
        "{out}"
    );
    assert_eq!(gh.graphql_requests().len(), 1);
    assert!(gh.auto_merged().is_empty());
}

#[test]
fn every_graphql_document_baton_sends_is_valid_against_github_s_schema() {
    for document in baton::clients::wire::GRAPHQL_DOCUMENTS {
        let body = json!({
            "query": document,
            "variables": {"pullRequestId": "PR_kwDOA", "mergeMethod": "SQUASH"}
        });
        let problems = crate::fake_github::graphql_problems(&body);
        assert!(problems.is_empty(), "{document}: {problems:?}");
    }
    // The validator does catch a document GitHub would refuse.
    let wrong = json!({
        "query": baton::clients::wire::ENABLE_AUTO_MERGE.replace("mergeMethod\n", "method\n"),
        "variables": {"pullRequestId": "PR_kwDOA", "mergeMethod": "FAST_FORWARD"}
    });
    assert!(!crate::fake_github::graphql_problems(&wrong).is_empty());
}

#[test]
fn init_in_a_module_repository_writes_the_notify_workflow() {
    let module = module_repository(&[]);
    std::fs::remove_file(module.path().join(".github/baton.toml")).unwrap();
    let out = stdout_of(
        &baton()
            .env("BATON_FORMAT", "text")
            .args(["init", "--working-dir"])
            .arg(module.path())
            .assert()
            .success(),
    );
    assert!(out.contains("wrote .github/baton.toml"), "{out}");
    assert!(
        out.contains("wrote .github/workflows/baton-notify.yml"),
        "{out}"
    );
    let workflow =
        std::fs::read_to_string(module.path().join(".github/workflows/baton-notify.yml")).unwrap();
    assert!(
        workflow.contains("  release:\n    types: [published]"),
        "{workflow}"
    );
    assert!(workflow.contains("patcher_command: notify"));
    assert!(workflow.contains("secrets.BATON_NOTIFY_TOKEN"));
    assert!(workflow.contains("Contents: read and write"));
    // The config lists consumers; `--check` agrees, then catches an edit.
    let config = module.path().join(".github/baton.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[[consumers]]\nrepository = \"acme/live\"\n"),
    )
    .unwrap();
    baton()
        .args(["init", "--check", "--working-dir"])
        .arg(module.path())
        .assert()
        .success();
    let path = module.path().join(".github/workflows/baton-notify.yml");
    std::fs::write(&path, workflow.replace("ubuntu-latest", "self-hosted")).unwrap();
    baton()
        .args(["init", "--check", "--working-dir"])
        .arg(module.path())
        .assert()
        .code(1);
    std::fs::write(&path, &workflow).unwrap();
    crate::init::lint_workflows(module.path(), &[".github/workflows/baton-notify.yml"]);
}

/// A consumer repository of the end-to-end test: dev (auto-merge) and stage, each using the module.
fn fleet_consumer(name: &str) -> crate::gitrepo::Live {
    let config = "[[environments]]\nname = \"dev\"\ninclude = [\"dev/**\"]\nauto_merge = true\n\n[[environments]]\nname = \"stage\"\ninclude = [\"stage/**\"]\n";
    let unit = |env: &str| {
        format!(
            "# {name} {env}\nterraform {{\n  source = \"github.com/acme/terraform-aws-vpc//modules/vpc?ref=v1.0.0\"\n}}\n"
        )
    };
    let (dev, stage) = (unit("dev"), unit("stage"));
    live_with_origin(&[
        (".github/baton.toml", config.as_bytes()),
        ("dev/vpc/terragrunt.hcl", dev.as_bytes()),
        ("stage/vpc/terragrunt.hcl", stage.as_bytes()),
    ])
}

/// Merges `branch` into `main` on the consumer's origin, as GitHub's auto-merge does once the
/// required checks pass; the merge commit.
fn merge(live: &crate::gitrepo::Live, branch: &str) -> String {
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

/// One consumer's part of the chain, from the `new_module_release` it received: dev's pull
/// request with auto-merge, its merge, the promotion, and stage's pull request.
async fn consumer_chain(gh: &FakeGitHub, repo: &str, live: &crate::gitrepo::Live, body: &Value) {
    let events_dir = live.root.path();
    let received = events::repository_dispatch(
        body["event_type"].as_str().unwrap(),
        body["client_payload"].clone(),
        repo,
    );
    let event = event_file(events_dir, "release", &received);
    let envs = |event: &Path| {
        vec![
            ("GITHUB_EVENT_NAME", "repository_dispatch".to_string()),
            ("GITHUB_EVENT_PATH", event.display().to_string()),
            ("GITHUB_REPOSITORY", repo.to_string()),
            ("BATON_IMPACT", "off".to_string()),
        ]
    };
    let spec = json_of(
        &run(gh, &live.work, &["report", "--env", "dev"], &envs(&event))
            .await
            .success(),
    );
    assert_eq!(spec["Dependencies"][0]["TargetBreakingVersion"], "1.3.0");
    let spec = spec.to_string();
    let update = [
        "update",
        "--publish",
        "--env",
        "dev",
        "--spec",
        &spec,
        "--dependency",
        DEP,
    ];
    let out = json_of(&run(gh, &live.work, &update, &envs(&event)).await.success());
    assert_eq!(out["auto_merge"]["enabled"], true, "{out}");
    let dev_branch = format!("baton-dev-updates-{DEP}");
    let sha = merge(live, &dev_branch);

    // The merge starts dev's promote job, which hands exactly what landed to stage.
    let closed =
        events::pull_request_closed(1, &dev_branch, &sha, &sha, true, &["updates-dev"], repo);
    let closed = event_file(events_dir, "closed", &closed);
    let promote_envs = [
        ("GITHUB_EVENT_PATH", closed.display().to_string()),
        ("GITHUB_REPOSITORY", repo.to_string()),
        ("GITHUB_REF", "refs/pull/1/merge".to_string()),
    ];
    run(gh, &live.work, &["promote", "--env", "dev"], &promote_envs)
        .await
        .success();
    let handed = gh
        .dispatches()
        .into_iter()
        .rev()
        .find(|(r, b)| r == repo && b["event_type"] == "dev_updates_merged")
        .expect("promote dispatched to stage");
    assert_eq!(handed.1["client_payload"]["version"], "1.3.0");
    let stage_event = events::repository_dispatch(
        "dev_updates_merged",
        handed.1["client_payload"].clone(),
        repo,
    );
    let stage_event = event_file(events_dir, "stage", &stage_event);
    let update = ["update", "--publish", "--env", "stage"];
    let out = json_of(
        &run(gh, &live.work, &update, &envs(&stage_event))
            .await
            .success(),
    );
    assert_eq!(out["dependencies"][0]["target"], "1.3.0", "{out}");
    assert!(
        out.get("auto_merge").is_none(),
        "stage waits for people: {out}"
    );
    let stage = git(
        &live.origin,
        &[
            "show",
            &format!("baton-stage-updates-{DEP}:stage/vpc/terragrunt.hcl"),
        ],
    );
    assert!(stage.contains("?ref=v1.3.0"), "{stage}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_reaches_two_consumers_dev_merges_itself_and_stage_gets_exactly_it() {
    let module = module_repository(&[]);
    let gh = FakeGitHub::start("").await;
    gh.add_repo(MODULE, &["v1.3.0", "v1.0.0"]);
    let consumers = [
        ("acme/live-a", fleet_consumer("a")),
        ("acme/live-b", fleet_consumer("b")),
    ];
    for (repo, _) in &consumers {
        gh.add_repo(repo, &[]);
        gh.set_merge_settings(repo, [true, true, true, true]);
        let file = "source = \"github.com/acme/terraform-aws-vpc//modules/vpc?ref=v1.0.0\"";
        gh.add_code(repo, "dev/vpc/terragrunt.hcl", file);
    }
    let release = event_file(
        module.path(),
        "release",
        &events::release_published("v1.3.0", MODULE),
    );
    let notify = [
        ("GITHUB_EVENT_PATH", release.display().to_string()),
        ("GITHUB_REPOSITORY", MODULE.to_string()),
    ];
    let out = json_of(
        &run(&gh, module.path(), &["notify", "--discover"], &notify)
            .await
            .success(),
    );
    assert_eq!(out["consumers"].as_array().unwrap().len(), 2, "{out}");
    let sent = gh.dispatches();
    for (repo, live) in &consumers {
        let (_, body) = sent.iter().find(|(r, _)| r == repo).expect("dispatched");
        consumer_chain(&gh, repo, live, body).await;
        let numbers: Vec<u64> = gh
            .pulls(repo)
            .iter()
            .map(|p| p["number"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, [1, 2], "dev's and stage's pull requests");
    }
    let merged: Vec<String> = gh.auto_merged().into_iter().map(|(r, _, _)| r).collect();
    assert_eq!(merged, ["acme/live-a", "acme/live-b"]);
}
