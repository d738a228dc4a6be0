"""The README of a starter kit: what it is, the two commands, its blueprint's row of the
library's blueprint table, the deploy path for its stacks, its layout, and where it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starter_kit.export import Blueprint

# What each top-level entry of a kit is, for the layout section (entries a kit lacks are left out).
LAYOUT = {
    "app.py": "builds the blueprint's stacks for one stage; nothing else",
    "app.sh": "what cdk.json runs: app.py with .venv's Python, or one line saying to run "
    "`make install` first",
    "cdk.json": "app command, feature flags, stage and blueprint settings",
    "house/": "what every blueprint shares: settings, defaults, unique names, network, the house "
    "Lambda and its Docker-free bundler, cdk-nag, the account baseline stack",
    "patterns/": "the reusable L3 constructs this blueprint composes",
    "blueprints/": "the blueprint's package: stack.py (settings + Stack + build()) and the "
    "constructs only it uses; BLUEPRINTS in __init__.py is the index",
    "lambda_src/": "one folder per Lambda function = its deployment asset (layers/: shared code)",
    "containers/": "the container images the blueprint builds",
    "site/": "the static site's content",
    "sample_data/": "sample data to load after a deploy",
    "examples/": "a client of the deployed blueprint",
    "benchmarks/": "measurements the tests and the doc page use",
    "deployment/": "what runs against a real account: preflight, smoke tests, deploy-time rules",
    "tests/": "synth-once fixtures, gates (cdk-nag, cfn-lint, deploy rules), snapshots, the "
    "blueprint's tests; support/ holds the helpers",
    "docs/": "the blueprint's page and the deploy guide",
}


def blueprint_rows(upstream_readme: str, key: str, shared_stack_ids: tuple[str, ...]) -> list[str]:
    """The library README's blueprint table cut to its header, the shared stacks' rows and the
    row whose doc is `docs/<key>.md`."""
    section = upstream_readme.split("\n## Blueprints", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    if len(table) < 3:
        raise ValueError("README.md has no blueprint table under '## Blueprints'")
    rows = [
        row
        for row in table[2:]
        if f"(docs/{key}.md)" in row or any(f"`{i}`" in row for i in shared_stack_ids)
    ]
    if not any(f"(docs/{key}.md)" in row for row in rows):
        raise ValueError(f"README.md's blueprint table has no row linking docs/{key}.md")
    return table[:2] + rows


def kit_readme(
    *,
    upstream_readme: str,
    blueprint: Blueprint,
    shared_stack_ids: tuple[str, ...],
    files: list[str],
    upstream: str,
    version: str,
) -> str:
    key = blueprint.key
    rows = blueprint_rows(upstream_readme, key, shared_stack_ids)
    (row,) = [r for r in rows if f"(docs/{key}.md)" in r]
    title = row.strip("| ").split("|", 1)[0].split(":", 1)[0].strip()
    tests = blueprint.tests
    stacks = list(blueprint.dev_stack_ids)
    last = stacks[-1]
    first_deps = [s for s in stacks if s in blueprint.depends_on.get(last, ())]
    deploy_note = f"  # deploys {', '.join(first_deps)} first" if first_deps else ""
    baseline = shared_stack_ids[0] if shared_stack_ids else "AccountBaseline"
    link = upstream if "://" in upstream or upstream.startswith("git@") else f"file://{upstream}"
    deploy = "\n".join(
        [
            f"make preflight STACK={last}{' ' * max(1, 27 - len(last))}# checks your account, "
            "prints the fix for each FAIL",
            "npx cdk bootstrap aws://<account>/<region>   # once per account and region",
            f"make deploy STACK={baseline}                 # once per account and region",
            f"make preflight STACK={last} FIX=1",
            f"make deploy STACK={last}{deploy_note}",
            *(f"make smoke STACK={s}" for s in stacks),
            *(f"make destroy STACK={s}" for s in reversed(stacks)),
        ]
    )
    layout = _layout(blueprint, files)
    return f"""# {title}: a starter kit

The `{key}` blueprint of [AWS architecture blueprints]({link}) on its own, exported at
`{version}` with `make export BLUEPRINT={key}`: its stacks, the house code and the patterns it
imports, its Lambda code and assets, its tests and its doc page ([docs/{key}.md](docs/{key}.md)),
and nothing of the other blueprints. Fork it and make it yours;
[Updating from upstream](#updating-from-upstream) says how to pull fixes later.

## Two commands

```bash
make synth      # sets up .venv + the pinned CDK CLI, synthesizes the blueprint into cdk.out/
make test       # installs the test tools and runs the whole suite
```

Needs Python 3.11+, Node 20+ (the project pins and uses Node 22 from npm), `make`. No AWS
account and no Docker. The first run installs into `.venv` (about 800 MB) and `node_modules`
(about 210 MB): 2–3 minutes on a fresh machine, said as it goes. `make synth STAGE=prod`
synthesizes the production profile; `make test T={tests}` runs the blueprint's own tests.
`npx cdk ...` works once `make install` (or either command above) has run; before, it says so.

## Blueprints

{chr(10).join(rows)}

## Deploying

[docs/deploying.md](docs/deploying.md) is a first real deploy step by step: prerequisites, then

```bash
{deploy}
```

Stack names and every physical name that must be unique carry the stage (`{last}-dev`,
`{last}-prod`), so dev and prod share an account and region. `make help` lists every verb.

## Layout

```
{layout}
```

## Configuration

`cdk.json` holds the settings of each stage (`stages.dev`, `stages.prod`) and the blueprint's
settings per stage under `blueprints`; `-c stage=prod` picks the stage. A malformed or unknown
setting fails the synth naming it and what is allowed. Every stack is tagged `Project`,
`Environment` (the stage) and `Team` for cost allocation, plus any `tags` you add.

## Updating from upstream

`.starter-kit.json` records where this kit came from and the files the export wrote. To pull
fixes later, keep the pristine exports on a branch of their own and merge it:

```bash
git switch -c upstream-kit <the commit of the first export>   # once: the export as it came
make -C <upstream checkout> export BLUEPRINT={key} DEST=$PWD   # replaces the exported files only
git commit -am "{key} from upstream" && git switch main && git merge upstream-kit
```

Git's merge keeps your changes and brings in upstream's; where both touched a line it asks.
"""


def _layout(blueprint: Blueprint, files: list[str]) -> str:
    tops = {p.split("/", 1)[0] + ("/" if "/" in p else "") for p in files}
    width = max(len(name) for name in LAYOUT) + 2
    lines = []
    for name, what in LAYOUT.items():
        if name not in tops:
            continue
        if name == "lambda_src/":
            folders = sorted({"/".join(p.split("/")[1:-1]) for p in files if p.startswith(name)})
            folders = [f for f in folders if f and not any(f.startswith(g + "/") for g in folders)]
            what += ": " + ", ".join(f"{f}/" for f in folders)
        if name == "blueprints/":
            name = f"{blueprint.package}/"
        lines.append(f"{name:<{width}}{what}")
    return "\n".join(lines)
