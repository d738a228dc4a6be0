"""The API contract as the synth reads it: lambda_src/employee_api/contract.py, the very module
the handlers check requests with, loaded from its file (a Lambda asset folder is not a package).
One reader of openapi.json for the gateway's models, the handlers and the tests."""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

from house.bundling import LAMBDA_SRC

SOURCE = LAMBDA_SRC / "employee_api"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "employee_directory_contract", SOURCE / "contract.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


contract = _load()


def handler_module(operation_id: str) -> str:
    """`listEmployees` -> `list_employees`: the module of SOURCE that handles the operation."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()
