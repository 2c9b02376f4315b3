//! Breaking-change impact, usage by usage: module repositories with tagged releases (a v2 that
//! removes an input, makes one required, changes a type, removes an output and tightens a
//! provider; a module that v2 does not touch), served by the GitHub stand-in's `compare` and
//! `tarball`, or read with git from a `file://` remote; an environment that uses them through
//! Terragrunt inputs (one inherited from an include), `.tf` arguments and output references.

use crate::common::{baton, stdout_of, write_tree};
use crate::fake_github::FakeGitHub;
use crate::gitrepo::git;
use serde_json::Value;
use std::path::{Path, PathBuf};

const VPC_V1: &str = r#"variable "name" {
  type = string
}

variable "enable_classiclink" {
  type    = bool
  default = false
}

variable "cidr_block" {
  type    = string
  default = "10.0.0.0/16"
}

variable "azs" {
  type    = string
  default = ""
}

output "vpc_id" {
  value = "vpc-1"
}

output "nat_ids" {
  value = []
}

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 4.0"
    }
  }
}
"#;

const VPC_V2: &str = r#"variable "name" {
  type = string
}

variable "cidr_block" {
  type = string
}

variable "azs" {
  type    = list(string)
  default = []
}

output "vpc_id" {
  value = "vpc-1"
}

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
"#;

/// Commits the files (path, text; an empty text deletes) and tags the commit.
fn release(dir: &Path, tag: &str, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        if text.is_empty() {
            let _ = std::fs::remove_file(&path);
        } else {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
        }
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", tag]);
    git(dir, &["tag", tag]);
}

/// `acme/modules`: `vpc` breaks in v2.0.0; `dns` is untouched by v2.0.0 and changes (without
/// touching its interface) in v3.0.0; `app` sources `../common`, which v2.0.0 changes.
pub fn module_repo(root: &Path) -> PathBuf {
    let dir = root.join("acme/modules");
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q"]);
    release(
        &dir,
        "v1.0.0",
        &[
            ("modules/vpc/variables.tf", VPC_V1),
            (
                "modules/dns/main.tf",
                "variable \"zone\" {\n  type = string\n}\n",
            ),
            (
                "modules/app/main.tf",
                "variable \"name\" {}\nmodule \"common\" {\n  source = \"../common\"\n}\n",
            ),
            (
                "modules/common/main.tf",
                "variable \"x\" {\n  default = 1\n}\n",
            ),
            ("modules/gone/main.tf", "variable \"y\" {}\n"),
            ("README.md", "# modules\n"),
        ],
    );
    release(&dir, "v1.1.0", &[("README.md", "# modules\n\nFixes.\n")]);
    release(
        &dir,
        "v2.0.0",
        &[
            ("modules/vpc/variables.tf", VPC_V2),
            (
                "modules/common/main.tf",
                "variable \"x\" {\n  default = 2\n}\n",
            ),
            ("modules/gone/main.tf", ""),
        ],
    );
    release(&dir, "v2.1.0", &[("README.md", "# modules\n\n2.1\n")]);
    release(
        &dir,
        "v3.0.0",
        &[(
            "modules/dns/main.tf",
            "variable \"zone\" {\n  type = string\n}\nvariable \"ttl\" {\n  default = 300\n}\n",
        )],
    );
    dir
}

const VPC_SOURCE: &str = "github.com/acme/modules//modules/vpc?ref=v1.0.0";

/// The environment: Terragrunt units (one inheriting an input from `_envcommon`), a root module
/// whose `.tf` files read the module's outputs, a unit whose inputs Baton cannot read, and units
/// of the modules v2.0.0 leaves alone.
fn live(dir: &Path, source_of: impl Fn(&str) -> String) {
    let vpc = source_of("vpc");
    let unit = |module: &str, inputs: &str| {
        format!(
            "terraform {{\n  source = \"{}\"\n}}\n\ninputs = {{\n{inputs}}}\n",
            source_of(module)
        )
    };
    let app_vpc = format!(
        r#"include "root" {{
  path = find_in_parent_folders("root.hcl")
}}

include "envcommon" {{
  path = "${{dirname(find_in_parent_folders("root.hcl"))}}/_envcommon/vpc.hcl"
}}

terraform {{
  source = "{vpc}"
}}

inputs = {{
  name               = "dev"
  enable_classiclink = true
}}
"#
    );
    let tf_main = format!(
        r#"module "vpc" {{
  source     = "{}"
  name       = "root"
  cidr_block = "10.1.0.0/16"
}}
"#,
        vpc.replace(
            "github.com/acme/modules//",
            "git::https://github.com/acme/modules.git//"
        )
    );
    let hidden = format!(
        "locals {{\n  common = {{}}\n}}\n\nterraform {{\n  source = \"{vpc}\"\n}}\n\ninputs = merge(local.common, {{\n  name = \"hidden\"\n}})\n"
    );
    // Another unit reads the vpc unit's outputs through a `dependency` block.
    let nat = format!(
        "terraform {{\n  source = \"{}\"\n}}\n\ndependency \"vpc\" {{\n  config_path = \"../vpc\"\n}}\n\ninputs = {{\n  zone = \"nat\"\n  ids  = dependency.vpc.outputs.nat_ids\n}}\n",
        source_of("dns")
    );
    write_tree(
        dir,
        &[
            ("root.hcl", b"locals {}\n"),
            ("_envcommon/vpc.hcl", b"inputs = {\n  azs = \"us-east-1a\"\n}\n"),
            ("dev/app/vpc/terragrunt.hcl", app_vpc.as_bytes()),
            ("dev/tf-root/main.tf", tf_main.as_bytes()),
            (
                "dev/tf-root/outputs.tf",
                b"output \"vpc\" {\n  value = module.vpc.vpc_id\n}\n\noutput \"nats\" {\n  value = module.vpc.nat_ids\n}\n",
            ),
            (
                "dev/ok/terragrunt.hcl",
                unit("vpc", "  name       = \"ok\"\n  cidr_block = \"10.2.0.0/16\"\n").as_bytes(),
            ),
            ("dev/hidden/terragrunt.hcl", hidden.as_bytes()),
            (
                "dev/dns/terragrunt.hcl",
                unit("dns", "  zone = \"example.com\"\n").as_bytes(),
            ),
            ("dev/app/terragrunt.hcl", unit("app", "  name = \"app\"\n").as_bytes()),
            ("dev/app/nat/terragrunt.hcl", nat.as_bytes()),
            ("dev/gone/terragrunt.hcl", unit("gone", "  y = 1\n").as_bytes()),
        ],
    );
}

fn github_source(module: &str) -> String {
    VPC_SOURCE.replace("modules/vpc", &format!("modules/{module}"))
}

/// A stand-in serving `acme/modules` from the module repository, and the environment.
pub async fn setup() -> (FakeGitHub, tempfile::TempDir, tempfile::TempDir) {
    let modules = tempfile::tempdir().unwrap();
    let repo = module_repo(modules.path());
    let gh = FakeGitHub::start("").await;
    gh.add_repo(
        "acme/modules",
        &["v3.0.0", "v2.1.0", "v2.0.0", "v1.1.0", "v1.0.0"],
    );
    gh.serve_git("acme/modules", &repo);
    let work = tempfile::tempdir().unwrap();
    live(work.path(), github_source);
    (gh, modules, work)
}

pub async fn run(args: Vec<String>) -> assert_cmd::assert::Assert {
    tokio::task::spawn_blocking(move || baton().args(&args).assert())
        .await
        .expect("command ran")
}

pub fn report_args(work: &Path, api: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "report".into(),
        "--working-dir".into(),
        work.display().to_string(),
        "--include-dirs".into(),
        "dev/**".into(),
        "--github-api-url".into(),
        api.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

pub fn dependency<'a>(spec: &'a Value, id: &str) -> &'a Value {
    spec["Dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ID"] == id)
        .unwrap_or_else(|| panic!("{id} in {spec}"))
}

/// `file:line message` of each finding of the usage at `file`.
pub fn findings(impact: &Value, file: &str) -> Vec<String> {
    let usage = impact["Usages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["File"] == file)
        .unwrap_or_else(|| panic!("{file} in {impact}"));
    usage["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{} {}",
                f["File"].as_str().unwrap(),
                f["Line"],
                f["Message"].as_str().unwrap()
            )
        })
        .collect()
}

pub fn status(impact: &Value, file: &str) -> String {
    impact["Usages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["File"] == file)
        .map(|u| u["Status"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_change_is_checked_against_every_kind_of_usage() {
    let (gh, _modules, work) = setup().await;
    let assert = run(report_args(work.path(), &gh.api_url(), &[]))
        .await
        .success();
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let vpc = dependency(&spec, "acme/modules/vpc");
    assert_eq!(vpc["TargetBreakingVersion"], "2.0.0");
    let impact = &vpc["Impact"];
    insta::assert_json_snapshot!("impact_vpc", impact);

    // The interface diff: every kind of change.
    let kinds: Vec<&str> = impact["Changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "InputRemoved",
            "InputRequired",
            "InputTypeChanged",
            "OutputRemoved",
            "ProviderTightened"
        ]
    );
    // Terragrunt inputs, one of them inherited from an include, and another unit reading the
    // unit's outputs through a `dependency` block.
    assert_eq!(
        findings(impact, "dev/app/vpc/terragrunt.hcl"),
        [
            "_envcommon/vpc.hcl:2 passes `azs` as a string, but its type is `list(string)` since v2.0.0",
            "dev/app/nat/terragrunt.hcl:11 reads `dependency.vpc.outputs.nat_ids`, removed in v2.0.0",
            "dev/app/vpc/terragrunt.hcl:10 does not pass `cidr_block`, required since v2.0.0",
            "dev/app/vpc/terragrunt.hcl:15 passes `enable_classiclink`, removed in v2.0.0",
        ]
    );
    // `.tf` arguments and output references in the same folder.
    assert_eq!(
        findings(impact, "dev/tf-root/main.tf"),
        ["dev/tf-root/outputs.tf:6 reads `module.vpc.nat_ids`, removed in v2.0.0"]
    );
    assert_eq!(status(impact, "dev/tf-root/main.tf"), "needs-change");
    // Inputs Baton cannot evaluate are said, not guessed.
    assert_eq!(status(impact, "dev/hidden/terragrunt.hcl"), "unknown");
    let hidden = findings(impact, "dev/hidden/terragrunt.hcl");
    assert!(hidden[0].contains("`local.common`"), "{hidden:?}");
    assert!(hidden[0].contains("`cidr_block`"), "{hidden:?}");
    // A usage the changes do not reach.
    assert_eq!(status(impact, "dev/ok/terragrunt.hcl"), "no-change");
    assert!(findings(impact, "dev/ok/terragrunt.hcl").is_empty());
    // Usages that need changes come first.
    let order: Vec<&str> = impact["Usages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Status"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["needs-change", "needs-change", "unknown", "no-change"]
    );
}

/// The working directory as the user writes it: absolute, `.` (the action's default) or
/// relative to where Baton runs. Includes found with `find_in_parent_folders` are read in
/// each case, and the impact is the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_impact_is_the_same_however_the_working_directory_is_written() {
    let (gh, _modules, work) = setup().await;
    let api = gh.api_url();
    let parent = work.path().parent().unwrap().to_path_buf();
    let name = work
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let runs = [
        (work.path().to_path_buf(), work.path().display().to_string()),
        (work.path().to_path_buf(), ".".to_string()),
        (parent, name),
    ];
    let mut impacts = Vec::new();
    for (cwd, written) in runs {
        let args = report_args(Path::new(&written), &api, &[]);
        let assert = tokio::task::spawn_blocking(move || {
            baton().current_dir(cwd).args(&args).assert().success()
        })
        .await
        .expect("command ran");
        let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
        let impact = dependency(&spec, "acme/modules/vpc")["Impact"].clone();
        assert_eq!(
            findings(&impact, "dev/app/vpc/terragrunt.hcl")[0],
            "_envcommon/vpc.hcl:2 passes `azs` as a string, but its type is `list(string)` since v2.0.0",
            "--working-dir {written}"
        );
        impacts.push(impact);
    }
    assert_eq!(impacts[0], impacts[1]);
    assert_eq!(impacts[0], impacts[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaking_release_that_does_not_touch_the_module_is_an_empty_bump() {
    let (gh, _modules, work) = setup().await;
    let assert = run(report_args(
        work.path(),
        &gh.api_url(),
        &["--update-strategy", "next-safe"],
    ))
    .await
    .success();
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    // dns: v2.0.0 changes nothing under modules/dns, so next-safe goes past it to 2.1.0; v3.0.0
    // does change the folder, without touching the interface.
    let dns = dependency(&spec, "acme/modules/dns");
    assert_eq!(dns["TargetSafeVersion"], "2.1.0");
    assert_eq!(dns["TargetBreakingVersion"], "3.0.0");
    let impact = &dns["Impact"];
    assert_eq!(
        impact["EmptyBumps"],
        serde_json::json!([{"Release": "v2.0.0", "Compared": "v1.1.0...v2.0.0"}])
    );
    assert_eq!(impact["To"], "v3.0.0");
    assert_eq!(impact["Changes"], serde_json::json!([]));
    assert_eq!(status(impact, "dev/dns/terragrunt.hcl"), "no-change");
    // app: its own folder is untouched, but the local module it sources changed: not empty.
    let app = dependency(&spec, "acme/modules/app");
    assert_eq!(app["TargetSafeVersion"], "1.1.0");
    assert_eq!(
        app["Impact"]["Paths"],
        serde_json::json!(["modules/app", "modules/common"])
    );
    assert!(
        app["Impact"].get("EmptyBumps").is_none(),
        "{}",
        app["Impact"]
    );
    // gone: v2.0.0 removes the module's folder; Baton says so instead of calling every input
    // removed.
    let gone = &dependency(&spec, "acme/modules/gone")["Impact"];
    assert_eq!(
        gone["Unknown"],
        "`modules/gone` holds no Terraform files at v2.0.0: the module may have moved",
        "{gone}"
    );
    // vpc has a safe target of its own and stays at it.
    assert_eq!(
        dependency(&spec, "acme/modules/vpc")["TargetSafeVersion"],
        "1.1.0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_bounded_by_repositories_and_version_pairs() {
    let (gh, _modules, work) = setup().await;
    run(report_args(work.path(), &gh.api_url(), &[]))
        .await
        .success();
    let requests = gh.requests();
    let count = |needle: &str| requests.iter().filter(|r| r.contains(needle)).count();
    // One repository, four dependencies (vpc, dns, app, gone) and two pairs of tags compared
    // (v1.1.0...v2.0.0, shared by all four; v2.1.0...v3.0.0 for dns past its empty bump).
    assert_eq!(count("/tags"), 1, "{requests:?}");
    assert_eq!(count("/compare/"), 2, "{requests:?}");
    // One tarball per tag read (v1.0.0, v2.0.0, v3.0.0), each a redirect and a download.
    assert_eq!(count("/tarball/"), 3, "{requests:?}");
    assert_eq!(count("/_codeload/"), 3, "{requests:?}");
    let (repositories, pairs) = (1, 2);
    assert!(
        requests.len() <= 1 + repositories * pairs * 3 * 2,
        "{} requests: {requests:?}",
        requests.len()
    );
    assert_eq!(requests.len(), 9, "{requests:?}");
}

#[test]
fn git_hosts_are_read_with_a_shallow_fetch_of_the_two_tags() {
    let modules = tempfile::tempdir().unwrap();
    let repo = module_repo(modules.path());
    let work = tempfile::tempdir().unwrap();
    let url = format!("git::file://{}", repo.display());
    live(work.path(), |module| {
        format!("{url}//modules/{module}?ref=v1.0.0")
    });
    let assert = baton()
        .args(["report", "--include-dirs", "dev/**", "--working-dir"])
        .arg(work.path())
        .assert()
        .success();
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let owner = repo
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    let id = |m: &str| format!("{owner}/modules/{m}");
    let vpc = &dependency(&spec, &id("vpc"))["Impact"];
    assert_eq!(
        findings(vpc, "dev/app/vpc/terragrunt.hcl").len(),
        4,
        "{vpc}"
    );
    let dns = &dependency(&spec, &id("dns"))["Impact"];
    assert_eq!(dns["EmptyBumps"][0]["Release"], "v2.0.0", "{dns}");
}

/// The environment as a git repository with a bare `origin`, for publishing.
fn live_repo(root: &Path) -> PathBuf {
    let origin = root.join("origin.git");
    let work = root.join("live");
    std::fs::create_dir_all(&work).unwrap();
    git(root, &["init", "-q", "--bare", origin.to_str().unwrap()]);
    git(&work, &["init", "-q"]);
    live(&work, github_source);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "initial"]);
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    work
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pull_request_says_what_breaks_here_and_the_notes_file_lists_the_steps() {
    let modules = tempfile::tempdir().unwrap();
    let repo = module_repo(modules.path());
    let gh = FakeGitHub::start("").await;
    gh.add_repo(
        "acme/modules",
        &["v3.0.0", "v2.1.0", "v2.0.0", "v1.1.0", "v1.0.0"],
    );
    gh.serve_git("acme/modules", &repo);
    gh.add_repo("acme/live", &[]);
    let root = tempfile::tempdir().unwrap();
    let work = live_repo(root.path());
    let notes = root.path().join("README-TO-COMPLETE-UPDATE.md");

    // The report job's spec, then the update job of one dependency, as the workflows run them.
    let assert = run(report_args(&work, &gh.api_url(), &["--format", "json"]))
        .await
        .success();
    let spec = stdout_of(&assert);
    let args: Vec<String> = [
        "update",
        "--working-dir",
        work.to_str().unwrap(),
        "--include-dirs",
        "dev/**",
        "--spec",
        &spec,
        "--dependency",
        "acme/modules/vpc",
        "--publish",
        "--pull-request-branch",
        "baton-dev-updates-acme/modules/vpc",
        "--pull-request-labels",
        "updates-dev",
        "--breaking-notes-file",
        notes.to_str().unwrap(),
        "--github-api-url",
        &gh.api_url(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let dir = work.clone();
    tokio::task::spawn_blocking(move || {
        baton()
            .current_dir(&dir)
            .env("GITHUB_REPOSITORY", "acme/live")
            .args(&args)
            .assert()
            .success()
    })
    .await
    .unwrap();

    let body = gh.pulls("acme/live")[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    let start = body
        .find("### Impact on this environment")
        .expect("the section");
    let end = body.find("### How to review").expect("review follows");
    let sha = git(&work, &["rev-parse", "baton-dev-updates-acme/modules/vpc"]);
    let section = body[start..end].replace(sha.trim(), "<commit>");
    insta::assert_snapshot!("impact_pr_section", section);
    assert!(section.contains(
        "  - [`dev/app/vpc/terragrunt.hcl:15`](https://github.com/acme/live/blob/<commit>/dev/app/vpc/terragrunt.hcl#L15) passes `enable_classiclink`, removed in v2.0.0"
    ));

    let written = std::fs::read_to_string(&notes).expect("the notes file is written");
    assert!(
        written.starts_with("# To complete this update\n"),
        "{written}"
    );
    assert!(written.contains(
        "- [ ] Remove `enable_classiclink` at `dev/app/vpc/terragrunt.hcl:15`: the input is removed in v2.0.0."
    ));
    // Never committed.
    let files = git(
        &work,
        &[
            "diff",
            "--name-only",
            "main",
            "baton-dev-updates-acme/modules/vpc",
        ],
    );
    assert!(!files.contains("README-TO-COMPLETE-UPDATE"), "{files}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_markdown_shows_the_impact() {
    let (gh, _modules, work) = setup().await;
    let assert = run(report_args(
        work.path(),
        &gh.api_url(),
        &["--format", "markdown"],
    ))
    .await
    .success();
    let text = stdout_of(&assert);
    let section = &text[text
        .find("### Impact on this environment")
        .expect("section")..];
    assert!(
        section.contains("#### `acme/modules/vpc`: v1.0.0 → v2.0.0"),
        "{section}"
    );
    assert!(
        section.contains(
            "  - `dev/tf-root/outputs.tf:6` reads `module.vpc.nat_ids`, removed in v2.0.0"
        )
    );
    assert!(section.contains(
        "- v2.0.0 is a breaking release, but it changes nothing in `modules/dns` (compared `v1.1.0...v2.0.0`): it is not breaking here, so `next-safe` goes past it."
    ), "{section}");
    assert!(
        section.contains("v3.0.0 changes `modules/dns` but not its interface"),
        "{section}"
    );
    let vpc = &section[section.find("#### `acme/modules/vpc`").unwrap()..];
    let needs = vpc.find("**Needs changes**").unwrap();
    let fine = vpc.find("**No change needed here**").unwrap();
    assert!(needs < fine, "{vpc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baton_impact_off_skips_the_analysis_and_a_bad_value_exits_2() {
    let (gh, _modules, work) = setup().await;
    let args = report_args(work.path(), &gh.api_url(), &[]);
    let off = args.clone();
    let assert = tokio::task::spawn_blocking(move || {
        baton()
            .env("BATON_IMPACT", "off")
            .args(&off)
            .assert()
            .success()
    })
    .await
    .unwrap();
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert!(
        dependency(&spec, "acme/modules/vpc")
            .get("Impact")
            .is_none()
    );
    assert_eq!(
        dependency(&spec, "acme/modules/dns")["TargetSafeVersion"],
        "1.1.0"
    );
    assert_eq!(gh.requests().len(), 1, "tags only: {:?}", gh.requests());
    let assert = tokio::task::spawn_blocking(move || {
        baton()
            .env("BATON_IMPACT", "maybe")
            .args(&args)
            .assert()
            .code(2)
    })
    .await
    .unwrap();
    assert!(crate::common::stderr_of(&assert).contains("BATON_IMPACT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_module_files_make_the_impact_unknown_and_the_rest_goes_on() {
    let (gh, _modules, work) = setup().await;
    gh.state
        .lock()
        .unwrap()
        .fail_with
        .insert("/repos/acme/modules/tarball/v2.0.0".into(), 404);
    let assert = run(report_args(work.path(), &gh.api_url(), &[]))
        .await
        .success();
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let vpc = dependency(&spec, "acme/modules/vpc");
    assert_eq!(vpc["TargetBreakingVersion"], "2.0.0", "targets stand");
    let why = vpc["Impact"]["Unknown"].as_str().unwrap();
    assert!(why.starts_with("cannot read v2.0.0: GET "), "{why}");
    assert!(why.contains("tarball/v2.0.0 → 404"), "{why}");
    assert_eq!(vpc["Impact"]["Usages"], serde_json::json!([]));
    // Nothing is called an empty bump without proof.
    let dns = dependency(&spec, "acme/modules/dns");
    assert_eq!(dns["TargetSafeVersion"], "1.1.0");
    assert!(dns["Impact"].get("EmptyBumps").is_none());
}
