#!/usr/bin/env python3
"""Generates a synthetic Terraform/Terragrunt live repository for Baton's benchmarks.

Layout (E environments x A*scale accounts x U units, one file per unit):

    root.hcl
    _envcommon/<repo>--<module>.hcl         base_source_url of a component
    <env>/env.hcl
    <env>/<account>/account.hcl
    <env>/<account>/<unit>/terragrunt.hcl   direct git::https / git@ source, or _envcommon include
    <env>/<account>/<unit>/main.tf          several `module` blocks, comments, a heredoc
    <env>/<account>/<unit>/terragrunt.stack.hcl   `unit` blocks

Every versioned source points at one of REPOS module repositories on github.com (owner
`acme-infra`), picked with a Zipf-like distribution so that a few repositories are used
everywhere. Refs are taken from the 30 tags the API stand-in serves (scripts/github-standin.py):
v1.0.0 ... v3.9.0; no file ever uses v3.9.0, so every dependency has an update.

Only github.com sources and local paths are generated: `baton report` on this tree talks to the
GitHub API URL it is given and to nothing else (no registry, no `git ls-remote`).

Writes <out>/.bench-manifest.json with the file count and the usage count per dependency.
Deterministic for a given set of arguments (seeded PRNG).
"""

import argparse
import json
import os
import random
import shutil
import sys

OWNER = "acme-infra"
REPOS = 50
ENV_NAMES = ["dev", "stage", "prod", "qa", "sandbox", "perf", "dr", "demo"]
SERVICES = [
    "vpc", "eks", "rds", "s3", "iam", "alb", "sqs", "sns", "lambda", "ecs",
    "cloudfront", "route53", "kms", "elasticache", "dynamodb", "waf", "acm", "cloudwatch",
    "msk", "opensearch", "efs", "ec2", "asg", "bastion", "vpn", "transit-gateway", "guardduty",
    "securityhub", "config", "cloudtrail", "backup", "ecr", "secrets-manager", "ssm", "glue",
    "athena", "redshift", "kinesis", "step-functions", "api-gateway", "cognito", "ses",
    "memorydb", "documentdb", "neptune", "batch", "emr", "sagemaker", "appsync", "organizations",
]
MODULE_NAMES = ["core", "service", "cluster", "policy", "monitoring", "replica"]
# The 30 tags of every module repository: v1.0.0 ... v3.9.0.
TAGS = [f"v{major}.{minor}.0" for major in (1, 2, 3) for minor in range(10)]
USED_TAGS = TAGS[:-1]


def zipf_weights(n, s):
    return [1.0 / (k ** s) for k in range(1, n + 1)]


class Repo:
    def __init__(self, index, rng):
        self.index = index
        self.name = f"terraform-aws-{SERVICES[index % len(SERVICES)]}"
        if index >= len(SERVICES):
            self.name += f"-{index // len(SERVICES)}"
        count = 1 + (index % 4) if index else 3
        self.modules = MODULE_NAMES[:count]
        self.module_weights = zipf_weights(count, 1.0)
        # The version each environment has reached (dev ahead of stage ahead of prod).
        self.base = rng.randrange(4, len(USED_TAGS) - 4)

    def dep_id(self, module):
        return f"{OWNER}/{self.name}/{module}"


class Gen:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.repos = [Repo(i, self.rng) for i in range(REPOS)]
        self.repo_weights = zipf_weights(REPOS, args.zipf)
        self.files = 0
        self.bytes = 0
        self.usages = {}  # dependency id -> files using it
        self.envcommon = {}  # (repo index, module) -> file name

    # --- picking --------------------------------------------------------------------------------

    def pick(self, forced=None):
        if forced is not None:
            repo = self.repos[forced]
        else:
            repo = self.rng.choices(self.repos, self.repo_weights)[0]
        module = self.rng.choices(repo.modules, repo.module_weights)[0]
        return repo, module

    def ref(self, repo, env_index):
        # Later environments lag behind; a few usages are mixed.
        i = max(0, repo.base - 2 * env_index)
        if self.rng.random() < 0.08:
            i = max(0, i - self.rng.randrange(1, 4))
        return USED_TAGS[min(i, len(USED_TAGS) - 1)]

    def https(self, repo, module, ref):
        return f"git::https://github.com/{OWNER}/{repo.name}.git//modules/{module}?ref={ref}"

    def ssh(self, repo, module, ref):
        return f"git::git@github.com:{OWNER}/{repo.name}.git//modules/{module}?ref={ref}"

    def short(self, repo, module, ref):
        return f"github.com/{OWNER}/{repo.name}//modules/{module}?ref={ref}"

    # --- writing --------------------------------------------------------------------------------

    def write(self, path, text):
        full = os.path.join(self.args.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)
        self.files += 1
        self.bytes += len(text.encode())

    def used(self, deps):
        for d in set(deps):
            self.usages[d] = self.usages.get(d, 0) + 1

    def inputs(self, name, lines):
        rng = self.rng
        out = ["inputs = {", f'  name = "{name}"']
        for i in range(lines):
            kind = rng.randrange(5)
            if kind == 0:
                out.append(f"  setting_{i} = {rng.randrange(1, 5000)}")
            elif kind == 1:
                out.append(f'  label_{i}   = "{rng.choice(SERVICES)}-{rng.randrange(100)}"')
            elif kind == 2:
                out.append(f"  enabled_{i} = {rng.choice(['true', 'false'])}")
            elif kind == 3:
                out.append(f'  cidrs_{i} = ["10.{rng.randrange(256)}.0.0/16", "10.{rng.randrange(256)}.0.0/16"]')
            else:
                out.append(f"  tags_{i} = {{")
                out.append(f'    Team  = "{rng.choice(["platform", "data", "web", "sre"])}"')
                out.append(f'    Owner = "{rng.choice(["alice", "bob", "carol"])}@example.com"')
                out.append("  }")
        out.append("}")
        return "\n".join(out) + "\n"

    def dependency_blocks(self, count):
        out = []
        for i in range(count):
            other = self.rng.choice(SERVICES)
            out.append(
                f'dependency "{other}_{i}" {{\n'
                f'  config_path = "../{other}"\n\n'
                f"  mock_outputs = {{\n"
                f'    id = "mock-{other}"\n'
                f"  }}\n"
                f"}}\n"
            )
        return "\n".join(out)

    def terragrunt_unit(self, path, name, env_index, forced):
        rng = self.rng
        repo, module = self.pick(forced)
        ref = self.ref(repo, env_index)
        dep = repo.dep_id(module)
        style = rng.random()
        header = (
            f"# {name}: managed by the platform team.\n"
            f"# Source pinned below; bump it with `baton update`.\n\n"
            'include "root" {\n  path = find_in_parent_folders("root.hcl")\n}\n\n'
        )
        if style < 0.22 and forced is None:
            # The _envcommon layout: the base URL lives in a shared file, the ref here.
            common = self.envcommon_file(repo, module)
            body = (
                'include "envcommon" {\n'
                f'  path   = "${{dirname(find_in_parent_folders("root.hcl"))}}/_envcommon/{common}"\n'
                "  expose = true\n}\n\n"
                "terraform {\n"
                f'  source = "${{include.envcommon.locals.base_source_url}}?ref={ref}"\n'
                "}\n"
            )
        elif style < 0.95:
            src = self.ssh(repo, module, ref) if rng.random() < 0.3 else self.https(repo, module, ref)
            body = f'terraform {{\n  source = "{src}"\n}}\n'
        elif style < 0.975:
            # A branch ref: reported as skipped, never looked up.
            src = self.https(repo, module, "main")
            body = f'terraform {{\n  source = "{src}"\n}}\n'
            dep = None
        else:
            body = 'terraform {\n  source = "../../../modules//local-helper"\n}\n'
            dep = None
        text = (
            header
            + body
            + "\n"
            + self.dependency_blocks(rng.randrange(0, 3))
            + "\n"
            + self.inputs(name, rng.randrange(8, 30))
        )
        self.write(path, text)
        self.used([dep] if dep else [])

    def envcommon_file(self, repo, module):
        key = (repo.index, module)
        if key not in self.envcommon:
            name = f"{repo.name}--{module}.hcl"
            self.envcommon[key] = name
            url = f"git::https://github.com/{OWNER}/{repo.name}.git//modules/{module}"
            self.write(
                f"_envcommon/{name}",
                "# Shared configuration of the component; environments pin the ref.\n"
                "locals {\n"
                f'  base_source_url = "{url}"\n'
                f'  component       = "{repo.name}-{module}"\n'
                "}\n\n"
                "inputs = {\n"
                f'  component = "{repo.name}-{module}"\n'
                "}\n",
            )
        return self.envcommon[key]

    def terraform_unit(self, path, name, env_index, forced):
        rng = self.rng
        parts = [
            "# Root module of the unit.\n",
            'terraform {\n  required_version = ">= 1.5"\n}\n\n',
            "locals {\n"
            f'  name = "{name}"\n'
            "  policy = <<-EOT\n"
            "    {\n"
            '      "Version": "2012-10-17",\n'
            '      "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]\n'
            "    }\n"
            "  EOT\n"
            "}\n\n",
        ]
        deps = []
        for i in range(rng.randrange(2, 6)):
            repo, module = self.pick(forced if i == 0 else None)
            ref = self.ref(repo, env_index)
            roll = rng.random()
            if roll < 0.55:
                src = self.https(repo, module, ref)
            elif roll < 0.75:
                src = self.ssh(repo, module, ref)
            elif roll < 0.95:
                src = self.short(repo, module, ref)
            else:
                src = "../../modules/helpers"
            if not src.startswith(".."):
                deps.append(repo.dep_id(module))
            parts.append(
                f'module "{module}_{i}" {{\n'
                f'  source = "{src}"\n\n'
                f"  name        = \"${{local.name}}-{i}\"\n"
                f"  policy_json = local.policy\n"
                f"  capacity    = {rng.randrange(1, 64)}\n"
                f"  description = <<EOT\n"
                f"  Instance {i} of {module}; see the module's README for the inputs.\n"
                f"  EOT\n"
                f"}}\n\n"
            )
            if rng.random() < 0.2:
                other = self.rng.choice(self.repos)
                parts.append(
                    f"# module \"old_{i}\" {{\n"
                    f"#   source = \"{self.https(other, other.modules[0], 'v0.1.0')}\"\n"
                    f"# }}\n\n"
                )
        parts.append('output "name" {\n  value = local.name\n}\n')
        self.write(path, "".join(parts))
        self.used(deps)

    def stack_unit(self, path, name, env_index, forced):
        rng = self.rng
        parts = [f"# Stack {name}.\n\n", 'locals {\n  region = "us-east-1"\n}\n\n']
        deps = []
        for i in range(rng.randrange(2, 5)):
            repo, module = self.pick(forced if i == 0 else None)
            ref = self.ref(repo, env_index)
            deps.append(repo.dep_id(module))
            parts.append(
                f'unit "{module}_{i}" {{\n'
                f'  source = "{self.https(repo, module, ref)}"\n'
                f'  path   = "{module}_{i}"\n\n'
                f"  values = {{\n"
                f"    region = local.region\n"
                f"    size   = {rng.randrange(1, 10)}\n"
                f"  }}\n"
                f"}}\n\n"
            )
        self.write(path, "".join(parts))
        self.used(deps)

    def run(self):
        a = self.args
        if os.path.exists(a.out):
            if not a.force:
                sys.exit(f"{a.out} exists; pass --force to replace it")
            shutil.rmtree(a.out)
        os.makedirs(a.out)
        self.write(
            "root.hcl",
            'remote_state {\n  backend = "s3"\n  config = {\n    bucket = "acme-tf-state"\n'
            '    key    = "${path_relative_to_include()}/terraform.tfstate"\n'
            '    region = "us-east-1"\n  }\n}\n',
        )
        envs = [ENV_NAMES[i] if i < len(ENV_NAMES) else f"env{i}" for i in range(a.envs)]
        accounts = a.accounts * a.scale
        forced = 0
        for e, env in enumerate(envs):
            self.write(f"{env}/env.hcl", f'locals {{\n  environment = "{env}"\n}}\n')
            for acct in range(accounts):
                acct_dir = f"{env}/{env}-account{acct:03d}"
                self.write(
                    f"{acct_dir}/account.hcl",
                    f'locals {{\n  account_id = "{100000000000 + acct}"\n}}\n',
                )
                for u in range(a.units):
                    svc = SERVICES[u % len(SERVICES)]
                    name = f"{svc}-{u:04d}"
                    # Every repository is used at least once, in the first units.
                    force = forced if forced < REPOS else None
                    forced += 1
                    roll = self.rng.random()
                    if roll < 0.70:
                        self.terragrunt_unit(f"{acct_dir}/{name}/terragrunt.hcl", name, e, force)
                    elif roll < 0.93:
                        self.terraform_unit(f"{acct_dir}/{name}/main.tf", name, e, force)
                    else:
                        self.stack_unit(f"{acct_dir}/{name}/terragrunt.stack.hcl", name, e, force)
        top = sorted(self.usages.items(), key=lambda kv: (-kv[1], kv[0]))
        manifest = {
            "files": self.files,
            "bytes": self.bytes,
            "repositories": REPOS,
            "tags_per_repository": len(TAGS),
            "latest_tag": TAGS[-1],
            "owner": OWNER,
            "dependencies": len(top),
            "top_dependency": top[0][0],
            "top_dependency_files": top[0][1],
            "files_per_dependency": dict(top),
        }
        with open(os.path.join(a.out, ".bench-manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        print(
            f"{a.out}: {self.files} files, {self.bytes / 1e6:.1f} MB, {len(top)} dependencies "
            f"in {REPOS} repositories; most used: {top[0][0]} in {top[0][1]} files",
            file=sys.stderr,
        )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="directory to create")
    p.add_argument("--envs", type=int, default=3, help="environments (default 3)")
    p.add_argument("--accounts", type=int, default=10, help="accounts per environment at 1x (default 10)")
    p.add_argument("--units", type=int, default=300, help="units per account (default 300)")
    p.add_argument("--scale", type=int, default=1, help="multiplies the accounts: 1, 4, 16 (default 1)")
    p.add_argument("--zipf", type=float, default=1.2, help="Zipf exponent over repositories (default 1.2)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    main_args = p.parse_args()
    Gen(main_args).run()


if __name__ == "__main__":
    main()
