//! Minimal edits: replace the bytes of a version and nothing else, then re-parse the file to prove
//! that exactly the intended values changed. Files are never re-printed from a syntax tree
//! (that would change line endings, heredocs and spacing).

use crate::find::hcl::{self, FileKind, Files, VersionForm, VersionSite};
use crate::version::{self, Constraint, Version};
use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One replacement in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    /// Byte range of the old version text.
    pub span: Range<usize>,
    /// The old text (checked before replacing).
    pub old: String,
    /// The new text.
    pub new: String,
}

/// An edit that was refused; the file is left untouched.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    /// The bytes at a span are not what the scan saw (the file changed meanwhile).
    #[error(
        "expected {expected:?} at bytes {start}..{end}, found {found:?}; the file changed since it was scanned"
    )]
    Mismatch {
        /// What the scan saw.
        expected: String,
        /// What is there now.
        found: String,
        /// Span start.
        start: usize,
        /// Span end.
        end: usize,
    },
    /// Two replacements overlap.
    #[error("two edits overlap at bytes {0}..{1}")]
    Overlap(usize, usize),
    /// The edited text does not parse, or parses to something other than intended.
    #[error("the edited file fails verification: {0}")]
    Verification(String),
}

/// The new text for a version site, written in the style of the old one; `None` when the site
/// already admits the target (a range that contains it).
pub fn new_version_text(form: VersionForm, current: &str, target: &Version) -> Option<String> {
    match form {
        VersionForm::GitRef | VersionForm::QueryVersion => {
            let new = version::format_like(current, target);
            (new != current).then_some(new)
        }
        VersionForm::Attribute => match Constraint::parse(current) {
            Ok(c) => c.bump_to(current, target).map(|b| b.text),
            Err(_) => Some(target.to_string()),
        },
    }
}

/// Applies splices to a text. Spans must lie on char boundaries and not overlap; the same splice
/// given twice (two usages sharing one version, e.g. `?ref=${local.v}`) is applied once.
pub fn apply(text: &str, splices: &[Splice]) -> Result<String, EditError> {
    let mut sorted: Vec<&Splice> = splices.iter().collect();
    sorted.sort_by_key(|s| (s.span.start, s.span.end));
    sorted.dedup();
    let mut out = String::with_capacity(text.len() + 16 * splices.len());
    let mut pos = 0;
    for s in sorted {
        if s.span.start < pos {
            return Err(EditError::Overlap(s.span.start, s.span.end));
        }
        let found = text.get(s.span.clone()).unwrap_or_default();
        if found != s.old {
            return Err(EditError::Mismatch {
                expected: s.old.clone(),
                found: found.to_string(),
                start: s.span.start,
                end: s.span.end,
            });
        }
        out.push_str(text.get(pos..s.span.start).unwrap_or_default());
        out.push_str(&s.new);
        pos = s.span.end;
    }
    out.push_str(text.get(pos..).unwrap_or_default());
    Ok(out)
}

/// Applies splices and proves the result: it parses, it has the same module sources in the same
/// order, and each version is the old one except at the edited sites, which hold the new text.
pub fn apply_verified(
    path: &Path,
    kind: FileKind,
    text: &str,
    splices: &[Splice],
    files: &dyn Files,
) -> Result<String, EditError> {
    let new_text = apply(text, splices)?;
    let here = hcl::normalize(path);
    let expected: HashMap<Site, &str> = splices
        .iter()
        .map(|s| ((here.clone(), s.span.clone()), s.new.as_str()))
        .collect();
    let matched = verify_found(path, kind, text, &new_text, files, files, &|site| {
        expected.get(site).copied()
    })?;
    if matched.len() != expected.len() {
        return Err(EditError::Verification(format!(
            "{} edits requested, {} version sites matched",
            expected.len(),
            matched.len()
        )));
    }
    Ok(new_text)
}

/// A version site: the file that writes it and its bytes.
pub type Site = (PathBuf, Range<usize>);

/// Finds the usages of a file before and after an edit and proves the edit: the file parses,
/// has the same module sources in the same order, and each version is the old one except where
/// `expected` gives the new text for its site (a file and bytes: this file's, or those of a
/// shared file it reads, which `after_files` serves as edited). Returns the edited sites seen.
pub fn verify_found<'e>(
    path: &Path,
    kind: FileKind,
    old_text: &str,
    new_text: &str,
    before_files: &dyn Files,
    after_files: &dyn Files,
    expected: &dyn Fn(&Site) -> Option<&'e str>,
) -> Result<Vec<Site>, EditError> {
    let before = hcl::find(path, kind, old_text, before_files).map_err(|e| {
        EditError::Verification(format!("the original does not parse: {}", e.message))
    })?;
    let after = hcl::find(path, kind, new_text, after_files).map_err(|e| {
        EditError::Verification(format!(
            "does not parse at {}:{}: {}",
            e.line, e.column, e.message
        ))
    })?;
    if before.len() != after.len() {
        return Err(EditError::Verification(format!(
            "{} module sources before, {} after",
            before.len(),
            after.len()
        )));
    }
    let here = hcl::normalize(path);
    // Version sites edited; several usages may share one (a version written in a local).
    let mut edited: Vec<Site> = Vec::new();
    let mut seen: HashSet<Site> = HashSet::new();
    for (b, a) in before.iter().zip(&after) {
        if b.kind != a.kind || b.line != a.line {
            return Err(EditError::Verification(format!(
                "the module source at line {} moved or changed kind",
                b.line
            )));
        }
        let site = b.site.as_ref().map(|site| {
            (
                site.file.clone().unwrap_or_else(|| here.clone()),
                site.span.clone(),
            )
        });
        let new = site.as_ref().and_then(expected);
        let wanted = match (new, site) {
            (Some(new), Some(site)) => {
                if seen.insert(site.clone()) {
                    edited.push(site);
                }
                Some(new)
            }
            _ => b.current.as_deref(),
        };
        if a.current.as_deref() != wanted {
            return Err(EditError::Verification(format!(
                "the version at line {} reads {:?}, expected {:?}",
                b.line, a.current, wanted
            )));
        }
        if new.is_none() && b.raw_source != a.raw_source {
            return Err(EditError::Verification(format!(
                "the source at line {} changed",
                b.line
            )));
        }
    }
    Ok(edited)
}

/// A splice for a version site.
pub fn splice_for(site: &VersionSite, current: &str, new: String) -> Splice {
    Splice {
        span: site.span.clone(),
        old: current.to_string(),
        new,
    }
}

/// Writes a file atomically: a temporary file in the same folder, with the original's
/// permissions, flushed to disk, then renamed over the original. A crash leaves the old file or
/// the new one, never a mix.
pub fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".baton-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(contents.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Why [`write_atomic_checked`] did not replace a file.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file no longer holds the bytes that were read: someone else edited it meanwhile.
    #[error(
        "changed since Baton read it (edited by something else meanwhile); left as it is, run the update again"
    )]
    Changed,
    /// Writing failed.
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
}

/// [`write_atomic`], but only over the bytes that were read: the new contents are written and
/// flushed to a temporary file, then, just before the rename, the file is read again and must
/// still hold `old`; otherwise it is left as it is (and the temporary file removed).
pub fn write_atomic_checked(path: &Path, old: &str, contents: &str) -> Result<(), WriteError> {
    let tmp = temp_beside(path, contents)?;
    tmp.as_file().sync_all()?;
    replace_checked(path, old, tmp)
}

/// One file to replace: its path, the bytes it was read with, and its new contents.
pub struct Replacement<'a> {
    /// The file.
    pub path: &'a Path,
    /// What it held when it was read.
    pub old: &'a str,
    /// What it is to hold.
    pub new: &'a str,
}

/// Replaces many files as [`write_atomic_checked`] replaces one, in phases that let the disk
/// take them all at once rather than one flush at a time:
///
/// 1. each new text is written to a temporary file beside its original, with its permissions;
/// 2. the temporary files are flushed to disk, all at the same time;
/// 3. each original that still holds the bytes that were read is replaced by its temporary file
///    (a rename, atomic); the others are left as they are and their temporary files removed.
///
/// A crash at any point leaves every file whole, with its old bytes or its new ones: a rename
/// only ever puts in place a file whose contents are already on disk. The folders are not
/// flushed: that would only make the renames themselves survive a power cut, and a file whose
/// rename did not is whole and old, which the next run updates. Runs on `threads` threads
/// (the disk, not the CPU, is waited on). Returns one result per file, in order.
pub fn write_all_checked(files: &[Replacement<'_>], threads: usize) -> Vec<Result<(), WriteError>> {
    let run = || {
        use rayon::prelude::*;
        let temps: Vec<Result<tempfile::NamedTempFile, WriteError>> = files
            .par_iter()
            .map(|f| temp_beside(f.path, f.new))
            .collect();
        // Flushed only once all are written: the flushes then overlap and share the file
        // system's journal commits.
        let temps: Vec<Result<tempfile::NamedTempFile, WriteError>> = temps
            .into_par_iter()
            .map(|tmp| {
                let tmp = tmp?;
                tmp.as_file().sync_all()?;
                Ok(tmp)
            })
            .collect();
        let results: Vec<Result<(), WriteError>> = files
            .par_iter()
            .zip(temps)
            .map(|(f, tmp)| replace_checked(f.path, f.old, tmp?))
            .collect();
        results
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    }
}

/// A temporary file beside `path` holding `contents` (not yet flushed), with `path`'s
/// permissions.
fn temp_beside(path: &Path, contents: &str) -> Result<tempfile::NamedTempFile, WriteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let wanted = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".baton-").suffix(".tmp");
    // Created with the original's permissions; set again only where the umask narrowed them.
    if let Some(p) = &wanted {
        builder.permissions(p.clone());
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(contents.as_bytes())?;
    if let Some(p) = wanted {
        if tmp.as_file().metadata()?.permissions() != p {
            tmp.as_file().set_permissions(p)?;
        }
    }
    Ok(tmp)
}

/// Renames `tmp` over `path` when `path` still holds `old` (else `tmp` is removed).
fn replace_checked(path: &Path, old: &str, tmp: tempfile::NamedTempFile) -> Result<(), WriteError> {
    match std::fs::read(path) {
        Ok(now) if now == old.as_bytes() => {}
        Ok(_) => return Err(WriteError::Changed),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(WriteError::Changed),
        Err(e) => return Err(e.into()),
    }
    tmp.persist(path).map_err(|e| WriteError::Io(e.error))?;
    Ok(())
}

/// A unified diff of one file, as `git diff` shows it.
///
/// Patience diff: its anchors are the lines that occur once, which every line around an edited
/// version is, so a file of 60,000 edited versions diffs in linear time (Myers, the default,
/// takes time in lines × changed lines).
pub fn unified_diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&diff_path("a/", name), &diff_path("b/", name))
        .to_string()
}

/// A path in a diff header as git writes it: quoted, with C escapes, when it holds a control
/// character, a `"` or a `\`, so that a line break in a file name cannot end the header.
fn diff_path(prefix: &str, name: &str) -> String {
    let plain = !name
        .chars()
        .any(|c| c.is_control() || c == '"' || c == '\\');
    if plain {
        return format!("{prefix}{name}");
    }
    let mut out = String::from("\"");
    for c in prefix.chars().chain(name.chars()) {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:03o}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::hcl::LoadedFile;
    use std::sync::Arc;

    struct NoFiles;
    impl Files for NoFiles {
        fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String> {
            Err(format!("{} not available", path.display()))
        }
        fn exists(&self, _: &Path) -> bool {
            false
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    /// Edits every version site of a text to `to` and returns the new text.
    fn edit_all(name: &str, text: &str, to: &str) -> Result<String, EditError> {
        let kind = FileKind::of(Path::new(name)).unwrap();
        let found = hcl::find(Path::new(name), kind, text, &NoFiles).unwrap();
        let splices: Vec<Splice> = found
            .iter()
            .filter_map(|f| {
                let site = f.site.as_ref()?;
                let current = f.current.as_deref()?;
                let new = new_version_text(site.form, current, &v(to))?;
                Some(splice_for(site, current, new))
            })
            .collect();
        apply_verified(Path::new(name), kind, text, &splices, &NoFiles)
    }

    #[test]
    fn ref_style_is_kept() {
        assert_eq!(
            new_version_text(VersionForm::GitRef, "v0.8.0", &v("0.9.1")).as_deref(),
            Some("v0.9.1")
        );
        assert_eq!(
            new_version_text(VersionForm::GitRef, "0.8.0", &v("0.9.1")).as_deref(),
            Some("0.9.1")
        );
        assert_eq!(
            new_version_text(VersionForm::GitRef, "v0.9.1", &v("0.9.1")),
            None
        );
    }

    #[test]
    fn registry_constraints_move_in_their_form() {
        let t = |c: &str, to: &str| new_version_text(VersionForm::Attribute, c, &v(to));
        assert_eq!(t("1.2.0", "1.4.0").as_deref(), Some("1.4.0"));
        assert_eq!(t("= 1.2.0", "1.4.0").as_deref(), Some("= 1.4.0"));
        assert_eq!(t("~> 3.0", "4.1.0").as_deref(), Some("~> 4.1"));
        assert_eq!(t("~> 3.0.1", "4.1.0").as_deref(), Some("~> 4.1.0"));
        assert_eq!(
            t("~> 4.0", "4.1.0"),
            None,
            "the range already admits the target"
        );
    }

    #[test]
    fn crlf_file_changes_only_the_version_bytes() {
        let old = "terraform {\r\n  source = \"git::https://github.com/a/b.git//x?ref=v1.0.0\" # keep\r\n}\r\n";
        let new = edit_all("t.hcl", old, "1.2.0").unwrap();
        assert_eq!(new, old.replace("v1.0.0", "v1.2.0"));
    }

    #[test]
    fn bom_tabs_and_comments_are_kept() {
        let old = "\u{feff}module \"x\" {\n\tsource  = \"acme/x/aws\" // registry\n\tversion = \"1.0.0\" # pinned\n}\n";
        let new = edit_all("main.tf", old, "1.3.0").unwrap();
        assert_eq!(new, old.replace("1.0.0", "1.3.0"));
        assert!(new.starts_with('\u{feff}'));
    }

    #[test]
    fn heredocs_with_directives_are_untouched() {
        let old = r#"locals {
  doc = <<-EOT
    %{ for x in ["a"] ~}
    ref=v1.0.0 ${x}
    %{ endfor ~}
  EOT
}
module "m" {
  source = "github.com/a/b//m?ref=v1.0.0"
  description = <<EOT
  ?ref=v1.0.0
EOT
}
"#;
        let new = edit_all("main.tf", old, "2.0.0").unwrap();
        let expected = old.replacen(
            "github.com/a/b//m?ref=v1.0.0",
            "github.com/a/b//m?ref=v2.0.0",
            1,
        );
        assert_eq!(new, expected);
    }

    #[test]
    fn interpolated_source_edits_its_literal_part() {
        let old = "locals {\n  base = \"git::https://github.com/a/b.git\"\n}\nterraform {\n  source = \"${local.base}//vpc?ref=v0.8.0\"\n}\n";
        let new = edit_all("t.hcl", old, "0.9.1").unwrap();
        assert_eq!(new, old.replace("v0.8.0", "v0.9.1"));
    }

    #[test]
    fn same_module_twice_and_neighbouring_lines() {
        let old = "module \"a\" {\n  source = \"github.com/a/b//m?ref=v1.0.0\"\n}\nmodule \"b\" {\n  source = \"github.com/a/b//m?ref=v1.0.0\"\n}\nmodule \"c\" { source = \"github.com/a/b//n?ref=v1.0.0\" }\n";
        let new = edit_all("main.tf", old, "1.1.0").unwrap();
        assert_eq!(new, old.replace("v1.0.0", "v1.1.0"));
    }

    #[test]
    fn a_version_shared_by_two_usages_is_edited_once() {
        let old = "locals {\n  v = \"v1.0.0\"\n}\nunit \"a\" {\n  source = \"github.com/a/b//x?ref=${local.v}\"\n}\nunit \"b\" {\n  source = \"github.com/a/b//y?ref=${local.v}\"\n}\n";
        let new = edit_all("terragrunt.stack.hcl", old, "1.1.0").unwrap();
        assert_eq!(new, old.replace("v1.0.0", "v1.1.0"));
    }

    #[test]
    fn stale_spans_are_refused() {
        let err = apply(
            "abc",
            &[Splice {
                span: 0..1,
                old: "x".into(),
                new: "y".into(),
            }],
        )
        .unwrap_err();
        assert!(matches!(err, EditError::Mismatch { .. }));
        let overlap = apply(
            "abcdef",
            &[
                Splice {
                    span: 0..3,
                    old: "abc".into(),
                    new: "x".into(),
                },
                Splice {
                    span: 2..4,
                    old: "cd".into(),
                    new: "y".into(),
                },
            ],
        )
        .unwrap_err();
        assert_eq!(overlap, EditError::Overlap(2, 4));
    }

    #[test]
    fn an_edit_that_breaks_the_file_is_refused() {
        let text = "module \"a\" {\n  source = \"github.com/a/b?ref=v1.0.0\"\n}\n";
        let span = text.find("v1.0.0").unwrap();
        let splice = Splice {
            span: span..span + 6,
            old: "v1.0.0".into(),
            new: "v1\"\n}".into(),
        };
        let err = apply_verified(
            Path::new("m.tf"),
            FileKind::Terraform,
            text,
            &[splice],
            &NoFiles,
        )
        .unwrap_err();
        assert!(matches!(err, EditError::Verification(_)), "{err:?}");
    }

    #[test]
    fn atomic_write_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.tf");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    /// Files written together: each replaced whole, with its permissions; a file changed since
    /// it was read, or one whose folder cannot take a temporary file, is left as it was, and
    /// the others are still written; no temporary file is left anywhere.
    #[test]
    fn files_written_together_are_whole_or_untouched() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for i in 0..40 {
            let sub = dir.path().join(format!("u{}", i % 7));
            std::fs::create_dir_all(&sub).unwrap();
            let path = sub.join(format!("f{i}.hcl"));
            std::fs::write(&path, format!("old {i}")).unwrap();
            paths.push(path);
        }
        std::fs::set_permissions(&paths[1], std::fs::Permissions::from_mode(0o640)).unwrap();
        // Edited by something else after it was read.
        std::fs::write(&paths[2], "someone else").unwrap();
        // A folder where no temporary file can be made (its file is gone meanwhile).
        let missing = dir.path().join("gone/f.hcl");
        let olds: Vec<String> = (0..40).map(|i| format!("old {i}")).collect();
        let news: Vec<String> = (0..40).map(|i| format!("new {i}")).collect();
        let mut files: Vec<Replacement<'_>> = paths
            .iter()
            .zip(olds.iter().zip(&news))
            .map(|(path, (old, new))| Replacement { path, old, new })
            .collect();
        files.push(Replacement {
            path: &missing,
            old: "old",
            new: "new",
        });
        let results = write_all_checked(&files, 8);
        assert_eq!(results.len(), 41);
        for (i, (path, result)) in paths.iter().zip(&results).enumerate() {
            let now = std::fs::read_to_string(path).unwrap();
            match i {
                2 => {
                    assert!(matches!(result, Err(WriteError::Changed)), "{result:?}");
                    assert_eq!(now, "someone else");
                }
                _ => {
                    assert!(result.is_ok(), "{i}: {result:?}");
                    assert_eq!(now, format!("new {i}"));
                }
            }
        }
        assert!(matches!(results[40], Err(WriteError::Io(_))));
        let mode = std::fs::metadata(&paths[1]).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        for sub in std::fs::read_dir(dir.path()).unwrap() {
            for f in std::fs::read_dir(sub.unwrap().path()).unwrap() {
                let name = f.unwrap().file_name().to_string_lossy().into_owned();
                assert!(!name.starts_with(".baton-"), "{name} left behind");
            }
        }
    }

    #[test]
    fn diff_shows_the_one_changed_line() {
        let d = unified_diff("dev/main.tf", "a\nref=v1\nc\n", "a\nref=v2\nc\n");
        assert!(d.contains("--- a/dev/main.tf"));
        assert!(d.contains("-ref=v1\n+ref=v2"));
    }

    #[test]
    fn diff_headers_quote_names_that_hold_line_breaks() {
        let diff = unified_diff("dev/a\n::set-output name=x::y/main.tf", "a\n", "b\n");
        let mut lines = diff.lines();
        assert_eq!(
            lines.next(),
            Some("--- \"a/dev/a\\n::set-output name=x::y/main.tf\"")
        );
        assert_eq!(
            lines.next(),
            Some("+++ \"b/dev/a\\n::set-output name=x::y/main.tf\"")
        );
        assert!(unified_diff("dev/a b.tf", "a\n", "b\n").starts_with("--- a/dev/a b.tf\n"));
        assert_eq!(diff_path("a/", "q\"\\\u{1b}"), "\"a/q\\\"\\\\\\033\"");
    }
}
