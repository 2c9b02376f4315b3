//! A promotion's own breaking-change impact: dev and stage use the same module, but stage passes
//! an input that the version dev landed removes. Dev's upgrade needed nothing; stage's
//! promotion spec says what breaks in stage, at stage's file, and so does the pull request the
//! promotion opens there.

use crate::common::{baton, stdout_of, write_tree};
use crate::fake_github::FakeGitHub;
use crate::gitrepo::git;
use crate::impact::{dependency, findings, module_repo, status};
use serde_json::Value;
use std::path::Path;

const DEP: &str = "acme/modules/vpc";

fn unit(source: &str, version: &str, inputs: &str) -> String {
    format!("terraform {{\n  source = \"{source}?ref={version}\"\n}}\n\ninputs = {{\n{inputs}}}\n")
}

async fn run_in(work: &Path, args: Vec<String>) -> assert_cmd::assert::Assert {
    let work = work.to_path_buf();
    tokio::task::spawn_blocking(move || {
        baton()
            .current_dir(&work)
            .env("GITHUB_REPOSITORY", "acme/live")
            .env("GITHUB_TOKEN", "ghs_FAKEPROMOTIONTOKEN")
            .args(&args)
            .assert()
            .success()
    })
    .await
    .unwrap()
}

fn args(list: &[&str], api: &str) -> Vec<String> {
    let mut out: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    out.extend(["--github-api-url".to_string(), api.to_string()]);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_promotion_carries_the_impact_on_stages_own_usages() {
    let root = tempfile::tempdir().unwrap();
    let repo = module_repo(&root.path().join("modules"));
    let source = format!("git::file://{}//modules/vpc", repo.display());
    let origin = root.path().join("origin.git");
    let work = root.path().join("live");
    std::fs::create_dir_all(&work).unwrap();
    git(
        root.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    git(&work, &["init", "-q"]);
    let dev_inputs = "  name       = \"dev\"\n  cidr_block = \"10.0.0.0/16\"\n";
    let stage_inputs = "  name               = \"stage\"\n  cidr_block         = \"10.1.0.0/16\"\n  enable_classiclink = true\n";
    write_tree(
        &work,
        &[
            (
                "dev/vpc/terragrunt.hcl",
                unit(&source, "v1.0.0", dev_inputs).as_bytes(),
            ),
            (
                "stage/vpc/terragrunt.hcl",
                unit(&source, "v1.0.0", stage_inputs).as_bytes(),
            ),
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
    let api = gh.api_url();

    // dev: v2.0.0 breaks nothing that dev passes.
    let spec: Value = serde_json::from_str(&stdout_of(
        &run_in(&work, args(&["report", "--include-dirs", "dev/**"], &api)).await,
    ))
    .unwrap();
    let dev = &dependency(&spec, DEP)["Impact"];
    assert_eq!(dev["To"], "v2.0.0", "{dev}");
    assert_eq!(status(dev, "dev/vpc/terragrunt.hcl"), "no-change", "{dev}");

    // dev's update to v2.0.0 lands.
    write_tree(
        &work,
        &[(
            "dev/vpc/terragrunt.hcl",
            unit(&source, "v2.0.0", dev_inputs).as_bytes(),
        )],
    );
    git(&work, &["commit", "-q", "-am", "vpc v2.0.0 in dev"]);
    git(&work, &["push", "-q", "origin", "main"]);

    // stage: the promotion spec carries stage's own impact.
    let promoted = ["--include-dirs", "stage/**", "--promote-from", "dev/**"];
    let mut report = vec!["report"];
    report.extend(promoted);
    let spec: Value =
        serde_json::from_str(&stdout_of(&run_in(&work, args(&report, &api)).await)).unwrap();
    let dep = dependency(&spec, DEP);
    assert_eq!(dep["TargetBreakingVersion"], "2.0.0");
    let impact = &dep["Impact"];
    assert_eq!(impact["From"], "v1.0.0", "{impact}");
    assert_eq!(impact["To"], "v2.0.0", "{impact}");
    assert_eq!(
        findings(impact, "stage/vpc/terragrunt.hcl"),
        ["stage/vpc/terragrunt.hcl:8 passes `enable_classiclink`, removed in v2.0.0"]
    );
    assert_eq!(
        impact["Usages"].as_array().unwrap().len(),
        1,
        "stage's usages only: {impact}"
    );

    // The pull request the promotion opens in stage shows it.
    let branch = format!("baton-stage-updates-{DEP}");
    let mut update = vec![
        "update",
        "--publish",
        "--dependency",
        DEP,
        "--pull-request-branch",
        &branch,
        "--pull-request-labels",
        "updates-stage",
    ];
    update.extend(promoted);
    run_in(&work, args(&update, &api)).await;
    let body = gh.pulls("acme/live")[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    let start = body
        .find("### Impact on this environment")
        .expect("the section");
    let end = body.find("### How to review").expect("review follows");
    let sha = git(&work, &["rev-parse", &branch]);
    let section = body[start..end].replace(sha.trim(), "<commit>");
    insta::assert_snapshot!("promotion_impact_pr_section", section);
    assert!(section.contains(
        "  - [`stage/vpc/terragrunt.hcl:8`](https://github.com/acme/live/blob/<commit>/stage/vpc/terragrunt.hcl#L8) passes `enable_classiclink`, removed in v2.0.0"
    ), "{section}");
    assert!(!section.contains("dev/vpc"), "{section}");
}
