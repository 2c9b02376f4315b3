//! A registry module's download address (go-getter syntax, as `X-Terraform-Get` gives it) read
//! into what breaking-change impact can fetch: a repository on GitHub (read through the API's
//! compare and tarball), or a git repository elsewhere (read with a shallow fetch), at a ref,
//! with the module's folder. Every other kind of address (`s3::`, `gcs::`, `hg::`, HTTP
//! archives off GitHub, …) is refused, saying what it is. Pure: no network.

use crate::find::callsite::code;
use crate::find::source::Source;

/// Where a module's repository is read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Repo {
    /// A repository on github.com (or the GitHub API Baton talks to).
    GitHub {
        /// Owner.
        owner: String,
        /// Repository.
        repo: String,
    },
    /// Any other git repository, fetched with the git program.
    Git {
        /// Clone URL.
        url: String,
    },
}

/// A module at one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// Its repository.
    pub repo: Repo,
    /// The revision: a tag, or what a registry's address names (a tag or a commit).
    pub rev: String,
    /// The module's folder in the repository (`modules/vpc`; empty for the root).
    pub dir: String,
}

/// Reads a registry's download `address` for a module whose registry address has `subdir`
/// (`ns/name/provider//subdir`). `api_url` is the GitHub API Baton talks to: tarball URLs on
/// it are read through it, as `github.com` ones are.
pub fn read(address: &str, subdir: Option<&str>, api_url: &str) -> Result<At, String> {
    let address = address.trim();
    let shown = code(&redacted(address));
    let cannot = |what: String| {
        format!(
            "the registry downloads the module from {shown}, {what}, which Baton cannot fetch (it reads GitHub archives and git repositories)"
        )
    };
    let getter = forced_getter(address);
    if let Some(g) = getter.filter(|g| *g != "git") {
        return Err(cannot(format!("a {} address", code(&format!("{g}::")))));
    }
    let rest = getter.map_or(address, |g| &address[g.len() + 2..]);
    let (url, inner, query) = split(rest);
    let mut at = if getter.is_none()
        && let Some((owner, repo, rev)) = github_archive(url, api_url)
    {
        // An archive holds one top folder: `//*` (or its name) comes first.
        let Some(inner) = inner else {
            return Err(format!(
                "the registry downloads the module from {shown}, an archive, without saying which folder inside it holds the module (`//*`)"
            ));
        };
        let dir = inner.split_once('/').map_or("", |(_, d)| d);
        At {
            repo: Repo::GitHub { owner, repo },
            rev,
            dir: dir.to_string(),
        }
    } else {
        match Source::parse(address) {
            Source::Git(g) => {
                let rev = query_ref(query).ok_or_else(|| {
                    format!(
                        "the registry downloads the module from {shown}, which names no `ref`, so the version it holds cannot be told"
                    )
                })?;
                let repo = if g.host == "github.com" {
                    Repo::GitHub {
                        owner: g.owner,
                        repo: g.repo,
                    }
                } else {
                    Repo::Git { url: g.clone_url }
                };
                At {
                    repo,
                    rev,
                    dir: inner.unwrap_or("").to_string(),
                }
            }
            Source::Unsupported { scheme } if getter.is_none() && scheme.starts_with("http") => {
                return Err(cannot("an HTTP download off GitHub".into()));
            }
            Source::Unsupported { scheme } if scheme != "unknown" => {
                return Err(cannot(format!("an address of type {}", code(&scheme))));
            }
            // go-getter reads no registry address; a bare `host/path` is one of its detectors
            // (S3, GCS buckets) or nothing it knows.
            Source::Unsupported { .. } | Source::Registry(_) => {
                return Err(cannot(
                    "an address that names no git repository nor GitHub archive".into(),
                ));
            }
            Source::Local(_) => return Err(cannot("a local path".into())),
            Source::Invalid(why) => return Err(cannot(format!("an invalid address ({why})"))),
        }
    };
    if at.dir.contains(['*', '?', '[']) {
        return Err(format!(
            "the registry downloads the module from {shown}, whose folder is a pattern Baton does not expand"
        ));
    }
    at.dir = join(&at.dir, subdir.unwrap_or(""))
        .ok_or_else(|| format!("the module's folder leaves the repository of {shown}"))?;
    Ok(at)
}

/// `git` of `git::…`: a short word before `::`.
fn forced_getter(s: &str) -> Option<&str> {
    let (g, _) = s.split_once("::")?;
    (!g.is_empty() && g.len() <= 16 && g.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(g)
}

/// The URL, the folder after `//` (searched for after the scheme's `://`) and the query.
fn split(s: &str) -> (&str, Option<&str>, &str) {
    let (s, query) = s.split_once('?').unwrap_or((s, ""));
    let from = s.find("://").map_or(0, |i| i + 3);
    match s[from..].find("//") {
        Some(i) => (
            &s[..from + i],
            Some(s[from + i + 2..].trim_matches('/')).filter(|d| !d.is_empty()),
            query,
        ),
        None => (s, None, query),
    }
}

/// The `ref` of a query, decoded, with a `refs/tags/` or `tags/` prefix dropped.
fn query_ref(query: &str) -> Option<String> {
    let value = query.split('&').find_map(|p| p.strip_prefix("ref="))?;
    let value = decode(value);
    let value = ["refs/tags/", "tags/"]
        .iter()
        .find_map(|p| value.strip_prefix(p))
        .unwrap_or(&value)
        .to_string();
    (!value.is_empty()).then_some(value)
}

/// Owner, repository and ref of a GitHub archive URL: `github.com/o/r/archive/<ref>.tar.gz`
/// (or `.zip`, `refs/tags/<ref>…`), `codeload.github.com/o/r/tar.gz/<ref>`, or
/// `<api>/repos/o/r/tarball/<ref>` (or `zipball`) on api.github.com or `api_url`.
fn github_archive(url: &str, api_url: &str) -> Option<(String, String, String)> {
    let api = api_url.trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let parts = |path: &str| -> Vec<String> { path.split('/').map(decode).collect() };
    let (o, r, rev) = if let Some(path) = rest.strip_prefix("github.com/") {
        let p = parts(path);
        let (o, r, kind) = (p.first()?, p.get(1)?, p.get(2)?);
        if kind != "archive" {
            return None;
        }
        let file = p[3..].join("/");
        let rev = [".tar.gz", ".tgz", ".zip"]
            .iter()
            .find_map(|ext| file.strip_suffix(ext))?
            .to_string();
        (o.clone(), r.clone(), rev)
    } else if let Some(path) = rest.strip_prefix("codeload.github.com/") {
        let p = parts(path);
        let (o, r, kind) = (p.first()?, p.get(1)?, p.get(2)?);
        if !["tar.gz", "zip", "legacy.tar.gz", "legacy.zip"].contains(&kind.as_str()) {
            return None;
        }
        (o.clone(), r.clone(), p[3..].join("/"))
    } else {
        let path = ["https://api.github.com", api]
            .iter()
            .find_map(|a| url.strip_prefix(a)?.strip_prefix("/repos/"))?;
        let p = parts(path);
        let (o, r, kind) = (p.first()?, p.get(1)?, p.get(2)?);
        if kind != "tarball" && kind != "zipball" {
            return None;
        }
        (o.clone(), r.clone(), p[3..].join("/"))
    };
    let rev = rev
        .strip_prefix("refs/tags/")
        .map(str::to_string)
        .unwrap_or(rev);
    (!o.is_empty() && !r.is_empty() && !rev.is_empty()).then_some((o, r, rev))
}

/// Percent-decoding (invalid escapes are kept as written).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `dir` joined with `sub` inside the repository; `None` when `..` leaves it.
fn join(dir: &str, sub: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for p in dir.split('/').chain(sub.split('/')) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// An address as shown in messages: without its query (which may hold a token or a key) and
/// without credentials in the URL.
pub fn redacted(address: &str) -> String {
    let no_query = address.split('?').next().unwrap_or("");
    match no_query.find("://") {
        Some(i) => {
            let (scheme, rest) = no_query.split_at(i + 3);
            let end = rest.find('/').unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}{}", &rest[at + 1..]),
                None => no_query.to_string(),
            }
        }
        None => no_query.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "https://ghe.example.com/api/v3";

    fn gh(owner: &str, repo: &str, rev: &str, dir: &str) -> At {
        At {
            repo: Repo::GitHub {
                owner: owner.into(),
                repo: repo.into(),
            },
            rev: rev.into(),
            dir: dir.into(),
        }
    }

    #[test]
    fn git_addresses_on_github_and_elsewhere() {
        assert_eq!(
            read(
                "git::https://github.com/terraform-aws-modules/terraform-aws-vpc?ref=v5.1.0",
                None,
                API
            ),
            Ok(gh(
                "terraform-aws-modules",
                "terraform-aws-vpc",
                "v5.1.0",
                ""
            ))
        );
        assert_eq!(
            read(
                "github.com/acme/mods//modules/vpc?ref=refs/tags/v2.0.0",
                Some("sub"),
                API
            ),
            Ok(gh("acme", "mods", "v2.0.0", "modules/vpc/sub"))
        );
        assert_eq!(
            read(
                "git::https://gitlab.example.com/infra/mods.git//vpc?ref=v1.0.0&depth=1",
                None,
                API
            ),
            Ok(At {
                repo: Repo::Git {
                    url: "https://gitlab.example.com/infra/mods.git".into()
                },
                rev: "v1.0.0".into(),
                dir: "vpc".into()
            })
        );
        let sha = "25322b6b6be69db6cca7f167d7b0e5327156a595";
        assert_eq!(
            read(
                &format!("git::https://github.com/acme/mods?ref={sha}"),
                None,
                API
            )
            .unwrap()
            .rev,
            sha
        );
    }

    #[test]
    fn github_archives_drop_their_top_folder() {
        for address in [
            "https://github.com/acme/mods/archive/v2.0.0.tar.gz//*?archive=tar.gz",
            "https://github.com/acme/mods/archive/refs/tags/v2.0.0.zip//mods-2.0.0",
            "https://codeload.github.com/acme/mods/tar.gz/v2.0.0//*",
            "https://api.github.com/repos/acme/mods/tarball/v2.0.0//*",
            "https://ghe.example.com/api/v3/repos/acme/mods/tarball/v2.0.0//*",
        ] {
            assert_eq!(
                read(address, None, API),
                Ok(gh("acme", "mods", "v2.0.0", "")),
                "{address}"
            );
        }
        assert_eq!(
            read(
                "https://github.com/acme/mods/archive/v2.0.0.tar.gz//*/modules/vpc",
                Some("../dns"),
                API
            ),
            Ok(gh("acme", "mods", "v2.0.0", "modules/dns"))
        );
        let err = read(
            "https://github.com/acme/mods/archive/v2.0.0.tar.gz",
            None,
            API,
        )
        .unwrap_err();
        assert!(err.contains("without saying which folder"), "{err}");
    }

    #[test]
    fn addresses_baton_cannot_fetch_are_refused_saying_what_they_are() {
        let cases = [
            (
                "s3::https://s3.amazonaws.com/bucket/vpc.zip",
                "a `s3::` address",
            ),
            (
                "gcs::https://www.googleapis.com/storage/v1/b/vpc.zip",
                "a `gcs::` address",
            ),
            ("hg::https://hg.example.com/vpc?rev=1", "a `hg::` address"),
            (
                "https://archivist.example.com/v1/object/abc?token=SECRET",
                "an HTTP download off GitHub",
            ),
            ("./vpc", "a local path"),
            (
                "acme-modules.s3-eu-west-1.amazonaws.com/vpc/vpc.zip",
                "names no git repository nor GitHub archive",
            ),
            (
                "www.googleapis.com/storage/v1/acme/vpc.zip",
                "names no git repository nor GitHub archive",
            ),
        ];
        for (address, what) in cases {
            let err = read(address, None, API).unwrap_err();
            assert!(err.contains(what), "{address}: {err}");
            assert!(err.contains("which Baton cannot fetch"), "{err}");
            assert!(!err.contains("SECRET"), "{err}");
        }
        let err = read("git::https://example.com/a/b.git", None, API).unwrap_err();
        assert!(err.contains("names no `ref`"), "{err}");
        let err = read(
            "git::https://example.com/a/b.git?ref=v1",
            Some("../../x"),
            API,
        )
        .unwrap_err();
        assert!(err.contains("leaves the repository"), "{err}");
    }

    #[test]
    fn shown_addresses_hold_no_secret() {
        assert_eq!(
            redacted("git::https://user:pa55@git.example.com/a/b.git?ref=v1&sshkey=abc"),
            "git::https://git.example.com/a/b.git"
        );
        assert_eq!(
            redacted("https://gitlab.example.com/api/v4/x/file?token=glpat-1"),
            "https://gitlab.example.com/api/v4/x/file"
        );
    }
}
