//! The folders an update may touch. Given a spec and no `--include-dirs`, they are the folders the
//! spec was made for: its `IncludeDirPattern` and `ExcludeDirPattern`, read from the folder its
//! report ran in (`WorkingDir`, relative to the repository root; the repository root for a spec
//! that does not say, as Patcher's report runs there). When Baton cannot tell which files those
//! are, the update is refused before anything is written.

use crate::exit::InvalidInput;
use crate::find::env::DirFilter;
use crate::find::scan::ScanRequest;
use crate::spec::Spec;
use crate::spec::location;
use std::path::{Component, Path, PathBuf};

/// What to tell a user whose update cannot be bounded.
const SET_INCLUDE_DIRS: &str = "set --include-dirs (input include_dirs) to this environment's folders, relative to the working directory";

/// The environment a spec bounds an update to, or `None` when `scan` already names its folders
/// (`--include-dirs`) or the spec covers its whole working directory.
pub fn bound(scan: &ScanRequest, spec: &Spec) -> Result<Option<Bound>, InvalidInput> {
    if !scan.dirs.include_globs().is_empty() {
        return Ok(None);
    }
    let include = spec.include_dir_pattern.trim();
    let exclude = spec.exclude_dir_pattern.trim();
    if include.is_empty() && exclude.is_empty() && spec.working_dir.is_none() {
        return Ok(None);
    }
    let Ok(working_dir) = std::fs::canonicalize(&scan.working_dir) else {
        // The scan reports the missing directory.
        return Ok(None);
    };
    let repository = location::repository_root(&working_dir).map(|(top, _)| top);
    let made_in: PathBuf = match (&spec.working_dir, &repository) {
        (Some(dir), Some(top)) => top.join(relative_dir(dir)?),
        (Some(dir), None) => {
            return Err(InvalidInput(format!(
                "the spec was made in {dir:?} of a git repository, but the working directory {} is not in one, so Baton cannot tell which files its IncludeDirPattern {include:?} selects; {SET_INCLUDE_DIRS}",
                working_dir.display()
            )));
        }
        (None, Some(top)) => top.clone(),
        (None, None) => working_dir.clone(),
    };
    let (prepend, strip) = if let Ok(below) = working_dir.strip_prefix(&made_in) {
        (below.to_path_buf(), PathBuf::new())
    } else if let Ok(above) = made_in.strip_prefix(&working_dir) {
        (PathBuf::new(), above.to_path_buf())
    } else {
        return Err(InvalidInput(format!(
            "the spec was made in {}, which neither holds the working directory {} nor lies inside it, so Baton cannot tell which files are the environment of its IncludeDirPattern {include:?}; {SET_INCLUDE_DIRS}",
            made_in.display(),
            working_dir.display()
        )));
    };
    let dirs = DirFilter::new(&[include], &[exclude])
        .map_err(|e| InvalidInput(format!("invalid spec: {e}")))?
        .rebased(&prepend, &strip)
        .and_locally(scan.dirs.clone());
    Ok(Some(Bound {
        scan: ScanRequest {
            working_dir: scan.working_dir.clone(),
            dirs,
        },
        describe: format!(
            "IncludeDirPattern {include:?}{} of the spec, read from {}",
            if exclude.is_empty() {
                String::new()
            } else {
                format!(" and ExcludeDirPattern {exclude:?}")
            },
            made_in.display()
        ),
    }))
}

/// An update bounded by its spec.
#[derive(Debug, Clone)]
pub struct Bound {
    /// The scan of the environment.
    pub scan: ScanRequest,
    /// The spec's globs and where they are read from, for messages.
    describe: String,
}

impl Bound {
    /// The refusal for a bounded environment in which no file was found.
    pub fn nothing_matched(&self) -> InvalidInput {
        InvalidInput(format!(
            "the {} match no Terraform or Terragrunt file of the working directory {}, so Baton cannot tell which files are the environment; {SET_INCLUDE_DIRS}",
            self.describe,
            self.scan.working_dir.display()
        ))
    }
}

/// The spec's `WorkingDir`, which must stay inside the repository.
fn relative_dir(dir: &str) -> Result<PathBuf, InvalidInput> {
    let path = Path::new(dir);
    let ok = path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if ok {
        Ok(path.to_path_buf())
    } else {
        Err(InvalidInput(format!(
            "invalid spec: WorkingDir {dir:?} must be a folder relative to the repository root"
        )))
    }
}
