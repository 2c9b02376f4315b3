//! In-process benchmarks of the steps every scanned or edited file goes through: source parsing,
//! `hcl::find` on typical files (and the same with a parse of the whole file), `hcl::find` and
//! the dry-run diff on files of 1,000 to 16,000 blocks (time per block must stay flat), a
//! verified edit, and the breaking-change impact's reading of a module's interface and of a
//! usage. Whole-process figures (scan, report, update on generated trees) come from
//! `scripts/bench.sh`.
//!
//!     CARGO_TARGET_DIR=/tmp/target-bench cargo bench --bench inprocess

use baton::find::callsite;
use baton::find::hcl::{self, FileKind, UsageKind};
use baton::find::interface::{self, Interface};
use baton::find::scan::DiskFiles;
use baton::find::source::Source;
use baton::update::edit;
use baton::version::Version;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;

const SOURCES: &[&str] = &[
    "git::https://github.com/acme-infra/terraform-aws-vpc.git//modules/core?ref=v1.4.0",
    "git::git@github.com:acme-infra/terraform-aws-eks.git//modules/cluster?ref=v2.0.0",
    "github.com/acme-infra/terraform-aws-s3//modules/core?depth=1&ref=v3.1.0",
    "tfr:///terraform-aws-modules/vpc/aws?version=5.1.2",
    "terraform-aws-modules/vpc/aws",
];

/// A unit as the generator of `scripts/bench.sh` writes them: a direct source, dependency
/// blocks and a sizeable `inputs` map.
fn terragrunt_unit() -> String {
    let mut s = String::from(
        "# vpc-0001: managed by the platform team.\n\ninclude \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n\n\
         terraform {\n  source = \"git::https://github.com/acme-infra/terraform-aws-vpc.git//modules/core?ref=v1.4.0\"\n}\n\n\
         dependency \"kms\" {\n  config_path = \"../kms\"\n\n  mock_outputs = {\n    id = \"mock-kms\"\n  }\n}\n\ninputs = {\n  name = \"vpc-0001\"\n",
    );
    for i in 0..20 {
        s.push_str(&format!(
            "  setting_{i} = {}\n  cidrs_{i} = [\"10.{i}.0.0/16\", \"10.{}.0.0/16\"]\n  tags_{i} = {{\n    Team  = \"platform\"\n    Owner = \"alice@example.com\"\n  }}\n",
            i * 37,
            i + 100
        ));
    }
    s.push_str("}\n");
    s
}

/// A root module with several `module` blocks, heredocs and a commented-out block.
fn terraform_root() -> String {
    let mut s = String::from(
        "terraform {\n  required_version = \">= 1.5\"\n}\n\nlocals {\n  name = \"app\"\n  policy = <<-EOT\n    {\"Version\": \"2012-10-17\"}\n  EOT\n}\n\n",
    );
    for (i, src) in SOURCES[..3].iter().enumerate() {
        s.push_str(&format!(
            "module \"m{i}\" {{\n  source = \"{src}\"\n\n  name        = \"${{local.name}}-{i}\"\n  policy_json = local.policy\n  description = <<EOT\n  Instance {i}.\n  EOT\n}}\n\n# module \"old{i}\" {{\n#   source = \"{src}\"\n# }}\n\n"
        ));
    }
    s.push_str("module \"registry\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"~> 5.1\"\n}\n");
    s
}

/// A root module of `n` module blocks: scan time must grow linearly with it.
fn many_blocks(n: usize) -> String {
    let mut s = String::with_capacity(n * 80);
    for i in 0..n {
        s.push_str(&format!(
            "module \"m{i}\" {{\n  source = \"github.com/acme/mods//m{}?ref=v1.{}.0\"\n}}\n",
            i % 7,
            i % 9
        ));
    }
    s
}

fn source_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("source");
    g.throughput(Throughput::Elements(SOURCES.len() as u64));
    g.bench_function("parse+dependency_id", |b| {
        b.iter(|| {
            for s in SOURCES {
                let src = Source::parse(black_box(s));
                black_box(src.dependency_id());
            }
        })
    });
    g.finish();
}

fn find(c: &mut Criterion) {
    let files = DiskFiles::within(Path::new("live"));
    let mut g = c.benchmark_group("hcl::find");
    for (name, path, kind, text) in [
        (
            "terragrunt.hcl",
            "live/dev/a/vpc/terragrunt.hcl",
            FileKind::Terragrunt,
            terragrunt_unit(),
        ),
        (
            "main.tf",
            "live/dev/a/app/main.tf",
            FileKind::Terraform,
            terraform_root(),
        ),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| hcl::find(Path::new(path), kind, black_box(&text), &files).unwrap())
        });
        // The same result from a parse of the whole file: what skipping the items that cannot
        // hold a source saves.
        g.bench_function(format!("{name} (whole parse)"), |b| {
            b.iter(|| {
                hcl::find_parsing_all(Path::new(path), kind, black_box(&text), &files).unwrap()
            })
        });
    }
    g.finish();
}

/// `hcl::find` on files of 1,000 to 16,000 blocks, and the diff of editing all of them: the time
/// per block must stay flat.
fn blocks_per_file(c: &mut Criterion) {
    let files = DiskFiles::within(Path::new("live"));
    let mut g = c.benchmark_group("hcl::find blocks per file");
    g.sample_size(10);
    for n in [1_000, 4_000, 16_000] {
        let text = many_blocks(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n} module blocks"), |b| {
            b.iter(|| {
                hcl::find(
                    Path::new("live/dev/main.tf"),
                    FileKind::Terraform,
                    black_box(&text),
                    &files,
                )
                .unwrap()
            })
        });
        // The dry-run diff of an update that edits every block.
        let edited = text.replace("?ref=v1.", "?ref=v2.");
        g.bench_function(format!("{n} module blocks, dry-run diff"), |b| {
            b.iter(|| edit::unified_diff("main.tf", black_box(&text), black_box(&edited)))
        });
    }
    g.finish();
}

fn apply_verified(c: &mut Criterion) {
    let files = DiskFiles::within(Path::new("live"));
    let text = terragrunt_unit();
    let path = Path::new("live/dev/a/vpc/terragrunt.hcl");
    let found = hcl::find(path, FileKind::Terragrunt, &text, &files).unwrap();
    let usage = &found[0];
    let site = usage.site.clone().unwrap();
    let current = usage.current.clone().unwrap();
    let new = edit::new_version_text(site.form, &current, &Version::new(1, 5, 0)).unwrap();
    let splice = edit::splice_for(&site, &current, new);
    let mut g = c.benchmark_group("edit");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("apply_verified terragrunt.hcl", |b| {
        b.iter(|| {
            edit::apply_verified(
                path,
                FileKind::Terragrunt,
                black_box(&text),
                std::slice::from_ref(&splice),
                &files,
            )
            .unwrap()
        })
    });
    g.finish();
}

/// A module's variables file at a major version: 30 inputs, one removed and one made required
/// in the next major.
fn module_variables(major: u32) -> String {
    let mut s = String::new();
    for i in 0..30 {
        if major > 1 && i == 3 {
            continue;
        }
        let default = if major > 1 && i == 4 {
            ""
        } else {
            "  default = 1\n"
        };
        s.push_str(&format!(
            "variable \"setting_{i}\" {{\n  description = \"Setting {i}.\"\n  type = number\n{default}}}\n\n"
        ));
    }
    s.push_str("output \"id\" {\n  value = \"x\"\n}\n");
    s
}

fn impact(c: &mut Criterion) {
    let (v1, v2) = (module_variables(1), module_variables(2));
    let mut g = c.benchmark_group("impact");
    g.bench_function("interface read x2 + diff (30 inputs)", |b| {
        b.iter(|| {
            let old = Interface::read([("variables.tf", black_box(v1.as_str()))]);
            let new = Interface::read([("variables.tf", black_box(v2.as_str()))]);
            interface::diff(&old, &new)
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("dev/a/vpc/terragrunt.hcl");
    std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
    std::fs::write(&unit, terragrunt_unit()).unwrap();
    std::fs::write(dir.path().join("root.hcl"), "locals {}\n").unwrap();
    // The include is read once per run (the reader keeps it), the unit once per usage.
    let reader = callsite::Reader::new(dir.path());
    let wanted = callsite::Wanted::inputs(["name".to_string(), "cidr".to_string()], false);
    g.bench_function(
        "Reader::read terragrunt.hcl (20-entry inputs, an include)",
        |b| {
            b.iter(|| {
                reader.read(
                    "dev/a/vpc/terragrunt.hcl",
                    8,
                    UsageKind::Terragrunt,
                    black_box(&wanted),
                )
            })
        },
    );
    g.finish();
}

criterion_group!(
    benches,
    source_parse,
    find,
    blocks_per_file,
    apply_verified,
    impact
);
criterion_main!(benches);
