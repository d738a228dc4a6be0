"""The README of a starter kit: what it is, the two commands, its blueprint's row of the
library's blueprint table, the deploy path for its stacks, its layout, and where it came from."""

from __future__ import annotations

import textwrap
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
    stacks = list(blueprint.dev_stack_ids)
    last = stacks[-1]
    first = [s for s in stacks if s in blueprint.depends_on.get(last, ())]
    baseline = shared_stack_ids[0] if shared_stack_ids else "AccountBaseline"
    link = upstream if "://" in upstream or upstream.startswith("git@") else f"file://{upstream}"
    deploy = _commented(
        [
            (f"make preflight STACK={last}", "checks your account, prints the fix for each FAIL"),
            ("npx cdk bootstrap aws://<account>/<region>", "once per account and region"),
            (f"make deploy STACK={baseline}", "once per account and region"),
            (f"make preflight STACK={last} FIX=1", "creates missing service-linked roles"),
            (f"make deploy STACK={last}", f"deploys {', '.join(first)} first" if first else ""),
            *((f"make smoke STACK={s}", "proves the deployed stack works") for s in stacks),
            *((f"make destroy STACK={s}", "") for s in reversed(stacks)),
        ]
    )
    update = _commented(
        [
            ('git init && git add -A && git commit -m "starter kit"', "once"),
            ("git branch upstream-kit", "once: the export as it came"),
            ("git switch upstream-kit", "later, to pull fixes"),
            (f"make -C <upstream checkout> export BLUEPRINT={key} DEST=$PWD", ""),
            ('git add -A && git commit -m "from upstream"', ""),
            ("git switch main && git merge upstream-kit", ""),
        ]
    )
    intro = _wrap(
        f"The `{key}` blueprint of [AWS architecture blueprints]({link}) on its own, exported "
        f"at `{version}` with `make export BLUEPRINT={key}`: its stacks, the house code and "
        "the patterns it imports, its Lambda code and assets, its tests and its doc page "
        f"([docs/{key}.md](docs/{key}.md)), and nothing of the other blueprints. Fork it and "
        "make it yours; [Updating from upstream](#updating-from-upstream) says how to pull "
        "fixes later."
    )
    setup = _wrap(
        "Needs Python 3.11+, Node 20+ (the project pins and uses Node 22 from npm), `make`. No "
        "AWS account and no Docker. The first run installs into `.venv` (about 800 MB) and "
        "`node_modules` (about 210 MB): 2–3 minutes on a fresh machine, said as it goes. "
        "`make synth STAGE=prod` synthesizes the production profile; "
        f"`make test T={blueprint.tests}` runs the blueprint's own tests. `npx cdk ...` works "
        "once `make install` (or either command above) has run; before, it says so."
    )
    names = _wrap(
        "Stack names and every physical name that must be unique carry the stage "
        f"(`{last}-dev`, `{last}-prod`), so dev and prod share an account and region. "
        "`make help` lists every verb."
    )
    return f"""# {title}: a starter kit

{intro}

## Two commands

```bash
make synth      # sets up .venv + the pinned CDK CLI, synthesizes the blueprint into cdk.out/
make test       # installs the test tools and runs the whole suite
```

{setup}

## Blueprints

{chr(10).join(rows)}

## Deploying

[docs/deploying.md](docs/deploying.md) is a first real deploy step by step: prerequisites, then

```bash
{deploy}
```

{names}

## Layout

```
{_layout(blueprint, files)}
```

## Configuration

`cdk.json` holds the settings of each stage (`stages.dev`, `stages.prod`) and the blueprint's
settings per stage under `blueprints`; `-c stage=prod` picks the stage. A malformed or unknown
setting fails the synth naming it and what is allowed. Every stack is tagged `Project`,
`Environment` (the stage) and `Team` for cost allocation, plus any `tags` you add.

## Updating from upstream

`.starter-kit.json` records where this kit came from and the files the export wrote; exporting
again into the same folder replaces and removes those files only. Keep the exports as they came
on a branch of their own, and merge it: git keeps your changes, brings in upstream's, and asks
where both touched a line.

```bash
{update}
```
"""


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=96, break_long_words=False, break_on_hyphens=False)


def _commented(lines: list[tuple[str, str]]) -> str:
    """Commands with their comments in one column."""
    width = max(len(command) for command, _ in lines) + 2
    return "\n".join(
        f"{command:<{width}}# {comment}" if comment else command for command, comment in lines
    )


def _layout(blueprint: Blueprint, files: list[str]) -> str:
    tops = {p.split("/", 1)[0] + ("/" if "/" in p else "") for p in files}
    entries = []
    for name, what in LAYOUT.items():
        if name not in tops:
            continue
        if name == "lambda_src/":
            folders = sorted({"/".join(p.split("/")[1:-1]) for p in files if p.startswith(name)})
            folders = [f for f in folders if f and not any(f.startswith(g + "/") for g in folders)]
            what += ": " + ", ".join(f"{f}/" for f in folders)
        if name == "blueprints/":
            name = f"{blueprint.package}/"
        entries.append((name, what))
    width = max(len(name) for name, _ in entries) + 2
    return "\n".join(
        textwrap.fill(
            what,
            width=100,
            initial_indent=f"{name:<{width}}",
            subsequent_indent=" " * width,
            break_long_words=False,
        )
        for name, what in entries
    )
