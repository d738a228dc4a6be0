"""Starter kits: one blueprint exported as a standalone app (`make export BLUEPRINT=<key>
DEST=<dir>`), with only what that blueprint uses.

What goes in is read from the code, not from a hand list:

- Python modules by the import graph: `app.py`, the blueprint's package and the generic tools
  the Makefile runs (`deployment/`) pull in the `house/` and `patterns/` modules they import;
  tests may pull in tool modules (`benchmarks/`, `docgen/`), never app code the kit's app does
  not import.
- Index dicts (a module-level dict whose keys are all blueprint keys, instances or stack ids,
  such as `BLUEPRINTS` and `SMOKES`) keep only the kit's entries; imports only those entries
  used go, and with them modules nothing else imports (`deployment/smoke_blog.py`). The stack
  ids come from building each blueprint, unsynthesized, in dev, prod and prod outside us-east-1.
- Assets by what the kept code names: `source="..."` of the house Lambda and layer helpers
  (`lambda_src/<function>/`, `lambda_src/layers/<layer>/`), and paths built from the
  repository root (`Path(__file__).resolve().parents[2] / "site"`, `REPO_ROOT / "examples" /
  ...`).
- Tests: the blueprint's own folder (`tests/<package>/`), `tests/support` and the generic
  tests; a test module that imports what the kit left out is left out too (and named in the
  export's report; tests/test_export.py checks no generic test is).
- `cdk.json` with only the blueprint's instances, the Makefile without the library-only verbs,
  the blueprint's doc page and `docs/deploying.md` (and what they link to), and a README.

`starter_kit.export` writes a kit; `starter_kit.sources` reads Python source; `starter_kit.readme`
writes the kit's README.
"""
