//! A module repository at two tags: which paths changed between them, and the Terraform files at
//! each. On GitHub that is one compare request and one tarball per tag (however many files the
//! module has); on other git hosts, the two tags fetched shallowly into a temporary bare
//! repository with the git program, so the user's git setup applies.

use super::wire::Comparison;
use crate::clients::git::Git;
use crate::clients::github::GitHub;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::time::Duration;

/// GitHub lists at most this many files in a comparison; a list that long may be cut.
pub const COMPARE_FILE_LIMIT: usize = 300;

/// The largest Terraform file kept from an archive.
const MAX_TF_FILE: u64 = 1024 * 1024;

/// The most Terraform text kept from one archive: what one download may hold in memory. A
/// repository of modules holds far less (the largest public ones, a few MiB).
pub const MAX_TF_TOTAL: usize = 16 * 1024 * 1024;

/// The most bytes an archive may unpack to (a gzip bomb stops there).
const MAX_UNPACKED: u64 = 2 * 1024 * 1024 * 1024;

/// A reader that fails, rather than ending, once more than `left` bytes were asked of it.
struct Bounded<R> {
    inner: R,
    left: u64,
}

impl<R: std::io::Read> std::io::Read for Bounded<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other(format!(
                "the archive unpacks to more than {} (a gzip bomb, or a repository too large to analyse)",
                super::github::size(MAX_UNPACKED)
            )));
        }
        let max = out
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut out[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// The paths that differ between two tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    /// Paths relative to the repository root; a rename lists the old and the new path.
    pub paths: BTreeSet<String>,
    /// False when the list may be cut short (GitHub lists at most 300 files).
    pub complete: bool,
}

impl Changed {
    /// Whether anything under `dir` (a folder relative to the root; `""` is the whole
    /// repository) changed; `None` when the list is cut short and names nothing there.
    pub fn under(&self, dir: &str) -> Option<bool> {
        let dir = dir.trim_matches('/');
        let hit = self.paths.iter().any(|p| {
            dir.is_empty()
                || p.strip_prefix(dir)
                    .is_some_and(|rest| rest.starts_with('/'))
        });
        if hit {
            Some(true)
        } else if self.complete {
            Some(false)
        } else {
            None
        }
    }
}

/// The Terraform files (`*.tf`, `*.tofu`) of a repository at one tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files {
    /// Text by path relative to the repository root.
    pub files: BTreeMap<String, String>,
}

impl Files {
    /// The files directly inside `dir` (not in its subfolders), as `(file name, text)`.
    pub fn in_dir(&self, dir: &str) -> Vec<(&str, &str)> {
        let dir = dir.trim_matches('/');
        self.files
            .iter()
            .filter_map(|(path, text)| {
                let name = if dir.is_empty() {
                    path.as_str()
                } else {
                    path.strip_prefix(dir)?.strip_prefix('/')?
                };
                (!name.contains('/')).then_some((name, text.as_str()))
            })
            .collect()
    }

    /// Reads a `.tar.gz` as GitHub serves it (one top folder), keeping only Terraform files,
    /// as a stream: what is kept is the Terraform text, at most [`MAX_TF_TOTAL`].
    pub fn from_tar_gz(reader: impl std::io::Read) -> Result<Files, String> {
        let gz = Bounded {
            inner: flate2::read::GzDecoder::new(reader),
            left: MAX_UNPACKED,
        };
        let mut archive = tar::Archive::new(gz);
        let mut out = Files::default();
        let mut kept = 0usize;
        let entries = archive
            .entries()
            .map_err(|e| format!("not a tar.gz archive: {e}"))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| format!("cannot read the archive: {e}"))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let path = match entry.path() {
                Ok(p) => p.to_string_lossy().replace('\\', "/"),
                Err(_) => continue,
            };
            // Drop the archive's top folder (`owner-repo-sha/`).
            let Some((_, rel)) = path.split_once('/') else {
                continue;
            };
            if !(rel.ends_with(".tf") || rel.ends_with(".tofu")) || entry.size() > MAX_TF_FILE {
                continue;
            }
            let rel = rel.to_string();
            let mut text = String::new();
            match entry.read_to_string(&mut text) {
                Ok(_) => {}
                // Not UTF-8: not a file Baton reads.
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => continue,
                Err(e) => return Err(format!("cannot read the archive: {e}")),
            }
            kept += text.len();
            if kept > MAX_TF_TOTAL {
                return Err(format!(
                    "the archive holds more than {} of Terraform files",
                    super::github::size(MAX_TF_TOTAL as u64)
                ));
            }
            out.files.insert(rel, text);
        }
        Ok(out)
    }
}

/// Percent-encodes a ref for a URL path (`/` is kept: GitHub reads tags with slashes).
fn encode_ref(r: &str) -> String {
    let mut out = String::new();
    for b in r.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The paths that changed between two tags (`GET /repos/{o}/{r}/compare/{base}...{head}`).
pub async fn compare(
    gh: &GitHub,
    owner: &str,
    repo: &str,
    base: &str,
    head: &str,
) -> Result<Changed, String> {
    // Files are listed on the first page only; one commit per page keeps the answer small.
    let route = format!(
        "/repos/{owner}/{repo}/compare/{}...{}?per_page=1",
        encode_ref(base),
        encode_ref(head)
    );
    let c: Comparison = gh.get_json(&route).await.map_err(|e| e.to_string())?;
    let mut paths = BTreeSet::new();
    let listed = c.files.len();
    for f in c.files {
        paths.extend(f.previous_filename);
        paths.insert(f.filename);
    }
    Ok(Changed {
        paths,
        complete: listed < COMPARE_FILE_LIMIT,
    })
}

/// The Terraform files of a repository at a tag, from its tarball
/// (`GET /repos/{o}/{r}/tarball/{ref}`, which redirects to the download).
pub async fn tarball(gh: &GitHub, owner: &str, repo: &str, tag: &str) -> Result<Files, String> {
    let route = format!("/repos/{owner}/{repo}/tarball/{}", encode_ref(tag));
    let url = format!("{}{route}", gh.api_url());
    gh.download(&route, move |body| {
        Files::from_tar_gz(body).map_err(|e| format!("GET {url}: {e}"))
    })
    .await
}

/// Whether a revision is a commit ID (40 or 64 hex digits) rather than a tag name.
fn is_commit(rev: &str) -> bool {
    matches!(rev.len(), 40 | 64) && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where a fetched revision is kept in the scratch repository: a tag under `refs/tags/`, a
/// commit (as a registry's address may name one) under `refs/baton/`.
fn local_ref(rev: &str) -> String {
    if is_commit(rev) {
        format!("refs/baton/{rev}")
    } else {
        format!("refs/tags/{rev}")
    }
}

/// A temporary bare repository that tags (or commits) of one remote are fetched into,
/// shallowly.
pub struct Scratch {
    git: Git,
    url: String,
    fetched: BTreeSet<String>,
    _dir: tempfile::TempDir,
}

impl Scratch {
    /// An empty bare repository for the remote at `url`.
    pub fn new(url: &str) -> Result<Scratch, String> {
        let dir = tempfile::Builder::new()
            .prefix("baton-module-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary repository: {e}"))?;
        let git = Git::new(dir.path()).with_timeout(Duration::from_secs(120));
        git.run(&["init", "--quiet", "--bare"])
            .map_err(|e| e.to_string())?;
        Ok(Scratch {
            git,
            url: url.to_string(),
            fetched: BTreeSet::new(),
            _dir: dir,
        })
    }

    /// Fetches the tags (or commits) not fetched yet, one commit deep, in one `git fetch`.
    pub fn fetch(&mut self, tags: &[&str]) -> Result<(), String> {
        let missing: Vec<&str> = tags
            .iter()
            .copied()
            .filter(|t| !self.fetched.contains(*t))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let refspecs: Vec<String> = missing
            .iter()
            .map(|t| {
                if is_commit(t) {
                    format!("+{t}:{}", local_ref(t))
                } else {
                    format!("+refs/tags/{t}:refs/tags/{t}")
                }
            })
            .collect();
        let mut args = vec![
            "fetch",
            "--quiet",
            "--depth=1",
            "--no-tags",
            "--end-of-options",
            self.url.as_str(),
        ];
        args.extend(refspecs.iter().map(String::as_str));
        self.git.run(&args).map_err(|e| e.to_string())?;
        self.fetched.extend(missing.iter().map(|t| t.to_string()));
        Ok(())
    }

    /// The paths that differ between two fetched tags.
    pub fn changed(&self, base: &str, head: &str) -> Result<Changed, String> {
        let base = local_ref(base);
        let head = local_ref(head);
        let paths = self
            .git
            .diff_names(&base, &head)
            .map_err(|e| e.to_string())?;
        Ok(Changed {
            paths: paths.into_iter().collect(),
            complete: true,
        })
    }

    /// The Terraform files directly inside `dir` at a fetched tag.
    pub fn files_in(&self, tag: &str, dir: &str) -> Result<Files, String> {
        let rev = local_ref(tag);
        let dir = dir.trim_matches('/');
        let tree = if dir.is_empty() {
            rev.clone()
        } else {
            format!("{rev}:{dir}")
        };
        let listing = match self.git.run(&["ls-tree", "-z", "--name-only", &tree]) {
            Ok(l) => l,
            // The folder does not exist at this tag.
            Err(_) if !dir.is_empty() => return Ok(Files::default()),
            Err(e) => return Err(e.to_string()),
        };
        let mut out = Files::default();
        for name in listing
            .split('\0')
            .filter(|n| n.ends_with(".tf") || n.ends_with(".tofu"))
        {
            let path = if dir.is_empty() {
                name.to_string()
            } else {
                format!("{dir}/{name}")
            };
            if let Some(text) = self
                .git
                .show_file(&rev, std::path::Path::new(&path))
                .map_err(|e| e.to_string())?
            {
                out.files.insert(path, text);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(paths: &[&str], complete: bool) -> Changed {
        Changed {
            paths: paths.iter().map(|p| p.to_string()).collect(),
            complete,
        }
    }

    #[test]
    fn changes_under_a_folder() {
        let c = changed(&["modules/vpc/main.tf", "README.md"], true);
        assert_eq!(c.under("modules/vpc"), Some(true));
        assert_eq!(
            c.under("modules/vp"),
            Some(false),
            "a prefix is not a folder"
        );
        assert_eq!(c.under("modules/eks"), Some(false));
        assert_eq!(c.under(""), Some(true));
        let cut = changed(&["a/x.tf"], false);
        assert_eq!(
            cut.under("b"),
            None,
            "a cut list cannot prove nothing changed"
        );
        assert_eq!(cut.under("a"), Some(true));
    }

    #[test]
    fn refs_are_encoded_for_paths() {
        assert_eq!(encode_ref("modules/vpc/v1.2.0"), "modules/vpc/v1.2.0");
        assert_eq!(encode_ref("v1.0.0+build"), "v1.0.0%2Bbuild");
        assert_eq!(encode_ref("a b#c"), "a%20b%23c");
    }

    #[test]
    fn files_in_a_folder_are_its_direct_children() {
        let f = Files {
            files: [
                ("main.tf", "a"),
                ("modules/vpc/main.tf", "b"),
                ("modules/vpc/sub/x.tf", "c"),
                ("modules/vpcx/y.tf", "d"),
            ]
            .into_iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect(),
        };
        assert_eq!(f.in_dir("modules/vpc"), vec![("main.tf", "b")]);
        assert_eq!(f.in_dir(""), vec![("main.tf", "a")]);
    }

    #[test]
    fn archives_keep_only_terraform_files_without_the_top_folder() {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, text) in [
            (
                "acme-mods-abc123/modules/vpc/main.tf",
                "variable \"x\" {}\n",
            ),
            ("acme-mods-abc123/README.md", "# mods\n"),
            (
                "acme-mods-abc123/modules/vpc/versions.tofu",
                "terraform {}\n",
            ),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, path, text.as_bytes()).unwrap();
        }
        let raw = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        let files = Files::from_tar_gz(&gz.finish().unwrap()[..]).unwrap();
        assert_eq!(
            files.files.keys().collect::<Vec<_>>(),
            ["modules/vpc/main.tf", "modules/vpc/versions.tofu"]
        );
        assert!(Files::from_tar_gz(&b"not gzip"[..]).is_err());
    }
}
