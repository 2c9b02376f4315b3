use super::*;

/// The call site at `file:line`, with the reads of outputs.
fn read(root: &Path, file: &str, line: usize, kind: UsageKind) -> CallSite {
    Reader::new(root).read(file, line, kind, &Wanted::everything())
}

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const COMMON: &str = "inputs = {\n  enable_classiclink = true\n  name = \"from-common\"\n}\n";

#[test]
fn terragrunt_inputs_merge_over_includes() {
    let unit = r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}
include "envcommon" {
  path = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/vpc.hcl"
}
terraform {
  source = "github.com/acme/mods//modules/vpc?ref=v1.0.0"
}
inputs = {
  name       = "dev"
  "azs"      = "us-east-1a"
  cidr_block = local.cidr
}
"#;
    let dir = tree(&[
        ("root.hcl", "locals {}\n"),
        ("_envcommon/vpc.hcl", COMMON),
        ("dev/vpc/terragrunt.hcl", unit),
    ]);
    let site = read(
        dir.path(),
        "dev/vpc/terragrunt.hcl",
        8,
        UsageKind::Terragrunt,
    );
    assert!(site.unknowns.is_empty(), "{:?}", site.unknowns);
    assert_eq!(
        site.passes.keys().collect::<Vec<_>>(),
        ["azs", "cidr_block", "enable_classiclink", "name"]
    );
    assert_eq!(
        site.passes["enable_classiclink"].at,
        Place {
            file: "_envcommon/vpc.hcl".into(),
            line: 2
        }
    );
    assert_eq!(site.passes["name"].at.file, "dev/vpc/terragrunt.hcl");
    assert_eq!(site.passes["name"].at.line, 11, "the unit's own value wins");
    assert_eq!(site.passes["azs"].literal, Some("string"));
    assert_eq!(site.passes["cidr_block"].literal, None);
}

#[test]
fn no_merge_includes_and_hidden_inputs() {
    let unit = r#"include {
  path = "../common.hcl"
  merge_strategy = "no_merge"
}
include "x" {
  path = get_env("X")
}
locals {
  common = {}
}
inputs = merge(local.common, { a = 1 })
"#;
    let dir = tree(&[("common.hcl", COMMON), ("dev/terragrunt.hcl", unit)]);
    let site = read(dir.path(), "dev/terragrunt.hcl", 1, UsageKind::Terragrunt);
    assert_eq!(site.passes.keys().collect::<Vec<_>>(), ["a"]);
    assert!(!site.inputs_complete());
    let whats: Vec<&str> = site.unknowns.iter().map(|u| u.what.as_str()).collect();
    assert!(whats[0].contains("include \"x\""), "{whats:?}");
    assert!(whats[1].contains("`local.common`"), "{whats:?}");
    assert_eq!(site.unknowns[1].at.line, 11);
}

#[test]
fn module_arguments_and_output_reads_in_the_folder() {
    let main = r#"module "vpc" {
  source  = "github.com/acme/mods//modules/vpc?ref=v1.0.0"
  count   = 1
  name    = "dev"
  enable_classiclink = true
}
module "other" {
  source = "./x"
  ids = module.vpc[0].nat_ids
  depends_on = [module.vpc]
}
"#;
    let outputs = r#"output "ids" {
  value = module.vpc[0].vpc_id
}
output "all" {
  value = module.vpc
}
locals {
  x = [for v in module.vpc[*].private_subnets : v]
}
"#;
    let dir = tree(&[
        ("dev/root/main.tf", main),
        ("dev/root/outputs.tf", outputs),
        ("dev/root/notes.md", "module.vpc.gone"),
    ]);
    let site = read(dir.path(), "dev/root/main.tf", 2, UsageKind::Module);
    assert_eq!(
        site.passes.keys().collect::<Vec<_>>(),
        ["enable_classiclink", "name"]
    );
    assert_eq!(site.passes["enable_classiclink"].at.line, 5);
    let reads: Vec<(String, String, usize)> = site
        .reads
        .iter()
        .map(|r| (r.output.clone(), r.at.file.clone(), r.at.line))
        .collect();
    assert_eq!(
        reads,
        vec![
            ("nat_ids".into(), "dev/root/main.tf".into(), 9),
            ("vpc_id".into(), "dev/root/outputs.tf".into(), 2),
            ("private_subnets".into(), "dev/root/outputs.tf".into(), 8),
        ]
    );
    assert_eq!(site.unknowns.len(), 1, "{:?}", site.unknowns);
    assert!(site.unknowns[0].what.contains("as a whole"));
    assert!(!site.unknowns[0].inputs);
    assert!(site.inputs_complete());
}

#[test]
fn other_units_read_outputs_through_dependency_blocks() {
    let reader = r#"dependency "vpc" {
  config_path = "../vpc"
}
dependency "other" {
  config_path = "../other"
}
dependency "lost" {
  config_path = get_env("X")
}
inputs = {
  nats  = dependency.vpc.outputs.nat_ids
  all   = dependency.vpc.outputs
  other = dependency.other.outputs.nat_ids
}
"#;
    let dir = tree(&[
        ("dev/vpc/terragrunt.hcl", "terraform {}\n"),
        ("dev/app/terragrunt.hcl", reader),
        ("dev/quiet/terragrunt.hcl", "inputs = {}\n"),
    ]);
    let units: Vec<String> = [
        "dev/app/terragrunt.hcl",
        "dev/quiet/terragrunt.hcl",
        "dev/vpc/terragrunt.hcl",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut site = CallSite::default();
    let reader = Reader::new(dir.path());
    Dependents::index(&reader, &units).add_to(&reader, "dev/vpc/terragrunt.hcl", &mut site);
    assert_eq!(site.reads.len(), 1, "{:?}", site.reads);
    assert_eq!(site.reads[0].output, "nat_ids");
    assert_eq!(site.reads[0].text, "dependency.vpc.outputs.nat_ids");
    assert_eq!(site.reads[0].at.line, 11);
    let whats: Vec<&str> = site.unknowns.iter().map(|u| u.what.as_str()).collect();
    assert_eq!(whats.len(), 2, "{whats:?}");
    assert!(
        whats.iter().any(|w| w.contains("dependency \"lost\"")),
        "{whats:?}"
    );
    assert!(
        whats
            .iter()
            .any(|w| w.contains("`dependency.vpc.outputs` uses")),
        "{whats:?}"
    );
}

#[test]
fn literal_kinds_against_types() {
    assert!(mismatch("string", "list(string)"));
    assert!(mismatch("list", "string"));
    assert!(mismatch("object", "list(string)"));
    assert!(!mismatch("list", "set(string)"));
    assert!(!mismatch("number", "string"));
    assert!(!mismatch("null", "list(string)"));
    assert!(!mismatch("string", "any"));
    assert!(!mismatch("object", "map(string)"));
}

/// The names, places and literal kinds a unit passes, by name.
fn passes(site: &CallSite) -> Vec<(String, usize, Option<&'static str>)> {
    site.passes
        .iter()
        .map(|(name, p)| (name.clone(), p.at.line, p.literal))
        .collect()
}

#[test]
fn plain_inputs_read_without_the_parser_are_those_the_parser_reads() {
    // The same unit twice: the comment after `count` leaves the second to the parser.
    let unit = |after_count: &str| {
        format!(
            r#"include "root" {{
  path = find_in_parent_folders("root.hcl")
}}
terraform {{
  source = "github.com/acme/mods//modules/vpc?ref=v1.0.0"
}}
inputs = {{
  name    = "dev"
  count   = 3{after_count}
  azs     = ["a", "b"]
  tags    = {{ team = "sre" }}
  vpc_id  = dependency.vpc.outputs.vpc_id
  label   = "${{local.env}}-x"
  enabled = true
}}
"#
        )
    };
    let dir = tree(&[
        ("root.hcl", COMMON),
        ("dev/plain/terragrunt.hcl", &unit("")),
        ("dev/parsed/terragrunt.hcl", &unit(" /* three */")),
    ]);
    let plain = read(
        dir.path(),
        "dev/plain/terragrunt.hcl",
        5,
        UsageKind::Terragrunt,
    );
    let parsed = read(
        dir.path(),
        "dev/parsed/terragrunt.hcl",
        5,
        UsageKind::Terragrunt,
    );
    assert!(plain.unknowns.is_empty() && parsed.unknowns.is_empty());
    assert_eq!(passes(&plain), passes(&parsed));
    assert_eq!(
        passes(&plain),
        [
            ("azs".to_string(), 10, Some("list")),
            ("count".into(), 9, Some("number")),
            ("enable_classiclink".into(), 2, Some("bool")),
            ("enabled".into(), 14, Some("bool")),
            ("label".into(), 13, None),
            ("name".into(), 8, Some("string")),
            ("tags".into(), 11, Some("object")),
            ("vpc_id".into(), 12, None),
        ]
    );
    assert_eq!(plain.passes["enable_classiclink"].at.file, "root.hcl");
    // Only the inputs looked for are kept, from the unit and its includes alike.
    let wanted = Wanted::inputs(["count".into(), "enable_classiclink".into()], false);
    for file in ["dev/plain/terragrunt.hcl", "dev/parsed/terragrunt.hcl"] {
        let site = Reader::new(dir.path()).read(file, 5, UsageKind::Terragrunt, &wanted);
        assert_eq!(
            passes(&site),
            [
                ("count".to_string(), 9, Some("number")),
                ("enable_classiclink".into(), 2, Some("bool")),
            ]
        );
    }
    assert_eq!(plain.passes["name"].at.file, "dev/plain/terragrunt.hcl");
}

#[test]
fn a_file_read_for_many_usages_is_read_once_and_each_usage_gets_its_own() {
    let main = r#"module "a" {
  source = "github.com/acme/mods//modules/a?ref=v1.0.0"
  x      = 1
}
module "b" {
  source = "github.com/acme/mods//modules/b?ref=v1.0.0"
  y      = "2"
}
output "a" {
  value = module.a.id
}
output "b" {
  value = module.b.arn
}
"#;
    let dir = tree(&[("dev/root/main.tf", main)]);
    let reader = Reader::new(dir.path());
    let a = reader.read(
        "dev/root/main.tf",
        2,
        UsageKind::Module,
        &Wanted::everything(),
    );
    let b = reader.read(
        "dev/root/main.tf",
        6,
        UsageKind::Module,
        &Wanted::everything(),
    );
    assert_eq!(passes(&a), [("x".to_string(), 3, Some("number"))]);
    assert_eq!(passes(&b), [("y".to_string(), 7, Some("string"))]);
    let reads = |s: &CallSite| s.reads.iter().map(|r| r.text.clone()).collect::<Vec<_>>();
    assert_eq!(reads(&a), ["module.a.id"]);
    assert_eq!(reads(&b), ["module.b.arn"]);
    // Without outputs to check, the folder is not read; inputs not looked for are not kept.
    let x_only = Wanted::inputs(["x".to_string()], false);
    let inputs_only = reader.read("dev/root/main.tf", 2, UsageKind::Module, &x_only);
    assert!(inputs_only.reads.is_empty());
    assert_eq!(passes(&inputs_only), [("x".to_string(), 3, Some("number"))]);
    let b_without_y = reader.read("dev/root/main.tf", 6, UsageKind::Module, &x_only);
    assert!(b_without_y.passes.is_empty());
    // A line that holds no module source.
    let lost = reader.read("dev/root/main.tf", 3, UsageKind::Module, &x_only);
    assert!(lost.unknowns[0].what.contains("not found again"));
}

#[test]
fn an_unreadable_include_is_unknown_at_each_unit_that_includes_it() {
    let unit = "include \"common\" {\n  path = \"../../common.hcl\"\n}\ninputs = {\n  a = 1\n}\n";
    let dir = tree(&[
        ("common.hcl", "inputs = {\n  b = \n"),
        ("dev/x/terragrunt.hcl", unit),
        ("dev/y/terragrunt.hcl", unit),
    ]);
    let reader = Reader::new(dir.path());
    for file in ["dev/x/terragrunt.hcl", "dev/y/terragrunt.hcl"] {
        let wanted = Wanted::inputs(["a".to_string()], false);
        let site = reader.read(file, 1, UsageKind::Terragrunt, &wanted);
        assert_eq!(site.unknowns.len(), 1, "{:?}", site.unknowns);
        assert_eq!(site.unknowns[0].at.file, file);
        assert_eq!(site.unknowns[0].at.line, 1);
        assert!(
            site.unknowns[0]
                .what
                .starts_with("the included file common.hcl cannot be read"),
            "{}",
            site.unknowns[0].what
        );
        assert_eq!(site.passes.keys().collect::<Vec<_>>(), ["a"]);
    }
}

#[test]
fn an_include_that_names_a_fifo_or_a_device_is_unknown_not_waited_for() {
    let dir = tree(&[(
        "dev/x/terragrunt.hcl",
        "include \"a\" {\n  path = \"../../pipe.hcl\"\n}\ninclude \"b\" {\n  path = \"/dev/zero\"\n}\n",
    )]);
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe.hcl"))
        .status()
        .unwrap();
    assert!(made.success());
    let site = read(dir.path(), "dev/x/terragrunt.hcl", 1, UsageKind::Terragrunt);
    let whats: Vec<&str> = site.unknowns.iter().map(|u| u.what.as_str()).collect();
    assert_eq!(whats.len(), 2, "{whats:?}");
    assert!(whats[0].starts_with("the included file pipe.hcl cannot be read (not a regular file"));
    assert!(whats[1].starts_with("the included file /dev/zero cannot be read (not a regular file"));
}

#[test]
fn units_written_alike_share_a_parse_and_keep_their_own_lines() {
    let include = "include \"x\" {\n  path = get_env(\"X\")\n}\n";
    let unit = |comment_lines: usize| {
        format!(
            "{}{include}inputs = {{\n  a = 1\n}}\n",
            "# note\n".repeat(comment_lines)
        )
    };
    let dir = tree(&[
        ("dev/one/terragrunt.hcl", &unit(1)),
        ("dev/three/terragrunt.hcl", &unit(3)),
    ]);
    let reader = Reader::new(dir.path());
    let wanted = Wanted::inputs(["a".to_string()], false);
    for (file, include_line) in [
        ("dev/one/terragrunt.hcl", 2),
        ("dev/three/terragrunt.hcl", 4),
    ] {
        let site = reader.read(file, 1, UsageKind::Terragrunt, &wanted);
        assert_eq!(site.unknowns.len(), 1, "{:?}", site.unknowns);
        assert_eq!(site.unknowns[0].at.line, include_line, "{file}");
        assert!(
            site.unknowns[0].what.contains("get_env() is not evaluated"),
            "{}",
            site.unknowns[0].what
        );
        assert_eq!(site.passes["a"].at.line, include_line + 4, "{file}");
    }
}

#[test]
fn a_folder_file_that_names_no_module_is_not_parsed_for_reads() {
    let main = r#"module "vpc" {
  source = "github.com/acme/mods//modules/vpc?ref=v1.0.0"
  name   = "dev"
}
"#;
    // Neither file can hide a read of `module.vpc`: no `module` in them is followed by anything
    // but a block's label. Neither parses, and neither makes the reads unknown.
    let quiet = "# the module \"vpc\" is called in main.tf\nresource \"x\" \"y\" {\n  a = [\n}\n";
    let labels = "module \"old\" {\n  source = \"./old\"\n  a = (\n}\n";
    // These may: a read, and `module` used as a whole, in files that do not parse.
    let reads_id = "output \"id\" {\n  value = module.vpc.id\n  broken = [\n}\n";
    let whole = "locals {\n  all = module\n  broken = (\n}\n";
    for (extra, hidden) in [
        (quiet, false),
        (labels, false),
        (reads_id, true),
        (whole, true),
    ] {
        let dir = tree(&[("dev/root/main.tf", main), ("dev/root/extra.tf", extra)]);
        let site = read(dir.path(), "dev/root/main.tf", 2, UsageKind::Module);
        let whats: Vec<&str> = site.unknowns.iter().map(|u| u.what.as_str()).collect();
        assert_eq!(
            site.unknowns.len(),
            usize::from(hidden),
            "{extra}: {whats:?}"
        );
        if hidden {
            assert!(whats[0].contains("does not parse"), "{whats:?}");
            assert_eq!(site.unknowns[0].at.file, "dev/root/extra.tf");
        }
    }
}

#[test]
fn the_usages_of_a_file_read_together_get_what_each_would_alone() {
    let main = r#"module "a" {
  source = "github.com/acme/mods//modules/a?ref=v1.0.0"
  x      = 1
}
module "b" {
  source = "github.com/acme/mods//modules/b?ref=v1.0.0"
  y      = "2"
  x      = true
}
output "a" {
  value = module.a.id
}
"#;
    let dir = tree(&[
        ("dev/root/main.tf", main),
        ("dev/unit/terragrunt.hcl", "inputs = {\n  x = 1\n}\n"),
    ]);
    let reader = Reader::new(dir.path());
    let (all, x_only) = (Wanted::everything(), Wanted::inputs(["x".into()], false));
    let usages = [
        (2, UsageKind::Module, Some(&all)),
        (6, UsageKind::Module, Some(&x_only)),
        (6, UsageKind::Module, None),
        (3, UsageKind::Module, Some(&all)),
        (2, UsageKind::Unit, Some(&all)),
    ];
    let together = reader.read_file("dev/root/main.tf", usages);
    let alone: Vec<CallSite> = usages
        .iter()
        .map(|&(line, kind, wanted)| match wanted {
            Some(w) => reader.read("dev/root/main.tf", line, kind, w),
            None => CallSite::default(),
        })
        .collect();
    assert_eq!(together, alone);
    assert_eq!(passes(&together[1]), [("x".to_string(), 8, Some("bool"))]);
    assert_eq!(together[2], CallSite::default());
    assert!(together[3].unknowns[0].what.contains("not found again"));
    // A file none of whose usages wants anything is not read: a missing one says nothing.
    let none = reader.read_file("dev/gone.tf", [(2, UsageKind::Module, None)]);
    assert_eq!(none, [CallSite::default()]);
    let gone = reader.read_file("dev/gone.tf", [(2, UsageKind::Module, Some(&all))]);
    assert!(
        gone[0].unknowns[0].what.contains("cannot be read"),
        "{gone:?}"
    );
}

#[test]
fn files_the_scan_kept_are_read_as_it_read_them_not_from_disk() {
    // On disk, each file says one thing; as the scan kept them, another.
    let dir = tree(&[
        ("dev/unit/terragrunt.hcl", "inputs = {\n  on_disk = 1\n}\n"),
        (
            "dev/root/main.tf",
            "module \"vpc\" {\n  source = \"./x\"\n  on_disk = 1\n}\n",
        ),
        ("dev/root/outputs.tf", "# nothing\n"),
        ("dev/reader/terragrunt.hcl", "# nothing\n"),
    ]);
    let kept: Vec<(Box<str>, Box<str>)> = [
        ("dev/unit/terragrunt.hcl", "\u{feff}inputs = {\n  kept = 1\n}\n"),
        (
            "dev/root/main.tf",
            "module \"vpc\" {\n  source = \"./x\"\n  kept = 1\n}\n",
        ),
        ("dev/root/outputs.tf", "output \"a\" {\n  value = module.vpc.id\n}\n"),
        (
            "dev/reader/terragrunt.hcl",
            "dependency \"u\" {\n  config_path = \"../unit\"\n}\ninputs = {\n  x = dependency.u.outputs.gone\n}\n",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (Box::from(k), Box::from(v)))
    .collect();
    let reader = Reader::new(dir.path()).with_texts(FileTexts::new(kept));
    let all = Wanted::everything();
    let unit = reader.read("dev/unit/terragrunt.hcl", 1, UsageKind::Terragrunt, &all);
    assert_eq!(passes(&unit), [("kept".to_string(), 2, Some("number"))]);
    let module = reader.read("dev/root/main.tf", 2, UsageKind::Module, &all);
    assert_eq!(passes(&module), [("kept".to_string(), 3, Some("number"))]);
    assert_eq!(module.reads[0].text, "module.vpc.id");
    let units = ["dev/reader/terragrunt.hcl".to_string()];
    let dependents = Dependents::index(&reader, &units);
    let mut site = CallSite::default();
    dependents.add_to(&reader, "dev/unit/terragrunt.hcl", &mut site);
    assert_eq!(site.reads[0].text, "dependency.u.outputs.gone");
}

#[test]
fn find_in_parent_folders_answers_each_unit_from_its_own_folder_once_looked_up() {
    let unit = "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\ninputs = {\n  own = 1\n}\n";
    let dir = tree(&[
        ("root.hcl", "inputs = {\n  from_root = 1\n}\n"),
        ("dev/a/terragrunt.hcl", unit),
        ("dev/b/terragrunt.hcl", unit),
        ("dev/deep/root.hcl", "inputs = {\n  from_deep = 1\n}\n"),
        ("dev/deep/c/terragrunt.hcl", unit),
        ("dev/deep/c/d/terragrunt.hcl", unit),
        (
            "x/terragrunt.hcl",
            "include \"gone\" {\n  path = find_in_parent_folders(\"gone.hcl\")\n}\n",
        ),
    ]);
    let reader = Reader::new(dir.path());
    let names = |file: &str| {
        let site = reader.read(file, 1, UsageKind::Terragrunt, &Wanted::everything());
        site.passes.keys().cloned().collect::<Vec<_>>()
    };
    // Twice each, in an order that asks the cache before and after each folder is looked up.
    for _ in 0..2 {
        assert_eq!(names("dev/a/terragrunt.hcl"), ["from_root", "own"]);
        assert_eq!(names("dev/deep/c/d/terragrunt.hcl"), ["from_deep", "own"]);
        assert_eq!(names("dev/b/terragrunt.hcl"), ["from_root", "own"]);
        assert_eq!(names("dev/deep/c/terragrunt.hcl"), ["from_deep", "own"]);
    }
    let gone = reader.read(
        "x/terragrunt.hcl",
        1,
        UsageKind::Terragrunt,
        &Wanted::everything(),
    );
    assert!(gone.unknowns[0].what.contains("finds nothing"), "{gone:?}");
}

#[test]
fn call_sites_from_the_scans_texts_and_items_are_those_read_from_disk() {
    let unit = "\u{feff}include \"root\" {\r\n  path = find_in_parent_folders(\"root.hcl\")\r\n}\r\nterraform {\r\n  source = \"github.com/acme/mods//modules/vpc?ref=v1.0.0\"\r\n}\r\ninputs = {\r\n  name = \"dev\" # a comment\r\n  count = 3\r\n  doc = <<EOT\r\n}\r\nEOT\r\n}\r\n";
    let main = "module \"a\" {\n  source = \"github.com/acme/mods//modules/a?ref=v1.0.0\"\n  x      = 1\n}\n\n# between\nmodule \"b\" {\n  source = \"github.com/acme/mods//modules/b?ref=v1.0.0\"\n  y = { z = [1, 2] }\n}\nmodule \"c\" { # the parser reads this one\n  source = \"github.com/acme/mods//modules/c?ref=v1.0.0\"\n  w = 1 /* one */\n}\noutput \"a\" {\n  value = module.a.id\n}\n";
    let files = [
        ("root.hcl", COMMON),
        ("dev/vpc/terragrunt.hcl", unit),
        ("dev/root/main.tf", main),
    ];
    let dir = tree(&files);
    let request = crate::find::scan::ScanRequest {
        working_dir: dir.path().to_path_buf(),
        dirs: Default::default(),
    };
    let scanned = crate::find::scan::scan_keeping_texts(&request).unwrap();
    assert_eq!(scanned.usages.len(), 4, "{:?}", scanned.errors);
    for (file, text) in &files[1..] {
        let (kept, items) = scanned.texts.get_lexed(file).unwrap();
        assert_eq!(kept, *text);
        let lexed = hcl::top_level_items(hcl::strip_bom(text).0).unwrap();
        assert_eq!(items, Some(&lexed[..]), "{file}");
    }
    let all = Wanted::everything();
    let from_disk: Vec<CallSite> = (scanned.usages.iter())
        .map(|u| Reader::new(dir.path()).read(&u.file, u.line, u.kind, &all))
        .collect();
    assert!(
        from_disk.iter().all(|s| !s.passes.is_empty()),
        "{from_disk:?}"
    );
    // Emptied on disk, the files are read as the scan kept them, items and all.
    for (file, _) in &files[1..] {
        std::fs::write(dir.path().join(file), "# emptied\n").unwrap();
    }
    let reader = Reader::new(dir.path()).with_texts(scanned.texts.clone());
    let kept: Vec<CallSite> = (scanned.usages.iter())
        .map(|u| reader.read(&u.file, u.line, u.kind, &all))
        .collect();
    assert_eq!(kept, from_disk);
}
