"""`make sdk`: Python clients of the APIs whose OpenAPI documents a Lambda layer ships
(`lambda_src/layers/<layer>/<package>/openapi/<service>.json`, today the microservices' shop
contracts), generated offline by openapi-python-client (pinned in requirements-dev.txt) into
clients/ (gitignored: the documents are the source; tests/microservices/test_sdk.py generates into
a temporary folder and calls the Orders handler through the client). A starter kit whose
blueprint ships no document has nothing to generate, and says so.

    python -m deployment.sdk [--out clients] [service ...]

Why not API Gateway's own SDK generation: it makes SDKs for Java, JavaScript, Android,
Objective-C/Swift (iOS) and Ruby only, not Python, and only from a deployed stage. These clients
come from the same document API Gateway imports, before anything is deployed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

LAYERS = Path(__file__).resolve().parents[1] / "lambda_src" / "layers"


def _documents() -> dict[str, Path]:
    """Each service's OpenAPI document, by service name (the file's stem, unique repository-wide:
    it names the generated package)."""
    found: dict[str, Path] = {}
    for path in sorted(LAYERS.glob("*/*/openapi/*.json")):
        if path.stem in found:
            raise ValueError(
                f"two OpenAPI documents name service {path.stem}: {found[path.stem]}, {path}"
            )
        found[path.stem] = path
    return found


DOCUMENTS = _documents()
SERVICES = tuple(sorted(DOCUMENTS))


def package_name(service: str) -> str:
    return f"{service}_client"


def generate(service: str, out: Path) -> Path:
    """Generate `<out>/<service>_client` (replaced if present); returns its folder."""
    target = out / package_name(service)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "config.yaml"
        # No post hooks: the generator would run ruff over the output, which needs it on PATH.
        config.write_text("post_hooks: []\n")
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("openapi-python-client")),
                "generate",
                "--path",
                str(DOCUMENTS[service]),
                "--meta",
                "none",
                "--output-path",
                str(target),
                "--overwrite",
                "--fail-on-warning",
                "--config",
                str(config),
            ],
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise RuntimeError(
            f"openapi-python-client failed for {service}:\n{result.stdout}{result.stderr}"
        )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("clients"))
    parser.add_argument("services", nargs="*", help=f"default: all of {', '.join(SERVICES)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(
            f"no OpenAPI document for {', '.join(unknown)}; services: {', '.join(SERVICES)}"
        )
    if not SERVICES:
        print(f"no OpenAPI document under {LAYERS}/*/*/openapi/: nothing to generate")
        return 0
    for service in args.services or SERVICES:
        print(f"{service}: {generate(service, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
