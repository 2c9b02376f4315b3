//! `baton action` run as the Actions runner runs a container action: inputs as `INPUT_*`
//! variables, outputs and summary through the files named by `GITHUB_OUTPUT` and
//! `GITHUB_STEP_SUMMARY`, the event in `GITHUB_EVENT_PATH`.

use crate::common::{baton, fixture, stdout_of, write_tree};
use crate::events;
use crate::fake_github::FakeGitHub;
use crate::gitrepo::git;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const TOKEN: &str = "ghs_ACTIONTOKEN0123456789abcdef";

pub(crate) struct Runner {
    pub(crate) dir: tempfile::TempDir,
    output: PathBuf,
    pub(crate) summary: PathBuf,
}

impl Runner {
    pub(crate) fn new() -> Runner {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("output");
        let summary = dir.path().join("summary.md");
        std::fs::write(&output, "").unwrap();
        std::fs::write(&summary, "").unwrap();
        Runner {
            dir,
            output,
            summary,
        }
    }

    /// Runs the action in `workspace` with these inputs (names as in action.yml).
    pub(crate) async fn run(
        &self,
        workspace: &Path,
        inputs: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> assert_cmd::assert::Assert {
        let mut cmd = baton();
        cmd.arg("action")
            .current_dir(workspace)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", workspace)
            .env("GITHUB_OUTPUT", &self.output)
            .env("GITHUB_STEP_SUMMARY", &self.summary)
            .env("GITHUB_REPOSITORY", "acme/live")
            .env("GIT_CONFIG_GLOBAL", self.dir.path().join("gitconfig"))
            .env("INPUT_GITHUB_TOKEN", TOKEN);
        for (name, value) in inputs {
            cmd.env(format!("INPUT_{}", name.to_uppercase()), value);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        tokio::task::spawn_blocking(move || cmd.assert())
            .await
            .unwrap()
    }

    /// The outputs written, parsed from the `name<<DELIMITER` form.
    pub(crate) fn outputs(&self) -> HashMap<String, String> {
        let text = std::fs::read_to_string(&self.output).unwrap();
        let mut out = HashMap::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let (name, delimiter) = line.split_once("<<").expect("name<<DELIMITER");
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        }
        out
    }

    pub(crate) fn summary(&self) -> String {
        std::fs::read_to_string(&self.summary).unwrap()
    }
}

fn assert_no_token(assert: &assert_cmd::assert::Assert, runner: &Runner) {
    let stdout = stdout_of(assert);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    // The only place the token may appear is the mask command, which hides it everywhere else.
    let unmasked = stdout.replace(&format!("::add-mask::{TOKEN}"), "");
    assert!(!unmasked.contains(TOKEN) && !stderr.contains(TOKEN));
    assert!(
        !std::fs::read_to_string(&runner.output)
            .unwrap()
            .contains(TOKEN)
    );
    assert!(!runner.summary().contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_sets_the_spec_outputs() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/mods", &["v1.1.0", "v1.0.0"]);
    let ws = tempfile::tempdir().unwrap();
    write_tree(
        ws.path(),
        &[(
            "dev/vpc/terragrunt.hcl",
            b"terraform {\n  source = \"github.com/acme/mods//modules/vpc?ref=v1.0.0\"\n}\n",
        )],
    );
    let runner = Runner::new();
    let api = gh.api_url();
    let assert = runner
        .run(
            ws.path(),
            &[
                ("patcher_command", "report"),
                ("include_dirs", "{*dev*}/**"),
                ("github_base_url", &api),
            ],
            &[],
        )
        .await
        .success();
    let stdout = stdout_of(&assert);
    assert!(
        stdout.starts_with(&format!("::add-mask::{TOKEN}\n::group::baton report\n")),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("::endgroup::"));
    // One group per phase, in order, never nested: each opens after the one before it closes.
    let groups: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("::group::"))
        .collect();
    assert_eq!(
        groups,
        [
            "baton report",
            "baton · scan",
            "baton · look up versions",
            "baton · breaking-change impact"
        ]
    );
    let mut open = 0;
    for line in stdout.lines() {
        if line.starts_with("::group::") {
            assert_eq!(open, 0, "nested group: {stdout}");
            open += 1;
        } else if line == "::endgroup::" {
            open -= 1;
        }
    }
    assert_eq!(open, 0, "{stdout}");
    let outputs = runner.outputs();
    let spec: Value = serde_json::from_str(&outputs["spec"]).unwrap();
    assert_eq!(spec["Dependencies"][0]["ID"], "acme/mods/vpc");
    assert!(!outputs["spec"].contains('\n'), "compact JSON");
    assert_eq!(outputs["has_dependencies"], "true");
    assert_eq!(outputs["dependencies"], r#"["acme/mods/vpc"]"#);
    assert!(
        runner
            .summary()
            .contains("| `acme/mods/vpc` | 1.0.0 | [1.1.0]"),
        "{}",
        runner.summary()
    );
    assert_no_token(&assert, &runner);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_publishes_from_the_spec_input() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    let root = tempfile::tempdir().unwrap();
    let origin = root.path().join("origin.git");
    let ws = root.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    git(
        root.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    git(&ws, &["init", "-q"]);
    write_tree(
        &ws,
        &[(
            "dev/vpc/terragrunt.hcl",
            b"terraform {\n  source = \"github.com/acme/mods//modules/vpc?ref=v1.0.0\"\n}\n",
        )],
    );
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-q", "-m", "live"]);
    git(&ws, &["remote", "add", "origin", origin.to_str().unwrap()]);
    git(&ws, &["push", "-q", "origin", "main"]);
    let spec = json!({"IncludeDirPattern": "{*dev*}/**", "ExcludeDirPattern": "", "Dependencies": [
        {"ID": "acme/mods/vpc", "Org": "acme", "Repo": "mods", "Module": "vpc", "Constraints": null,
         "TargetSafeVersion": "1.1.0", "TargetBreakingVersion": null}]})
    .to_string();
    let runner = Runner::new();
    let api = gh.api_url();
    let assert = runner
        .run(
            &ws,
            &[
                ("patcher_command", "update"),
                ("working_dir", "./"),
                ("include_dirs", "{*dev*}/**"),
                ("spec", &spec),
                ("dependency", "acme/mods/vpc"),
                ("pull_request_branch_prefix", "baton-dev-updates-"),
                ("environment", "dev"),
                ("pull_request_title", "[dev] Update acme/mods/vpc"),
                ("github_base_url", &api),
            ],
            &[],
        )
        .await
        .success();
    let outputs = runner.outputs();
    assert_eq!(outputs["pull_request_number"], "1");
    assert_eq!(
        outputs["pull_request_url"],
        "https://github.com/acme/live/pull/1"
    );
    assert_eq!(outputs["dependency"], "acme/mods/vpc");
    assert_eq!(outputs["version"], "1.1.0");
    let pr = &gh.pulls("acme/live")[0];
    assert_eq!(pr["head"]["ref"], "baton-dev-updates-acme/mods/vpc");
    assert_eq!(pr["labels"][0]["name"], "updates-dev");
    assert!(
        runner
            .summary()
            .contains("| `dev/vpc/terragrunt.hcl` | 2 | `v1.0.0` | `v1.1.0` |")
    );
    // The workspace was marked safe for git, in the global config the runner's git reads.
    let global = std::fs::read_to_string(runner.dir.path().join("gitconfig")).unwrap();
    assert!(global.contains("safe"), "{global}");
    assert_no_token(&assert, &runner);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_dispatches_and_sets_dependency_and_version() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    let ws = tempfile::tempdir().unwrap();
    write_tree(
        ws.path(),
        &[(
            "dev/vpc/terragrunt.hcl",
            b"terraform {\n  source = \"github.com/acme/mods//modules/vpc?ref=v1.1.0\"\n}\n",
        )],
    );
    let event = ws.path().join("event.json");
    std::fs::write(
        &event,
        events::pull_request_closed(
            3,
            "baton-dev-updates-acme/mods/vpc",
            "c0ffee",
            "f00d",
            true,
            &[],
            "acme/live",
        )
        .to_string(),
    )
    .unwrap();
    let runner = Runner::new();
    let api = gh.api_url();
    runner
        .run(
            ws.path(),
            &[
                ("patcher_command", "promote"),
                ("include_dirs", "{*dev*}/**"),
                ("pull_request_branch_prefix", "baton-dev-updates-"),
                ("environment", "dev"),
                ("dispatch_event", "dev_updates_merged"),
                ("github_base_url", &api),
            ],
            &[("GITHUB_EVENT_PATH", event.to_str().unwrap())],
        )
        .await
        .success();
    let outputs = runner.outputs();
    assert_eq!(outputs["dependency"], "acme/mods/vpc");
    assert_eq!(outputs["version"], "1.1.0");
    let dispatches = gh.state.lock().unwrap().dispatches.clone();
    assert_eq!(dispatches[0].1["event_type"], "dev_updates_merged");
    assert!(runner.summary().contains("Sent `dev_updates_merged`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_writes_the_matrix_and_fails_on_drift() {
    let runner = Runner::new();
    let live = fixture("live");
    let assert = runner
        .run(
            &live,
            &[
                ("patcher_command", "status"),
                (
                    "environments",
                    "dev={*dev*}/**\nstage=stage/**\nprod=prod/**",
                ),
                ("fail_on_drift", "true"),
            ],
            &[],
        )
        .await
        .code(1);
    assert!(stdout_of(&assert).contains("pending promotion"));
    assert!(
        runner
            .summary()
            .contains("| Dependency | dev | stage | prod | Status |"),
        "{}",
        runner.summary()
    );
    assert!(
        runner
            .summary()
            .contains("gruntwork-io/terraform-aws-service-catalog/networking/vpc")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_command_and_bad_inputs_exit_2() {
    let runner = Runner::new();
    let ws = tempfile::tempdir().unwrap();
    runner
        .run(ws.path(), &[("patcher_command", "deploy")], &[])
        .await
        .code(2);
    runner
        .run(
            ws.path(),
            &[("patcher_command", "update"), ("dry_run", "maybe")],
            &[],
        )
        .await
        .code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_held_by_failing_checks_sets_gated_and_says_why() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_check_run(
        "acme/live",
        "beef",
        "plan",
        "completed",
        Some("failure"),
        "https://github.com/acme/live/actions/runs/5/job/1",
    );
    let ws = tempfile::tempdir().unwrap();
    write_tree(
        ws.path(),
        &[(
            "dev/vpc/terragrunt.hcl",
            b"terraform {\n  source = \"github.com/acme/mods//modules/vpc?ref=v1.1.0\"\n}\n",
        )],
    );
    let event = ws.path().join("event.json");
    std::fs::write(
        &event,
        events::pull_request_closed(
            3,
            "baton-dev-updates-acme/mods/vpc",
            "beef",
            "f00d",
            true,
            &[],
            "acme/live",
        )
        .to_string(),
    )
    .unwrap();
    let runner = Runner::new();
    let api = gh.api_url();
    runner
        .run(
            ws.path(),
            &[
                ("patcher_command", "promote"),
                ("include_dirs", "{*dev*}/**"),
                ("pull_request_branch_prefix", "baton-dev-updates-"),
                ("environment", "dev"),
                ("github_base_url", &api),
                ("require_checks", "true"),
                ("require_approvals", "1"),
            ],
            &[("GITHUB_EVENT_PATH", event.to_str().unwrap())],
        )
        .await
        .success();
    let outputs = runner.outputs();
    assert_eq!(outputs["gated"], "true");
    assert!(gh.state.lock().unwrap().dispatches.is_empty());
    let summary = runner.summary();
    assert!(
        summary.contains("Nothing dispatched: pull request #3 is gated."),
        "{summary}"
    );
    assert!(
        summary.contains("- checks: plan concluded failure"),
        "{summary}"
    );
    assert!(
        // Reasons are shown as untrusted text: references are broken by a zero-width space.
        summary.contains(
            "- approvals: pull request #\u{200b}3 has 0 approving reviews (none), 1 required"
        ),
        "{summary}"
    );
    let bad = runner
        .run(
            ws.path(),
            &[("patcher_command", "promote"), ("require_approvals", "two")],
            &[("GITHUB_EVENT_PATH", event.to_str().unwrap())],
        )
        .await
        .code(2);
    let stderr = String::from_utf8_lossy(&bad.get_output().stderr).into_owned();
    assert!(
        stderr.contains("input require_approvals must be a number"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_writes_the_table_to_the_job_summary() {
    let ws = tempfile::tempdir().unwrap();
    crate::history::live_history(ws.path());
    let runner = Runner::new();
    runner
        .run(
            ws.path(),
            &[
                ("patcher_command", "history"),
                ("include_dirs", "{*stage*}/**"),
                ("environment", "stage"),
            ],
            &[],
        )
        .await
        .success();
    let summary = runner.summary();
    assert!(summary.contains("### Promotion history"), "{summary}");
    assert!(
        summary.contains("| 2026-11-03T08:00Z | stage | `acme/terraform-aws-vpc` | `v1.0.0` | `v1.1.0` | promotion from dev | #2 |"),
        "{summary}"
    );
}
