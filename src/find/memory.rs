//! A repository's files held in memory (read from a tarball, never written to disk), and the
//! scan of an environment over them: the same reading as [`super::scan`], so that a repository
//! read through the API gives the usages a checkout would. Includes and
//! `find_in_parent_folders` see only the files held, and never a path outside the repository.

use super::env::DirFilter;
use super::hcl::{self, FileKind, Files, LoadedFile};
use super::scan::{FileProblem, SKIPPED_DIRS, ScanReport, Usage, scan_text};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

type Loaded = Result<Arc<LoadedFile>, String>;

/// The text files of a repository by path relative to its root (`/` separators), under a
/// made-up root folder so that the HCL reader works with absolute paths as on disk.
pub struct MemoryFiles {
    root: PathBuf,
    files: BTreeMap<String, String>,
    dirs: BTreeSet<String>,
    cache: Mutex<HashMap<PathBuf, Arc<OnceLock<Loaded>>>>,
}

impl MemoryFiles {
    /// The files of `files` (relative path → text) as a repository named `name` (for messages).
    pub fn new(name: &str, files: BTreeMap<String, String>) -> MemoryFiles {
        let mut dirs = BTreeSet::new();
        for path in files.keys() {
            let mut at = path.as_str();
            while let Some((parent, _)) = at.rsplit_once('/') {
                dirs.insert(parent.to_string());
                at = parent;
            }
        }
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        MemoryFiles {
            root: PathBuf::from(format!("/baton-memory/{safe}")),
            files,
            dirs,
            cache: Mutex::default(),
        }
    }

    /// The text of a file, by its path relative to the root.
    pub fn get(&self, rel: &str) -> Option<&str> {
        self.files.get(rel).map(String::as_str)
    }

    /// Every path held, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The folders directly under the root, in order.
    pub fn top_folders(&self) -> Vec<&str> {
        self.dirs
            .iter()
            .filter(|d| !d.contains('/'))
            .map(String::as_str)
            .collect()
    }

    fn relative(&self, path: &Path) -> Option<String> {
        let rel = hcl::normalize(path);
        let rel = rel.strip_prefix(&self.root).ok()?;
        Some(super::scan::relative_name(rel))
    }

    /// Scans the files of the environment `dirs` selects, as [`super::scan::scan`] scans a
    /// checkout.
    pub fn scan(&self, dirs: &DirFilter) -> ScanReport {
        let picked: Vec<(&str, &str, FileKind)> = self
            .files
            .iter()
            .filter(|(rel, _)| !rel.split('/').any(|part| SKIPPED_DIRS.contains(&part)))
            .filter_map(|(rel, text)| {
                let kind = FileKind::of(Path::new(rel))?;
                dirs.matches(Path::new(rel))
                    .then_some((rel.as_str(), text.as_str(), kind))
            })
            .collect();
        let results: Vec<(Vec<Usage>, Option<FileProblem>)> = picked
            .par_iter()
            .map(|(rel, text, kind)| {
                scan_text(&self.root, &self.root.join(rel), rel, *kind, text, self)
            })
            .collect();
        let mut report = ScanReport {
            files_read: results.len(),
            ..ScanReport::default()
        };
        for (usages, error) in results {
            report.usages.extend(usages);
            report.errors.extend(error);
        }
        report
            .usages
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        report
            .errors
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        report
    }
}

impl Files for MemoryFiles {
    fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String> {
        let key = hcl::normalize(path);
        self.may_read(&key)?;
        let slot = match self.cache.lock() {
            Ok(mut cache) => cache.entry(key.clone()).or_default().clone(),
            Err(_) => Arc::default(),
        };
        slot.get_or_init(|| {
            let rel = self.relative(&key).unwrap_or_default();
            let text = self
                .get(&rel)
                .ok_or_else(|| format!("cannot read {rel}: no such file in the repository"))?;
            hcl::load_text(&key, text).map(Arc::new).map_err(|e| {
                format!(
                    "cannot parse {rel} at {}:{}: {}",
                    e.line, e.column, e.message
                )
            })
        })
        .clone()
    }

    fn exists(&self, path: &Path) -> bool {
        match self.relative(path) {
            Some(rel) if rel.is_empty() => true,
            Some(rel) => self.files.contains_key(&rel) || self.dirs.contains(&rel),
            None => false,
        }
    }

    fn may_read(&self, path: &Path) -> Result<(), String> {
        if hcl::normalize(path).starts_with(&self.root) {
            Ok(())
        } else {
            Err(format!(
                "{} is outside the repository; Baton reads only files inside it",
                path.display()
            ))
        }
    }

    fn show(&self, path: &Path) -> String {
        self.relative(path)
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> MemoryFiles {
        MemoryFiles::new(
            "acme/live",
            pairs
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
        )
    }

    #[test]
    fn an_environment_in_memory_scans_as_on_disk() {
        let repo = files(&[
            (
                "root.hcl",
                "locals {\n  base = \"git::https://github.com/acme/mods.git\"\n}\n",
            ),
            (
                "dev/vpc/terragrunt.hcl",
                "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\nterraform {\n  source = \"git::https://github.com/acme/mods.git//vpc?ref=v1.2.0\"\n}\n",
            ),
            (
                "prod/vpc/main.tf",
                "module \"vpc\" {\n  source = \"git::https://github.com/acme/mods.git//vpc?ref=v1.1.0\"\n}\n",
            ),
            (
                "dev/.terragrunt-cache/x/terragrunt.hcl",
                "terraform {\n  source = \"git::https://github.com/acme/mods.git//vpc?ref=v0.1.0\"\n}\n",
            ),
        ]);
        let dev = repo.scan(&DirFilter::new(&["dev/**"], &[] as &[&str]).unwrap());
        assert_eq!(dev.files_read, 1, "the cache folder is skipped");
        assert!(dev.errors.is_empty(), "{:?}", dev.errors);
        assert_eq!(dev.usages.len(), 1);
        assert_eq!(dev.usages[0].file, "dev/vpc/terragrunt.hcl");
        assert_eq!(dev.usages[0].current.as_deref(), Some("v1.2.0"));
        assert_eq!(dev.usages[0].dependency.as_deref(), Some("acme/mods/vpc"));
        let prod = repo.scan(&DirFilter::new(&["prod/**"], &[] as &[&str]).unwrap());
        assert_eq!(prod.usages[0].current.as_deref(), Some("v1.1.0"));
        assert_eq!(repo.top_folders(), ["dev", "prod"]);
    }

    #[test]
    fn nothing_outside_the_repository_is_read() {
        let repo = files(&[(
            "dev/terragrunt.hcl",
            "include \"x\" {\n  path = \"../../../etc/passwd.hcl\"\n}\n",
        )]);
        assert!(repo.may_read(Path::new("/etc/passwd.hcl")).is_err());
        assert!(!repo.exists(Path::new("/etc")));
        let report = repo.scan(&DirFilter::new(&["dev/**"], &[] as &[&str]).unwrap());
        assert_eq!(report.files_read, 1);
    }
}
