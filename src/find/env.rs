//! Environments: which folders of the working directory belong to one environment, given as
//! Patcher-style doublestar globs (`{*dev*}/**`), where `*` never crosses a `/` but `**` does.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::Path;

/// A glob that could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error("invalid glob {glob:?}: {reason}")]
pub struct GlobError {
    /// The glob as given.
    pub glob: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The folders of one environment: included by any include glob, and by no exclude glob.
#[derive(Debug, Clone, Default)]
pub struct DirFilter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    include_text: Vec<String>,
    exclude_text: Vec<String>,
    /// Where the globs are read from, when not the working directory (see [`DirFilter::rebased`]).
    base: Option<Rebase>,
}

/// Globs written relative to another folder than the working directory.
#[derive(Debug, Clone, Default)]
struct Rebase {
    /// Prepended to a path relative to the working directory.
    prepend: std::path::PathBuf,
    /// Then stripped; a path not below it is outside the environment.
    strip: std::path::PathBuf,
    /// Globs relative to the working directory that must match as well (e.g. `--exclude-dirs`).
    local: Option<Box<DirFilter>>,
}

impl DirFilter {
    /// Builds a filter from include and exclude patterns. Each pattern may hold several globs
    /// separated by commas outside braces (`dev/**,{*qa*}/**`); a brace set keeps its commas.
    pub fn new<S: AsRef<str>>(include: &[S], exclude: &[S]) -> Result<Self, GlobError> {
        let include_text = split_patterns(include);
        let exclude_text = split_patterns(exclude);
        Ok(DirFilter {
            include: build_set(&include_text)?,
            exclude: build_set(&exclude_text)?,
            include_text,
            exclude_text,
            base: None,
        })
    }

    /// The same globs read from another folder than the working directory. Both folders are
    /// given relative to a common root (the repository's): a path relative to the working
    /// directory becomes `working_dir/path`, must lie below `globs_dir`, and is matched relative
    /// to it; any other path is outside the environment.
    pub fn rebased(mut self, working_dir: &Path, globs_dir: &Path) -> Self {
        self.base = Some(Rebase {
            prepend: working_dir.to_path_buf(),
            strip: globs_dir.to_path_buf(),
            local: None,
        });
        self
    }

    /// A rebased filter that also requires `local`, whose globs are relative to the working
    /// directory. Without a rebase, `local` replaces nothing and is ignored.
    pub fn and_locally(mut self, local: DirFilter) -> Self {
        if let Some(base) = &mut self.base {
            base.local = Some(Box::new(local));
        }
        self
    }

    /// The include globs, as given (after splitting).
    pub fn include_globs(&self) -> &[String] {
        &self.include_text
    }

    /// The exclude globs, as given (after splitting).
    pub fn exclude_globs(&self) -> &[String] {
        &self.exclude_text
    }

    /// The include globs joined as Patcher writes `IncludeDirPattern`.
    pub fn include_pattern(&self) -> String {
        self.include_text.join(",")
    }

    /// The exclude globs joined as Patcher writes `ExcludeDirPattern`.
    pub fn exclude_pattern(&self) -> String {
        self.exclude_text.join(",")
    }

    /// Everything that decides which paths the filter selects, as text: two filters with the
    /// same key select the same paths (for keys of kept results).
    pub fn key(&self) -> String {
        let mut key = format!("{:?}|{:?}", self.include_text, self.exclude_text);
        if let Some(base) = &self.base {
            key.push_str(&format!(
                "|{:?}|{:?}|{}",
                base.prepend,
                base.strip,
                base.local.as_ref().map(|l| l.key()).unwrap_or_default()
            ));
        }
        key
    }

    /// Whether a file, given by its path relative to the working directory, is in the
    /// environment. A glob matches a file when it matches the file's path or one of the folders
    /// above it, so `dev` and `dev/**` both select everything below `dev/`.
    pub fn matches(&self, relative: &Path) -> bool {
        let rebased;
        let relative = match &self.base {
            None => relative,
            Some(base) => {
                if base.local.as_ref().is_some_and(|l| !l.matches(relative)) {
                    return false;
                }
                rebased = base.prepend.join(relative);
                match rebased.strip_prefix(&base.strip) {
                    Ok(inside) if !inside.as_os_str().is_empty() => inside,
                    _ => return false,
                }
            }
        };
        let included = match &self.include {
            None => true,
            Some(set) => any_prefix_matches(set, relative),
        };
        included
            && !self
                .exclude
                .as_ref()
                .is_some_and(|set| any_prefix_matches(set, relative))
    }
}

fn any_prefix_matches(set: &GlobSet, relative: &Path) -> bool {
    relative
        .ancestors()
        .any(|p| !p.as_os_str().is_empty() && set.is_match(p))
}

fn build_set(globs: &[String]) -> Result<Option<GlobSet>, GlobError> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        builder.add(compile(g)?);
    }
    builder.build().map(Some).map_err(|e| GlobError {
        glob: globs.join(","),
        reason: e.kind().to_string(),
    })
}

fn compile(glob: &str) -> Result<Glob, GlobError> {
    let normalized = glob.trim().trim_start_matches("./");
    GlobBuilder::new(normalized)
        .literal_separator(true)
        .backslash_escape(true)
        .empty_alternates(true)
        .build()
        .map_err(|e| GlobError {
            glob: glob.to_string(),
            reason: e.kind().to_string(),
        })
}

/// Splits patterns on commas that are outside `{…}` and drops empty pieces.
pub fn split_patterns<S: AsRef<str>>(patterns: &[S]) -> Vec<String> {
    let mut out = Vec::new();
    for pattern in patterns {
        let mut depth = 0usize;
        let mut current = String::new();
        for c in pattern.as_ref().chars() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    push_trimmed(&mut out, &current);
                    current.clear();
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        push_trimmed(&mut out, &current);
    }
    out
}

fn push_trimmed(out: &mut Vec<String>, s: &str) {
    let t = s.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(include: &[&str], exclude: &[&str]) -> DirFilter {
        DirFilter::new(include, exclude).expect("valid globs")
    }

    fn m(f: &DirFilter, p: &str) -> bool {
        f.matches(Path::new(p))
    }

    #[test]
    fn dev_brace_glob_selects_dev_folders_only() {
        let f = filter(&["{*dev*}/**"], &[]);
        assert!(m(&f, "dev/app/terragrunt.hcl"));
        assert!(m(&f, "dev2/x/main.tf"));
        assert!(m(&f, "gruntwork-dev-account1/us-east-1/vpc/terragrunt.hcl"));
        assert!(!m(&f, "prod/app/terragrunt.hcl"));
        assert!(!m(&f, "terragrunt.hcl"));
    }

    #[test]
    fn star_does_not_cross_slash() {
        let f = filter(&["*/app/*"], &[]);
        assert!(m(&f, "dev/app/main.tf"));
        assert!(!m(&f, "dev/sub/app/main.tf"));
        let f = filter(&["{*dev*}/*.tf"], &[]);
        assert!(m(&f, "dev/main.tf"));
        assert!(!m(&f, "prod/dev/main.tf"));
        assert!(!m(&f, "dev/a/main.tf"), "a single * must not cross /");
    }

    #[test]
    fn double_star_crosses_folders() {
        let f = filter(&["**/prod/**"], &[]);
        assert!(m(&f, "acct/us-east-1/prod/vpc/main.tf"));
        assert!(m(&f, "prod/vpc/main.tf"));
    }

    #[test]
    fn brace_sets_keep_their_commas() {
        let f = filter(&["{_*,*-dev-*}/**"], &[]);
        assert!(m(&f, "_envcommon/vpc.hcl"));
        assert!(m(&f, "acme-dev-1/vpc/terragrunt.hcl"));
        assert!(!m(&f, "acme-prod-1/vpc/terragrunt.hcl"));
        assert_eq!(
            split_patterns(&["{_*,*-dev-*}/**"]),
            vec!["{_*,*-dev-*}/**"]
        );
        assert_eq!(
            split_patterns(&["dev/**, {a,b}/**", ""]),
            vec!["dev/**", "{a,b}/**"]
        );
    }

    #[test]
    fn exclude_wins_over_include() {
        let f = filter(&["{*dev*}/**"], &["{*dev*}/alb/**", "**/{*alb*}/**"]);
        assert!(m(&f, "dev/vpc/terragrunt.hcl"));
        assert!(!m(&f, "dev/alb/terragrunt.hcl"));
        assert!(!m(&f, "dev/us-east-1/public-alb/terragrunt.hcl"));
    }

    #[test]
    fn plain_folder_name_selects_its_contents() {
        let f = filter(&["dev", "./stage/**"], &[]);
        assert!(m(&f, "dev/a/b.tf"));
        assert!(m(&f, "stage/a/b.tf"));
        assert!(!m(&f, "devx/a.tf"));
    }

    #[test]
    fn no_include_means_everything() {
        let f = filter(&[], &["prod/**"]);
        assert!(m(&f, "anything/at/all.tf"));
        assert!(!m(&f, "prod/x.tf"));
    }

    #[test]
    fn rebased_globs_are_read_from_their_own_folder() {
        // Globs written at the repository root, read from the working directory `dev`.
        let f = filter(&["{*dev*}/**"], &[]).rebased(Path::new("dev"), Path::new(""));
        assert!(m(&f, "us-east-1/vpc/terragrunt.hcl"));
        // Globs written in `live`, read from the repository root.
        let f = filter(&["{*dev*}/**"], &[]).rebased(Path::new(""), Path::new("live"));
        assert!(m(&f, "live/dev/vpc/terragrunt.hcl"));
        assert!(!m(&f, "dev/vpc/terragrunt.hcl"), "outside live");
        assert!(!m(&f, "live/prod/vpc/terragrunt.hcl"));
        let all = filter(&[], &[]).rebased(Path::new(""), Path::new("live"));
        assert!(m(&all, "live/x.tf") && !m(&all, "other/x.tf"));
    }

    #[test]
    fn invalid_glob_is_an_error_naming_it() {
        let err = DirFilter::new(&["{dev"], &[]).unwrap_err();
        assert_eq!(err.glob, "{dev");
        assert!(err.to_string().contains("{dev"), "{err}");
    }
}
