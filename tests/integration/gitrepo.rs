//! Real git repositories for tests: module repositories with tags, live repositories with a bare
//! `origin`. Each is set up with its own identity and no signing, whatever the machine's config.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs git in `dir` with a fixed identity; panics with git's output on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Baton Tests",
            "-c",
            "user.email=tests@baton.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A module repository at `root/<owner>/<name>` with one commit per tag.
pub fn tagged_repo(root: &Path, owner_name: &str, tags: &[&str]) -> PathBuf {
    let dir = root.join(owner_name);
    std::fs::create_dir_all(dir.join("modules/vpc")).expect("mkdir");
    git(&dir, &["init", "-q"]);
    for tag in tags {
        std::fs::write(
            dir.join("modules/vpc/main.tf"),
            format!("# release {tag}\nvariable \"name\" {{}}\n"),
        )
        .expect("write");
        git(&dir, &["add", "-A"]);
        git(
            &dir,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &format!("release {tag}"),
            ],
        );
        git(&dir, &["tag", tag]);
    }
    dir
}

/// A live repository (`live/`) with a bare `origin` (`origin.git`) holding `main`.
pub struct Live {
    /// Keeps the directory alive.
    pub root: tempfile::TempDir,
    /// The working copy.
    pub work: PathBuf,
    /// The bare repository it pushes to.
    pub origin: PathBuf,
}

/// A live repository holding `files` in one commit on `main`, pushed to a bare `origin`.
pub fn live_with_origin(files: &[(&str, &[u8])]) -> Live {
    let root = tempfile::tempdir().expect("tempdir");
    let origin = root.path().join("origin.git");
    let work = root.path().join("live");
    std::fs::create_dir_all(&work).expect("mkdir");
    git(
        root.path(),
        &["init", "-q", "--bare", origin.to_str().expect("UTF-8 path")],
    );
    git(&work, &["init", "-q"]);
    crate::common::write_tree(&work, files);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "--allow-empty", "-m", "initial"]);
    git(
        &work,
        &[
            "remote",
            "add",
            "origin",
            origin.to_str().expect("UTF-8 path"),
        ],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    Live { root, work, origin }
}

/// Runs git in `dir` as [`git`] does, as `author` (`Name <email>`, also the committer) and with
/// the author and committer dates set to `date` (`2026-12-01T09:00:00Z`), so that histories
/// have the times a test needs.
pub fn git_at(dir: &Path, date: &str, author: &str, args: &[&str]) -> String {
    let (name, email) = author
        .split_once('<')
        .map(|(n, e)| (n.trim(), e.trim_end_matches('>').trim()))
        .expect("author as Name <email>");
    let out = Command::new("git")
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", name)
        .env("GIT_AUTHOR_EMAIL", email)
        .env("GIT_COMMITTER_NAME", name)
        .env("GIT_COMMITTER_EMAIL", email)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
