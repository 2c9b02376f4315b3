//! Breaking-change impact of registry modules: a private registry stand-in (service discovery,
//! versions, and a download endpoint answering `204` with `X-Terraform-Get`) that only answers
//! with the token of `TF_TOKEN_<host>`, whose download addresses point at the module repository
//! of [`crate::impact`] as a `git::` address on github.com (read through the GitHub stand-in),
//! as a GitHub archive, or as a local git repository with tags.

use crate::common::{run_with, stderr_of, stdout_of, write_tree};
use crate::fake_github::FakeGitHub;
use crate::impact::{dependency, findings, module_repo, report_args, status};
use serde_json::{Value, json};
use std::path::Path;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "registry-s3cr3t-token";

/// A download address per module and version.
type Address = Box<dyn Fn(&str, &str) -> String>;

/// A private registry serving `acme/vpc/aws` and `acme/dns/aws`, each version downloaded from
/// `address(module, version)`; every answer needs the token.
async fn registry(address: impl Fn(&str, &str) -> String) -> MockServer {
    let server = MockServer::start().await;
    let bearer = format!("Bearer {TOKEN}");
    Mock::given(method("GET"))
        .and(path("/.well-known/terraform.json"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"modules.v1": "/v1/modules/"})),
        )
        .mount(&server)
        .await;
    let modules: [(&str, &[&str]); 2] = [
        ("vpc", &["1.0.0", "1.1.0", "2.0.0"]),
        ("dns", &["1.0.0", "1.1.0", "2.0.0", "2.1.0", "3.0.0"]),
    ];
    for (module, versions) in modules {
        let listed: Vec<Value> = versions.iter().map(|v| json!({"version": v})).collect();
        Mock::given(method("GET"))
            .and(path(format!("/v1/modules/acme/{module}/aws/versions")))
            .and(header("authorization", bearer.as_str()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"modules": [{"versions": listed}]})),
            )
            .mount(&server)
            .await;
        for v in versions {
            Mock::given(method("GET"))
                .and(path(format!("/v1/modules/acme/{module}/aws/{v}/download")))
                .and(header("authorization", bearer.as_str()))
                .respond_with(
                    ResponseTemplate::new(204)
                        .insert_header("X-Terraform-Get", address(module, v).as_str()),
                )
                .mount(&server)
                .await;
        }
    }
    server
}

/// The environment: a Terragrunt unit (`tfr://`) and a root module (`source` + `version`) of
/// `acme/vpc/aws` at 1.0.0, and a unit of `acme/dns/aws`.
fn live(dir: &Path, host: &str) {
    let unit = format!(
        "terraform {{\n  source = \"tfr://{host}/acme/vpc/aws?version=1.0.0\"\n}}\n\ninputs = {{\n  name               = \"dev\"\n  enable_classiclink = true\n}}\n"
    );
    let root = format!(
        "module \"vpc\" {{\n  source     = \"{host}/acme/vpc/aws\"\n  version    = \"1.0.0\"\n  name       = \"root\"\n  cidr_block = \"10.1.0.0/16\"\n}}\n"
    );
    let dns = format!(
        "terraform {{\n  source = \"tfr://{host}/acme/dns/aws?version=1.0.0\"\n}}\n\ninputs = {{\n  zone = \"example.com\"\n}}\n"
    );
    write_tree(
        dir,
        &[
            ("dev/vpc/terragrunt.hcl", unit.as_bytes()),
            ("dev/root/main.tf", root.as_bytes()),
            (
                "dev/root/outputs.tf",
                b"output \"nats\" {\n  value = module.vpc.nat_ids\n}\n",
            ),
            ("dev/dns/terragrunt.hcl", dns.as_bytes()),
        ],
    );
}

/// Runs `report` with the registry's token in `TF_TOKEN_<host>`, as Terraform reads it.
async fn report(work: &Path, api: &str, host: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    let var = format!("TF_TOKEN_{}", host.replace('.', "_"));
    let assert = run_with(report_args(work, api, extra), vec![(var, TOKEN.into())])
        .await
        .success();
    let printed = format!("{}{}", stdout_of(&assert), stderr_of(&assert));
    assert!(!printed.contains(TOKEN), "the token was printed: {printed}");
    assert
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_modules_breaking_upgrade_is_read_where_the_registry_downloads_it() {
    let modules = tempfile::tempdir().unwrap();
    let repo = module_repo(modules.path());
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/modules", &["v2.0.0", "v1.1.0", "v1.0.0"]);
    gh.serve_git("acme/modules", &repo);
    let local = format!("git::file://{}", repo.display());
    let commit = local.clone();
    let sha_of =
        move |v: &str| crate::gitrepo::git(&repo, &["rev-parse", &format!("v{v}^{{commit}}")]);
    let kinds: [(&str, Address); 4] = [
        (
            "git on github.com",
            Box::new(|m, v| format!("git::https://github.com/acme/modules//modules/{m}?ref=v{v}")),
        ),
        (
            "GitHub archive",
            Box::new(|m, v| {
                format!(
                    "https://github.com/acme/modules/archive/v{v}.tar.gz//*/modules/{m}?archive=tar.gz"
                )
            }),
        ),
        (
            "local git",
            Box::new(move |m, v| format!("{local}//modules/{m}?ref=refs/tags/v{v}")),
        ),
        (
            "local git at a commit",
            Box::new(move |m, v| format!("{commit}//modules/{m}?ref={}", sha_of(v).trim())),
        ),
    ];
    for (kind, address) in kinds {
        let server = registry(address).await;
        let host = server.address().to_string();
        let work = tempfile::tempdir().unwrap();
        live(work.path(), &host);
        let assert = report(work.path(), &gh.api_url(), &host, &[]).await;
        let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
        let vpc = dependency(&spec, &format!("{host}/acme/vpc/aws"));
        assert_eq!(vpc["TargetBreakingVersion"], "2.0.0", "{kind}");
        let impact = &vpc["Impact"];
        assert!(impact.get("Unknown").is_none(), "{kind}: {impact}");
        assert_eq!(impact["From"], "1.0.0", "{kind}");
        assert_eq!(impact["To"], "2.0.0", "{kind}");
        assert_eq!(impact["Module"], "modules/vpc", "{kind}");
        assert_eq!(
            findings(impact, "dev/vpc/terragrunt.hcl"),
            [
                "dev/vpc/terragrunt.hcl:2 does not pass `cidr_block`, required since 2.0.0",
                "dev/vpc/terragrunt.hcl:7 passes `enable_classiclink`, removed in 2.0.0",
            ],
            "{kind}"
        );
        assert_eq!(
            findings(impact, "dev/root/main.tf"),
            ["dev/root/outputs.tf:2 reads `module.vpc.nat_ids`, removed in 2.0.0"],
            "{kind}"
        );
        assert_eq!(status(impact, "dev/root/main.tf"), "needs-change");
        // Every request to the registry carried its token (the stand-in answers nothing else).
        let sent = server.received_requests().await.unwrap();
        assert!(sent.iter().any(|r| r.url.path().ends_with("/download")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_empty_bumps_and_the_rendered_section() {
    let modules = tempfile::tempdir().unwrap();
    let repo = module_repo(modules.path());
    let gh = FakeGitHub::start("").await;
    gh.add_repo(
        "acme/modules",
        &["v3.0.0", "v2.1.0", "v2.0.0", "v1.1.0", "v1.0.0"],
    );
    gh.serve_git("acme/modules", &repo);
    let server =
        registry(|m, v| format!("git::https://github.com/acme/modules//modules/{m}?ref=v{v}"))
            .await;
    let host = server.address().to_string();
    let work = tempfile::tempdir().unwrap();
    live(work.path(), &host);
    let assert = report(
        work.path(),
        &gh.api_url(),
        &host,
        &["--update-strategy", "next-safe"],
    )
    .await;
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    // dns: 2.0.0 changes nothing under modules/dns, so next-safe goes past it.
    let dns = dependency(&spec, &format!("{host}/acme/dns/aws"));
    assert_eq!(dns["TargetSafeVersion"], "2.1.0");
    assert_eq!(
        dns["Impact"]["EmptyBumps"],
        json!([{"Release": "2.0.0", "Compared": "v1.1.0...v2.0.0"}])
    );

    let assert = report(work.path(), &gh.api_url(), &host, &["--format", "markdown"]).await;
    let text = stdout_of(&assert).replace(&host, "<registry>");
    let start = text
        .find("#### `<registry>/acme/vpc/aws`")
        .expect("the vpc part");
    let end = text[start + 1..]
        .find("\n#### ")
        .map_or(text.len(), |i| start + 1 + i);
    let section = &text[start..end];
    insta::assert_snapshot!("registry_impact_section", section);
    assert!(
        section.contains("2.0.0 changes the module's interface:"),
        "{section}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_address_baton_cannot_fetch_leaves_the_impact_unknown_with_the_reason() {
    let server = registry(|m, v| {
        format!(
            "s3::https://s3-eu-west-1.amazonaws.com/acme-modules/{m}-{v}.zip?X-Amz-Signature=SECRET"
        )
    })
    .await;
    let host = server.address().to_string();
    let work = tempfile::tempdir().unwrap();
    live(work.path(), &host);
    let assert = report(work.path(), "http://127.0.0.1:9", &host, &[]).await;
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let vpc = dependency(&spec, &format!("{host}/acme/vpc/aws"));
    assert_eq!(vpc["TargetBreakingVersion"], "2.0.0", "targets stand");
    assert_eq!(
        vpc["Impact"]["Unknown"],
        "cannot read 1.0.0: the registry downloads the module from `s3::https://s3-eu-west-1.amazonaws.com/acme-modules/vpc-1.0.0.zip`, a `s3::` address, which Baton cannot fetch (it reads GitHub archives and git repositories)"
    );
    assert!(!stdout_of(&assert).contains("SECRET"));
}
