//! Where a spec was made: the report's working directory relative to the repository root, so
//! that an update run from another folder reads the spec's globs and paths from the right place.

use crate::clients::git::Git;
use std::path::{Path, PathBuf};

/// The repository root above `dir` (both canonical), or `None` outside a git repository.
pub fn repository_root(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let dir = std::fs::canonicalize(dir).ok()?;
    let top = Git::new(&dir).toplevel().ok()?;
    let top = std::fs::canonicalize(top).ok()?;
    dir.starts_with(&top).then_some((top, dir))
}

/// `dir` relative to the repository root, `/`-separated, `.` for the root itself; `None` outside
/// a git repository.
pub fn in_repository(dir: &Path) -> Option<String> {
    let (top, dir) = repository_root(dir)?;
    let rel = dir.strip_prefix(&top).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_repository_there_is_no_location() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(in_repository(dir.path()), None);
    }
}
