//! Patcher's own promotion workflows (`tests/fixtures/patcher-workflows/`, copied verbatim from
//! Gruntwork's guide) played job by job through `baton action`, as if only their `uses:` line
//! named Baton: each step's `with:` inputs are evaluated from the file with the run's contexts,
//! the `trigger-next-env` job's own bash step is run and its dispatch payload built from its
//! template, and the chain goes dev → stage → prod against the GitHub stand-in with real git.

use crate::common::{baton, stderr_of, write_tree};
use crate::events;
use crate::fake_github::FakeGitHub;
use crate::gitrepo::{git, tagged_repo};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

const VPC: &str = "acme/terraform-aws-vpc/vpc";
const SQS: &str = "acme/terraform-aws-sqs/vpc";
const READ_TOKEN: &str = "ghs_PIPELINESREADTOKEN0123456789";

fn workflow(name: &str) -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/patcher-workflows")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// Replaces every `${{ expr }}` of `text` by the context's value of `expr`; an expression the
/// test does not know fails the test, so a changed workflow is noticed.
fn eval(text: &str, ctx: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("closed expression") + start;
        let expr = rest[start + 3..end].trim();
        let value = ctx
            .get(expr)
            .unwrap_or_else(|| panic!("the test has no value for `{expr}`"));
        out.push_str(value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The `with:` of the Patcher action step of a job, evaluated.
fn inputs_of(job: &Yaml, ctx: &HashMap<String, String>) -> Vec<(String, String)> {
    let step = job["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("gruntwork-io/patcher-action@"))
        })
        .expect("a patcher-action step");
    step["with"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(i) => i.to_string(),
                Yaml::Boolean(b) => b.to_string(),
                other => panic!("unexpected input {other:?}"),
            };
            (k.as_str().unwrap().to_string(), eval(&value, ctx))
        })
        .collect()
}

struct Chain {
    root: tempfile::TempDir,
    origin: PathBuf,
    gh: FakeGitHub,
    /// The spec file path the workflows use (`/tmp/patcher-spec.json`), moved into the test's
    /// directory.
    spec_file: PathBuf,
    runs: std::cell::Cell<usize>,
}

struct Step {
    assert: assert_cmd::assert::Assert,
    outputs: HashMap<String, String>,
}

impl Chain {
    async fn new() -> Chain {
        let root = tempfile::tempdir().unwrap();
        let modules = root.path().join("modules");
        let vpc = tagged_repo(&modules, "acme/terraform-aws-vpc", &["v1.0.0", "v1.1.0"]);
        let sqs = tagged_repo(&modules, "acme/terraform-aws-sqs", &["v0.8.0", "v0.9.0"]);
        let origin = root.path().join("origin.git");
        git(
            root.path(),
            &["init", "-q", "--bare", origin.to_str().unwrap()],
        );
        let seed = root.path().join("seed");
        std::fs::create_dir_all(&seed).unwrap();
        git(&seed, &["init", "-q"]);
        let unit = |repo: &Path, v: &str| {
            format!(
                "terraform {{\n  source = \"git::file://{}//modules/vpc?ref={v}\"\n}}\n",
                repo.display()
            )
        };
        let (v, s) = (unit(&vpc, "v1.0.0"), unit(&sqs, "v0.8.0"));
        let mut files: Vec<(String, String)> = Vec::new();
        for env in ["dev", "stage", "prod"] {
            files.push((format!("{env}/us-east-1/vpc/terragrunt.hcl"), v.clone()));
            files.push((format!("{env}/us-east-1/sqs/terragrunt.hcl"), s.clone()));
        }
        let files: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_bytes()))
            .collect();
        write_tree(&seed, &files);
        git(&seed, &["add", "-A"]);
        git(&seed, &["commit", "-q", "-m", "live"]);
        git(
            &seed,
            &["remote", "add", "origin", origin.to_str().unwrap()],
        );
        git(&seed, &["push", "-q", "origin", "main"]);
        let gh = FakeGitHub::start("").await;
        gh.add_repo("acme/live", &[]);
        let spec_file = root.path().join("patcher-spec.json");
        Chain {
            root,
            origin,
            gh,
            spec_file,
            runs: std::cell::Cell::new(0),
        }
    }

    /// A fresh checkout of main (what `actions/checkout` gives these jobs).
    fn checkout(&self) -> PathBuf {
        let n = self.runs.get() + 1;
        self.runs.set(n);
        let ws = self.root.path().join(format!("ws{n}"));
        git(
            self.root.path(),
            &[
                "clone",
                "-q",
                self.origin.to_str().unwrap(),
                ws.to_str().unwrap(),
            ],
        );
        ws
    }

    /// Runs `baton action` as the runner runs the Patcher action step, with these inputs.
    async fn run(&self, inputs: &[(String, String)], event_name: &str, event: &Value) -> Step {
        let ws = self.checkout();
        let dir = self.root.path().join(format!("runner{}", self.runs.get()));
        std::fs::create_dir_all(&dir).unwrap();
        let event_path = dir.join("event.json");
        std::fs::write(&event_path, event.to_string()).unwrap();
        let output = dir.join("output");
        std::fs::write(&output, "").unwrap();
        let mut cmd = baton();
        cmd.arg("action")
            .current_dir(&ws)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", &ws)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
            .env("GITHUB_REPOSITORY", "acme/live")
            .env("GITHUB_EVENT_NAME", event_name)
            .env("GITHUB_EVENT_PATH", &event_path)
            .env("GITHUB_API_URL", self.gh.api_url())
            .env("GIT_CONFIG_GLOBAL", dir.join("gitconfig"))
            .env("BATON_LOG", "info");
        // The runner sets every declared input; the defaults of action.yml apply to the others.
        cmd.env("INPUT_GITHUB_BASE_URL", self.gh.api_url());
        for (name, value) in inputs {
            cmd.env(format!("INPUT_{}", name.to_uppercase()), value);
        }
        let assert = tokio::task::spawn_blocking(move || cmd.assert())
            .await
            .unwrap();
        let text = std::fs::read_to_string(&output).unwrap();
        let mut outputs = HashMap::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let (name, delimiter) = line.split_once("<<").unwrap();
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            outputs.insert(name.to_string(), value.join("\n"));
        }
        Step { assert, outputs }
    }

    /// Merges a pull request's branch into main on origin (the merge button) and marks it merged
    /// in the stand-in; returns the `pull_request_target` closed event (GitHub's, for the stand-in's
    /// pull request: its number, head and labels) and the merge commit.
    fn merge(&self, branch: &str) -> (Value, String) {
        let ws = self.checkout();
        git(
            &ws,
            &[
                "merge",
                "-q",
                "--no-ff",
                "-m",
                "Merge",
                &format!("origin/{branch}"),
            ],
        );
        git(&ws, &["push", "-q", "origin", "main"]);
        let sha = git(&ws, &["rev-parse", "HEAD"]).trim().to_string();
        let mut state = self.gh.state.lock().unwrap();
        let pr = state
            .repos
            .get_mut("acme/live")
            .unwrap()
            .pulls
            .iter_mut()
            .find(|p| p["head"]["ref"] == branch)
            .expect("a pull request for the branch");
        pr["state"] = json!("closed");
        pr["merged"] = json!(true);
        pr["merge_commit_sha"] = json!(sha);
        let labels: Vec<&str> = pr["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        let event = events::pull_request_closed(
            pr["number"].as_u64().unwrap(),
            branch,
            pr["head"]["sha"].as_str().unwrap(),
            &sha,
            true,
            &labels,
            "acme/live",
        );
        (event, sha)
    }

    fn on_main(&self, rel: &str) -> String {
        git(&self.origin, &["show", &format!("main:{rel}")])
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

    /// Plays a workflow's `trigger-next-env` job on a `pull_request_target` closed event: its
    /// `if:`, its bash step (run by bash, with its `env:`), and the `repository_dispatch` that
    /// `peter-evans/repository-dispatch` sends from its inputs. Returns the dispatch event.
    fn trigger_next_env(&self, wf: &Yaml, event: &Value, sha: &str) -> Option<Value> {
        let job = &wf["jobs"]["trigger-next-env"];
        let label = match job["if"].as_str().unwrap() {
            c if c.contains("'updates-dev'") => "updates-dev",
            c if c.contains("'updates-stage'") => "updates-stage",
            c => panic!("unexpected condition {c}"),
        };
        let pr = &event["pull_request"];
        let labelled = pr["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == label);
        if !(pr["merged"] == true && labelled) {
            return None;
        }
        let head_ref = pr["head"]["ref"].as_str().unwrap().to_string();
        let workflow_env = wf["env"].as_hash().unwrap();
        let mut ctx: HashMap<String, String> = HashMap::new();
        for (k, v) in workflow_env {
            ctx.insert(
                format!("env.{}", k.as_str().unwrap()),
                v.as_str().unwrap().to_string(),
            );
        }
        ctx.insert("github.head_ref".into(), head_ref);
        ctx.insert("github.ref".into(), "refs/heads/main".into());
        ctx.insert("github.sha".into(), sha.to_string());
        ctx.insert("github.token".into(), "ghs_WORKFLOWTOKEN".into());
        ctx.insert("github.repository".into(), "acme/live".into());
        let steps = job["steps"].as_vec().unwrap();
        // The bash step, run as the runner runs it.
        let bash = &steps[0];
        let out = self.root.path().join("bash-output");
        std::fs::write(&out, "").unwrap();
        let mut cmd = std::process::Command::new("bash");
        cmd.arg("-e")
            .arg("-c")
            .arg(bash["run"].as_str().unwrap())
            .env("GITHUB_OUTPUT", &out);
        for (k, v) in bash["env"].as_hash().unwrap() {
            cmd.env(k.as_str().unwrap(), eval(v.as_str().unwrap(), &ctx));
        }
        assert!(cmd.status().unwrap().success());
        let id = bash["id"].as_str().unwrap();
        for line in std::fs::read_to_string(&out).unwrap().lines() {
            let (k, v) = line.split_once('=').unwrap();
            ctx.insert(format!("steps.{id}.outputs.{k}"), v.to_string());
        }
        // The dispatch step's inputs.
        let with = &steps[1]["with"];
        assert_eq!(
            steps[1]["uses"].as_str(),
            Some("peter-evans/repository-dispatch@v2")
        );
        let payload: Value =
            serde_json::from_str(&eval(with["client-payload"].as_str().unwrap(), &ctx)).unwrap();
        Some(events::repository_dispatch(
            with["event-type"].as_str().unwrap(),
            payload,
            "acme/live",
        ))
    }
}

/// The contexts a job's inputs are evaluated with.
fn context(wf: &Yaml, extra: &[(&str, String)]) -> HashMap<String, String> {
    let mut ctx = HashMap::new();
    if let Some(env) = wf["env"].as_hash() {
        for (k, v) in env {
            ctx.insert(
                format!("env.{}", k.as_str().unwrap()),
                v.as_str().unwrap().to_string(),
            );
        }
    }
    ctx.insert("secrets.PIPELINES_READ_TOKEN".into(), READ_TOKEN.into());
    for (k, v) in extra {
        ctx.insert(k.to_string(), v.clone());
    }
    ctx
}

/// The spec file path in the inputs, moved into the test's directory.
fn relocate(inputs: Vec<(String, String)>, spec_file: &Path) -> Vec<(String, String)> {
    inputs
        .into_iter()
        .map(|(k, v)| {
            if v == "/tmp/patcher-spec.json" {
                (k, spec_file.display().to_string())
            } else {
                (k, v)
            }
        })
        .collect()
}

/// The `update-env` matrix of a workflow for a run: Patcher's two forms, checked verbatim.
fn matrix(wf: &Yaml, event: &Value, spec: &str) -> Vec<String> {
    let expr = wf["jobs"]["update-env"]["strategy"]["matrix"]["dependency"]
        .as_str()
        .unwrap()
        .to_string();
    let from_spec = || -> Vec<String> {
        let spec: Value = serde_json::from_str(spec).unwrap();
        spec["Dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["ID"].as_str().unwrap().to_string())
            .collect()
    };
    if expr == "${{ fromJson(needs.patcher-report.outputs.spec).Dependencies }}" {
        return from_spec();
    }
    assert_eq!(
        expr,
        "${{ github.event.client_payload.dependency && fromJson(format('[{{\"ID\"{0} \"{1}\"}}]', ':', github.event.client_payload.dependency)) || fromJson(needs.patcher-report.outputs.spec).Dependencies }}"
    );
    match event["client_payload"]["dependency"].as_str() {
        Some(dep) if !dep.is_empty() => vec![dep.to_string()],
        _ => from_spec(),
    }
}

/// One workflow run for an event: `patcher-report`, its spec written as the "Create the spec
/// file" step does, then one `update-env` per matrix entry. Returns the branches pushed.
async fn report_and_update(c: &Chain, wf: &Yaml, event_name: &str, event: &Value) -> Vec<String> {
    let payload_dep = event["client_payload"]["dependency"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let ctx = context(
        wf,
        &[(
            "github.event.client_payload.dependency",
            payload_dep.clone(),
        )],
    );
    let report_job = &wf["jobs"]["patcher-report"];
    let inputs = relocate(inputs_of(report_job, &ctx), &c.spec_file);
    let report = c.run(&inputs, event_name, event).await;
    report.assert.success();
    let spec = report.outputs["spec"].clone();
    let mut branches = Vec::new();
    for dep in matrix(wf, event, &spec) {
        // "Create the spec file": echo '<spec>' > /tmp/patcher-spec.json.
        std::fs::write(&c.spec_file, format!("{spec}\n")).unwrap();
        let ctx = context(
            wf,
            &[
                ("matrix.dependency.ID", dep.clone()),
                (
                    "github.event.client_payload.dependency",
                    payload_dep.clone(),
                ),
            ],
        );
        let job = &wf["jobs"]["update-env"];
        let inputs = relocate(inputs_of(job, &ctx), &c.spec_file);
        let step = c.run(&inputs, event_name, event).await;
        let err = stderr_of(&step.assert);
        step.assert.success();
        assert!(
            err.contains("derived from the branch prefix"),
            "the environment is derived and the rule logged: {err}"
        );
        let branch = inputs
            .iter()
            .find(|(k, _)| k == "pull_request_branch")
            .unwrap()
            .1
            .clone();
        assert_eq!(step.outputs["dependency"], dep);
        branches.push(branch);
    }
    branches
}

fn labels_of(c: &Chain, branch: &str) -> Vec<String> {
    c.gh.pulls("acme/live")
        .iter()
        .find(|p| p["head"]["ref"] == branch)
        .unwrap()["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patcher_workflows_with_only_uses_changed_run_dev_to_stage_to_prod() {
    let c = Chain::new().await;
    let (dev_wf, stage_wf, prod_wf) = (
        workflow("update-dev.yml"),
        workflow("update-stage.yml"),
        workflow("update-prod.yml"),
    );

    // dev, run by hand: one branch and pull request per dependency, only dev/ changed, labelled.
    let dispatch = events::workflow_dispatch(json!({}), "acme/live");
    let dev_branches = report_and_update(&c, &dev_wf, "workflow_dispatch", &dispatch).await;
    assert_eq!(
        dev_branches,
        [
            format!("patcherv2-dev-updates-{SQS}"),
            format!("patcherv2-dev-updates-{VPC}")
        ]
    );
    for branch in &dev_branches {
        let changed = c.changed(branch);
        assert!(
            changed.len() == 1 && changed[0].starts_with("dev/"),
            "{branch}: {changed:?}"
        );
        assert_eq!(labels_of(&c, branch), ["updates-dev"]);
    }
    let vpc_branch = format!("patcherv2-dev-updates-{VPC}");
    let pr =
        c.gh.pulls("acme/live")
            .into_iter()
            .find(|p| p["head"]["ref"] == vpc_branch.as_str())
            .unwrap();
    assert_eq!(pr["title"], format!("[Patcher] [dev] Update {VPC}"));

    // The vpc pull request merges: dev's trigger-next-env fires and dispatches to stage.
    let (closed, sha) = c.merge(&vpc_branch);
    let to_stage = c
        .trigger_next_env(&dev_wf, &closed, &sha)
        .expect("the merged dev pull request is labelled updates-dev");
    assert_eq!(to_stage["action"], "dev_updates_merged");
    assert_eq!(to_stage["client_payload"]["dependency"], VPC);
    assert_eq!(to_stage["client_payload"]["branch"], vpc_branch.as_str());

    // stage, on dev_updates_merged: only vpc, at the version dev runs, only stage/ changed.
    let stage_branches = report_and_update(&c, &stage_wf, "repository_dispatch", &to_stage).await;
    let stage_branch = format!("patcher-stage-updates-{VPC}");
    assert_eq!(stage_branches, std::slice::from_ref(&stage_branch));
    assert_eq!(
        c.changed(&stage_branch),
        ["stage/us-east-1/vpc/terragrunt.hcl"]
    );
    assert_eq!(labels_of(&c, &stage_branch), ["updates-stage"]);

    let (closed, sha) = c.merge(&stage_branch);
    let to_prod = c
        .trigger_next_env(&stage_wf, &closed, &sha)
        .expect("the merged stage pull request is labelled updates-stage");
    assert_eq!(to_prod["action"], "stage_updates_merged");

    // prod, on stage_updates_merged.
    let prod_branches = report_and_update(&c, &prod_wf, "repository_dispatch", &to_prod).await;
    let prod_branch = format!("patcher-prod-updates-{VPC}");
    assert_eq!(prod_branches, std::slice::from_ref(&prod_branch));
    assert_eq!(
        c.changed(&prod_branch),
        ["prod/us-east-1/vpc/terragrunt.hcl"]
    );
    assert_eq!(labels_of(&c, &prod_branch), ["updates-prod"]);
    c.merge(&prod_branch);

    // Every environment runs vpc v1.1.0; sqs, whose dev pull request is still open, is untouched
    // in stage and prod.
    for env in ["dev", "stage", "prod"] {
        let unit = c.on_main(&format!("{env}/us-east-1/vpc/terragrunt.hcl"));
        assert!(unit.contains("?ref=v1.1.0"), "{env}: {unit}");
    }
    for env in ["dev", "stage", "prod"] {
        let unit = c.on_main(&format!("{env}/us-east-1/sqs/terragrunt.hcl"));
        assert!(unit.contains("?ref=v0.8.0"), "{env}: {unit}");
    }
    // The token given as PIPELINES_READ_TOKEN was used for the API.
    assert!(!c.gh.requests().is_empty());
}
