//! Sources built the way live repositories build them: versions read from maps in shared files,
//! `read_terragrunt_config(…).locals` kept in a local, conditionals, `try`/`coalesce`/`lookup`/
//! `format`/`join`, `?ref=tags/…`, values only known when Terragrunt runs, and a mistyped scp-like
//! address. Each pattern is scanned, reported (module repositories are local git repositories)
//! and updated, byte for byte, in the file that writes the version.

use crate::common::{baton, json_of, stderr_of, write_tree};
use crate::gitrepo::{git, tagged_repo};
use serde_json::{Value, json};
use std::path::PathBuf;

/// A live repository (a git work tree) whose sources point at local module repositories.
struct Live {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    /// `git::file://…/acme`, the folder of the module repositories.
    acme: String,
}

impl Live {
    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
    }
}

fn files(acme: &str) -> Vec<(String, String)> {
    let unit = |source: &str, locals: &str| {
        format!(
            "# unit\n{locals}terraform {{\n  source = {source}\n}}\n\ninputs = {{\n  name = \"x\"\n}}\n"
        )
    };
    vec![
        ("root.hcl".into(), "# root\n".into()),
        (
            "github.hcl".into(),
            format!("locals {{\n  modules = \"{acme}\"\n}}\n"),
        ),
        // A version map shared by dev and stage.
        (
            "_common/common.hcl".into(),
            "locals {\n  versions = {\n    eks = \"v1.0.0\" # pinned\n  }\n}\n".into(),
        ),
        // A version map used by dev alone.
        (
            "dev/_common/versions.hcl".into(),
            "locals {\r\n  versions = {\r\n    vpc = \"v1.0.0\"\r\n    rds = \"v9.9.9\"\r\n  }\r\n}\r\n"
                .into(),
        ),
        // 1 and 2: the config's locals kept in a local; an index into a map read from a file.
        (
            "dev/a/terragrunt.hcl".into(),
            unit(
                "\"${local.gh.modules}/terraform-aws-vpc//modules/vpc?ref=${local.versions[\"vpc\"]}\"",
                "locals {\n  gh       = read_terragrunt_config(find_in_parent_folders(\"github.hcl\")).locals\n  versions = read_terragrunt_config(find_in_parent_folders(\"_common/versions.hcl\")).locals.versions\n}\n\n",
            ),
        ),
        // 2: the map of an exposed include.
        (
            "dev/b/terragrunt.hcl".into(),
            unit(
                "\"${read_terragrunt_config(find_in_parent_folders(\"github.hcl\")).locals.modules}/terraform-aws-vpc//modules/vpc?ref=${include.versions.locals.versions.vpc}\"",
                "include \"versions\" {\n  path   = find_in_parent_folders(\"_common/versions.hcl\")\n  expose = true\n}\n\n",
            ),
        ),
        // 2: the shared map, spelled out through the whole config.
        (
            "dev/c/terragrunt.hcl".into(),
            unit(
                &format!(
                    "\"{acme}/terraform-aws-eks//modules/vpc?ref=${{local.common.locals.versions.eks}}\""
                ),
                "locals {\n  common = read_terragrunt_config(find_in_parent_folders(\"_common/common.hcl\"))\n}\n\n",
            ),
        ),
        (
            "stage/c/terragrunt.hcl".into(),
            unit(
                &format!(
                    "\"{acme}/terraform-aws-eks//modules/vpc?ref=${{local.common.locals.versions.eks}}\""
                ),
                "locals {\n  common = read_terragrunt_config(find_in_parent_folders(\"_common/common.hcl\"))\n}\n\n",
            ),
        ),
        // 3: a conditional on a literal.
        (
            "dev/cond/terragrunt.hcl".into(),
            unit(
                "local.source",
                &format!(
                    "locals {{\n  local_source = false\n  source       = local.local_source ? \"../../modules/vpc\" : \"{acme}/terraform-aws-vpc//modules/vpc?ref=v1.0.0\"\n}}\n\n"
                ),
            ),
        ),
        // 4: coalesce, lookup, format, join, nested templates (OpenTofu evaluates locals in
        // module sources).
        (
            "dev/funcs/main.tf".into(),
            format!(
                "locals {{\n  override = \"\"\n  versions = {{ vpc = \"v1.0.0\" }}\n  url      = \"{acme}/terraform-aws-vpc\"\n}}\n\n\
                 module \"coalesce\" {{\n  source = \"${{local.url}}//modules/vpc?ref=${{coalesce(local.override, \"v1.0.0\")}}\"\n}}\n\n\
                 module \"lookup\" {{\n  source = format(\"%s//modules/vpc?ref=%s\", local.url, lookup(local.versions, \"vpc\", \"v0.0.1\"))\n}}\n\n\
                 module \"join\" {{\n  source = join(\"\", [local.url, \"//modules/vpc?ref=\", \"v1.0.0\"])\n}}\n\n\
                 module \"nested\" {{\n  source = \"${{\"${{local.url}}//modules/vpc\"}}?ref=v1.0.0\"\n}}\n"
            ),
        ),
        // 4: a catalog template's default; 6: a value the stack sets.
        (
            "dev/stack/terragrunt.stack.hcl".into(),
            format!(
                "locals {{\n  ref = try(values.ref, \"v1.0.0\")\n}}\n\n\
                 unit \"vpc\" {{\n  source = \"{acme}/terraform-aws-vpc//modules/vpc?ref=${{local.ref}}\"\n  path   = \"vpc\"\n}}\n\n\
                 unit \"pinned_by_stack\" {{\n  source = \"{acme}/terraform-aws-vpc//modules/vpc?ref=${{values.version}}\"\n  path   = \"other\"\n}}\n"
            ),
        ),
        // 5: a cloudposse-style ref.
        (
            "dev/tags/main.tf".into(),
            format!(
                "module \"label\" {{\n  source = \"{acme}/terraform-null-label.git?ref=tags/1.0.0\"\n}}\n"
            ),
        ),
        // 6: the environment and a variable.
        (
            "dev/env/terragrunt.hcl".into(),
            unit(
                &format!(
                    "\"{acme}/terraform-aws-vpc//modules/vpc?ref=${{get_env(\"VPC_REF\")}}\""
                ),
                "",
            ),
        ),
        (
            "dev/var/main.tf".into(),
            "module \"vpc\" {\n  source  = \"acme/vpc/aws\"\n  version = var.vpc_version\n}\n"
                .into(),
        ),
        // 7: an scp-like address with `/` after the host.
        (
            "dev/scp/terragrunt.hcl".into(),
            unit("\"git::git@github.com/acme/modules.git//vpc?ref=v1.0.0\"", ""),
        ),
    ]
}

fn live() -> Live {
    let tmp = tempfile::tempdir().unwrap();
    let modules = tmp.path().join("modules");
    tagged_repo(
        &modules,
        "acme/terraform-aws-vpc",
        &["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"],
    );
    tagged_repo(&modules, "acme/terraform-aws-eks", &["v1.0.0", "v1.1.0"]);
    tagged_repo(
        &modules,
        "acme/terraform-null-label.git",
        &["1.0.0", "1.1.0"],
    );
    let acme = format!("git::file://{}/acme", modules.display());
    let root = tmp.path().join("live");
    std::fs::create_dir_all(&root).unwrap();
    let owned = files(&acme);
    let tree: Vec<(&str, &[u8])> = owned
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_bytes()))
        .collect();
    write_tree(&root, &tree);
    git(&root, &["init", "-q"]);
    Live {
        _tmp: tmp,
        root,
        acme,
    }
}

fn scan(live: &Live) -> Value {
    json_of(
        &baton()
            .args(["scan", "--working-dir"])
            .arg(&live.root)
            .assert()
            .success(),
    )
}

/// The usages of a scan in one file.
fn usages_in<'a>(scan: &'a Value, file: &str) -> Vec<&'a Value> {
    scan["usages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["file"] == file)
        .collect()
}

fn update(live: &Live, include: &str, deps: Value) -> assert_cmd::assert::Assert {
    let spec = json!({"IncludeDirPattern": include, "ExcludeDirPattern": "", "Dependencies": deps})
        .to_string();
    baton()
        .args([
            "update",
            "--include-dirs",
            include,
            "--spec",
            &spec,
            "--working-dir",
        ])
        .arg(&live.root)
        .assert()
}

fn target(id: &str, version: &str) -> Value {
    json!({"ID": id, "TargetSafeVersion": version, "TargetBreakingVersion": version})
}

const VPC: &str = "acme/terraform-aws-vpc/vpc";
const EKS: &str = "acme/terraform-aws-eks/vpc";

#[test]
fn scan_evaluates_the_patterns_of_live_repositories() {
    let live = live();
    let scan = scan(&live);
    assert_eq!(scan["errors"], json!([]), "{scan:#}");
    let one = |file: &str| -> Value {
        let found = usages_in(&scan, file);
        assert_eq!(found.len(), 1, "{file}: {found:#?}");
        found[0].clone()
    };
    // 1 and 2: the version sits in dev/_common/versions.hcl, which the scan names.
    for file in ["dev/a/terragrunt.hcl", "dev/b/terragrunt.hcl"] {
        let u = one(file);
        assert_eq!(u["dependency"], VPC, "{u:#}");
        assert_eq!(u["current"], "v1.0.0");
        assert_eq!(u["skipped"], Value::Null, "{u:#}");
        assert_eq!(u["version_file"], "dev/_common/versions.hcl");
    }
    let c = one("dev/c/terragrunt.hcl");
    assert_eq!(c["dependency"], EKS);
    assert_eq!(c["version_file"], "_common/common.hcl");
    // 3.
    let cond = one("dev/cond/terragrunt.hcl");
    assert_eq!(cond["dependency"], VPC);
    assert_eq!(cond["current"], "v1.0.0");
    assert!(cond.get("version_file").is_none(), "{cond:#}");
    // 4.
    let funcs = usages_in(&scan, "dev/funcs/main.tf");
    assert_eq!(funcs.len(), 4);
    for u in &funcs {
        assert_eq!(u["dependency"], VPC, "{u:#}");
        assert_eq!(u["current"], "v1.0.0", "{u:#}");
        assert_eq!(u["skipped"], Value::Null, "{u:#}");
    }
    // 4 and 6 in one stack file.
    let stack = usages_in(&scan, "dev/stack/terragrunt.stack.hcl");
    assert_eq!(stack[0]["current"], "v1.0.0");
    assert_eq!(stack[0]["skipped"], Value::Null);
    assert_eq!(
        stack[1]["dependency"], VPC,
        "the ID is kept: {:#}",
        stack[1]
    );
    assert_eq!(stack[1]["current"], Value::Null);
    let why = stack[1]["skipped"].as_str().unwrap();
    assert!(
        why.contains("values.version") && why.contains("terragrunt.values.hcl"),
        "{why}"
    );
    // 5.
    let tags = one("dev/tags/main.tf");
    assert_eq!(tags["dependency"], "acme/terraform-null-label");
    assert_eq!(tags["current"], "1.0.0");
    assert_eq!(tags["skipped"], Value::Null);
    // 6.
    let env = one("dev/env/terragrunt.hcl");
    assert_eq!(env["dependency"], VPC);
    assert_eq!(env["current"], Value::Null);
    assert!(
        env["skipped"].as_str().unwrap().contains("VPC_REF"),
        "{env:#}"
    );
    let var = one("dev/var/main.tf");
    assert_eq!(var["dependency"], "acme/vpc/aws");
    assert_eq!(var["current"], Value::Null);
    let why = var["skipped"].as_str().unwrap();
    assert!(
        why.contains("var.vpc_version") && why.contains(".tfvars"),
        "{why}"
    );
    // 7.
    let scp = one("dev/scp/terragrunt.hcl");
    assert_eq!(scp["dependency"], Value::Null);
    let why = scp["skipped"].as_str().unwrap();
    assert!(
        why.contains("needs `:` after the host") && why.contains("git@github.com:acme/modules.git"),
        "{why}"
    );
}

#[test]
fn report_looks_up_the_versions_found_through_expressions() {
    let live = live();
    let assert = baton()
        .args([
            "report",
            "--include-dirs",
            "dev/**",
            "--github-api-url",
            "http://127.0.0.1:9",
            "--working-dir",
        ])
        .arg(&live.root)
        .assert()
        .success();
    let spec = json_of(&assert);
    let dep = |id: &str| -> Value {
        spec["Dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["ID"] == id)
            .unwrap_or_else(|| panic!("{id} not in {spec:#}"))
            .clone()
    };
    let vpc = dep(VPC);
    assert_eq!(vpc["CurrentVersions"], json!(["1.0.0"]));
    assert_eq!(vpc["TargetSafeVersion"], "1.2.0");
    assert_eq!(vpc["TargetBreakingVersion"], "2.0.0");
    // a, b, cond, four in main.tf, the stack's default: the map's usages point at the map.
    let usages = vpc["Usages"].as_array().unwrap();
    assert_eq!(usages.len(), 8, "{usages:#?}");
    assert!(
        usages
            .iter()
            .any(|u| u["File"] == "dev/_common/versions.hcl" && u["Line"] == 3),
        "{usages:#?}"
    );
    let eks = dep(EKS);
    assert_eq!(eks["TargetSafeVersion"], "1.1.0");
    let label = dep("acme/terraform-null-label");
    assert_eq!(label["CurrentVersions"], json!(["1.0.0"]));
    assert_eq!(label["TargetSafeVersion"], "1.1.0");
    // The unknowns are skipped with their reason and a null version.
    let skipped = spec["Skipped"].as_array().unwrap();
    let env = skipped
        .iter()
        .find(|s| s["File"] == "dev/env/terragrunt.hcl")
        .unwrap_or_else(|| panic!("{skipped:#?}"));
    assert_eq!(env["Dependency"], VPC);
    assert_eq!(env["Current"], Value::Null);
    assert!(env["Reason"].as_str().unwrap().contains("VPC_REF"));
    let scp = skipped
        .iter()
        .find(|s| s["File"] == "dev/scp/terragrunt.hcl")
        .unwrap_or_else(|| panic!("{skipped:#?}"));
    assert!(
        scp["Reason"]
            .as_str()
            .unwrap()
            .contains("needs `:` after the host")
    );
}

#[test]
fn update_edits_the_version_where_each_pattern_writes_it() {
    let live = live();
    let before: Vec<(String, String)> = ["dev/cond/terragrunt.hcl", "dev/funcs/main.tf"]
        .iter()
        .map(|f| (f.to_string(), live.read(f)))
        .collect();
    let stack_before = live.read("dev/stack/terragrunt.stack.hcl");
    let tags_before = live.read("dev/tags/main.tf");
    let assert = update(
        &live,
        "dev/**",
        json!([
            target(VPC, "1.2.0"),
            target("acme/terraform-null-label", "1.1.0")
        ]),
    )
    .success();
    let out = json_of(&assert);
    assert_eq!(out["errors"], json!([]), "{out:#}");
    // Only the version bytes changed, in every file that writes one.
    for (file, text) in &before {
        assert_eq!(live.read(file), text.replace("v1.0.0", "v1.2.0"), "{file}");
    }
    assert_eq!(
        live.read("dev/stack/terragrunt.stack.hcl"),
        stack_before.replace("\"v1.0.0\"", "\"v1.2.0\""),
        "the default of try() is edited; the unit pinned by the stack is not"
    );
    assert_eq!(
        live.read("dev/tags/main.tf"),
        tags_before.replace("tags/1.0.0", "tags/1.1.0")
    );
    // The skipped ones say why.
    let skipped = out["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["File"] == "dev/env/terragrunt.hcl" && s["Current"] == Value::Null),
        "{skipped:#?}"
    );
}

#[test]
fn update_edits_a_map_in_a_shared_file_of_the_environment_byte_exactly() {
    let live = live();
    let shared = live.read("dev/_common/versions.hcl");
    let units: Vec<String> = ["dev/a/terragrunt.hcl", "dev/b/terragrunt.hcl"]
        .iter()
        .map(|f| live.read(f))
        .collect();
    let assert = update(&live, "dev/**", json!([target(VPC, "1.2.0")])).success();
    let out = json_of(&assert);
    assert_eq!(out["errors"], json!([]), "{out:#}");
    // The CRLF map file: the one value, nothing else (not `rds`, not a line ending).
    assert_eq!(
        live.read("dev/_common/versions.hcl"),
        shared.replace("vpc = \"v1.0.0\"", "vpc = \"v1.2.0\"")
    );
    // The units that read it are unchanged.
    assert_eq!(live.read("dev/a/terragrunt.hcl"), units[0]);
    assert_eq!(live.read("dev/b/terragrunt.hcl"), units[1]);
    // The outcome names the shared file once, with every file that takes its version from it.
    let change = out["updated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["file"] == "dev/_common/versions.hcl")
        .unwrap_or_else(|| panic!("{out:#}"))
        .clone();
    assert_eq!(change["line"], 3);
    assert_eq!(change["from"], "v1.0.0");
    assert_eq!(change["to"], "v1.2.0");
    assert_eq!(
        change["used_by"],
        json!(["dev/a/terragrunt.hcl", "dev/b/terragrunt.hcl"])
    );
}

#[test]
fn update_refuses_a_version_in_a_file_shared_with_another_environment() {
    let live = live();
    let shared = live.read("_common/common.hcl");
    let dev = live.read("dev/c/terragrunt.hcl");
    let assert = update(&live, "dev/**", json!([target(EKS, "1.1.0")])).code(3);
    let out = json_of(&assert);
    let errors = out["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{out:#}");
    assert_eq!(errors[0]["file"], "_common/common.hcl");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("stage/c/terragrunt.hcl") && message.contains("--include-dirs"),
        "{message}"
    );
    assert!(stderr_of(&assert).contains("stage/c/terragrunt.hcl"));
    assert_eq!(out["updated"], json!([]));
    // Nothing written.
    assert_eq!(live.read("_common/common.hcl"), shared);
    assert_eq!(live.read("dev/c/terragrunt.hcl"), dev);

    // With both environments selected, the shared file is edited once, for both.
    let assert = update(&live, "{dev,stage}/**", json!([target(EKS, "1.1.0")])).success();
    let out = json_of(&assert);
    assert_eq!(
        live.read("_common/common.hcl"),
        shared.replace("eks = \"v1.0.0\"", "eks = \"v1.1.0\"")
    );
    assert_eq!(
        out["updated"][0]["used_by"],
        json!(["dev/c/terragrunt.hcl", "stage/c/terragrunt.hcl"])
    );
}

#[test]
fn update_refuses_a_shared_version_that_another_dependency_also_reads() {
    let live = live();
    // dev/d reads the same map entry for another module: moving it would move both.
    std::fs::create_dir_all(live.root.join("dev/d")).unwrap();
    std::fs::write(
        live.root.join("dev/d/terragrunt.hcl"),
        format!(
            "include \"versions\" {{\n  path   = find_in_parent_folders(\"_common/versions.hcl\")\n  expose = true\n}}\n\nterraform {{\n  source = \"{}/terraform-aws-eks//modules/vpc?ref=${{include.versions.locals.versions.vpc}}\"\n}}\n",
            live.acme
        ),
    )
    .unwrap();
    let shared = live.read("dev/_common/versions.hcl");
    let assert = update(&live, "dev/**", json!([target(VPC, "1.2.0")])).code(3);
    let out = json_of(&assert);
    let message = out["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("dev/d/terragrunt.hcl") && message.contains(EKS),
        "{message}"
    );
    assert_eq!(live.read("dev/_common/versions.hcl"), shared);
}

/// The forms evaluated beyond locals and functions, each in the shape a public repository
/// writes it (named beside it; the fixtures are written here, not copied).
fn forms_files(acme: &str) -> Vec<(String, String)> {
    let unit = |head: &str, source: &str| {
        format!("{head}terraform {{\n  source = {source}\n}}\n\ninputs = {{\n  name = \"x\"\n}}\n")
    };
    let include_root = "include \"root\" {\n  path   = find_in_parent_folders(\"root.hcl\")\n  expose = true\n}\n\n";
    vec![
        // path_relative_to_include() kept in a local and cut to its basename, as
        // Excoriate/terragrunt-ref-arch-v3 does in infra/terragrunt/root.hcl.
        (
            "root.hcl".into(),
            "locals {\n  path_relative_to_include = path_relative_to_include()\n  current_unit             = basename(local.path_relative_to_include)\n}\n".into(),
        ),
        (
            "dev/vpc/terragrunt.hcl".into(),
            unit(
                include_root,
                &format!(
                    "\"{acme}/terraform-aws-${{include.root.locals.current_unit}}//modules/vpc?ref=v1.0.0\""
                ),
            ),
        ),
        // get_parent_terragrunt_dir(): Cray-HPE/fawkes-terraform dev/terragrunt.hcl builds a
        // local source from it; here it also finds the versions file beside the root.
        ("_versions/dev.hcl".into(), "locals {\n  eks = \"v1.0.0\"\n}\n".into()),
        (
            "dev/eks/terragrunt.hcl".into(),
            unit(
                &format!(
                    "{include_root}locals {{\n  versions = read_terragrunt_config(\"${{get_parent_terragrunt_dir()}}/_versions/dev.hcl\").locals\n}}\n\n"
                ),
                &format!("\"{acme}/terraform-aws-eks//modules/vpc?ref=${{local.versions.eks}}\""),
            ),
        ),
        (
            "dev/noop/terragrunt.hcl".into(),
            unit(include_root, "\"${get_parent_terragrunt_dir()}/modules/noop\""),
        ),
        // get_env() with a default and format() building the address, as
        // Excoriate/terragrunt-ref-arch-v3 infra/terragrunt/_shared/_units/age_generator.hcl.
        (
            "dev/env/terragrunt.hcl".into(),
            unit(
                &format!(
                    "locals {{\n  tf_module_version_default = get_env(\"TG_VPC_VERSION_DEFAULT\", \"v1.0.0\")\n  tf_module_source          = format(\"%s//%s\", \"{acme}/terraform-aws-vpc\", \"modules/vpc\")\n}}\n\n"
                ),
                "\"${local.tf_module_source}?ref=${local.tf_module_version_default}\"",
            ),
        ),
        // A branch as get_env()'s default, as sylesh-687/myprojects
        // terragrunt/profile/incus/incus-instance/terragrunt.hcl.
        (
            "dev/branch/terragrunt.hcl".into(),
            unit(
                "",
                &format!(
                    "\"{acme}/terraform-aws-vpc//modules/vpc?ref=${{get_env(\"TG_GIT_BRANCH\", \"main\")}}\""
                ),
            ),
        ),
        // format() with the version in a local, in the format string, and assembled from both.
        (
            "dev/format/terragrunt.stack.hcl".into(),
            format!(
                "locals {{\n  url  = \"{acme}/terraform-aws-vpc\"\n  ref  = \"v1.0.0\"\n  bare = \"1.0.0\"\n}}\n\n\
                 unit \"in_local\" {{\n  source = format(\"%s//modules/vpc?ref=%s\", local.url, local.ref)\n  path   = \"a\"\n}}\n\n\
                 unit \"in_format\" {{\n  source = format(\"%s//modules/vpc?ref=v1.0.0\", local.url)\n  path   = \"b\"\n}}\n\n\
                 unit \"assembled\" {{\n  source = format(\"%s//modules/vpc?ref=v%s\", local.url, local.bare)\n  path   = \"c\"\n}}\n"
            ),
        ),
        // join() of a list, as infra/terragrunt/root.hcl of Excoriate/terragrunt-ref-arch-v3.
        (
            "dev/join/terragrunt.hcl".into(),
            unit(
                &format!("locals {{\n  repo = \"{acme}/terraform-aws-vpc\"\n}}\n\n"),
                "join(\"//\", [local.repo, \"modules/vpc?ref=v1.0.0\"])",
            ),
        ),
        // A for expression merging defaults into each entry, as Cray-HPE/fawkes-terraform
        // terragrunt.hcl (`{ for k, v in local.inventory.hypervisors : k => merge(…, v) }`).
        (
            "_common/modules.hcl".into(),
            "locals {\n  defaults = { ref = \"v1.0.0\" }\n  modules = {\n    vpc = { repo = \"terraform-aws-vpc\" }\n    eks = { repo = \"terraform-aws-eks\", ref = \"v1.1.0\" }\n  }\n  resolved = { for k, v in local.modules : k => merge(local.defaults, v) }\n}\n".into(),
        ),
        (
            "dev/for/terragrunt.hcl".into(),
            unit(
                "locals {\n  mods = read_terragrunt_config(find_in_parent_folders(\"_common/modules.hcl\")).locals.resolved\n}\n\n",
                &format!("\"{acme}/${{local.mods.vpc.repo}}//modules/vpc?ref=${{local.mods.vpc.ref}}\""),
            ),
        ),
        // Splats into zipmap(), as cloudposse/terraform-root-modules modules/dns-delegated/main.tf
        // (`zipmap(var.zone_config[*].subdomain, var.zone_config[*].zone_name)`).
        (
            "dev/splat/terragrunt.hcl".into(),
            unit(
                "locals {\n  modules = [\n    { name = \"vpc\", ref = \"v1.0.0\" },\n    { name = \"eks\", ref = \"v1.0.0\" },\n  ]\n  refs = zipmap(local.modules[*].name, local.modules[*].ref)\n}\n\n",
                &format!("\"{acme}/terraform-aws-vpc//modules/vpc?ref=${{local.refs[\"vpc\"]}}\""),
            ),
        ),
        // An if directive on a value, as mojaloop/iac-modules terraform/k8s/k8s-deploy/terragrunt.hcl
        // (`%{if get_env("cloud_platform") == "aws"}`).
        (
            "dev/if/terragrunt.hcl".into(),
            unit(
                "locals {\n  cloud_platform = \"aws\"\n}\n\n",
                &format!(
                    "\"{acme}/terraform-aws-vpc//modules/vpc?ref=%{{ if local.cloud_platform == \"aws\" }}v1.0.0%{{ else }}v0.9.0%{{ endif }}\""
                ),
            ),
        ),
        // A for directive with strip markers, as Cray-HPE/fawkes-terraform terragrunt.hcl
        // (`%{for hv_name, hv_attrs in local.hypervisors~}`).
        (
            "dev/fordir/terragrunt.hcl".into(),
            unit(
                "locals {\n  parts = [\"modules\", \"vpc\"]\n}\n\n",
                &format!(
                    "\"{acme}/terraform-aws-vpc//%{{ for i, p in local.parts ~}}   ${{i > 0 ? \"/\" : \"\"}}${{p}}   %{{~ endfor ~}}   ?ref=v1.0.0\""
                ),
            ),
        ),
    ]
}

fn forms_live() -> Live {
    let tmp = tempfile::tempdir().unwrap();
    let modules = tmp.path().join("modules");
    tagged_repo(
        &modules,
        "acme/terraform-aws-vpc",
        &["v0.9.0", "v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"],
    );
    tagged_repo(&modules, "acme/terraform-aws-eks", &["v1.0.0", "v1.1.0"]);
    let acme = format!("git::file://{}/acme", modules.display());
    let root = tmp.path().join("live");
    std::fs::create_dir_all(&root).unwrap();
    let owned = forms_files(&acme);
    let tree: Vec<(&str, &[u8])> = owned
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_bytes()))
        .collect();
    write_tree(&root, &tree);
    git(&root, &["init", "-q"]);
    Live {
        _tmp: tmp,
        root,
        acme,
    }
}

/// The files of the forms fixture that write a VPC version Baton manages.
const VPC_FORMS: &[&str] = &[
    "dev/vpc/terragrunt.hcl",
    "dev/env/terragrunt.hcl",
    "dev/join/terragrunt.hcl",
    "dev/for/terragrunt.hcl",
    "dev/splat/terragrunt.hcl",
    "dev/if/terragrunt.hcl",
    "dev/fordir/terragrunt.hcl",
];

#[test]
fn scan_evaluates_for_splats_directives_include_paths_and_env_defaults() {
    let live = forms_live();
    let scan = scan(&live);
    assert_eq!(scan["errors"], json!([]), "{scan:#}");
    let one = |file: &str| -> Value {
        let found = usages_in(&scan, file);
        assert_eq!(found.len(), 1, "{file}: {found:#?}");
        found[0].clone()
    };
    for file in VPC_FORMS {
        let u = one(file);
        assert_eq!(u["dependency"], VPC, "{file}: {u:#}");
        assert_eq!(u["current"], "v1.0.0", "{file}: {u:#}");
        assert_eq!(u["skipped"], Value::Null, "{file}: {u:#}");
    }
    // Where each version is written.
    assert_eq!(
        one("dev/for/terragrunt.hcl")["version_file"],
        "_common/modules.hcl"
    );
    let eks = one("dev/eks/terragrunt.hcl");
    assert_eq!(eks["dependency"], EKS, "{eks:#}");
    assert_eq!(eks["current"], "v1.0.0", "{eks:#}");
    assert_eq!(eks["version_file"], "_versions/dev.hcl");
    // get_parent_terragrunt_dir() is the root's folder: a local path.
    assert_eq!(one("dev/noop/terragrunt.hcl")["skipped"], "local path");
    // get_env()'s default is used, and the usage says so.
    let env = one("dev/env/terragrunt.hcl");
    let note = env["notes"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{env:#}"));
    assert!(
        note.contains("TG_VPC_VERSION_DEFAULT") && note.contains("\"v1.0.0\""),
        "{note}"
    );
    let branch = one("dev/branch/terragrunt.hcl");
    assert_eq!(branch["current"], "main");
    assert!(
        branch["skipped"]
            .as_str()
            .unwrap()
            .contains("\"main\" is a branch"),
        "{branch:#}"
    );
    assert!(
        branch["notes"][0]
            .as_str()
            .unwrap()
            .contains("TG_GIT_BRANCH"),
        "{branch:#}"
    );
    // format(): a version in a local or in the format string is editable; one assembled from
    // both is not, and says why.
    let stack = usages_in(&scan, "dev/format/terragrunt.stack.hcl");
    assert_eq!(stack.len(), 3);
    for u in &stack[..2] {
        assert_eq!(u["current"], "v1.0.0", "{u:#}");
        assert_eq!(u["skipped"], Value::Null, "{u:#}");
    }
    assert_eq!(stack[2]["dependency"], VPC);
    assert_eq!(stack[2]["current"], "v1.0.0");
    assert_eq!(
        stack[2]["skipped"], "the version is assembled from several expressions",
        "{:#}",
        stack[2]
    );
}

#[test]
fn update_edits_versions_inside_evaluated_forms_byte_exactly() {
    let live = forms_live();
    let files = [
        VPC_FORMS,
        &[
            "dev/format/terragrunt.stack.hcl",
            "_common/modules.hcl",
            "_versions/dev.hcl",
            "dev/branch/terragrunt.hcl",
            "root.hcl",
        ],
    ]
    .concat();
    let before: Vec<(&str, String)> = files.iter().map(|f| (*f, live.read(f))).collect();
    let assert = update(
        &live,
        "dev/**",
        json!([target(VPC, "1.2.0"), target(EKS, "1.1.0")]),
    )
    .success();
    let out = json_of(&assert);
    assert_eq!(out["errors"], json!([]), "{out:#}");
    let expected = |file: &str, text: &str| -> String {
        match file {
            // The version map's entry for vpc, not eks's.
            "dev/splat/terragrunt.hcl" => text.replace(
                "{ name = \"vpc\", ref = \"v1.0.0\" }",
                "{ name = \"vpc\", ref = \"v1.2.0\" }",
            ),
            // The branch taken, not the other one.
            "dev/if/terragrunt.hcl" => text.replace("}v1.0.0%", "}v1.2.0%"),
            // The defaults the for expression merges (eks has its own ref).
            "_common/modules.hcl" => text.replace("ref = \"v1.0.0\"", "ref = \"v1.2.0\""),
            "_versions/dev.hcl" => text.replace("v1.0.0", "v1.1.0"),
            // A branch is no version; the include's root is not a version file.
            "dev/branch/terragrunt.hcl" | "root.hcl" => text.to_string(),
            // The local and the format string; `bare` (assembled) is left as it is.
            _ => text.replace("v1.0.0", "v1.2.0"),
        }
    };
    for (file, text) in &before {
        assert_eq!(live.read(file), expected(file, text), "{file}");
    }
    assert!(
        live.read("dev/format/terragrunt.stack.hcl")
            .contains("bare = \"1.0.0\"")
    );
    // The edit of get_env()'s default carries what it rests on.
    let env = out["updated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["file"] == "dev/env/terragrunt.hcl")
        .unwrap_or_else(|| panic!("{out:#}"));
    assert!(
        env["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("TG_VPC_VERSION_DEFAULT")),
        "{env:#}"
    );
    // The one that cannot be edited is reported with its reason, not written.
    let skipped = out["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["File"] == "dev/format/terragrunt.stack.hcl"
                && s["Reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("assembled from several expressions"))),
        "{skipped:#?}"
    );
}
