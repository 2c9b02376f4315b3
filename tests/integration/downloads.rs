//! Every byte Baton downloads is bounded: answers as large as a hostile host or a module's owner
//! likes (a 1 GiB tarball, a gzip bomb, 100 MiB of JSON, a `Content-Length` that lies) end in a
//! clear message naming the URL, the limit and the flag that raises it, with the run going on where
//! it can, and the process's peak memory (measured for that child alone) under 200 MB.

use crate::fake_github::FakeGitHub;
use crate::hostile_server::{Answer, Hostile, gzip_bomb, stored_gzip_tarball};
use crate::impact::{dependency, report_args, setup};
use serde_json::Value;
use std::sync::Arc;

/// The peak memory Baton may reach whatever the remote sends.
const PEAK_LIMIT_MB: u64 = 200;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    peak_mb: u64,
}

/// Runs `baton` with `args` and returns its exit code, output and peak RSS, measured by GNU
/// `time` (its own small process forks Baton: the test process's memory, which a child spawned
/// from it would inherit in its high-water mark, does not count).
async fn measured(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || {
        let time = std::path::Path::new("/usr/bin/time");
        assert!(
            time.exists(),
            "GNU time measures peak memory: apt-get install time"
        );
        let dir = tempfile::tempdir().unwrap();
        let (out, err, rss) = (
            dir.path().join("out"),
            dir.path().join("err"),
            dir.path().join("rss"),
        );
        let mut cmd = std::process::Command::new(time);
        for var in crate::common::CLEARED_ENV {
            cmd.env_remove(var);
        }
        let status = cmd
            .env("BATON_LOG", "warn")
            .env("BATON_MAX_WAIT_SECS", "0")
            .args(["-f", "%M", "-o"])
            .arg(&rss)
            .arg(assert_cmd::cargo::cargo_bin("baton"))
            .args(&args)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .status()
            .unwrap();
        let rss = std::fs::read_to_string(&rss).unwrap();
        let kb: u64 = rss
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("time said {rss:?}"));
        Run {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&out).unwrap(),
            stderr: std::fs::read_to_string(&err).unwrap(),
            peak_mb: kb / 1024,
        }
    })
    .await
    .unwrap()
}

/// The report of the impact fixtures, with every tarball download answered by `host`.
async fn report_with_downloads_from(host: &Hostile, extra: &[&str]) -> (Run, FakeGitHub) {
    let (gh, _modules, work) = setup().await;
    gh.state.lock().unwrap().codeload = Some(host.base.clone());
    let run = measured(report_args(work.path(), &gh.api_url(), extra)).await;
    (run, gh)
}

/// Why the impact of `acme/modules/vpc` is unknown, if it is.
fn unknown_impact(run: &Run) -> Option<String> {
    let spec: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout, run.stderr));
    dependency(&spec, "acme/modules/vpc")["Impact"]["Unknown"]
        .as_str()
        .map(str::to_string)
}

fn impact_reason(run: &Run) -> String {
    unknown_impact(run).unwrap_or_else(|| panic!("the impact is known: {}", run.stdout))
}

const GIB: u64 = 1 << 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tarball_of_1_gib_stops_at_the_limit_and_the_impact_says_why() {
    for claimed in [None, Some(GIB)] {
        let host = Hostile::start(move |_| Answer {
            status: 200,
            content_length: claimed,
            headers: vec![("content-type".into(), "application/x-gzip".into())],
            len: GIB,
            fill: stored_gzip_tarball(GIB),
        })
        .await;
        let (run, _gh) = report_with_downloads_from(&host, &[]).await;
        eprintln!(
            "1 GiB tarball, Content-Length {claimed:?}: peak {} MB, {} bytes sent",
            run.peak_mb,
            host.sent()
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let why = impact_reason(&run);
        assert!(
            why.contains("/repos/acme/modules/tarball/v"),
            "the URL: {why}"
        );
        assert!(why.contains("256 MiB"), "the limit: {why}");
        assert!(why.contains("--max-tarball-size"), "the flag: {why}");
        assert!(run.peak_mb < PEAK_LIMIT_MB, "peak {} MB", run.peak_mb);
        assert!(
            host.sent() < GIB / 2,
            "stopped reading: {} sent",
            host.sent()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_larger_limit_lets_a_large_tarball_through() {
    // 300 MiB of tarball under a limit of 1 GiB: read through, streamed, the module files found
    // missing (the archive holds only a blob), memory still bounded.
    let len = 300 << 20;
    let host = Hostile::start(move |_| Answer {
        status: 200,
        content_length: Some(len),
        headers: vec![],
        len,
        fill: stored_gzip_tarball(len),
    })
    .await;
    let (run, _gh) = report_with_downloads_from(&host, &["--max-tarball-size", "1GiB"]).await;
    eprintln!("300 MiB tarball, limit 1 GiB: peak {} MB", run.peak_mb);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let why = unknown_impact(&run).unwrap_or_default();
    assert!(!why.contains("--max-tarball-size"), "{why}");
    assert!(
        host.sent() >= len && host.sent() % len == 0,
        "every tarball read whole: {}",
        host.sent()
    );
    assert!(run.peak_mb < PEAK_LIMIT_MB, "peak {} MB", run.peak_mb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_unpacked_no_further_than_the_limit() {
    let bomb = Arc::new(gzip_bomb(40));
    assert!(bomb.len() < 8 << 20, "a bomb of {} bytes", bomb.len());
    let served = bomb.clone();
    let host = Hostile::start(move |_| Answer::bytes(200, served.to_vec())).await;
    let (run, _gh) = report_with_downloads_from(&host, &[]).await;
    eprintln!("gzip bomb of {} bytes: peak {} MB", bomb.len(), run.peak_mb);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let why = impact_reason(&run);
    assert!(why.contains("unpacks to more than"), "{why}");
    assert!(run.peak_mb < PEAK_LIMIT_MB, "peak {} MB", run.peak_mb);
}

/// `[{"name":"v0.0.1"},{"name":"v1.0.0"},…]`, `len` bytes of valid JSON.
fn tag_list(len: u64) -> crate::hostile_server::Fill {
    const HEAD: &[u8] = br#"[{"name":"v0.0.1"}"#;
    const UNIT: &[u8] = br#",{"name":"v1.0.0"}"#;
    let units = (len - HEAD.len() as u64 - 1) / UNIT.len() as u64;
    let end = HEAD.len() as u64 + units * UNIT.len() as u64;
    Arc::new(move |offset, buf| {
        for (i, b) in buf.iter_mut().enumerate() {
            let at = offset + i as u64;
            *b = if at < HEAD.len() as u64 {
                HEAD[at as usize]
            } else if at < end {
                UNIT[((at - HEAD.len() as u64) % UNIT.len() as u64) as usize]
            } else if at == end {
                b']'
            } else {
                b' '
            };
        }
    })
}

fn one_unit() -> tempfile::TempDir {
    crate::reliability::one_unit("github.com/acme/modules//x?ref=v1.0.0")
}

fn report(dir: &std::path::Path, api: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["report", "--github-api-url", api, "--working-dir"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(dir.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_answer_of_100_mib_is_refused_with_the_limit_and_the_flag() {
    let len = 100 << 20;
    for claimed in [Some(len), None] {
        let host = Hostile::start(move |_| Answer {
            status: 200,
            content_length: claimed,
            headers: vec![("content-type".into(), "application/json".into())],
            len,
            fill: tag_list(len),
        })
        .await;
        let dir = one_unit();
        let run = measured(report(dir.path(), &host.base, &[])).await;
        eprintln!(
            "100 MiB of JSON, Content-Length {claimed:?}: peak {} MB",
            run.peak_mb
        );
        assert_eq!(run.code, 3, "nothing could be checked: {}", run.stderr);
        assert!(
            run.stderr.contains("/repos/acme/modules/tags"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("16 MiB"), "{}", run.stderr);
        assert!(run.stderr.contains("--max-response-size"), "{}", run.stderr);
        assert!(run.peak_mb < PEAK_LIMIT_MB, "peak {} MB", run.peak_mb);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_that_lies_is_not_believed() {
    // Claims 5 GiB: refused before a byte of the body is read.
    let host = Hostile::start(|_| Answer {
        content_length: Some(5 * GIB),
        ..Answer::bytes(200, br#"[{"name":"v1.0.0"}]"#.to_vec())
    })
    .await;
    let dir = one_unit();
    let run = measured(report(dir.path(), &host.base, &[])).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("Content-Length"), "{}", run.stderr);
    assert!(run.stderr.contains("--max-response-size"), "{}", run.stderr);

    // Claims 40 bytes and sends 300 MiB: only the 40 are read, and they are not a tag list.
    let len = 300 << 20;
    let host = Hostile::start(move |_| Answer {
        status: 200,
        content_length: Some(40),
        headers: vec![],
        len,
        fill: tag_list(len),
    })
    .await;
    let run = measured(report(dir.path(), &host.base, &[])).await;
    eprintln!("Content-Length 40 for 300 MiB: peak {} MB", run.peak_mb);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("unexpected response"), "{}", run.stderr);
    assert!(run.peak_mb < PEAK_LIMIT_MB, "peak {} MB", run.peak_mb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_size_limit_is_invalid_input() {
    let dir = one_unit();
    for bad in [["--max-response-size", "lots"], ["--max-tarball-size", "0"]] {
        let run = measured(report(dir.path(), "http://127.0.0.1:9", &bad)).await;
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(bad[0]), "{}", run.stderr);
    }
}
