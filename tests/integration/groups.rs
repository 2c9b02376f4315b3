//! Groups of dependencies moving together: one pull request in dev for the group, a reviewer's
//! edit on it, the promotion of every version that landed, and one pull request in stage with
//! exactly those; a group with a member that cannot be updated; two groups claiming one
//! dependency. Real git (a bare `origin`, local module repositories) and the API stand-in.

use crate::common::{baton, stderr_of, stdout_of, write_tree};
use crate::events;
use crate::fake_github::FakeGitHub;
use crate::gitrepo::{git, tagged_repo};
use serde_json::{Value, json};
use std::path::PathBuf;

const VPC: &str = "acme/terraform-aws-vpc/vpc";
const SQS: &str = "acme/terraform-aws-sqs/vpc";
const GONE: &str = "acme/terraform-aws-gone/vpc";
const REPO: &str = "acme/live";
const DEV_BRANCH: &str = "baton-dev-updates-group/network";
const STAGE_BRANCH: &str = "baton-stage-updates-group/network";

const CONFIG: &str = r#"
[[environments]]
name = "dev"
include = ["dev/**"]

[[environments]]
name = "stage"
include = ["stage/**"]

[[groups]]
name = "network"
dependencies = ["acme/terraform-aws-*/**"]
"#;

struct Live {
    root: tempfile::TempDir,
    work: PathBuf,
    origin: PathBuf,
    gh: FakeGitHub,
}

/// A live repository with dev and stage, each using the vpc and sqs modules (and, with `gone`,
/// a module whose repository cannot be reached), and the config above (or `config`).
async fn live(gone: bool, config: &str) -> Live {
    let root = tempfile::tempdir().unwrap();
    let modules = root.path().join("modules");
    let vpc = tagged_repo(
        &modules,
        "acme/terraform-aws-vpc",
        &["v1.0.0", "v1.1.0", "v1.2.0"],
    );
    let sqs = tagged_repo(&modules, "acme/terraform-aws-sqs", &["v1.0.0", "v1.3.0"]);
    let missing = modules.join("acme/terraform-aws-gone");
    let origin = root.path().join("origin.git");
    let work = root.path().join("live");
    std::fs::create_dir_all(&work).unwrap();
    git(
        root.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    git(&work, &["init", "-q"]);
    let unit = |repo: &PathBuf| {
        format!(
            "terraform {{\n  source = \"git::file://{}//modules/vpc?ref=v1.0.0\"\n}}\n",
            repo.display()
        )
    };
    let mut files: Vec<(String, String)> = vec![(".github/baton.toml".into(), config.into())];
    for env in ["dev", "stage"] {
        files.push((format!("{env}/vpc/terragrunt.hcl"), unit(&vpc)));
        files.push((format!("{env}/sqs/terragrunt.hcl"), unit(&sqs)));
        if gone {
            files.push((format!("{env}/gone/terragrunt.hcl"), unit(&missing)));
        }
    }
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_bytes()))
        .collect();
    write_tree(&work, &files);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "live"]);
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    let gh = FakeGitHub::start("").await;
    gh.add_repo(REPO, &[]);
    Live {
        root,
        work,
        origin,
        gh,
    }
}

impl Live {
    async fn baton(&self, args: &[&str], envs: &[(&str, String)]) -> assert_cmd::assert::Assert {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if args[0] != "init" {
            all.push("--github-api-url".into());
            all.push(self.gh.api_url());
        }
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let work = self.work.clone();
        tokio::task::spawn_blocking(move || {
            let mut cmd = baton();
            cmd.current_dir(&work)
                .env("GITHUB_REPOSITORY", REPO)
                .env("GITHUB_TOKEN", "ghs_FAKEGROUPTOKEN")
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
        let path = self.root.path().join(format!("{name}.json"));
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

    fn commits(&self, branch: &str) -> usize {
        git(
            &self.origin,
            &["rev-list", "--count", &format!("main..{branch}")],
        )
        .trim()
        .parse()
        .unwrap()
    }
}

fn json_out(assert: &assert_cmd::assert::Assert) -> Value {
    serde_json::from_str(&stdout_of(assert)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_moves_together_from_dev_to_stage_with_what_landed() {
    let c = live(false, CONFIG).await;

    // dev: the group's two dependencies in one pull request, one commit, on the group's branch.
    let update = ["update", "--publish", "--env", "dev", "--group", "network"];
    let out = json_out(&c.baton(&update, &[]).await.success());
    assert_eq!(out["branch"], DEV_BRANCH);
    assert_eq!(out["group"]["name"], "network");
    assert_eq!(out["group"]["left_out"], json!([]));
    let targets: Vec<(&str, &str)> = out["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap(), d["target"].as_str().unwrap()))
        .collect();
    assert_eq!(targets, vec![(SQS, "1.3.0"), (VPC, "1.2.0")]);
    assert_eq!(
        c.changed(DEV_BRANCH),
        vec!["dev/sqs/terragrunt.hcl", "dev/vpc/terragrunt.hcl"]
    );
    assert_eq!(c.commits(DEV_BRANCH), 1, "one commit for the group");
    let pulls = c.gh.pulls(REPO);
    assert_eq!(pulls.len(), 1);
    let pr = &pulls[0];
    assert_eq!(pr["head"]["ref"], DEV_BRANCH);
    assert_eq!(pr["labels"][0]["name"], "updates-dev");
    assert_eq!(
        pr["title"],
        format!("Update group network: {SQS} to 1.3.0, {VPC} to 1.2.0")
    );
    let body = pr["body"].as_str().unwrap();
    assert!(body.contains("## Update group `network` in dev"), "{body}");
    for section in [
        format!("### `{SQS}` from 1.0.0 to 1.3.0"),
        format!("### `{VPC}` from 1.0.0 to 1.2.0"),
    ] {
        assert!(body.contains(&section), "{section}: {body}");
    }

    // A re-run reuses the branch and its pull request.
    let again = json_out(&c.baton(&update, &[]).await.success());
    assert_eq!(again["pull_request"]["number"], 1);
    assert_eq!(again["pull_request"]["created"], false);
    assert_eq!(c.gh.pulls(REPO).len(), 1);

    // A reviewer moves vpc back to 1.1.0 on the group's branch; a re-run leaves that alone.
    git(&c.work, &["fetch", "-q", "origin"]);
    git(
        &c.work,
        &[
            "checkout",
            "-q",
            "-B",
            DEV_BRANCH,
            &format!("origin/{DEV_BRANCH}"),
        ],
    );
    let file = c.work.join("dev/vpc/terragrunt.hcl");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("v1.2.0", "v1.1.0");
    std::fs::write(&file, text).unwrap();
    git(
        &c.work,
        &[
            "-c",
            "user.email=reviewer@acme.invalid",
            "commit",
            "-q",
            "-am",
            "vpc: 1.1.0 for now",
        ],
    );
    git(&c.work, &["push", "-q", "-f", "origin", DEV_BRANCH]);
    let reviewed = git(&c.origin, &["rev-parse", DEV_BRANCH]);
    git(&c.work, &["checkout", "-q", "main"]);
    let left = json_out(&c.baton(&update, &[]).await.success());
    assert_eq!(left["pull_request_edited"], true);
    assert_eq!(git(&c.origin, &["rev-parse", DEV_BRANCH]), reviewed);

    // Merged; promote dispatches every dependency of the group at the version that landed.
    let sha = c.merge(DEV_BRANCH);
    let closed = c.event(
        "dev-closed",
        &events::pull_request_closed(1, DEV_BRANCH, &sha, &sha, true, &["updates-dev"], REPO),
    );
    c.baton(
        &["promote", "--env", "dev"],
        &[("GITHUB_EVENT_PATH", closed)],
    )
    .await
    .success();
    let dispatches = c.gh.state.lock().unwrap().dispatches.clone();
    assert_eq!(dispatches.len(), 1);
    let payload = dispatches[0].1["client_payload"].clone();
    assert_eq!(dispatches[0].1["event_type"], "dev_updates_merged");
    assert_eq!(payload["group"], "network");
    assert_eq!(
        payload["dependencies"],
        json!([
            {"dependency": SQS, "version": "1.3.0"},
            {"dependency": VPC, "version": "1.1.0"},
        ]),
        "the reviewer's 1.1.0 is what landed"
    );
    assert_eq!(payload["sha"], sha);
    assert_eq!(payload["environment"], "dev");
    assert!(payload.get("dependency").is_none() && payload.get("version").is_none());

    // stage: the dispatch opens one group pull request with exactly those versions.
    let dispatch = c.event(
        "dispatch",
        &events::repository_dispatch("dev_updates_merged", payload.clone(), REPO),
    );
    let dispatch_env = [
        ("GITHUB_EVENT_NAME", "repository_dispatch".to_string()),
        ("GITHUB_EVENT_PATH", dispatch),
    ];
    let report = json_out(
        &c.baton(&["report", "--env", "stage"], &dispatch_env)
            .await
            .success(),
    );
    let ids: Vec<&str> = report["Dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["ID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![SQS, VPC]);
    let out = json_out(
        &c.baton(&["update", "--publish", "--env", "stage"], &dispatch_env)
            .await
            .success(),
    );
    assert_eq!(out["branch"], STAGE_BRANCH);
    assert_eq!(c.commits(STAGE_BRANCH), 1);
    assert!(
        c.on_branch(STAGE_BRANCH, "stage/vpc/terragrunt.hcl")
            .contains("?ref=v1.1.0")
    );
    assert!(
        c.on_branch(STAGE_BRANCH, "stage/sqs/terragrunt.hcl")
            .contains("?ref=v1.3.0")
    );
    let pulls = c.gh.pulls(REPO);
    assert_eq!(pulls.len(), 2);
    assert_eq!(pulls[1]["head"]["ref"], STAGE_BRANCH);
    assert_eq!(pulls[1]["labels"][0]["name"], "updates-stage");
    let body = pulls[1]["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("### `{VPC}` from 1.0.0 to 1.1.0")),
        "{body}"
    );
    assert!(body.contains("dev"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_malformed_group_dispatch_moves_nothing() {
    let c = live(false, CONFIG).await;
    let head = git(&c.work, &["rev-parse", "HEAD"]).trim().to_string();
    let cases = [
        // dev runs 1.0.0 at that commit, not 1.2.0.
        (
            json!({"group": "network", "sha": head, "environment": "dev",
                "dependencies": [{"dependency": VPC, "version": "1.2.0"}]}),
            "stale or forged",
        ),
        (
            json!({"group": "network", "dependencies": [{"dependency": VPC, "version": "1.2.0", "extra": 1}]}),
            "unknown key",
        ),
        (
            json!({"group": "other", "dependencies": [{"dependency": VPC, "version": "1.2.0"}]}),
            "no group \"other\"",
        ),
        (
            json!({"group": "network", "dependencies": [{"dependency": "mallory/x/y", "version": "1.0.0"}]}),
            "names none of its dependencies",
        ),
    ];
    for (i, (payload, why)) in cases.into_iter().enumerate() {
        let dispatch = c.event(
            &format!("forged-{i}"),
            &events::repository_dispatch("dev_updates_merged", payload, REPO),
        );
        let assert = c
            .baton(
                &["update", "--publish", "--env", "stage"],
                &[
                    ("GITHUB_EVENT_NAME", "repository_dispatch".to_string()),
                    ("GITHUB_EVENT_PATH", dispatch),
                ],
            )
            .await
            .code(2);
        let err = stderr_of(&assert);
        assert!(err.contains(why), "{why}: {err}");
    }
    assert!(c.gh.pulls(REPO).is_empty());
    let heads = git(
        &c.origin,
        &["for-each-ref", "--format=%(refname)", "refs/heads"],
    );
    assert_eq!(heads.trim(), "refs/heads/main", "nothing pushed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_cannot_be_updated_is_left_out_and_said() {
    let c = live(true, CONFIG).await;
    // A dry run says the same, and writes nothing.
    let dry = json_out(
        &c.baton(
            &["update", "--dry-run", "--env", "dev", "--group", "network"],
            &[],
        )
        .await
        .success(),
    );
    assert_eq!(dry["group"]["left_out"][0]["dependency"], GONE);
    assert!(dry["diff"].as_str().unwrap().contains("+  source"), "{dry}");
    assert!(git(&c.work, &["status", "--porcelain"]).is_empty());
    let assert = c
        .baton(
            &["update", "--publish", "--env", "dev", "--group", "network"],
            &[],
        )
        .await
        .success();
    let out = json_out(&assert);
    assert_eq!(out["group"]["left_out"][0]["dependency"], GONE);
    let reason = out["group"]["left_out"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("could not be looked up"), "{reason}");
    assert!(stderr_of(&assert).contains(&format!("{GONE} left out")));
    assert_eq!(
        c.changed(DEV_BRANCH),
        vec!["dev/sqs/terragrunt.hcl", "dev/vpc/terragrunt.hcl"]
    );
    let body = c.gh.pulls(REPO)[0]["body"].as_str().unwrap().to_string();
    assert!(body.contains("### Left out of this update"), "{body}");
    assert!(
        body.contains(&format!("- `{GONE}`: its versions could not be looked up")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_groups_claiming_one_dependency_are_a_located_config_error() {
    let overlapping = format!(
        "{CONFIG}\n[[groups]]\nname = \"vpc\"\ndependencies = [\"*/terraform-aws-vpc/**\"]\n"
    );
    let c = live(false, &overlapping).await;
    let line = |needle: &str| {
        overlapping[..overlapping.find(needle).unwrap()]
            .matches('\n')
            .count()
            + 1
    };
    let first = line("[[groups]]");
    let second = overlapping[..overlapping.rfind("[[groups]]").unwrap()]
        .matches('\n')
        .count()
        + 1;
    for args in [
        vec!["init", "--check"],
        vec!["update", "--publish", "--env", "dev", "--group", "network"],
    ] {
        let assert = c.baton(&args, &[]).await.code(2);
        let err = stderr_of(&assert);
        assert!(
            err.contains(&format!(".github/baton.toml:{second}: dependency {VPC} is matched by group \"network\" (.github/baton.toml:{first}) and by group \"vpc\" (.github/baton.toml:{second})")),
            "{args:?}: {err}"
        );
    }
    // The action's report splits the spec by group for the matrices: it refuses too.
    let runner = crate::action::Runner::new();
    let api = c.gh.api_url();
    let assert = runner
        .run(
            &c.work,
            &[
                ("patcher_command", "report"),
                ("environment", "dev"),
                ("github_base_url", &api),
            ],
            &[],
        )
        .await
        .code(2);
    assert!(stderr_of(&assert).contains("is matched by group \"network\""));
    assert!(c.gh.pulls(REPO).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_workflows_move_a_group_through_the_action() {
    let c = live(false, CONFIG).await;

    // `baton init` with groups: the report job says which groups have updates, a matrix updates
    // each group as one, and the workflows pass the linters.
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (".github/baton.toml", CONFIG.as_bytes()),
            ("dev/vpc/main.tf", b""),
            ("stage/vpc/main.tf", b""),
        ],
    );
    baton()
        .env_remove("BATON_INIT_ACTION")
        .args(["init", "--working-dir", dir.path().to_str().unwrap()])
        .assert()
        .success();
    let dev = std::fs::read_to_string(dir.path().join(".github/workflows/baton-dev.yml")).unwrap();
    for line in [
        "      groups: ${{ steps.report.outputs.groups }}\n",
        "        dependency: ${{ fromJson(needs.report.outputs.ungrouped) }}\n",
        "  update-groups:\n",
        "        group: ${{ fromJson(needs.report.outputs.groups) }}\n",
        "          group: ${{ matrix.group }}\n",
    ] {
        assert!(dev.contains(line), "{line}: {dev}");
    }
    let files = [
        ".github/workflows/baton-dev.yml",
        ".github/workflows/baton-stage.yml",
    ];
    crate::init::lint("actionlint", &files, dir.path());
    let mut zizmor = vec!["--offline"];
    zizmor.extend(files);
    crate::init::lint("zizmor", &zizmor, dir.path());

    // dev, as its workflow runs it: report, then the group's update from the spec.
    let api = c.gh.api_url();
    let runner = crate::action::Runner::new();
    let dev_inputs = [("environment", "dev"), ("github_base_url", api.as_str())];
    let report = [&[("patcher_command", "report")][..], &dev_inputs[..]].concat();
    runner.run(&c.work, &report, &[]).await.success();
    let outputs = runner.outputs();
    assert_eq!(outputs["groups"], r#"["network"]"#);
    assert_eq!(outputs["ungrouped"], "[]");
    let spec = outputs["spec"].clone();
    let update = [
        &[
            ("patcher_command", "update"),
            ("spec", spec.as_str()),
            ("group", "network"),
        ][..],
        &dev_inputs[..],
    ]
    .concat();
    runner.run(&c.work, &update, &[]).await.success();
    assert_eq!(c.gh.pulls(REPO)[0]["head"]["ref"], DEV_BRANCH);
    assert!(
        runner
            .summary()
            .contains("| `dev/vpc/terragrunt.hcl` | 2 | `v1.0.0` | `v1.2.0` |")
    );

    // Merged: the promote job dispatches the group.
    let sha = c.merge(DEV_BRANCH);
    let closed = c.event(
        "closed",
        &events::pull_request_closed(1, DEV_BRANCH, &sha, &sha, true, &["updates-dev"], REPO),
    );
    let promote = [&[("patcher_command", "promote")][..], &dev_inputs[..]].concat();
    runner
        .run(&c.work, &promote, &[("GITHUB_EVENT_PATH", closed.as_str())])
        .await
        .success();
    let payload = c.gh.state.lock().unwrap().dispatches[0].1["client_payload"].clone();

    // stage, on the dispatch: report lists the group only, and its update opens one pull request.
    let dispatch = c.event(
        "dispatch",
        &events::repository_dispatch("dev_updates_merged", payload, REPO),
    );
    let env = [
        ("GITHUB_EVENT_NAME", "repository_dispatch"),
        ("GITHUB_EVENT_PATH", dispatch.as_str()),
    ];
    let stage_runner = crate::action::Runner::new();
    let stage_inputs = [("environment", "stage"), ("github_base_url", api.as_str())];
    let report = [&[("patcher_command", "report")][..], &stage_inputs[..]].concat();
    stage_runner.run(&c.work, &report, &env).await.success();
    let outputs = stage_runner.outputs();
    assert_eq!(outputs["groups"], r#"["network"]"#);
    assert_eq!(outputs["ungrouped"], "[]");
    let spec = outputs["spec"].clone();
    let update = [
        &[
            ("patcher_command", "update"),
            ("spec", spec.as_str()),
            ("group", "network"),
        ][..],
        &stage_inputs[..],
    ]
    .concat();
    stage_runner.run(&c.work, &update, &env).await.success();
    let pulls = c.gh.pulls(REPO);
    assert_eq!(pulls.len(), 2);
    assert_eq!(pulls[1]["head"]["ref"], STAGE_BRANCH);
    assert!(
        c.on_branch(STAGE_BRANCH, "stage/vpc/terragrunt.hcl")
            .contains("?ref=v1.2.0")
    );
    assert!(
        c.on_branch(STAGE_BRANCH, "stage/sqs/terragrunt.hcl")
            .contains("?ref=v1.3.0")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_branch_of_a_group_the_config_does_not_define_is_refused() {
    let c = live(false, CONFIG).await;
    let head = git(&c.work, &["rev-parse", "HEAD"]).trim().to_string();
    let branch = "baton-dev-updates-group/storage";
    let closed = c.event(
        "closed",
        &events::pull_request_closed(3, branch, &head, &head, true, &["updates-dev"], REPO),
    );
    let assert = c
        .baton(
            &["promote", "--env", "dev"],
            &[("GITHUB_EVENT_PATH", closed)],
        )
        .await
        .code(2);
    let err = stderr_of(&assert);
    assert!(
        err.contains(
            "update of group \"storage\", which the config file does not define (network)"
        ),
        "{err}"
    );
    assert!(c.gh.state.lock().unwrap().dispatches.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_edit_is_refused_is_left_out_and_the_others_move() {
    let c = live(false, CONFIG).await;
    // sqs takes its version from a shared file that stage reads too: dev cannot move it alone.
    let sqs = c.root.path().join("modules/acme/terraform-aws-sqs");
    let unit = format!(
        "include \"envcommon\" {{\n  path   = \"${{dirname(find_in_parent_folders(\"root.hcl\"))}}/_envcommon/sqs.hcl\"\n  expose = true\n}}\n\nterraform {{\n  source = \"git::file://{}//modules/vpc?ref=${{include.envcommon.locals.version}}\"\n}}\n",
        sqs.display()
    );
    write_tree(
        &c.work,
        &[
            ("root.hcl", b"" as &[u8]),
            (
                "_envcommon/sqs.hcl",
                b"locals {\n  version = \"v1.0.0\"\n}\n",
            ),
            ("dev/sqs/terragrunt.hcl", unit.as_bytes()),
            ("stage/sqs/terragrunt.hcl", unit.as_bytes()),
        ],
    );
    git(&c.work, &["add", "-A"]);
    git(&c.work, &["commit", "-q", "-m", "shared sqs version"]);
    git(&c.work, &["push", "-q", "origin", "main"]);

    let assert = c
        .baton(
            &["update", "--publish", "--env", "dev", "--group", "network"],
            &[],
        )
        .await
        .code(3);
    let out = json_out(&assert);
    assert_eq!(out["group"]["left_out"][0]["dependency"], SQS, "{out}");
    let reason = out["group"]["left_out"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("its edit was refused"), "{reason}");
    assert!(reason.contains("_envcommon/sqs.hcl"), "{reason}");
    assert_eq!(c.changed(DEV_BRANCH), vec!["dev/vpc/terragrunt.hcl"]);
    let body = c.gh.pulls(REPO)[0]["body"].as_str().unwrap().to_string();
    assert!(
        body.contains(&format!("- `{SQS}`: its edit was refused")),
        "{body}"
    );
    assert!(
        body.contains(&format!("### `{VPC}` from 1.0.0 to 1.2.0")),
        "{body}"
    );
    assert!(!body.contains(&format!("### `{SQS}`")), "{body}");
    assert_eq!(
        c.gh.pulls(REPO)[0]["title"],
        format!("Update group network: {VPC} to 1.2.0"),
        "the title names what moved"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_that_matches_nothing_here_says_so() {
    let config =
        format!("{CONFIG}\n[[groups]]\nname = \"data\"\ndependencies = [\"acme/rds/**\"]\n");
    let c = live(false, &config).await;
    let assert = c
        .baton(
            &["update", "--publish", "--env", "dev", "--group", "data"],
            &[],
        )
        .await
        .success();
    assert_eq!(json_out(&assert)["updated"], json!([]));
    assert!(
        stderr_of(&assert).contains("group data (acme/rds/**) matches no dependency used in"),
        "{}",
        stderr_of(&assert)
    );
    assert!(c.gh.pulls(REPO).is_empty());
    // --group and --dependency do not go together.
    let assert = c
        .baton(
            &[
                "update",
                "--env",
                "dev",
                "--group",
                "data",
                "--dependency",
                VPC,
            ],
            &[],
        )
        .await
        .code(2);
    assert!(
        stderr_of(&assert).contains("cannot be used with"),
        "{}",
        stderr_of(&assert)
    );
}
