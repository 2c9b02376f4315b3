//! The API budget: a cache of GitHub's answers between runs, conditional requests that GitHub does
//! not count, the rate-limit headers of every answer read, optional work held back below a floor,
//! and what was spent said at the end. The stand-in sends GitHub's `x-ratelimit-*` headers,
//! token-specific `ETag`s and `304 Not Modified`, and counts as GitHub does.

use crate::common::{stderr_of, stdout_of};
use crate::fake_github::FakeGitHub;
use crate::impact::{dependency, report_args, setup};
use serde_json::Value;
use std::path::Path;

/// Runs `baton` with `args` and `envs`, off the stand-in's runtime.
async fn baton_with(
    args: Vec<String>,
    envs: Vec<(&'static str, String)>,
) -> assert_cmd::assert::Assert {
    let envs = envs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    crate::common::run_with(args, envs).await
}

fn with_cache(work: &Path, api: &str, cache: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = report_args(work, api, &["--cache-dir", cache.to_str().unwrap()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn token(t: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_TOKEN", t.to_string()),
        ("BATON_LOG", "debug".into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_report_of_an_unchanged_repository_spends_no_counted_request() {
    let (gh, _modules, work) = setup().await;
    let cache = tempfile::tempdir().unwrap();
    let args = with_cache(work.path(), &gh.api_url(), cache.path(), &[]);

    let cold = baton_with(args.clone(), token("ghs_same")).await.success();
    let cold_counted = gh.counted();
    let cold_spec: Value = serde_json::from_str(&stdout_of(&cold)).unwrap();
    assert!(
        cold_counted >= 3,
        "tags, a compare and tarballs: {cold_counted}"
    );
    assert_eq!(gh.conditional_requests(), 0);
    assert!(
        stderr_of(&cold).contains(&format!(
            "GitHub API: {cold_counted} requests counted against the rate limit"
        )),
        "{}",
        stderr_of(&cold)
    );

    // The same token an hour later (a personal or App token kept in a secret): the tag list is
    // asked conditionally and answered 304; compares and tarballs of tags are not asked at all.
    let warm = baton_with(args, token("ghs_same")).await.success();
    let warm_spec: Value = serde_json::from_str(&stdout_of(&warm)).unwrap();
    assert_eq!(warm_spec, cold_spec, "the same spec from the cache");
    assert_eq!(gh.counted(), cold_counted, "no counted request");
    let err = stderr_of(&warm);
    assert!(
        err.contains("GitHub API: 0 requests counted against the rate limit"),
        "{err}"
    );
    assert!(err.contains("answered 304 Not Modified"), "{err}");
    assert!(gh.conditional_requests() >= 1);
    // Every API exchange of both runs was held against GitHub's description.
    let api = gh
        .requests()
        .iter()
        .filter(|r| !r.contains("/_codeload/"))
        .count();
    assert_eq!(gh.exchanges_checked(), api);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_token_every_run_is_spared_only_by_the_cache_age() {
    let (gh, _modules, work) = setup().await;
    let cache = tempfile::tempdir().unwrap();
    let args = with_cache(work.path(), &gh.api_url(), cache.path(), &[]);
    baton_with(args.clone(), token("ghs_run1")).await.success();
    let cold = gh.counted();

    // GitHub's ETags belong to the token: a GITHUB_TOKEN, new every run, gets 200s for the
    // lists again, but immutable answers (compare, tarballs) still cost nothing.
    baton_with(args.clone(), token("ghs_run2")).await.success();
    let second = gh.counted() - cold;
    assert!(
        second >= 1 && second < cold,
        "lists asked again, tags' answers not: {second} of {cold}"
    );

    // With a cache age, a run within that age asks nothing at all.
    let mut aged = args;
    aged.extend(["--cache-max-age".to_string(), "1h".to_string()]);
    let before = gh.requests().len();
    baton_with(aged, token("ghs_run3")).await.success();
    assert_eq!(
        gh.requests().len(),
        before,
        "{:?}",
        &gh.requests()[before..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_50_remaining_requests_the_impact_is_not_started_and_the_run_says_why() {
    let (gh, _modules, work) = setup().await;
    gh.set_rate_limit(1000, 50);
    let summary = tempfile::NamedTempFile::new().unwrap();
    let assert = baton_with(
        report_args(work.path(), &gh.api_url(), &[]),
        vec![("GITHUB_STEP_SUMMARY", summary.path().display().to_string())],
    )
    .await
    .success();
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let vpc = dependency(&spec, "acme/modules/vpc");
    // The versions are still looked up: only the optional work is held back.
    assert_eq!(vpc["TargetBreakingVersion"], "2.0.0");
    let why = vpc["Impact"]["Unknown"].as_str().unwrap_or_default();
    assert!(why.contains("below the floor of 100"), "{why}");
    assert!(why.contains("--api-floor"), "{why}");
    let requests = gh.requests();
    assert!(
        !requests
            .iter()
            .any(|r| r.contains("/compare/") || r.contains("/tarball/")),
        "{requests:?}"
    );
    let err = stderr_of(&assert);
    assert!(
        err.contains("not started for want of budget: breaking-change impact"),
        "{err}"
    );
    assert!(err.contains("of 1000 left"), "{err}");

    // A lower floor lets it run.
    let assert = baton_with(
        report_args(work.path(), &gh.api_url(), &["--api-floor", "10"]),
        vec![],
    )
    .await
    .success();
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert!(dependency(&spec, "acme/modules/vpc")["Impact"]["Unknown"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_0_remaining_requests_nothing_is_checked_and_the_run_says_when_the_limit_resets() {
    let (gh, _modules, work) = setup().await;
    gh.set_rate_limit(1000, 0);
    let assert = baton_with(report_args(work.path(), &gh.api_url(), &[]), vec![])
        .await
        .code(3);
    let spec: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let unreachable = spec["Unreachable"].as_array().unwrap();
    assert!(!unreachable.is_empty());
    for u in unreachable {
        let e = u["Error"].as_str().unwrap();
        assert!(e.contains("rate limit exhausted; it resets in"), "{e}");
    }
    let err = stderr_of(&assert);
    assert!(err.contains("no dependency could be checked"), "{err}");
    // One request per module repository, no retry storm: the reset is an hour away.
    assert!(gh.requests().len() <= 3, "{:?}", gh.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_says_what_was_spent_in_the_job_summary() {
    let (gh, _modules, work) = setup().await;
    gh.set_rate_limit(1000, 900);
    let summary = tempfile::NamedTempFile::new().unwrap();
    let output = tempfile::NamedTempFile::new().unwrap();
    let envs = vec![
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_STEP_SUMMARY", summary.path().display().to_string()),
        ("GITHUB_OUTPUT", output.path().display().to_string()),
        ("INPUT_PATCHER_COMMAND", "report".into()),
        ("INPUT_WORKING_DIR", work.path().display().to_string()),
        ("INPUT_INCLUDE_DIRS", "dev/**".into()),
        ("INPUT_GITHUB_BASE_URL", gh.api_url()),
        ("INPUT_API_FLOOR", "950".into()),
    ];
    baton_with(vec!["action".into()], envs).await.success();
    let text = std::fs::read_to_string(summary.path()).unwrap();
    assert!(text.contains("### GitHub API"), "{text}");
    // The tag list, then nothing: 900 left is below the floor of 950.
    assert_eq!(gh.counted(), 1);
    assert!(
        text.contains("GitHub API: 1 request counted against the rate limit"),
        "{text}"
    );
    assert!(text.contains("899 of 1000 left"), "{text}");
    assert!(text.contains("not started for want of budget"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_api_floor_or_cache_age_is_invalid_input() {
    let gh = FakeGitHub::start("").await;
    let work = tempfile::tempdir().unwrap();
    for extra in [["--api-floor", "many"], ["--cache-max-age", "soon"]] {
        let assert = baton_with(report_args(work.path(), &gh.api_url(), &extra), vec![])
            .await
            .code(2);
        assert!(
            stderr_of(&assert).contains(extra[0]),
            "{}",
            stderr_of(&assert)
        );
    }
}
