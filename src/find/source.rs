//! Module source addresses as Terraform and Terragrunt write them, parsed into what Baton needs:
//! where the module lives, which module it is (the dependency ID) and where its version is written.
//!
//! Parsing is purely textual (the rules of go-getter's detectors, which Terraform and Terragrunt
//! use); nothing here touches the network.

use std::fmt;
use std::ops::Range;

/// The public Terraform registry, implied by a registry address without a host.
pub const PUBLIC_REGISTRY: &str = "registry.terraform.io";

/// A parsed module source address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A git repository (`git::…`, `git@host:…`, `github.com/…`, …).
    Git(GitSource),
    /// A module registry address (`ns/name/provider`, `host/ns/name/provider`, `tfr://…`).
    Registry(RegistrySource),
    /// A local path (`./x`, `../modules/x`): not versioned.
    Local(String),
    /// Anything else Baton cannot version (`s3::`, `gcs::`, `hg::`, HTTP archives, …).
    Unsupported {
        /// The getter or scheme that names the source type.
        scheme: String,
    },
    /// An address no getter can use, with what is wrong in it (`git@github.com/org/repo.git`).
    Invalid(String),
}

/// A module that lives in a git repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// The host (`github.com`, `gitlab.example.com`); empty for `file://` URLs.
    pub host: String,
    /// Owner or group path (`gruntwork-io`, `group/subgroup`).
    pub owner: String,
    /// Repository name without `.git`.
    pub repo: String,
    /// A URL that `git ls-remote` accepts for this repository.
    pub clone_url: String,
    /// The path after `//`, if any.
    pub subdir: Option<String>,
    /// The `ref=` query value and where it is written.
    pub reference: Option<Located>,
}

/// A module from a Terraform or OpenTofu module registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySource {
    /// The registry host; [`PUBLIC_REGISTRY`] when the address has none.
    pub host: String,
    /// Namespace (organisation).
    pub namespace: String,
    /// Module name.
    pub name: String,
    /// Target system (provider).
    pub provider: String,
    /// The path after `//`, if any.
    pub subdir: Option<String>,
    /// For `tfr://` sources: the `version=` query value and where it is written.
    pub query_version: Option<Located>,
    /// True for Terragrunt's `tfr://` form.
    pub tfr: bool,
}

/// A value found inside a source string, with its byte range in that string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The value as written (`v0.8.0`).
    pub value: String,
    /// Its byte range in the source text that was parsed.
    pub range: Range<usize>,
}

impl Source {
    /// Parses a source address as written in a `source` attribute.
    pub fn parse(raw: &str) -> Source {
        let src = Self::parse_address(raw);
        // No getter accepts a repository or module address with spaces or control characters,
        // and an ID made from one could name no branch and pass no spec validation.
        let odd = |id: String| id.chars().any(|c| c.is_whitespace() || c.is_control());
        if src.dependency_id().is_some_and(odd) {
            return Source::Unsupported {
                scheme: "an address with spaces or control characters".into(),
            };
        }
        src
    }

    fn parse_address(raw: &str) -> Source {
        let s = raw.trim();
        let lead = raw.len() - raw.trim_start().len();
        if s.starts_with("./") || s.starts_with("../") || s.starts_with('/') || s == "." {
            return Source::Local(s.to_string());
        }
        if let Some(rest) = s.strip_prefix("tfr://") {
            return parse_tfr(rest, lead + "tfr://".len());
        }
        // Forced getter: `git::…`, `s3::…`, `hg::…`.
        if let Some((getter, rest)) = split_forced_getter(s) {
            let offset = lead + getter.len() + 2;
            return match getter {
                "git" => parse_git_url(rest, offset)
                    .or_else(|| scp_like_without_colon(rest))
                    .unwrap_or_else(|| Source::Unsupported {
                        scheme: "git".into(),
                    }),
                other => Source::Unsupported {
                    scheme: other.to_string(),
                },
            };
        }
        if let Some(src) = parse_scp_like(s, lead) {
            return src;
        }
        if let Some(src) = scp_like_without_colon(s) {
            return src;
        }
        for host in ["github.com", "gitlab.com", "bitbucket.org"] {
            if let Some(rest) = s.strip_prefix(host).and_then(|r| r.strip_prefix('/')) {
                let url = format!("https://{host}/{rest}");
                // Offsets into `url` map onto `raw` by the length difference.
                let shift = lead as isize + (s.len() as isize - url.len() as isize);
                return parse_git_url(&url, 0)
                    .map(|src| shift_source(src, shift))
                    .unwrap_or(Source::Unsupported {
                        scheme: host.to_string(),
                    });
            }
        }
        if let Some(idx) = s.find("://") {
            let scheme = &s[..idx];
            if scheme.eq_ignore_ascii_case("file") {
                return parse_git_url(s, lead).unwrap_or(Source::Unsupported {
                    scheme: "file".into(),
                });
            }
            return Source::Unsupported {
                scheme: scheme.to_ascii_lowercase(),
            };
        }
        parse_registry(s).unwrap_or_else(|| Source::Unsupported {
            scheme: "unknown".into(),
        })
    }

    /// The dependency ID, as Patcher writes it: `org/repo[/module]` for github.com, prefixed with
    /// the host for other hosts; `namespace/name/provider[//subdir]` for registry modules,
    /// host-prefixed outside the public registry.
    pub fn dependency_id(&self) -> Option<String> {
        match self {
            Source::Git(g) => Some(g.dependency_id()),
            Source::Registry(r) => Some(r.dependency_id()),
            Source::Local(_) | Source::Unsupported { .. } | Source::Invalid(_) => None,
        }
    }

    /// The version reference written inside the source string itself (`?ref=` or `?version=`).
    pub fn inline_version(&self) -> Option<&Located> {
        match self {
            Source::Git(g) => g.reference.as_ref(),
            Source::Registry(r) => r.query_version.as_ref(),
            _ => None,
        }
    }
}

impl GitSource {
    /// The module path used in IDs: the subdir with a leading `modules/` dropped.
    pub fn module(&self) -> Option<String> {
        module_of(self.subdir.as_deref())
    }

    /// See [`Source::dependency_id`].
    pub fn dependency_id(&self) -> String {
        let mut id = String::new();
        if !self.host.is_empty() && self.host != "github.com" {
            id.push_str(&self.host);
            id.push('/');
        }
        id.push_str(&self.owner);
        id.push('/');
        id.push_str(&self.repo);
        if let Some(m) = self.module() {
            id.push('/');
            id.push_str(&m);
        }
        id
    }

    /// `owner/repo` with the host prefix when not on github.com: the unit of version lookups.
    pub fn repository_key(&self) -> String {
        if self.host == "github.com" {
            format!("{}/{}", self.owner, self.repo)
        } else {
            format!("{}/{}/{}", self.host, self.owner, self.repo)
        }
    }
}

impl RegistrySource {
    /// See [`Source::dependency_id`].
    pub fn dependency_id(&self) -> String {
        let mut id = String::new();
        if self.host != PUBLIC_REGISTRY {
            id.push_str(&self.host);
            id.push('/');
        }
        id.push_str(&self.namespace);
        id.push('/');
        id.push_str(&self.name);
        id.push('/');
        id.push_str(&self.provider);
        if let Some(sub) = &self.subdir {
            id.push_str("//");
            id.push_str(sub);
        }
        id
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Git(g) => write!(f, "git repository {}", g.clone_url),
            Source::Registry(r) => write!(
                f,
                "registry module {}/{}/{}/{}",
                r.host, r.namespace, r.name, r.provider
            ),
            Source::Local(p) => write!(f, "local path {p}"),
            Source::Unsupported { scheme } => write!(f, "unsupported source type {scheme}"),
            Source::Invalid(why) => write!(f, "invalid address: {why}"),
        }
    }
}

fn module_of(subdir: Option<&str>) -> Option<String> {
    let sub = subdir?.trim_matches('/');
    let sub = sub.strip_prefix("modules/").unwrap_or(sub);
    if sub.is_empty() || sub == "modules" {
        None
    } else {
        Some(sub.to_string())
    }
}

/// `git::https://…` → `("git", "https://…")`. A getter is a short alphanumeric word.
fn split_forced_getter(s: &str) -> Option<(&str, &str)> {
    let idx = s.find("::")?;
    let getter = &s[..idx];
    if !getter.is_empty() && getter.len() <= 16 && getter.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        Some((getter, &s[idx + 2..]))
    } else {
        None
    }
}

/// Splits off the `//subdir` and the `?query`, as go-getter's `SourceDirSubdir` does: the subdir
/// is searched for after the scheme's `://` and before the query.
/// Returns (repository part, subdir with its range, query start index).
struct Parts<'a> {
    repo: &'a str,
    subdir: Option<&'a str>,
    query: Option<(&'a str, usize)>,
}

fn split_parts(s: &str) -> Parts<'_> {
    let stop = s.find('?').unwrap_or(s.len());
    let offset = s[..stop].find("://").map_or(0, |i| i + 3);
    let (repo, subdir) = match s[offset..stop].find("//") {
        Some(i) => {
            let at = offset + i;
            (&s[..at], Some(&s[at + 2..stop]))
        }
        None => (&s[..stop], None),
    };
    let query = (stop < s.len()).then(|| (&s[stop + 1..], stop + 1));
    Parts {
        repo,
        subdir: subdir.filter(|d| !d.is_empty()),
        query,
    }
}

/// Finds `key=value` in a query string; returns the value located in the whole source.
fn query_value(query: Option<(&str, usize)>, key: &str, base: usize) -> Option<Located> {
    let (q, start) = query?;
    let mut pos = 0;
    for pair in q.split('&') {
        if let Some(value) = pair.strip_prefix(key).and_then(|r| r.strip_prefix('=')) {
            // `ref=tags/0.3.7` and `ref=refs/tags/v1.2.0` name the tag `0.3.7` (cloudposse
            // style): the version is what follows, and an edit of it keeps the prefix.
            let namespace = if key == "ref" {
                ["refs/tags/", "tags/"]
                    .into_iter()
                    .find(|p| value.starts_with(p))
                    .map_or(0, str::len)
            } else {
                0
            };
            let value = &value[namespace..];
            // A stray fragment or subdir after the value is not part of it.
            let end = value.find(['#', '/']).unwrap_or(value.len());
            let value = &value[..end];
            let at = base + start + pos + key.len() + 1 + namespace;
            return Some(Located {
                value: value.to_string(),
                range: at..at + value.len(),
            });
        }
        pos += pair.len() + 1;
    }
    None
}

/// Parses `https://host/owner/repo.git//sub?ref=x`, `ssh://git@host/owner/repo.git`, `file:///…`.
fn parse_git_url(s: &str, base: usize) -> Option<Source> {
    if let Some(src) = parse_scp_like(s, base) {
        return Some(src);
    }
    let parts = split_parts(s);
    let (scheme, rest) = parts.repo.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let (host, path) = if scheme == "file" {
        (String::new(), rest)
    } else {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next().unwrap_or(authority);
        // Drop a port: `ssh://git@host:7999/…`.
        let host = host.split(':').next().unwrap_or(host);
        (host.to_ascii_lowercase(), path)
    };
    let (owner, repo) = owner_repo(path, scheme == "file")?;
    let clone_url = if scheme == "file" || scheme == "ssh" || parts.repo.ends_with(".git") {
        parts.repo.to_string()
    } else {
        format!("{}.git", parts.repo)
    };
    Some(Source::Git(GitSource {
        host,
        owner,
        repo,
        clone_url,
        subdir: parts.subdir.map(str::to_string),
        reference: query_value(parts.query, "ref", base),
    }))
}

/// `git@github.com:org/repo.git//sub?ref=x` (scp-like syntax, no scheme).
fn parse_scp_like(s: &str, base: usize) -> Option<Source> {
    let colon = s.find(':')?;
    let (user_host, _) = s.split_at(colon);
    let (_, host) = user_host.split_once('@')?;
    if host.is_empty() || host.contains('/') || s[colon..].starts_with("://") {
        return None;
    }
    let parts = split_parts(s);
    let path = parts.repo.get(colon + 1..)?;
    let (owner, repo) = owner_repo(path, false)?;
    Some(Source::Git(GitSource {
        host: host.to_ascii_lowercase(),
        owner,
        repo,
        clone_url: parts.repo.to_string(),
        subdir: parts.subdir.map(str::to_string),
        reference: query_value(parts.query, "ref", base),
    }))
}

/// `git@github.com/org/repo.git`: an scp-like address with `/` where git needs `:`, which git
/// and go-getter read as a local path. Named as such, since "unsupported" would hide the typo.
fn scp_like_without_colon(s: &str) -> Option<Source> {
    let (user_host, rest) = s.split_once('/')?;
    let (user, host) = user_host.split_once('@')?;
    if user.is_empty() || user_host.contains(':') || !looks_like_host(host) {
        return None;
    }
    let stop = rest
        .find("//")
        .or_else(|| rest.find('?'))
        .unwrap_or(rest.len());
    let path = &rest[..stop];
    if path.is_empty() {
        return None;
    }
    Some(Source::Invalid(format!(
        "`{user_host}/{path}` is not a git address: an scp-like address needs `:` after the host (`{user_host}:{path}`)"
    )))
}

/// Splits a repository path into owner (possibly with `/`, as GitLab groups) and repo (without
/// `.git`). For a local path only the last directory is kept as owner, so IDs stay readable.
fn owner_repo(path: &str, local: bool) -> Option<(String, String)> {
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, repo) = path.rsplit_once('/')?;
    if owner.is_empty() || repo.is_empty() {
        return None;
    }
    let owner = if local {
        owner.rsplit('/').next().unwrap_or(owner)
    } else {
        owner
    };
    Some((owner.to_string(), repo.to_string()))
}

/// `tfr://[host]/ns/name/provider[//subdir]?version=x`.
fn parse_tfr(rest: &str, base: usize) -> Source {
    let parts = split_parts(rest);
    let (host, path) = match parts.repo.split_once('/') {
        Some(("", path)) => (PUBLIC_REGISTRY.to_string(), path),
        Some((host, path)) => (host.to_ascii_lowercase(), path),
        None => {
            return Source::Unsupported {
                scheme: "tfr".into(),
            };
        }
    };
    match registry_triple(path) {
        Some((namespace, name, provider)) => Source::Registry(RegistrySource {
            host,
            namespace,
            name,
            provider,
            subdir: parts.subdir.map(str::to_string),
            query_version: query_value(parts.query, "version", base),
            tfr: true,
        }),
        None => Source::Unsupported {
            scheme: "tfr".into(),
        },
    }
}

/// `[host/]ns/name/provider[//subdir]`.
fn parse_registry(s: &str) -> Option<Source> {
    if s.contains('?') {
        return None;
    }
    let parts = split_parts(s);
    let segments: Vec<&str> = parts.repo.split('/').collect();
    let (host, path) = match segments.len() {
        3 => (PUBLIC_REGISTRY.to_string(), parts.repo),
        4 if looks_like_host(segments[0]) => (
            segments[0].to_ascii_lowercase(),
            &parts.repo[segments[0].len() + 1..],
        ),
        _ => return None,
    };
    let (namespace, name, provider) = registry_triple(path)?;
    Some(Source::Registry(RegistrySource {
        host,
        namespace,
        name,
        provider,
        subdir: parts.subdir.map(str::to_string),
        query_version: None,
        tfr: false,
    }))
}

fn looks_like_host(s: &str) -> bool {
    (s.contains('.') || s.starts_with("localhost"))
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
}

fn registry_triple(path: &str) -> Option<(String, String, String)> {
    let mut it = path.split('/');
    let (ns, name, provider) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    };
    if ok(ns) && ok(name) && ok(provider) {
        Some((
            ns.to_string(),
            name.to_string(),
            provider.to_ascii_lowercase(),
        ))
    } else {
        None
    }
}

fn shift_source(src: Source, shift: isize) -> Source {
    let mv = |l: Located| Located {
        value: l.value,
        range: l.range.start.saturating_add_signed(shift)..l.range.end.saturating_add_signed(shift),
    };
    match src {
        Source::Git(mut g) => {
            g.reference = g.reference.map(mv);
            Source::Git(g)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(raw: &str) -> GitSource {
        match Source::parse(raw) {
            Source::Git(g) => g,
            other => panic!("{raw}: expected git, got {other:?}"),
        }
    }

    fn reg(raw: &str) -> RegistrySource {
        match Source::parse(raw) {
            Source::Registry(r) => r,
            other => panic!("{raw}: expected registry, got {other:?}"),
        }
    }

    /// The ref's range must point at the ref's bytes in the raw text.
    fn assert_ref(raw: &str, expected: &str) {
        let src = Source::parse(raw);
        let loc = src.inline_version().expect("a ref");
        assert_eq!(loc.value, expected, "{raw}");
        assert_eq!(&raw[loc.range.clone()], expected, "{raw}");
    }

    #[test]
    fn git_https_with_subdir_and_ref() {
        let raw = "git::https://github.com/org/repo.git//modules/x?ref=v1.2.3";
        let g = git(raw);
        assert_eq!(g.host, "github.com");
        assert_eq!((g.owner.as_str(), g.repo.as_str()), ("org", "repo"));
        assert_eq!(g.subdir.as_deref(), Some("modules/x"));
        assert_eq!(g.clone_url, "https://github.com/org/repo.git");
        assert_eq!(g.dependency_id(), "org/repo/x");
        assert_ref(raw, "v1.2.3");
    }

    #[test]
    fn git_ssh_url() {
        let raw = "git::ssh://git@github.com/org/repo.git//x?ref=v0.1.0";
        let g = git(raw);
        assert_eq!(g.host, "github.com");
        assert_eq!(g.clone_url, "ssh://git@github.com/org/repo.git");
        assert_eq!(g.dependency_id(), "org/repo/x");
        assert_ref(raw, "v0.1.0");
    }

    #[test]
    fn scp_like_with_and_without_git_prefix() {
        for raw in [
            "git@github.com:org/repo.git//x?ref=v2.0.0",
            "git::git@github.com:org/repo.git//x?ref=v2.0.0",
        ] {
            let g = git(raw);
            assert_eq!(g.host, "github.com");
            assert_eq!(g.clone_url, "git@github.com:org/repo.git");
            assert_eq!(g.dependency_id(), "org/repo/x");
            assert_ref(raw, "v2.0.0");
        }
    }

    #[test]
    fn patcher_messaging_example() {
        let raw =
            "git::git@github.com:gruntwork-io/terraform-aws-messaging.git//modules/sqs?ref=v0.8.0";
        assert_eq!(
            Source::parse(raw).dependency_id().as_deref(),
            Some("gruntwork-io/terraform-aws-messaging/sqs")
        );
        assert_ref(raw, "v0.8.0");
        let raw = "git::git@github.com:gruntwork-io/terraform-aws-service-catalog.git//modules/networking/vpc?ref=v0.95.0";
        assert_eq!(
            Source::parse(raw).dependency_id().as_deref(),
            Some("gruntwork-io/terraform-aws-service-catalog/networking/vpc")
        );
    }

    #[test]
    fn github_shorthand_and_optional_dot_git() {
        for raw in [
            "github.com/org/repo//x?ref=v1.0.0",
            "github.com/org/repo.git//x?ref=v1.0.0",
        ] {
            let g = git(raw);
            assert_eq!(g.clone_url, "https://github.com/org/repo.git");
            assert_eq!(g.dependency_id(), "org/repo/x");
            assert_ref(raw, "v1.0.0");
        }
        let raw = "  github.com/org/repo?ref=1.0.0";
        assert_eq!(git(raw).dependency_id(), "org/repo");
        assert_ref(raw, "1.0.0");
    }

    #[test]
    fn no_subdir_gives_org_repo() {
        let raw = "git::https://github.com/org/repo.git?ref=v1";
        assert_eq!(git(raw).dependency_id(), "org/repo");
        assert_eq!(git(raw).subdir, None);
    }

    #[test]
    fn ref_among_other_query_args() {
        let raw = "git::https://github.com/org/repo.git//x?depth=1&ref=v1.4.0";
        assert_ref(raw, "v1.4.0");
        let raw = "git::https://github.com/org/repo.git//x?ref=v1.4.0&depth=1";
        assert_ref(raw, "v1.4.0");
    }

    #[test]
    fn other_hosts_are_prefixed() {
        let g = git("git::https://ghe.example.com/org/repo.git//x?ref=v1.0.0");
        assert_eq!(g.dependency_id(), "ghe.example.com/org/repo/x");
        assert_eq!(g.repository_key(), "ghe.example.com/org/repo");
        let g = git("gitlab.com/group/repo//modules/x?ref=v3.0.0");
        assert_eq!(g.dependency_id(), "gitlab.com/group/repo/x");
        assert_eq!(g.clone_url, "https://gitlab.com/group/repo.git");
        let g = git("git::https://gitlab.com/group/sub/repo.git?ref=v1.0.0");
        assert_eq!(g.dependency_id(), "gitlab.com/group/sub/repo");
        let g = git("bitbucket.org/team/repo//x?ref=v1.0.0");
        assert_eq!(g.dependency_id(), "bitbucket.org/team/repo/x");
        let g = git("git::ssh://git@bitbucket.example.com:7999/proj/repo.git//x?ref=v1.0.0");
        assert_eq!(g.dependency_id(), "bitbucket.example.com/proj/repo/x");
    }

    #[test]
    fn file_urls_are_git_repositories() {
        let raw = "git::file:///tmp/mods/acme/terraform-aws-vpc.git//modules/vpc?ref=v1.0.0";
        let g = git(raw);
        assert_eq!(g.host, "");
        assert_eq!(g.clone_url, "file:///tmp/mods/acme/terraform-aws-vpc.git");
        assert_eq!(g.dependency_id(), "acme/terraform-aws-vpc/vpc");
        assert_ref(raw, "v1.0.0");
    }

    #[test]
    fn registry_addresses() {
        let r = reg("terraform-aws-modules/vpc/aws");
        assert_eq!(r.host, PUBLIC_REGISTRY);
        assert_eq!(r.dependency_id(), "terraform-aws-modules/vpc/aws");
        let r = reg("app.terraform.io/acme/vpc/aws");
        assert_eq!(r.host, "app.terraform.io");
        assert_eq!(r.dependency_id(), "app.terraform.io/acme/vpc/aws");
        let r = reg("terraform-aws-modules/iam/aws//modules/iam-user");
        assert_eq!(r.subdir.as_deref(), Some("modules/iam-user"));
        assert_eq!(
            r.dependency_id(),
            "terraform-aws-modules/iam/aws//modules/iam-user"
        );
    }

    #[test]
    fn tfr_addresses() {
        let raw = "tfr:///terraform-aws-modules/vpc/aws?version=3.5.0";
        let r = reg(raw);
        assert!(r.tfr);
        assert_eq!(r.host, PUBLIC_REGISTRY);
        assert_eq!(r.dependency_id(), "terraform-aws-modules/vpc/aws");
        assert_ref(raw, "3.5.0");
        let raw = "tfr://registry.example.com/acme/vpc/aws//modules/x?version=1.0.0";
        let r = reg(raw);
        assert_eq!(
            r.dependency_id(),
            "registry.example.com/acme/vpc/aws//modules/x"
        );
        assert_ref(raw, "1.0.0");
        assert_eq!(reg("tfr:///a/b/c").query_version, None);
    }

    #[test]
    fn local_paths() {
        for raw in ["../modules/x", "./x", "/abs/x"] {
            assert!(matches!(Source::parse(raw), Source::Local(_)), "{raw}");
        }
        assert_eq!(Source::parse("../modules/x").dependency_id(), None);
    }

    #[test]
    fn unsupported_schemes() {
        for (raw, scheme) in [
            ("s3::https://s3.amazonaws.com/bucket/vpc.zip", "s3"),
            ("gcs::https://www.googleapis.com/storage/v1/b/m.zip", "gcs"),
            ("hg::http://example.com/repo?ref=v1", "hg"),
            ("https://example.com/vpc-module.zip", "https"),
            ("not a source", "unknown"),
            ("", "unknown"),
            (
                "git::https://github.com/org/re\npo.git?ref=v1.0.0",
                "an address with spaces or control characters",
            ),
            (
                "github.com/my org/repo?ref=v1.0.0",
                "an address with spaces or control characters",
            ),
        ] {
            assert_eq!(
                Source::parse(raw),
                Source::Unsupported {
                    scheme: scheme.into()
                },
                "{raw}"
            );
        }
    }

    #[test]
    fn tags_namespace_before_the_version_is_not_part_of_it() {
        // cloudposse-style refs: the version is what follows `tags/`, which an edit keeps.
        let raw = "git::https://github.com/cloudposse/terraform-null-label.git?ref=tags/0.21.0";
        assert_ref(raw, "0.21.0");
        assert_eq!(git(raw).dependency_id(), "cloudposse/terraform-null-label");
        assert_ref(
            "github.com/org/repo//x?ref=refs/tags/v1.2.0&depth=1",
            "v1.2.0",
        );
    }

    #[test]
    fn scp_like_address_without_colon_says_what_is_wrong() {
        let src = Source::parse("git::git@github.com/org/repo.git//x?ref=v1.0.0");
        assert_eq!(src.dependency_id(), None);
        let Source::Invalid(why) = &src else {
            panic!("expected an invalid address, got {src:?}");
        };
        assert!(why.contains("`:` after the host"), "{why}");
        assert!(why.contains("git@github.com:org/repo.git"), "{why}");
        assert!(matches!(
            Source::parse("git@gitlab.example.com/group/repo.git"),
            Source::Invalid(_)
        ));
    }

    #[test]
    fn empty_ref_is_found_empty() {
        let raw = "git::https://github.com/org/repo.git?ref=";
        assert_ref(raw, "");
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for raw in [
            "git::",
            "git::://",
            "::",
            "git@:",
            "@:",
            "tfr://",
            "tfr:///",
            "github.com/",
            "github.com//?ref=",
            "a//b//c?ref=&ref=x",
            "git::https://h/o/r.git//?ref=é",
            "😀@h:o/r?ref=1",
        ] {
            let _ = Source::parse(raw).dependency_id();
        }
    }
}
