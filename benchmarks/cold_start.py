"""Cold-start benchmark: what importing each Lambda handler costs, against its floor.

    .venv/bin/python benchmarks/cold_start.py [--repeat 11] [--max-ratio 1.5] [--top 5] [NAME ...]
        [--lambda-src DIR]    # another copy of lambda_src/, e.g. `git archive`d from a commit

A Lambda cold start imports the handler module before the first event (the "Init duration").
For every function in lambda_src/ this measures, in a fresh interpreter per run:

  import ms   `import <handler module>` with the sys.path the deployed function has: its own
              folder first (where its bundled requirements live too; the repo's dev venv stands in
              for them), then the layers it uses (lambda_src/layers/<layer>: handler_kit for
              every function, dynamodb_client for the two APIs), then site-packages. The
              environment is the one its construct sets, POWERTOOLS_* included: a traced
              function imports the X-Ray SDK and patches botocore at init, as in Lambda.
  floor ms    `import boto3` + creating the boto3 clients/resources the function's code creates
              (read from its code and declared below; the run refuses a declaration that
              disagrees with the `boto3.client("...")` / `boto3.resource("...")` calls in its
              folder and layers; a DynamoDB resource also makes its `Table`). No handler can
              start with less: Lambda's runtime ships boto3, but the import is still paid.
  ratio       import / floor; the run exits 1 if any ratio exceeds --max-ratio.
  + clients   import, then creating the floor's clients in the same interpreter: init plus the
              first event's client set-up for a handler that makes its clients on first use (it
              makes the same ones through the same boto3 session). For a handler that made them
              at import this adds only the cheap re-creation from boto3's cached models.

A handler that creates its clients lazily pays their share of the floor on the first event that
needs them instead of at import: deferring moves that cost, it does not remove it, which is what
the "+ clients" column shows next to the ratio. Runs of the handler and of its floor alternate, so a
burst of load from a neighbour hits both; each figure is the median of --repeat runs. The
biggest imports come from one extra `python -X importtime` run per function: the packages the
function's own modules import, by cumulative time, plus the time spent in the bodies of its own
modules. Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_SRC = REPO_ROOT / "lambda_src"
REGION = "us-east-1"


@dataclasses.dataclass(frozen=True)
class Function:
    """One deployed function: where its code is and what Lambda gives it at start."""

    name: str
    folder: str
    module: str
    # The boto3 clients and resources its code creates, read from the code ("client ses",
    # "resource dynamodb"); checked against the calls in its folder (see clients_of).
    clients: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    # What the stack sets (dummy values of the right shape): a handler that reads its
    # configuration at import needs it there, as it has it in Lambda.
    environment: dict[str, str] = dataclasses.field(default_factory=dict)

    traced: bool = True  # X-Ray active (the house Lambda's default) or off (a VPC without it)

    @property
    def path(self) -> list[Path]:
        layers = ("handler_kit", *self.layers)
        return [LAMBDA_SRC / self.folder, *(LAMBDA_SRC / "layers" / layer for layer in layers)]


_TABLE = {"TABLE_NAME": "benchmark-table"}
_NEPTUNE = {
    "CLUSTER_ENDPOINT": "graph.cluster-abc.us-east-1.neptune.amazonaws.com",
    "CLUSTER_PORT": "8182",
}
FUNCTIONS = (
    Function(
        "welcome_email",
        "welcome_email",
        "handler",
        clients=("resource dynamodb", "client ses"),
        environment={
            **_TABLE,
            "SENDER": "welcome@example.com",
            "SITE_URL": "https://example.com",
            "BLOG_NAME": "MyBlog",
        },
    ),
    Function(
        "thumbnail",
        "thumbnail",
        "handler",
        clients=("client s3", "client sns", "client sqs", "resource dynamodb"),
        environment={
            **_TABLE,
            "THUMBNAIL_BUCKET": "media",
            "UPLOAD_PREFIX": "uploads/",
            "THUMBNAIL_PREFIX": "thumbnails/",
            "THUMBNAIL_SIZE": "256",
            "MAX_UPLOAD_BYTES": str(20 * 1024 * 1024),
            "TOPIC_ARN": f"arn:aws:sns:{REGION}:123456789012:thumbnail-ready",
            "REJECTED_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/rejected",
        },
    ),
    # StartLoad (loader.start_load) and LoadStatus (loader.load_status) share one module.
    Function(
        "neptune_data loader",
        "neptune_data",
        "loader",
        clients=("client neptunedata",),
        traced=False,
        environment={
            **_NEPTUNE,
            "STAGING_BUCKET": "staging",
            "MARKER_SUFFIX": ".ready",
            "LOAD_ROLE_ARN": "arn:aws:iam::123456789012:role/load",
            "AUTO_LOAD_FORMAT": "csv",
        },
    ),
    Function(
        "neptune_data query",
        "neptune_data",
        "query",
        clients=("client neptunedata",),
        traced=False,
        environment=_NEPTUNE,
    ),
    # The layer's dynamodb_resource(); its dynamodb_client() is never called by these two.
    Function(
        "todo_api",
        "todo_api",
        "handler",
        clients=("resource dynamodb",),
        layers=("dynamodb_client",),
        environment={
            **_TABLE,
            "READ_YOUR_WRITES_SECONDS": "5",
            "PAGE_SIZE": "25",
            "MAX_PAGE_SIZE": "100",
            "ALLOWED_ORIGINS": "https://example.com",
        },
    ),
    Function(
        "ride_requests",
        "ride_requests",
        "handler",
        clients=("resource dynamodb",),
        environment={
            **_TABLE,
            "RETENTION_DAYS": "30",
            "MAX_DAYS_AHEAD": "90",
            "ALLOWED_ORIGINS": "",
        },
    ),
    Function(
        "blog_api",
        "blog_api",
        "handler",
        clients=("resource dynamodb", "client s3"),
        layers=("dynamodb_client",),
        environment={
            **_TABLE,
            "POSTS_INDEX": "posts-by-date",
            "MEDIA_BUCKET": "media",
            "UPLOAD_PREFIX": "uploads/",
            "THUMBNAIL_PREFIX": "thumbnails/",
            "MAX_UPLOAD_BYTES": str(20 * 1024 * 1024),
            "CACHE_SECONDS": "60",
        },
    ),
)


# -- the floor: the clients a function's code creates -------------------------------------------


def boto3_calls(folder: Path) -> set[str]:
    """Every `boto3.client("service")` / `boto3.resource("service")` in the folder's modules."""
    found = set()
    for source in folder.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "boto3"
                and node.func.attr in ("client", "resource")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(f"{node.func.attr} {node.args[0].value}")
    return found


def clients_of(function: Function) -> list[tuple[str, str]]:
    """The function's declared (kind, service) pairs, refused if its code disagrees: a call in
    its own folder that is not declared, or a declared one that neither it nor a layer makes."""
    own = boto3_calls(function.path[0])
    layers = set().union(*(boto3_calls(p) for p in function.path[1:]))
    declared = set(function.clients)
    if own - declared or declared - own - layers:
        raise SystemExit(
            f"{function.name}: its code creates {sorted(own)} (layers: {sorted(layers)}) but "
            f"FUNCTIONS declares {sorted(declared)}; update the declaration"
        )
    return sorted(tuple(c.split(" ", 1)) for c in declared)


def floor_code(clients: list[tuple[str, str]]) -> str:
    calls = []
    for kind, service in clients:
        call = f"boto3.{kind}({service!r})"
        calls.append(
            call + ".Table('floor')" if (kind, service) == ("resource", "dynamodb") else call
        )
    return "\n".join(calls) or "pass"


# -- one run, in a fresh interpreter ------------------------------------------------------------

# Only `sys` and `time` are imported before the clock starts, so nothing the handler needs is
# preloaded for it (Lambda's own bootstrap preloads a few stdlib modules; both sides would gain).
_HANDLER_RUN = """
import sys, time
sys.path[:0] = {path!r}
start = time.perf_counter()
import {module}
done = time.perf_counter()
import boto3
{clients}
first = time.perf_counter()
sys.stdout.write(repr({{"import_ms": (done - start) * 1000, "first_ms": (first - start) * 1000}}))
"""
_FLOOR_RUN = """
import sys, time
start = time.perf_counter()
import boto3
imported = time.perf_counter()
{clients}
done = time.perf_counter()
sys.stdout.write(repr({{"import_ms": (done - start) * 1000,
                        "boto3_ms": (imported - start) * 1000,
                        "clients_ms": (done - imported) * 1000}}))
"""


def environment(function: Function) -> dict[str, str]:
    """A Lambda-like environment with no way to reach AWS or read the user's AWS config."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": function.name.replace(" ", "-"),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "LAMBDA_TASK_ROOT": str(function.path[0]),
        # What house.lambda_function.python_function sets for handler_kit.observability.
        "POWERTOOLS_SERVICE_NAME": function.name.replace(" ", "-").replace("_", "-"),
        "POWERTOOLS_METRICS_NAMESPACE": "Benchmark-dev",
        "POWERTOOLS_TRACE_DISABLED": "false" if function.traced else "true",
        **function.environment,
    }


def run(code: str, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess:
    # -I: no PYTHONPATH, no user site-packages, no current directory on sys.path.
    return subprocess.run(
        [sys.executable, "-I", *flags, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def measure(function: Function, repeat: int) -> dict:
    env = environment(function)
    clients = clients_of(function)
    handler_code = _HANDLER_RUN.format(
        path=[str(p) for p in function.path], module=function.module, clients=floor_code(clients)
    )
    floor = _FLOOR_RUN.format(clients=floor_code(clients))
    handler_runs, floor_runs = [], []
    for _ in range(repeat):  # alternate, so a noisy neighbour slows both sides alike
        for code, runs in ((handler_code, handler_runs), (floor, floor_runs)):
            result = run(code, env)
            if result.returncode != 0:
                raise SystemExit(f"{function.name}: the child failed:\n{result.stderr[-3000:]}")
            runs.append(ast.literal_eval(result.stdout))
    median = {key: statistics.median(r[key] for r in floor_runs) for key in floor_runs[0]}
    return {
        "import_ms": statistics.median(r["import_ms"] for r in handler_runs),
        "first_ms": statistics.median(r["first_ms"] for r in handler_runs),
        "floor_ms": median["import_ms"],
        "boto3_ms": median["boto3_ms"],
        "clients_ms": median["clients_ms"],
        "clients": [f"{service} {kind}" for kind, service in clients],
    }


# -- -X importtime: which imports cost the most --------------------------------------------------


def biggest_imports(function: Function, top: int) -> list[tuple[str, float]]:
    """The `top` costliest imports the function's own modules make (cumulative ms), and the
    time spent running its own modules' bodies ("own module bodies")."""
    path = [str(p) for p in function.path]
    code = f"import sys\nsys.path[:0] = {path!r}\nimport {function.module}"
    result = run(code, environment(function), "-X", "importtime")
    own = {p.stem for folder in function.path for p in folder.glob("*.py")}
    own |= {p.parent.name for folder in function.path for p in folder.glob("*/__init__.py")}
    # importtime prints a module after everything it imported, indented two spaces per level.
    stack: list[dict] = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.split("|", 2)
        node = {
            "name": name.strip(),
            "level": (len(name) - len(name.lstrip()) - 1) // 2,
            "self": int(self_us.split(":")[-1]),
            "cumulative": int(cumulative_us),
            "children": [],
        }
        while stack and stack[-1]["level"] > node["level"]:
            node["children"].insert(0, stack.pop())
        stack.append(node)
    costs: dict[str, float] = {}
    body_us = 0

    def visit(node: dict) -> None:
        nonlocal body_us
        if node["name"].split(".")[0] in own:
            body_us += node["self"]
            for child in node["children"]:
                visit(child)
        else:
            costs[node["name"]] = costs.get(node["name"], 0) + node["cumulative"] / 1000

    for root in stack:  # the others are the interpreter's own start-up imports
        if root["name"] == function.module:
            visit(root)
    ranked = sorted(costs.items(), key=lambda item: -item[1])[:top]
    return ranked + [("own module bodies", body_us / 1000)]


# -- the table ---------------------------------------------------------------------------------


def main() -> int:
    global LAMBDA_SRC
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these functions (default: all)")
    parser.add_argument("--repeat", type=int, default=11, help="fresh interpreters per side")
    parser.add_argument(
        "--max-ratio",
        type=float,
        default=1.5,
        help="exit 1 if any import/floor ratio is above this",
    )
    parser.add_argument("--top", type=int, default=5, help="biggest imports named per function")
    parser.add_argument(
        "--lambda-src",
        type=Path,
        default=LAMBDA_SRC,
        help="measure this copy of lambda_src/ (default: the working tree's)",
    )
    args = parser.parse_args()
    LAMBDA_SRC = args.lambda_src.resolve()

    folders = {p.name for p in LAMBDA_SRC.iterdir() if p.is_dir() and p.name != "layers"}
    missing = folders - {f.folder for f in FUNCTIONS}
    if missing:  # a new function must be added here, not silently left out
        parser.error(f"lambda_src has functions this benchmark does not know: {sorted(missing)}")
    chosen = [
        f for f in FUNCTIONS if not args.names or f.name in args.names or f.folder in args.names
    ]
    if not chosen:
        parser.error(f"no function named {args.names}; known: {[f.name for f in FUNCTIONS]}")

    import boto3

    print(
        f"Python {sys.version.split()[0]}, boto3 {boto3.__version__}, median of {args.repeat} "
        f"fresh interpreters per cell, {os.cpu_count()} CPUs\n"
    )
    rows = []
    for function in chosen:
        result = measure(function, args.repeat)
        result["ratio"] = result["import_ms"] / result["floor_ms"]
        rows.append((function, result, biggest_imports(function, args.top)))
        print(f"  measured {function.name}", file=sys.stderr)

    print(
        "| handler | import ms | floor ms (boto3 + clients) | ratio | + clients ms (ratio) "
        "| clients in the floor |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for function, r, _ in rows:
        first = r["first_ms"]
        print(
            f"| {function.name} | {r['import_ms']:.0f} | {r['floor_ms']:.0f} "
            f"({r['boto3_ms']:.0f} + {r['clients_ms']:.0f}) | {r['ratio']:.2f} | "
            f"{first:.0f} ({first / r['floor_ms']:.2f}) | {', '.join(r['clients'])} |"
        )
    print("\nBiggest imports (-X importtime, one run, cumulative ms):")
    for function, _, ranked in rows:
        print(f"  {function.name}: " + ", ".join(f"{name} {ms:.0f}" for name, ms in ranked))
    over = [f.name for f, r, _ in rows if r["ratio"] > args.max_ratio]
    if over:
        print(f"\nOver {args.max_ratio}x the floor: {', '.join(over)}")
        return 1
    print(f"\nEvery handler is within {args.max_ratio}x its floor.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
