"""Handler unit tests: a function's modules imported once from lambda_src/, fresh clients per test.

    ENVIRONMENT = {"TABLE_NAME": "todos", ...}          # what the function's construct sets

    @pytest.fixture(scope="module")
    def api_module():
        return load_function("todo_api", layers=("dynamodb_client",), environment=ENVIRONMENT)

    @pytest.fixture
    def api(aws, api_module, monkeypatch):
        ...                                              # the test's moto resources
        return fresh(api_module, monkeypatch, ENVIRONMENT)

`load_function` imports the module with `environment` set for the import only, as Lambda has it
at init, plus what the house Lambda sets for every function's handler_kit (OBSERVABILITY); the
handler_kit layer is on the path of every function, as in Lambda. `fresh` sets the environment
for one test and clears every cached function (`functools.cache`: settings(), the clients) of
the function's own modules and layers, so the clients its code makes come from the test's own
moto mock. Tests then patch a function or a client's method; nothing is re-imported or evicted
between tests.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.lambda_runner import import_from
from tests.support.synth import REPO_ROOT

LAMBDA_SRC = REPO_ROOT / "lambda_src"
# What house.lambda_function.python_function sets for handler_kit.observability. Outside Lambda
# (no LAMBDA_TASK_ROOT) Powertools' Tracer disables itself: these tests never trace.
OBSERVABILITY = {
    "POWERTOOLS_SERVICE_NAME": "under-test",
    "POWERTOOLS_METRICS_NAMESPACE": "HandlerTests",
    "POWERTOOLS_TRACE_DISABLED": "false",
}

_OWN_MODULES: dict[int, list[ModuleType]] = {}


def function_folders(source: str, layers: tuple[str, ...] = ()) -> list[Path]:
    """The function's folder, then the layers Lambda would give it (handler_kit first)."""
    return [
        LAMBDA_SRC / source,
        LAMBDA_SRC / "layers" / "handler_kit",
        *(LAMBDA_SRC / "layers" / layer for layer in layers),
    ]


def load_function(
    source: str,
    module: str = "handler",
    *,
    layers: tuple[str, ...] = (),
    environment: dict[str, str] | None = None,
) -> ModuleType:
    """`lambda_src/<source>/<module>.py`, imported fresh with `environment` for the import."""
    folders = function_folders(source, layers)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**OBSERVABILITY, **(environment or {})}.items():
            patch.setenv(name, value)
        imported = import_from(folders[0], module, folders[1:])
    roots = [str(folder) for folder in folders]
    _OWN_MODULES[id(imported)] = [
        m
        for m in list(sys.modules.values())
        if any((getattr(m, "__file__", None) or "").startswith(root) for root in roots)
    ]
    return imported


def forget_cached(module: ModuleType) -> None:
    """Clear every `functools.cache` function defined in the function's own modules."""
    for own in _OWN_MODULES[id(module)]:
        for value in list(vars(own).values()):
            if callable(getattr(value, "cache_clear", None)) and (
                getattr(value, "__module__", None) == own.__name__
            ):
                value.cache_clear()


def fresh(
    module: ModuleType, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> ModuleType:
    """`module` with `environment` set for this test and nothing cached from another test."""
    for name, value in {**OBSERVABILITY, **environment}.items():
        monkeypatch.setenv(name, value)
    forget_cached(module)
    return module
