"""benchmarks/cold_start.py knows every function of lambda_src/, and each of its declarations
names the boto3 clients the function's code creates. No timing here: the benchmark runs on demand
(docs/cold-starts.md)."""

from __future__ import annotations

import textwrap

import pytest

from benchmarks import cold_start
from benchmarks.cold_start import FUNCTIONS, Function, clients_of, undeclared

DEPLOYED = [f for f in FUNCTIONS if (cold_start.LAMBDA_SRC / f.folder).is_dir()]


def test_every_function_folder_and_handler_module_is_declared():
    if not cold_start.LAMBDA_SRC.is_dir():
        pytest.skip("this kit has no Lambda functions")
    assert undeclared(cold_start.LAMBDA_SRC) == []


@pytest.mark.parametrize("function", DEPLOYED, ids=lambda f: f.name)
def test_each_declaration_matches_the_code(function):
    assert (function.path[0] / f"{function.module}.py").is_file()
    assert all(layer.is_dir() for layer in function.path[1:])
    assert clients_of(function) == sorted(tuple(c.split(" ", 1)) for c in function.clients)


def write(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))


def test_a_new_folder_or_handler_module_is_reported(tmp_path):
    write(
        tmp_path,
        {
            "known/handler.py": "handler = object()\n",
            "known/worker.py": "def handler(event, context):\n    return {}\n",
            "known/store.py": "def table():\n    return None\n",
            "known/typed.py": "handler: object = object()\n",
            "new/handler.py": "handler = object()\n",
            "layers/handler_kit/handler_kit/__init__.py": "",
        },
    )
    declared = (Function("known", "known", "handler"), Function("typed", "known", "typed"))
    assert undeclared(tmp_path, declared) == ["new", "known/worker.py"]


@pytest.fixture
def source(tmp_path, monkeypatch):
    """A lambda_src/ with one function folder (its clients made directly, through a helper that
    passes the service on, and in a layer) for declarations to be checked against."""
    write(
        tmp_path,
        {
            "shop/store.py": """\
                import functools
                import boto3

                @functools.cache
                def _client(service):
                    return boto3.client(service)

                def table():
                    return boto3.resource("dynamodb").Table("t")

                def publish():
                    _client("sns").publish()
                """,
            "shop/handler.py": "import store\nhandler = object()\n",
            "layers/handler_kit/handler_kit/messages.py": """\
                import boto3

                def _sqs():
                    return boto3.client("sqs")

                def once():
                    return DynamoDBPersistenceLayer(table_name="i")
                """,
        },
    )
    monkeypatch.setattr(cold_start, "LAMBDA_SRC", tmp_path)
    return tmp_path


def test_the_clients_the_code_creates_are_found(source):
    function = Function("shop", "shop", "handler", clients=("resource dynamodb", "client sns"))
    assert clients_of(function, (function,)) == [("client", "sns"), ("resource", "dynamodb")]
    # A layer's clients (Powertools idempotency's included) may be declared; none must be.
    layered = Function(
        "shop",
        "shop",
        "handler",
        clients=("resource dynamodb", "client sns", "client sqs", "client dynamodb"),
    )
    assert len(clients_of(layered, (layered,))) == 4


@pytest.mark.parametrize(
    "clients",
    [
        ("resource dynamodb",),  # the helper's sns client left out
        ("client sns",),  # the resource left out
        ("resource dynamodb", "client sns", "client s3"),  # one the code never makes
    ],
)
def test_a_declaration_that_disagrees_with_the_code_is_refused(source, clients):
    function = Function("shop", "shop", "handler", clients=clients)
    with pytest.raises(SystemExit, match="update the declaration"):
        clients_of(function, (function,))


def test_entries_sharing_a_folder_declare_its_clients_together(source):
    write(source, {"shop/api.py": "import store\nhandler = object()\n"})
    api = Function("shop api", "shop", "api", clients=("resource dynamodb",))
    events = Function("shop events", "shop", "handler", clients=("client sns",))
    assert clients_of(api, (api, events)) == [("resource", "dynamodb")]
    assert clients_of(events, (api, events)) == [("client", "sns")]
    with pytest.raises(SystemExit, match="update the declaration"):
        clients_of(api, (api,))


@pytest.mark.parametrize(
    "code",
    [
        "import boto3\nSERVICE = 's3'\nclient = boto3.client(SERVICE)\n",
        "import boto3\ndef make(service):\n    return boto3.client(service)\nname = 's3'\n"
        "client = make(name)\n",
    ],
)
def test_a_service_the_benchmark_cannot_read_is_refused(source, code):
    write(source, {"shop/extra.py": code})
    function = Function("shop", "shop", "handler", clients=("resource dynamodb", "client sns"))
    with pytest.raises(SystemExit, match="not a literal"):
        clients_of(function, (function,))
