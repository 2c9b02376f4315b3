//! Fleet status (`baton status --repos FILE | --org ORG`) against the GitHub stand-in serving
//! several live repositories from local git repositories: one with a stuck update pull request,
//! one whose pull request a failing check holds, one that does not exist, one with no
//! environments. Baton must read them all through the API: a `git` that records its calls is
//! first on its PATH, and must never run.

use crate::common::{json_of, run_with, stderr_of, stdout_of, write_tree};
use crate::fake_github::FakeGitHub;
use crate::fake_github_fleet::Settings;
use crate::gitrepo::git;
use std::path::{Path, PathBuf};

const DEP: &str = "acme/terraform-aws-vpc/vpc";
const NOW: &str = "2026-12-01T00:00:00Z";
const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn unit(version: &str) -> String {
    format!(
        "terraform {{\n  source = \"git::https://github.com/acme/terraform-aws-vpc.git//vpc?ref={version}\"\n}}\n"
    )
}

fn module(version: &str) -> String {
    format!(
        "module \"vpc\" {{\n  source = \"git::https://github.com/acme/terraform-aws-vpc.git//vpc?ref={version}\"\n}}\n"
    )
}

const CONFIG_A: &str = r#"[[environments]]
name = "dev"
include = ["dev/**"]

[[environments]]
name = "stage"
include = ["stage/**"]

[[environments]]
name = "prod"
include = ["prod/**"]

[environments.gates]
min_soak = "3d"
require_approvals = 1
"#;

/// A local repository with `files` committed on `main`.
fn repo(root: &Path, name: &str, files: &[(&str, String)]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q", "-b", "main"]);
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    write_tree(&dir, &refs);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "live"]);
    dir
}

struct Fleet {
    root: tempfile::TempDir,
    gh: FakeGitHub,
    marker: PathBuf,
    path: String,
}

/// The stand-in serving acme/live-a (stuck), acme/live-b (held by a failing check) and
/// acme/bare (no environments); acme/gone does not exist.
async fn fleet() -> Fleet {
    let root = tempfile::tempdir().unwrap();
    let gh = FakeGitHub::start("").await;
    let a = repo(
        root.path(),
        "live-a",
        &[
            (".github/baton.toml", CONFIG_A.to_string()),
            ("dev/vpc/terragrunt.hcl", unit("v1.2.0")),
            ("stage/vpc/terragrunt.hcl", unit("v1.1.0")),
            ("prod/vpc/terragrunt.hcl", unit("v1.0.0")),
        ],
    );
    let b = repo(
        root.path(),
        "live-b",
        &[
            ("dev/main.tf", module("v1.2.0")),
            ("prod/main.tf", module("v1.0.0")),
            ("README.md", "# live-b | <b>@team</b>\n".into()),
        ],
    );
    let bare = repo(
        root.path(),
        "bare",
        &[("modules/x/main.tf", module("v1.0.0"))],
    );
    for (name, dir) in [
        ("acme/live-a", &a),
        ("acme/live-b", &b),
        ("acme/bare", &bare),
    ] {
        gh.add_repo(name, &[]);
        gh.serve_git(name, dir);
        gh.add_to_org(name, Settings::default());
    }
    let stage_branch = format!("baton-stage-updates-{DEP}");
    let merged = gh.open_update_pull(
        "acme/live-a",
        &stage_branch,
        SHA_A,
        "Update vpc to v1.1.0 in stage",
        "2026-11-25T00:00:00Z",
        &["updates-stage"],
    );
    gh.merge_pull("acme/live-a", merged, "2026-11-30T00:00:00Z");
    gh.open_update_pull(
        "acme/live-a",
        &stage_branch,
        SHA_A,
        "Update vpc to v1.2.0 in stage",
        "2026-11-20T00:00:00Z",
        &["updates-stage"],
    );
    gh.add_check_run(
        "acme/live-a",
        SHA_A,
        "plan",
        "completed",
        Some("success"),
        "https://github.com/acme/live-a/actions/runs/1/job/1",
    );
    gh.open_update_pull(
        "acme/live-b",
        &format!("baton-prod-updates-{DEP}"),
        SHA_B,
        "Update vpc to v1.2.0 in prod | <img src=x> @everyone",
        "2026-11-30T00:00:00Z",
        &[],
    );
    gh.add_check_run(
        "acme/live-b",
        SHA_B,
        "plan",
        "completed",
        Some("failure"),
        "https://github.com/acme/live-b/actions/runs/2/job/2",
    );
    // A git that records its calls: Baton must never run it.
    let bin = root.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = root.path().join("git-calls");
    let script = bin.join("git");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\nexit 1\n", marker.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Fleet {
        root,
        gh,
        marker,
        path,
    }
}

impl Fleet {
    fn list(&self, names: &[&str]) -> String {
        let file = self.root.path().join("fleet.txt");
        std::fs::write(&file, format!("# the fleet\n{}\n", names.join("\n"))).unwrap();
        file.display().to_string()
    }

    async fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        let mut all = vec![
            "status".to_string(),
            "--github-api-url".into(),
            self.gh.api_url(),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        run_with(
            all,
            vec![
                ("BATON_NOW".into(), NOW.into()),
                ("PATH".into(), self.path.clone()),
                ("GITHUB_TOKEN".into(), "ghs_fleet".into()),
            ],
        )
        .await
    }

    fn no_git_ran(&self) {
        assert!(
            !self.marker.exists(),
            "baton ran git: {}",
            std::fs::read_to_string(&self.marker).unwrap_or_default()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fleet_matrix_names_what_is_pending_stuck_held_and_unreachable() {
    let f = fleet().await;
    let list = f.list(&["acme/live-a", "acme/live-b", "acme/gone", "acme/bare"]);
    let out = f
        .run(&["--repos", &list, "--format", "json"])
        .await
        .success();
    f.no_git_ran();
    let v = json_of(&out);
    let repos = v["repositories"].as_array().unwrap();
    let names: Vec<&str> = repos
        .iter()
        .map(|r| r["repository"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["acme/bare", "acme/gone", "acme/live-a", "acme/live-b"]
    );
    assert!(
        repos[0]["unreachable"]
            .as_str()
            .unwrap()
            .contains("no .github/baton.toml and no environment folders"),
        "{}",
        repos[0]
    );
    assert!(
        repos[1]["unreachable"].as_str().unwrap().contains("404"),
        "{}",
        repos[1]
    );
    let a = &repos[2];
    assert_eq!(
        a["environments"],
        serde_json::json!(["dev", "stage", "prod"])
    );
    assert_eq!(a["environments_from"], ".github/baton.toml");
    assert_eq!(a["dependencies"][0]["id"], DEP);
    assert_eq!(
        a["dependencies"][0]["versions"],
        serde_json::json!([["v1.2.0"], ["v1.1.0"], ["v1.0.0"]])
    );
    assert_eq!(a["dependencies"][0]["pending"].as_array().unwrap().len(), 2);
    let soak = a["dependencies"][0]["soaking"][0]["reason"]
        .as_str()
        .unwrap();
    assert_eq!(
        soak,
        "soaking in stage: 1d of 3d before prod; ready after 2026-12-03T00:00Z"
    );
    let pulls = a["pulls"].as_array().unwrap();
    assert_eq!(pulls.len(), 1, "the merged one is not open: {pulls:?}");
    assert_eq!(pulls[0]["stuck"], true);
    assert_eq!(pulls[0]["environment"], "stage");
    assert_eq!(pulls[0]["dependency"], DEP);
    assert!(
        pulls[0]["held"][0].as_str().unwrap().contains("approvals"),
        "{}",
        pulls[0]
    );
    let b = &repos[3];
    assert_eq!(b["environments_from"], "folder names (dev, prod)");
    assert_eq!(b["pulls"][0]["stuck"], false);
    assert_eq!(
        b["pulls"][0]["held"],
        serde_json::json!(["checks: plan concluded failure"])
    );
    let err = stderr_of(&out);
    assert!(err.contains("acme/gone"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fleet_markdown_is_a_job_summary_with_untrusted_text_escaped() {
    let f = fleet().await;
    let list = f.list(&["acme/live-a", "acme/live-b", "acme/gone"]);
    let out = f
        .run(&["--repos", &list, "--format", "markdown"])
        .await
        .success();
    f.no_git_ran();
    let md = stdout_of(&out);
    assert!(!md.replace("\\<", "").contains("<img"), "{md}");
    assert!(md.contains("\\| \\<img src=x> @\u{200b}everyone"), "{md}");
    let md = md.replace(&f.gh.api_url(), "http://stand-in");
    insta::assert_snapshot!("fleet_markdown", md);
    let text = stdout_of(
        &f.run(&["--repos", &list, "--format", "text"])
            .await
            .success(),
    );
    assert!(
        text.contains("acme/live-b #1 (prod, open 1d): checks: plan concluded failure"),
        "{text}"
    );
    assert!(text.contains("acme/gone"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn stuck_promotions_fail_the_run_when_asked() {
    let f = fleet().await;
    let list = f.list(&["acme/live-a"]);
    f.run(&["--repos", &list, "--fail-on-stuck"]).await.code(1);
    f.run(&["--repos", &list, "--stuck-after", "30d"])
        .await
        .success();
    let gone = f.list(&["acme/gone"]);
    let out = f.run(&["--repos", &gone]).await.code(3);
    assert!(stderr_of(&out).contains("404"), "{}", stderr_of(&out));
    f.run(&["--repos", &list, "--ages"]).await.code(2);
    f.no_git_ran();
}

#[tokio::test(flavor = "multi_thread")]
async fn organisation_repositories_are_paged_and_filtered() {
    let f = fleet().await;
    f.gh.add_repo("acme/old", &[]);
    f.gh.add_to_org(
        "acme/old",
        Settings {
            archived: true,
            ..Settings::default()
        },
    );
    f.gh.add_repo("acme/copy", &[]);
    f.gh.add_to_org(
        "acme/copy",
        Settings {
            fork: true,
            ..Settings::default()
        },
    );
    f.gh.state.lock().unwrap().max_page = 2;
    let out = f
        .run(&["--org", "acme", "--format", "json"])
        .await
        .success();
    f.no_git_ran();
    let v = json_of(&out);
    let names: Vec<&str> = v["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repository"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme/bare", "acme/live-a", "acme/live-b"]);
    assert_eq!(v["skipped"], serde_json::json!(["1 archived", "1 forks"]));
    let pages: Vec<String> =
        f.gh.requests()
            .into_iter()
            .filter(|r| r.contains("/orgs/acme/repos"))
            .collect();
    assert_eq!(pages.len(), 3, "5 repositories, 2 a page: {pages:?}");
    assert!(pages[2].contains("page=3"), "{pages:?}");
    // The same list, as a workflow's matrix of shards.
    let out = f
        .run(&["--org", "acme", "--shard-size", "2", "--include-archived"])
        .await
        .success();
    let m = json_of(&out);
    assert_eq!(m["include"].as_array().unwrap().len(), 3);
    assert_eq!(m["include"][0]["repositories"], "acme/live-a\nacme/live-b");
}

#[tokio::test(flavor = "multi_thread")]
async fn shards_merge_into_one_report_and_a_warm_cache_downloads_nothing() {
    let f = fleet().await;
    let cache = f.root.path().join("cache");
    let one = f.list(&["acme/live-a"]);
    let first = stdout_of(
        &f.run(&["--repos", &one, "--cache-dir", cache.to_str().unwrap()])
            .await
            .success(),
    );
    let tarballs = |gh: &FakeGitHub| {
        gh.requests()
            .iter()
            .filter(|r| r.contains("/tarball/"))
            .count()
    };
    assert_eq!(tarballs(&f.gh), 1);
    let again = stdout_of(
        &f.run(&["--repos", &one, "--cache-dir", cache.to_str().unwrap()])
            .await
            .success(),
    );
    assert_eq!(first, again);
    assert_eq!(tarballs(&f.gh), 1, "a tarball at a commit is read once");
    let two = f.list(&["acme/live-b"]);
    let second = stdout_of(&f.run(&["--repos", &two]).await.success());
    let (p1, p2) = (f.root.path().join("1.json"), f.root.path().join("2.json"));
    std::fs::write(&p1, &first).unwrap();
    std::fs::write(&p2, &second).unwrap();
    let merged = json_of(
        &f.run(&[
            "--merge",
            p1.to_str().unwrap(),
            "--merge",
            p2.to_str().unwrap(),
            "--format",
            "json",
        ])
        .await
        .success(),
    );
    assert_eq!(merged["repositories"].as_array().unwrap().len(), 2);
    f.no_git_ran();
}

/// The outputs a step wrote, from the `name<<DELIMITER` form.
fn outputs(runner: &crate::action::Runner) -> std::collections::HashMap<String, String> {
    let text = std::fs::read_to_string(runner.dir.path().join("output")).unwrap();
    let mut out = std::collections::HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delimiter) = line.split_once("<<").unwrap();
        let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
        out.insert(name.to_string(), value.join("\n"));
    }
    out
}

/// The generated workflow's three jobs, as the action runs them: list the organisation as
/// shards, read each shard into a JSON file, merge the files into one job summary.
#[tokio::test(flavor = "multi_thread")]
async fn the_fleet_workflow_lists_shards_reads_them_and_merges_the_summary() {
    let f = fleet().await;
    let workspace = f.root.path().join("workspace");
    std::fs::create_dir_all(&workspace).unwrap();
    let api = f.gh.api_url();
    let env = [("BATON_NOW", NOW), ("PATH", f.path.as_str())];
    let list = crate::action::Runner::new();
    list.run(
        &workspace,
        &[
            ("patcher_command", "status"),
            ("github_base_url", &api),
            ("fleet_org", "acme"),
            ("fleet_shard_size", "2"),
        ],
        &env,
    )
    .await
    .success();
    let matrix: serde_json::Value = serde_json::from_str(&outputs(&list)["fleet_matrix"]).unwrap();
    let shards = matrix["include"].as_array().unwrap();
    assert_eq!(shards.len(), 2, "{matrix}");
    for shard in shards {
        let runner = crate::action::Runner::new();
        let json = format!("baton-fleet/shard-{}.json", shard["shard"]);
        runner
            .run(
                &workspace,
                &[
                    ("patcher_command", "status"),
                    ("github_base_url", &api),
                    (
                        "fleet_repositories",
                        shard["repositories"].as_str().unwrap(),
                    ),
                    ("fleet_json", &json),
                ],
                &env,
            )
            .await;
        // The second shard is acme/bare alone, which has no environments: exit code 3, and
        // its report is written all the same, for the summary to show why.
        assert!(workspace.join(&json).is_file());
    }
    let summary = crate::action::Runner::new();
    summary
        .run(
            &workspace,
            &[
                ("patcher_command", "status"),
                ("fleet_merge_dir", "baton-fleet"),
                ("fail_on_stuck", "true"),
            ],
            &env,
        )
        .await
        .code(1);
    let md = summary.summary();
    assert!(
        md.contains("3 repositories: 2 with pending promotions, 1 stuck pull request"),
        "{md}"
    );
    assert!(md.contains("| `acme/bare` |"), "{md}");
}

#[test]
fn init_fleet_writes_the_workflow_and_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        crate::common::baton()
            .args(["init", "--working-dir"])
            .arg(dir.path())
            .args(args)
            .assert()
    };
    run(&["--fleet", "--fleet-org", "acme"]).success();
    let text =
        std::fs::read_to_string(dir.path().join(".github/workflows/baton-fleet.yml")).unwrap();
    assert!(text.contains("fleet_org: \"acme\""), "{text}");
    assert!(
        text.contains("matrix: ${{ fromJson(needs.list.outputs.matrix) }}"),
        "{text}"
    );
    run(&["--fleet", "--fleet-org", "acme", "--check"]).success();
    run(&["--fleet", "--check"]).code(1);
    run(&["--fleet", "--fleet-org", "a/b"]).code(2);
    // The example is what `init --fleet` writes, with the published action's comment.
    let plain = tempfile::tempdir().unwrap();
    crate::common::baton()
        .args([
            "init",
            "--fleet",
            "--action",
            "baton-dev/baton@v1",
            "--working-dir",
        ])
        .arg(plain.path())
        .assert()
        .success();
    let generated =
        std::fs::read_to_string(plain.path().join(".github/workflows/baton-fleet.yml")).unwrap();
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows-examples/fleet.yml"),
    )
    .unwrap();
    assert_eq!(
        example,
        generated.replace(
            "pin it to the release's commit SHA",
            "published name; pin it by SHA in your copy"
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn archived_forbidden_and_empty_repositories_are_rows_with_their_reason() {
    let f = fleet().await;
    f.gh.add_repo("acme/old", &[]);
    f.gh.add_to_org(
        "acme/old",
        Settings {
            archived: true,
            ..Settings::default()
        },
    );
    f.gh.add_repo("acme/new", &[]);
    f.gh.add_to_org(
        "acme/new",
        Settings {
            empty: true,
            ..Settings::default()
        },
    );
    f.gh.add_repo("acme/locked", &[]);
    f.gh.state
        .lock()
        .unwrap()
        .fail_with
        .insert("/repos/acme/locked".into(), 403);
    let list = f.list(&["acme/old", "acme/new", "acme/locked", "acme/live-b"]);
    let v = json_of(&f.run(&["--repos", &list]).await.success());
    let reason = |name: &str| {
        v["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["repository"] == name)
            .and_then(|r| r["unreachable"].as_str().map(str::to_string))
    };
    assert_eq!(reason("acme/old").as_deref(), Some("archived"));
    assert!(reason("acme/new").unwrap().contains("empty repository"));
    assert!(reason("acme/locked").unwrap().contains("no access (403"));
    assert_eq!(reason("acme/live-b"), None);
    // Listed with --include-archived, an archived repository is read (this one has no commit).
    let v = json_of(
        &f.run(&["--org", "acme", "--include-archived"])
            .await
            .success(),
    );
    let old = v["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["repository"] == "acme/old")
        .unwrap();
    assert!(
        old["unreachable"]
            .as_str()
            .unwrap()
            .contains("empty repository"),
        "{old}"
    );
    // Only one dependency: the pull requests of others are left out too.
    let v = json_of(
        &f.run(&["--repos", &list, "--dependency", "other/dep"])
            .await
            .success(),
    );
    assert!(
        v["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["pulls"].as_array().unwrap().is_empty())
    );
    f.no_git_ran();
}
