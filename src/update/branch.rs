//! Update branch names: `<prefix><dependency ID>`, as Patcher names them, except where git could
//! not hold them side by side. A branch is a path of refs, so `p-acme/vpc` (a repository's root
//! module) and `p-acme/vpc/endpoints` (a module in it) cannot both exist, and `//` (a registry
//! module's subdirectory) is not allowed at all. So:
//!
//! - an ID without a module path (`acme/vpc`, `gitlab.com/acme/vpc`) gets `@root` appended:
//!   `p-acme/vpc@root`;
//! - the `//` of a registry ID becomes `@/`: `p-ns/name/aws@/modules/x`;
//! - every other ID is kept as it is.
//!
//! [`dependency_of`] reads both these names and Patcher's plain `<prefix><ID>` back.

/// Appended to the branch of a repository's root module.
pub const ROOT_SUFFIX: &str = "@root";

/// Whether an ID names a repository's root module (no module path): `owner/repo`, or
/// `host/owner/repo` off github.com. Registry IDs (`ns/name/provider`) never do.
pub fn is_root_module(id: &str) -> bool {
    if id.contains("//") {
        return false;
    }
    let parts: Vec<&str> = id.split('/').collect();
    match parts.as_slice() {
        [owner, repo] => !owner.is_empty() && !repo.is_empty(),
        [host, owner, repo] => host.contains('.') && !owner.is_empty() && !repo.is_empty(),
        _ => false,
    }
}

/// The part of the branch name that stands for a dependency ID.
pub fn segment(id: &str) -> String {
    let mut out = id.replace("//", "@/");
    if is_root_module(id) {
        out.push_str(ROOT_SUFFIX);
    }
    out
}

/// The branch of a dependency: `prefix` followed by its [`segment`].
pub fn for_dependency(prefix: &str, id: &str) -> String {
    format!("{prefix}{}", segment(id))
}

/// The branch to push for `branch` as given: when it ends with the dependency ID (a workflow
/// passing `$PREFIX$ID`, as Patcher's do), that ID is written as its [`segment`]; any other name
/// is kept.
pub fn normalize(branch: &str, id: Option<&str>) -> String {
    match id {
        Some(id) if !id.is_empty() => match branch.strip_suffix(id) {
            Some(prefix) if segment(id) != id => for_dependency(prefix, id),
            _ => branch.to_string(),
        },
        _ => branch.to_string(),
    }
}

/// The dependency ID an update branch stands for: the rest of `branch` after `prefix`, read back
/// from [`segment`] (or Patcher's plain ID); `None` when `branch` does not start with `prefix`.
pub fn dependency_of(prefix: &str, branch: &str) -> Option<String> {
    let rest = branch.strip_prefix(prefix).filter(|r| !r.is_empty())?;
    let rest = rest.strip_suffix(ROOT_SUFFIX).unwrap_or(rest);
    let id = rest.replace("@/", "//");
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_nest_and_read_back() {
        let p = "baton-dev-updates-";
        for (id, branch) in [
            ("acme/vpc", "baton-dev-updates-acme/vpc@root"),
            ("acme/vpc/endpoints", "baton-dev-updates-acme/vpc/endpoints"),
            (
                "gitlab.com/acme/vpc",
                "baton-dev-updates-gitlab.com/acme/vpc@root",
            ),
            (
                "gitlab.com/acme/vpc/x",
                "baton-dev-updates-gitlab.com/acme/vpc/x",
            ),
            (
                "hashicorp/consul/aws",
                "baton-dev-updates-hashicorp/consul/aws",
            ),
            (
                "hashicorp/consul/aws//modules/x",
                "baton-dev-updates-hashicorp/consul/aws@/modules/x",
            ),
        ] {
            assert_eq!(for_dependency(p, id), branch);
            assert_eq!(dependency_of(p, branch).as_deref(), Some(id));
            assert_eq!(normalize(&format!("{p}{id}"), Some(id)), branch);
        }
        assert_eq!(
            dependency_of(p, "baton-dev-updates-acme/vpc").as_deref(),
            Some("acme/vpc"),
            "Patcher's plain name"
        );
        assert_eq!(normalize("hotfix", Some("acme/vpc")), "hotfix");
        assert_eq!(dependency_of(p, "feature/x"), None);
    }
}
