//! `baton history --cache-dir`: the history kept between runs gives exactly what reading it
//! all from git gives, after new commits, rewritten histories and damaged files, and is kept
//! apart per set of environments.

use crate::common::{baton, stderr_of, stdout_of};
use crate::gitrepo::git;
use crate::history::{commit, live_history, shallow_clone, unit};
use std::path::{Path, PathBuf};

const ALICE: &str = "Alice Admin <alice@example.com>";

/// `baton history` of `envs`, every change listed as JSON; with `cache` when given.
fn listed(dir: &Path, envs: &[&str], cache: Option<&Path>) -> String {
    let mut cmd = baton();
    cmd.arg("history")
        .arg("--working-dir")
        .arg(dir)
        .args(envs)
        .args(["--limit", "0", "--format", "json"])
        .env_remove("BATON_CONFIG")
        .env_remove("BATON_DEPENDENCY")
        .env_remove("BATON_CACHE_DIR");
    if let Some(cache) = cache {
        cmd.arg("--cache-dir").arg(cache);
    }
    let assert = cmd.assert().success();
    stdout_of(&assert)
}

const ALL: [&str; 6] = [
    "--env",
    "dev=dev/**",
    "--env",
    "stage=stage/**",
    "--env",
    "prod=prod/**",
];

/// The kept files below a cache folder.
fn kept_files(cache: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cache.join("history"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The live history, then a deletion, a file added back and an edit by hand of stage.
fn longer_history(dir: &Path) {
    live_history(dir);
    git(dir, &["rm", "-q", "prod/vpc/terragrunt.hcl"]);
    commit(dir, "2026-11-08T08:00:00Z", ALICE, "Drop prod's vpc", &[]);
    commit(
        dir,
        "2026-11-09T08:00:00Z",
        ALICE,
        "Bring prod's vpc back at 1.1.0",
        &[("prod/vpc/terragrunt.hcl", unit("v1.1.0"))],
    );
    commit(
        dir,
        "2026-11-10T08:00:00Z",
        ALICE,
        "Stage by hand",
        &[("stage/network/terragrunt.hcl", unit("v1.2.0"))],
    );
}

#[test]
fn a_kept_history_gives_the_whole_reading_after_new_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    longer_history(&repo);
    let line: Vec<String> = git(&repo, &["rev-list", "--first-parent", "HEAD"])
        .lines()
        .map(str::to_string)
        .collect();
    let whole = listed(&repo, &ALL, None);
    // Kept at every commit of the line, then read on to the newest.
    for (i, at) in line.iter().enumerate().rev() {
        let cache = tmp.path().join(format!("cache-{i}"));
        git(&repo, &["checkout", "-q", "--detach", at]);
        let cold = listed(&repo, &ALL, None);
        assert_eq!(listed(&repo, &ALL, Some(&cache)), cold, "kept at {at}");
        assert_eq!(kept_files(&cache).len(), 1);
        // Read again at the same commit: from the kept history alone.
        assert_eq!(listed(&repo, &ALL, Some(&cache)), cold, "again at {at}");
        git(&repo, &["checkout", "-q", "main"]);
        assert_eq!(listed(&repo, &ALL, Some(&cache)), whole, "from {at}");
        assert_eq!(listed(&repo, &ALL, Some(&cache)), whole, "again from {at}");
    }
    // The kept history is what is read: what is written there shows.
    let cache = tmp.path().join("cache-0");
    let file = &kept_files(&cache)[0];
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("Stage by hand"));
    std::fs::write(file, text.replace("Stage by hand", "Kept by hand")).unwrap();
    assert!(listed(&repo, &ALL, Some(&cache)).contains("Kept by hand"));
}

#[test]
fn a_kept_history_of_other_environments_is_not_used() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    longer_history(&repo);
    let cache = tmp.path().join("cache");
    let dev = ["--env", "dev=dev/**"];
    let wide = ["--env", "dev=dev/**,stage/**"];
    assert_eq!(listed(&repo, &dev, Some(&cache)), listed(&repo, &dev, None));
    assert_eq!(
        listed(&repo, &wide, Some(&cache)),
        listed(&repo, &wide, None)
    );
    let excluded = ["--env", "dev=dev/**", "--exclude-dirs", "dev/app/**"];
    assert_eq!(
        listed(&repo, &excluded, Some(&cache)),
        listed(&repo, &excluded, None)
    );
    let renamed = ["--env", "test=dev/**"];
    assert_eq!(
        listed(&repo, &renamed, Some(&cache)),
        listed(&repo, &renamed, None)
    );
    assert_eq!(kept_files(&cache).len(), 4);
}

#[test]
fn a_kept_history_off_the_first_parent_line_is_not_used() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    longer_history(&repo);
    let cache = tmp.path().join("cache");
    listed(&repo, &ALL, Some(&cache));
    // Rewritten: the newest commits are replaced (a force push).
    git(&repo, &["reset", "-q", "--hard", "HEAD~2"]);
    commit(
        &repo,
        "2026-11-12T08:00:00Z",
        ALICE,
        "Prod by hand",
        &[("prod/vpc/terragrunt.hcl", unit("v1.2.0"))],
    );
    let cold = listed(&repo, &ALL, None);
    assert!(!cold.contains("Stage by hand"));
    assert_eq!(listed(&repo, &ALL, Some(&cache)), cold);
    // A branch of its own, sharing no commit: read from the start.
    git(&repo, &["checkout", "-q", "--orphan", "fresh"]);
    commit(
        &repo,
        "2026-11-13T08:00:00Z",
        ALICE,
        "Fresh start",
        &[("dev/vpc/terragrunt.hcl", unit("v2.0.0"))],
    );
    let cold = listed(&repo, &ALL, None);
    assert_eq!(listed(&repo, &ALL, Some(&cache)), cold);
    // Another history altogether, with the same kept file name: read from the start.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    git(&other, &["init", "-q", "-b", "main"]);
    commit(
        &other,
        "2026-11-01T08:00:00Z",
        ALICE,
        "Start",
        &[("dev/vpc/terragrunt.hcl", unit("v3.0.0"))],
    );
    let other_cache = tmp.path().join("other-cache");
    std::fs::create_dir_all(&other_cache).unwrap();
    let cold_other = listed(&other, &ALL, None);
    listed(&other, &ALL, Some(&other_cache));
    let kept = kept_files(&other_cache).remove(0);
    std::fs::copy(&kept_files(&cache)[0], &kept).unwrap();
    assert_eq!(listed(&other, &ALL, Some(&other_cache)), cold_other);
}

#[test]
fn a_damaged_kept_history_is_ignored_and_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    longer_history(&repo);
    let cache = tmp.path().join("cache");
    let cold = listed(&repo, &ALL, None);
    listed(&repo, &ALL, Some(&cache));
    let file = kept_files(&cache).remove(0);
    let text = std::fs::read_to_string(&file).unwrap();
    for damaged in [
        String::new(),
        "not json\n".to_string(),
        text[..text.len() / 2].to_string(),
        text.replacen("\"commits\"", "\"commitz\"", 1),
    ] {
        std::fs::write(&file, &damaged).unwrap();
        let mut cmd = baton();
        let assert = cmd
            .arg("history")
            .arg("--working-dir")
            .arg(&repo)
            .args(ALL)
            .args(["--limit", "0", "--format", "json", "--cache-dir"])
            .arg(&cache)
            .env("BATON_LOG", "warn")
            .env_remove("BATON_CONFIG")
            .assert()
            .success();
        assert_eq!(stdout_of(&assert), cold);
        if !damaged.is_empty() {
            assert!(
                stderr_of(&assert).contains("cannot be read"),
                "{}",
                stderr_of(&assert)
            );
        }
        // Written again whole.
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    }
}

#[test]
fn a_shallow_clone_keeps_no_history() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    std::fs::create_dir_all(&full).unwrap();
    longer_history(&full);
    let shallow = shallow_clone(tmp.path(), &full, 2);
    let cache = tmp.path().join("cache");
    let cold = listed(&shallow, &ALL, None);
    assert_eq!(listed(&shallow, &ALL, Some(&cache)), cold);
    assert!(kept_files(&cache).is_empty());
}
