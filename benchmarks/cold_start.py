"""Cold-start benchmark: what importing each Lambda handler costs, against its floor.

    .venv/bin/python benchmarks/cold_start.py [--repeat 11] [--max-ratio 1.5] [--top 5] [NAME ...]
        [--lambda-src DIR]    # another copy of lambda_src/, e.g. `git archive`d from a commit

A Lambda cold start imports the handler module before the first event (the "Init duration").
For every handler module in lambda_src/ (FUNCTIONS below: the run refuses to start if a function
folder, or a module binding a top-level `handler`, is not listed) this measures, in a fresh
interpreter per run:

  import ms   `import <handler module>` with the sys.path the deployed function has: its own
              folder first (where its bundled requirements live too; the repo's dev venv stands in
              for them), then the layers it uses (lambda_src/layers/<layer>: handler_kit for
              every function, dynamodb_client for the two DynamoDB APIs, shop_contracts for the
              shop's services), then site-packages. The
              environment is the one its construct sets, POWERTOOLS_* included: a traced
              function imports the X-Ray SDK and patches botocore at init, as in Lambda.
  floor ms    `import boto3` + creating the boto3 clients/resources the function's code creates
              (read from its code and declared below; the run refuses a declaration that
              disagrees with the `boto3.client("...")` / `boto3.resource("...")` calls, direct
              or through a helper that passes the service on, in its folder and layers; a
              DynamoDB resource also makes its `Table`). No handler can
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
_KEY_ARN = f"arn:aws:kms:{REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
_QUEUE = f"https://sqs.{REGION}.amazonaws.com/123456789012"
_TOPIC_ARN = f"arn:aws:sns:{REGION}:123456789012:shop"
# What a handler_kit.messages consumer's construct always sets (patterns/events/queue_consumer.py;
# a stream consumer that parks poison records gets the same three from its own construct).
_CONSUMER = {
    "DEAD_LETTER_URL": f"{_QUEUE}/dead-letters",
    "IDEMPOTENCY_TABLE": "benchmark-idempotency",
    "IDEMPOTENCY_SECONDS": str(24 * 3600),
}
# What blueprints/employee_directory/data.py gives every operation's function (directory_api.py
# adds HR_ADMIN_GROUP when writes need an HR admin).
_DIRECTORY = {
    **_TABLE,
    "NAME_INDEX": "by-name",
    "MEDIA_BUCKET": "media",
    "UPLOAD_PREFIX": "uploads/",
    "THUMBNAIL_PREFIX": "thumbnails/",
    "MAX_UPLOAD_BYTES": str(5 * 1024 * 1024),
    "UPLOAD_URL_SECONDS": "300",
    "PHOTO_URL_SECONDS": "300",
    "PAGE_SIZE": "25",
    "HR_ADMIN_GROUP": "hr-admin",
}
# Clients made by handler_kit.messages for every consumer: Powertools idempotency's DynamoDB
# client on the first message. Its SQS client (parking a poison message in the dead-letter
# queue) is left out of the floor: an ordinary first event never makes it.
_IDEMPOTENCY = "client dynamodb"
FUNCTIONS = (
    # Its handler_kit.signed_tokens signs the links it mails (KMS GenerateMac).
    Function(
        "welcome_email",
        "welcome_email",
        "handler",
        clients=("resource dynamodb", "client ses", "client kms"),
        environment={
            **_TABLE,
            "SENDER": "welcome@example.com",
            "SITE_URL": "https://example.com",
            "BLOG_NAME": "MyBlog",
            "TOKEN_KEY_ID": _KEY_ARN,
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
            "REJECTED_QUEUE_URL": f"{_QUEUE}/rejected",
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
    # MyBlog's subscribe/confirm/unsubscribe API: confirm and unsubscribe check the mailed link
    # with handler_kit.signed_tokens (KMS VerifyMac).
    Function(
        "subscriptions",
        "subscriptions",
        "handler",
        clients=("resource dynamodb", "client kms"),
        environment={
            **_TABLE,
            "TOKEN_KEY_ID": _KEY_ARN,
            "REQUESTS_PER_HOUR": "20",
            "CONFIRM_LINK_HOURS": "48",
        },
    ),
    # The employee directory deploys one function per operation of its contract, each with its
    # own module (directory_api.py); the three photo operations also make the S3 client
    # (pre-signed POST and GET, deleting a photo).
    *(
        Function(
            f"employee_api {module}",
            "employee_api",
            module,
            clients=("resource dynamodb", *(("client s3",) if photo else ())),
            environment=_DIRECTORY,
        )
        for module, photo in (
            ("list_employees", False),
            ("get_employee", False),
            ("create_employee", False),
            ("update_employee", False),
            ("delete_employee", True),
            ("request_photo_upload", True),
            ("get_employee_photo", True),
        )
    ),
    # The microservices shop. Environments as prod ships them (Kinesis and the container
    # stock service on): the fuller import and floor.
    Function(
        "orders handler",
        "orders",
        "handler",
        clients=("resource dynamodb",),
        layers=("shop_contracts",),
        environment={
            **_TABLE,
            "INVENTORY_URL": f"https://abc123.execute-api.{REGION}.amazonaws.com/",
        },
    ),
    Function(
        "orders publisher",
        "orders",
        "publisher",
        clients=("client sns", "client events", "client kinesis"),
        layers=("shop_contracts",),
        environment={
            "TOPIC_ARN": _TOPIC_ARN,
            "EVENT_BUS_NAME": f"arn:aws:events:{REGION}:123456789012:event-bus/shop",
            "STREAM_NAME": "order-activity",
        },
    ),
    # Inventory's three consumers share store.py's clients, each making the ones its path needs;
    # its DynamoDB client is of the kind Powertools idempotency makes too (one in the floor).
    Function(
        "inventory reserve",
        "inventory",
        "reserve",
        clients=("client dynamodb", "client sns"),
        layers=("shop_contracts",),
        environment={"STOCK_TABLE": "stock", "TOPIC_ARN": _TOPIC_ARN, **_CONSUMER},
    ),
    Function(
        "inventory stock_import",
        "inventory",
        "stock_import",
        clients=("client dynamodb", "client s3"),
        layers=("shop_contracts",),
        environment={"STOCK_TABLE": "stock", **_CONSUMER},
    ),
    Function(
        "inventory demand",
        "inventory",
        "demand",
        clients=("client dynamodb",),
        layers=("shop_contracts",),
        environment={"STOCK_TABLE": "stock", **_CONSUMER},
    ),
    Function(
        "notifications",
        "notifications",
        "handler",
        clients=("resource dynamodb", _IDEMPOTENCY),
        layers=("shop_contracts",),
        environment={**_TABLE, **_CONSUMER},
    ),
    # In isolated subnets with no route to X-Ray.
    Function(
        "release_publisher",
        "release_publisher",
        "handler",
        clients=("client s3",),
        traced=False,
        environment={
            "RELEASES_BUCKET": "releases",
            "RELEASES_PATH": "/mnt/releases",
            "UPDATES_PREFIX": "updates",
            "MANIFEST_NAME": "latest.json",
        },
    ),
)


# -- the floor: the clients a function's code creates -------------------------------------------


# Powertools makes this client itself when the persistence layer is created (handler_kit.messages:
# on a consumer's first message), so the benchmark reads the constructor as the client.
_POWERTOOLS_CLIENTS = {"DynamoDBPersistenceLayer": "client dynamodb"}


def _modules(folder: Path) -> list[Path]:
    """The folder's modules and those of its packages (a layer's code is a package)."""
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _boto3_call(node: ast.AST) -> str | None:
    """ "client" / "resource" for a `boto3.client(...)` / `boto3.resource(...)` call."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "boto3"
        and node.func.attr in ("client", "resource")
        and node.args
    ):
        return node.func.attr
    return None


def _called_name(node: ast.Call) -> str | None:
    """`f` for `f(...)` and `module.f(...)`."""
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def boto3_calls(folder: Path) -> set[str]:
    """Every client and resource the folder's modules create ("client ses", "resource dynamodb"):
    `boto3.client("service")` / `boto3.resource("service")`, and calls of a helper that passes
    its parameter on (`def _client(service): return boto3.client(service)`, then
    `_client("sns")`). A service the code names any other way cannot be checked: refused."""
    trees = [(source, ast.parse(source.read_text(), str(source))) for source in _modules(folder)]
    found: set[str] = set()
    helpers: dict[str, tuple[str, int]] = {}  # helper name -> (kind, index of the service arg)
    unresolved = []
    forwarded: set[int] = set()  # ids of the calls a helper makes with its parameter
    for source, tree in trees:
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            parameters = [a.arg for a in function.args.args]
            for node in ast.walk(function):
                kind = _boto3_call(node)
                first = node.args[0] if kind else None
                if isinstance(first, ast.Name) and first.id in parameters:
                    helpers[function.name] = (kind, parameters.index(first.id))
                    forwarded.add(id(node))
        for node in ast.walk(tree):
            kind = _boto3_call(node)
            if kind is None:
                if isinstance(node, ast.Call) and _called_name(node) in _POWERTOOLS_CLIENTS:
                    found.add(_POWERTOOLS_CLIENTS[_called_name(node)])
            elif isinstance(node.args[0], ast.Constant):
                found.add(f"{kind} {node.args[0].value}")
            elif id(node) not in forwarded:
                unresolved.append(f"{source.name}:{node.lineno}")
    for source, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called_name(node) not in helpers:
                continue
            kind, index = helpers[_called_name(node)]
            if index < len(node.args) and isinstance(node.args[index], ast.Constant):
                found.add(f"{kind} {node.args[index].value}")
            else:
                unresolved.append(f"{source.name}:{node.lineno}")
    if unresolved:
        raise SystemExit(
            f"{folder}: boto3 clients whose service is not a literal: {', '.join(unresolved)}; "
            "name the service in the call so the benchmark can check its floor"
        )
    return found


def clients_of(
    function: Function, functions: tuple[Function, ...] = FUNCTIONS
) -> list[tuple[str, str]]:
    """The function's declared (kind, service) pairs, refused if its code disagrees: a declared
    one that neither its folder nor one of its layers makes, or a call in its folder that no
    entry for that folder declares. (Entries sharing a folder share its data-access modules:
    which of their clients a module's path makes is read from the code, not its imports.)"""
    own = boto3_calls(function.path[0])
    layers = set().union(*(boto3_calls(p) for p in function.path[1:]))
    declared = set(function.clients)
    together = set().union(*(f.clients for f in functions if f.folder == function.folder))
    if own - together or declared - own - layers:
        raise SystemExit(
            f"{function.name}: its code creates {sorted(own)} (layers: {sorted(layers)}) but "
            f"FUNCTIONS declares {sorted(declared)}"
            + (
                f" (and the other {function.folder} entries {sorted(together - declared)})"
                if together != declared
                else ""
            )
            + "; update the declaration"
        )
    return sorted(tuple(c.split(" ", 1)) for c in declared)


def handler_modules(lambda_src: Path) -> set[tuple[str, str]]:
    """(folder, module) of every module in lambda_src/ that binds a top-level `handler`: what a
    function's `handler=` names (other entry points, like the neptune_data loader's, are
    declared by hand)."""
    found = set()
    for folder in sorted(p for p in lambda_src.iterdir() if p.is_dir() and p.name != "layers"):
        for source in folder.glob("*.py"):
            for node in ast.parse(source.read_text(), str(source)).body:
                targets = (
                    [node.name]
                    if isinstance(node, ast.FunctionDef)
                    else [t.id for t in node.targets if isinstance(t, ast.Name)]
                    if isinstance(node, ast.Assign)
                    else [node.target.id]
                    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    else []
                )
                if "handler" in targets:
                    found.add((folder.name, source.stem))
    return found


def undeclared(lambda_src: Path, functions: tuple[Function, ...] = FUNCTIONS) -> list[str]:
    """The function folders and handler modules of lambda_src/ that FUNCTIONS does not list."""
    folders = {p.name for p in lambda_src.iterdir() if p.is_dir() and p.name != "layers"}
    declared = {(f.folder, f.module) for f in functions}
    missing = sorted(folders - {folder for folder, _ in declared})
    missing += sorted(
        f"{folder}/{module}.py"
        for folder, module in handler_modules(lambda_src) - declared
        if folder not in missing
    )
    return missing


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

    missing = undeclared(LAMBDA_SRC)
    if missing:  # a new function must be added here, not silently left out
        parser.error(f"lambda_src has functions this benchmark does not know: {missing}")
    chosen = [
        f
        for f in FUNCTIONS
        # A copy from an older commit (or a starter kit) may not have every function yet.
        if (LAMBDA_SRC / f.folder).is_dir()
        and (not args.names or f.name in args.names or f.folder in args.names)
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
