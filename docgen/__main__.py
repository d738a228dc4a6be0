"""`python -m docgen docs` (make docs) and `python -m docgen cost --stage dev` (make cost).

Both synthesize the app in-process exactly as `cdk synth` does (cdk.json's context, the same
`build_app`), or read an existing assembly with `--assembly` (cost) / `--dev`, `--prod` (docs).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from docgen import diagram, expected_files, expected_sections
from docgen.assembly import Assembly, doc_path, synthesize_stage
from docgen.cost import report
from docgen.markers import replace_section

STAGES = ("dev", "prod")


def assemblies_from(args, workdir: Path) -> dict[str, Assembly]:
    found = {}
    for stage in STAGES:
        given = getattr(args, stage, None)
        if given:
            found[stage] = Assembly(stage, Path(given))
        else:
            print(f"synthesizing {stage} ...", file=sys.stderr)
            found[stage] = synthesize_stage(stage, workdir / stage)
    return found


def write_docs(assemblies: dict[str, Assembly], render: bool = True) -> list[Path]:
    written = []
    for path, text in expected_files(assemblies).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    for doc, sections in expected_sections(assemblies).items():
        path = doc_path(doc)
        text = original = path.read_text()
        for name, content in sections.items():
            text = replace_section(text, name, content, path.relative_to(path.parents[1]))
        if text != original:
            path.write_text(text)
            written.append(path)
    if render:
        stale = diagram.stale_pictures()
        if stale:
            written += diagram.render(stale)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docgen")
    commands = parser.add_subparsers(dest="command", required=True)
    docs = commands.add_parser("docs", help="regenerate the docs' generated sections and pictures")
    docs.add_argument("--dev", help="read this dev assembly instead of synthesizing")
    docs.add_argument("--prod", help="read this prod assembly instead of synthesizing")
    docs.add_argument("--no-render", action="store_true", help="write the DOT sources only")
    cost = commands.add_parser("cost", help="print each stack's idle cost for one stage")
    cost.add_argument("--stage", default="dev", choices=STAGES)
    cost.add_argument("--assembly", help="read this assembly instead of synthesizing")
    cost.add_argument(
        "--context",
        "-c",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="synthesize with this context too, as `cdk synth -c` does (e.g. "
        "eks-cluster.compute=automode): the idle cost of another profile",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="docgen-") as workdir:
        if args.command == "cost":
            if args.assembly:
                assembly = Assembly(args.stage, Path(args.assembly))
            else:
                print(f"synthesizing {args.stage} ...", file=sys.stderr)
                context = dict(item.split("=", 1) for item in args.context)
                assembly = synthesize_stage(args.stage, Path(workdir) / args.stage, context)
            print(report(assembly))
            return 0
        written = write_docs(assemblies_from(args, Path(workdir)), render=not args.no_render)
        for path in written:
            print(f"wrote {path}")
        if not written:
            print("docs are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
