//! `baton report` against local stand-ins: the GitHub API, git repositories with tags, and a module
//! registry. Nothing here reaches the internet.

use crate::common::{stderr_of, stdout_of, write_tree};
use crate::fake_github::FakeGitHub;
use crate::gitrepo::tagged_repo;
use serde_json::{Value, json};
use std::path::Path;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RELEASES: &[&str] = &[
    "v2.0.0", "v1.4.2", "v1.0.0", "v0.65.6", "v0.65.0", "v0.62.3", "v0.62.0", "v0.61.1", "v0.61.0",
];

use crate::common::run_with as run;

fn report_args(dir: &Path, api: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "report".into(),
        "--working-dir".into(),
        dir.display().to_string(),
        "--github-api-url".into(),
        api.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn terragrunt(source: &str) -> Vec<u8> {
    format!("terraform {{\n  source = \"{source}\"\n}}\n").into_bytes()
}

fn spec_of(assert: &assert_cmd::assert::Assert) -> Value {
    serde_json::from_str(&stdout_of(assert)).expect("stdout is the JSON spec")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_matches_patcher_shape_and_targets() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo(
        "gruntwork-io/terraform-aws-service-catalog",
        &["v0.96.0", "v0.95.1", "v0.95.0"],
    );
    gh.add_repo("acme/modules", RELEASES);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/vpc/terragrunt.hcl",
                &terragrunt(
                    "git::git@github.com:gruntwork-io/terraform-aws-service-catalog.git//modules/networking/vpc?ref=v0.95.0",
                ),
            ),
            (
                "dev/a/terragrunt.hcl",
                &terragrunt("github.com/acme/modules//modules/a?ref=v0.61.0"),
            ),
            (
                "dev/b/terragrunt.hcl",
                &terragrunt("github.com/acme/modules//modules/b?ref=v0.65.6"),
            ),
            (
                "dev/c/terragrunt.hcl",
                &terragrunt("github.com/acme/modules//modules/c?ref=v2.0.0"),
            ),
            (
                "dev/d/terragrunt.hcl",
                &terragrunt("github.com/acme/modules//modules/d?ref=main"),
            ),
            (
                "prod/vpc/terragrunt.hcl",
                &terragrunt("github.com/acme/modules//modules/a?ref=v0.1.0"),
            ),
        ],
    );
    let spec_file = dir.path().join("spec.json");
    let args = report_args(
        dir.path(),
        &gh.api_url(),
        &[
            "--include-dirs",
            "{*dev*}/**",
            "--spec-file",
            spec_file.to_str().unwrap(),
        ],
    );
    let assert = run(args, vec![]).await.success();
    let spec = spec_of(&assert);
    // These module repositories serve no files: the impact of breaking targets is unknown, with
    // the stand-in's address in the reason (tested in `impact`).
    let mut pinned = spec.clone();
    for d in pinned["Dependencies"].as_array_mut().unwrap() {
        if let Some(impact) = d.as_object_mut().unwrap().remove("Impact") {
            assert!(
                impact["Unknown"].as_str().unwrap().contains("404"),
                "{impact}"
            );
        }
    }
    insta::assert_json_snapshot!("report_spec", pinned);
    // Exactly the Patcher keys first, `Dependencies` never null, versions without `v`.
    let text = stdout_of(&assert);
    assert!(text.starts_with(
        r#"{"IncludeDirPattern":"{*dev*}/**","ExcludeDirPattern":"","Dependencies":["#
    ));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&spec_file).unwrap()).unwrap();
    assert_eq!(written, spec, "the spec file holds the same spec");
    // Each repository looked up once.
    let tag_requests = gh.requests().iter().filter(|r| r.contains("/tags")).count();
    assert_eq!(tag_requests, 2, "{:?}", gh.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_per_repository_for_40_usages() {
    let gh = FakeGitHub::start("").await;
    for repo in ["acme/net", "acme/data", "acme/compute"] {
        gh.add_repo(repo, &["v1.1.0", "v1.0.0"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..40 {
        let repo = ["net", "data", "compute"][i % 3];
        files.push((
            format!("dev/unit{i}/terragrunt.hcl"),
            terragrunt(&format!(
                "github.com/acme/{repo}//modules/m{}?ref=v1.0.0",
                i % 5
            )),
        ));
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    write_tree(dir.path(), &refs);
    let assert = run(report_args(dir.path(), &gh.api_url(), &[]), vec![])
        .await
        .success();
    let spec = spec_of(&assert);
    assert_eq!(spec["Dependencies"].as_array().unwrap().len(), 15);
    let requests = gh.requests();
    assert_eq!(
        requests.len(),
        3,
        "one request per repository: {requests:?}"
    );
    for repo in ["acme/net", "acme/data", "acme/compute"] {
        assert_eq!(
            requests
                .iter()
                .filter(|r| r.contains(&format!("/repos/{repo}/tags")))
                .count(),
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_read_across_pages_under_a_ghes_prefix() {
    let gh = FakeGitHub::start("/api/v3").await;
    // 250 tags: three pages of 100; the newest is on the last page.
    let mut tags: Vec<String> = (0..249).map(|i| format!("v1.{i}.0")).collect();
    tags.push("v2.0.0".into());
    let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
    gh.add_repo("acme/big", &tag_refs);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "dev/x/terragrunt.hcl",
            &terragrunt("github.com/acme/big//x?ref=v1.0.0"),
        )],
    );
    let assert = run(report_args(dir.path(), &gh.api_url(), &[]), vec![])
        .await
        .success();
    let spec = spec_of(&assert);
    assert_eq!(spec["Dependencies"][0]["TargetSafeVersion"], "1.248.0");
    assert_eq!(spec["Dependencies"][0]["TargetBreakingVersion"], "2.0.0");
    let requests: Vec<String> = gh
        .requests()
        .into_iter()
        .filter(|r| r.contains("/tags"))
        .collect();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.contains("/api/v3/repos/acme/big/tags"))
    );
    assert!(requests[2].contains("page=3"), "{requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_repository_is_reported_and_the_rest_goes_on() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/ok", &["v1.1.0", "v1.0.0"]);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/gone/terragrunt.hcl",
                &terragrunt("github.com/acme/private//x?ref=v1.0.0"),
            ),
            (
                "dev/ok/terragrunt.hcl",
                &terragrunt("github.com/acme/ok//x?ref=v1.0.0"),
            ),
        ],
    );
    let assert = run(
        report_args(dir.path(), &gh.api_url(), &[]),
        vec![("GITHUB_ACTIONS".into(), "true".into())],
    )
    .await
    .success();
    let spec = spec_of(&assert);
    assert_eq!(spec["Dependencies"].as_array().unwrap().len(), 1);
    assert_eq!(spec["Dependencies"][0]["ID"], "acme/ok/x");
    let unreachable = &spec["Unreachable"][0];
    assert_eq!(unreachable["ID"], "acme/private/x");
    let error = unreachable["Error"].as_str().unwrap();
    assert!(error.contains("404"), "{error}");
    assert!(
        error.contains("GITHUB_TOKEN"),
        "the hint names the token: {error}"
    );
    let err = stderr_of(&assert);
    assert!(
        err.contains("::warning file=dev/gone/terragrunt.hcl,line=2::"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secondary_rate_limit_honours_retry_after() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/busy", &["v1.1.0", "v1.0.0"]);
    gh.state
        .lock()
        .unwrap()
        .rate_limit_once
        .push("/repos/acme/busy/tags".into());
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "dev/x/terragrunt.hcl",
            &terragrunt("github.com/acme/busy//x?ref=v1.0.0"),
        )],
    );
    let started = std::time::Instant::now();
    let assert = run(report_args(dir.path(), &gh.api_url(), &[]), vec![])
        .await
        .success();
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "waited Retry-After"
    );
    assert_eq!(
        spec_of(&assert)["Dependencies"][0]["TargetSafeVersion"],
        "1.1.0"
    );
    assert_eq!(gh.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_sent_and_never_printed() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/x", &["v1.0.1", "v1.0.0"]);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "dev/x/terragrunt.hcl",
            &terragrunt("github.com/acme/x?ref=v1.0.0"),
        )],
    );
    let token = "ghp_FAKE0123456789abcdefBATONTEST";
    let assert = run(
        report_args(dir.path(), &gh.api_url(), &[]),
        vec![
            ("PATCHER_READ_TOKEN".into(), token.into()),
            ("BATON_LOG".into(), "debug".into()),
        ],
    )
    .await
    .success();
    let received = gh.server.received_requests().await.unwrap();
    let auth = received[0]
        .headers
        .get("authorization")
        .expect("token sent")
        .to_str()
        .unwrap();
    assert!(auth.ends_with(token));
    assert!(!stdout_of(&assert).contains(token));
    assert!(!stderr_of(&assert).contains(token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_git_hosts_use_ls_remote() {
    let modules = tempfile::tempdir().unwrap();
    let repo = tagged_repo(
        modules.path(),
        "acme/terraform-aws-vpc",
        &["v1.0.0", "v1.1.0", "v2.0.0", "nightly"],
    );
    let url = format!("file://{}", repo.display());
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "dev/vpc/terragrunt.hcl",
            &terragrunt(&format!("git::{url}//modules/vpc?ref=v1.0.0")),
        )],
    );
    let assert = run(report_args(dir.path(), "http://127.0.0.1:9", &[]), vec![])
        .await
        .success();
    let spec = spec_of(&assert);
    let dep = &spec["Dependencies"][0];
    assert_eq!(dep["ID"], "acme/terraform-aws-vpc/vpc");
    assert_eq!(dep["TargetSafeVersion"], "1.1.0");
    assert_eq!(dep["TargetBreakingVersion"], "2.0.0");
    assert_eq!(dep["SourceType"], "git");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_modules_use_the_registry_protocol() {
    let registry = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/terraform.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"modules.v1": "/v1/modules/"})),
        )
        .expect(1)
        .mount(&registry)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/modules/acme/vpc/aws/versions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "modules": [{"versions": [{"version": "3.0.0"}, {"version": "3.2.0"}, {"version": "4.0.0"}]}]
        })))
        .expect(1)
        .mount(&registry)
        .await;
    let host = registry.address().to_string();
    let dir = tempfile::tempdir().unwrap();
    let main_tf = format!(
        "module \"a\" {{\n  source  = \"{host}/acme/vpc/aws\"\n  version = \"3.0.0\"\n}}\n\nmodule \"b\" {{\n  source  = \"{host}/acme/vpc/aws\"\n  version = \"~> 3.0\"\n}}\n"
    );
    let unit =
        format!("terraform {{\n  source = \"tfr://{host}/acme/vpc/aws?version=3.2.0\"\n}}\n");
    write_tree(
        dir.path(),
        &[
            ("dev/main.tf", main_tf.as_bytes()),
            ("dev/unit/terragrunt.hcl", unit.as_bytes()),
        ],
    );
    let assert = run(report_args(dir.path(), "http://127.0.0.1:9", &[]), vec![])
        .await
        .success();
    let spec = spec_of(&assert);
    let dep = &spec["Dependencies"][0];
    assert_eq!(dep["ID"], format!("{host}/acme/vpc/aws"));
    assert_eq!(dep["CurrentVersions"], json!(["3.0.0", "3.2.0"]));
    assert_eq!(dep["TargetSafeVersion"], "3.2.0");
    assert_eq!(dep["TargetBreakingVersion"], "4.0.0");
    assert_eq!(dep["Usages"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependency_flag_limits_the_report_and_its_lookups() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/a", &["v1.1.0", "v1.0.0"]);
    gh.add_repo("acme/b", &["v1.1.0", "v1.0.0"]);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/a/terragrunt.hcl",
                &terragrunt("github.com/acme/a?ref=v1.0.0"),
            ),
            (
                "dev/b/terragrunt.hcl",
                &terragrunt("github.com/acme/b?ref=v1.0.0"),
            ),
        ],
    );
    let assert = run(
        report_args(
            dir.path(),
            &gh.api_url(),
            &["--dependency", "acme/b", "--format", "text"],
        ),
        vec![],
    )
    .await
    .success();
    let text = stdout_of(&assert);
    assert!(text.contains("acme/b"), "{text}");
    assert!(!text.contains("acme/a "), "{text}");
    assert_eq!(
        gh.requests(),
        vec!["GET /repos/acme/b/tags?per_page=100".to_string()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_safe_lists_only_non_breaking_updates() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/modules", RELEASES);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/a/terragrunt.hcl",
                &terragrunt("github.com/acme/modules//a?ref=v0.61.0"),
            ),
            (
                "dev/b/terragrunt.hcl",
                &terragrunt("github.com/acme/modules//b?ref=v0.65.6"),
            ),
        ],
    );
    let assert = run(
        report_args(
            dir.path(),
            &gh.api_url(),
            &["--update-strategy", "next-safe"],
        ),
        vec![],
    )
    .await
    .success();
    let ids: Vec<String> = spec_of(&assert)["Dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["ID"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec!["acme/modules/a"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_are_read_across_pages_with_their_notes() {
    let gh = FakeGitHub::start("/api/v3").await;
    gh.add_repo("acme/big", &[]);
    gh.state
        .lock()
        .unwrap()
        .repos
        .get_mut("acme/big")
        .unwrap()
        .releases = (0..230)
        .map(|i| (format!("v1.{i}.0"), format!("Notes of 1.{i}.0")))
        .collect();
    let client = baton::clients::github::GitHub::new(baton::clients::github::GitHubConfig {
        api_url: Some(gh.api_url()),
        ..Default::default()
    })
    .unwrap();
    let releases = client.releases("acme", "big").await.unwrap();
    assert_eq!(releases.len(), 230);
    assert_eq!(releases[229].tag_name, "v1.229.0");
    assert_eq!(releases[229].body.as_deref(), Some("Notes of 1.229.0"));
    assert_eq!(
        releases[0].html_url,
        "https://github.com/acme/big/releases/tag/v1.0.0"
    );
    let requests = gh.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert!(
        requests[1].contains("/api/v3/repos/acme/big/releases") && requests[1].contains("page=2")
    );
}

/// Baton asks the kernel for no transparent huge pages, whatever the host's setting: held on a
/// request that gets no answer, the running process says so in its status.
#[cfg(target_os = "linux")]
#[test]
fn a_run_asks_for_no_transparent_huge_pages() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "dev/vpc/terragrunt.hcl",
            &terragrunt("git::https://github.com/acme/mods.git//vpc?ref=v1.0.0"),
        )],
    );
    // A server that takes the connection and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("baton"));
    for var in crate::common::CLEARED_ENV {
        cmd.env_remove(var);
    }
    cmd.args(report_args(dir.path(), &api, &[]))
        .env("GITHUB_TOKEN", "x")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // Until Baton connects (or ends, which fails the test).
    listener.set_nonblocking(true).unwrap();
    let _held = loop {
        match listener.accept() {
            Ok((held, _)) => break held,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let ended = child.try_wait().unwrap();
                assert!(ended.is_none(), "baton ended without asking: {ended:?}");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    let status = std::fs::File::open(format!("/proc/{}/status", child.id())).unwrap();
    let thp: Vec<String> = std::io::BufReader::new(status)
        .lines()
        .map(Result::unwrap)
        .filter(|l| l.starts_with("THP_enabled:"))
        .collect();
    child.kill().unwrap();
    child.wait().unwrap();
    // Kernels before 5.0 do not show the flag.
    if let Some(line) = thp.first() {
        assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    }
}
