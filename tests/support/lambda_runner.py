"""Run a template's Lambda functions in-process, as Lambda would: `FunctionInProcess`.

The handler is imported fresh from the very asset folder the template's `Code` points at (with
the `python/` folder of each layer it attaches), with the environment exactly as the template
sets it plus what Lambda adds (region, function name) and the credentials of the execution role
the template gives the function (assumed through moto's STS; a fresh default boto3 session, as
in a new execution environment). Import and every invocation run under `enforced()`
(iam_enforcement.py): a call the role's policies do not allow fails with AccessDenied.

`lambda_service_calls()` makes, as the same role, the calls the Lambda service itself makes with
the execution role (lambda_service.py).

`import_from` is the import both this runner and the handler unit tests (handlers.py) use.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from pathlib import Path
from typing import Any

import boto3

from tests.support.iam_enforcement import RoleCredentials, enforced
from tests.support.intrinsics import ACCOUNT


class FunctionInProcess:
    """A Lambda function of the template, run in-process from its asset folder as its role."""

    def __init__(self, stack, logical_id: str) -> None:
        self.stack = stack
        self.logical_id = logical_id
        self.properties = stack.properties(logical_id)
        self.environment: dict[str, str] = {
            k: str(v)
            for k, v in self.properties.get("Environment", {}).get("Variables", {}).items()
        }
        self.asset_dir = self._asset_dir()
        module, _, self.handler_name = self.properties["Handler"].rpartition(".")
        self.module_name = module
        self.role_logical_id = stack.role_id(stack.resources[logical_id]["Properties"]["Role"])
        self._module = None

    @property
    def name(self) -> str:
        return self.stack.names[self.logical_id]

    @property
    def credentials(self) -> RoleCredentials:
        """The execution role's temporary credentials (assumed once per test)."""
        return self.stack.role_credentials(self.role_logical_id)

    def _asset_dir(self) -> Path:
        """The folder the template's Code.S3Key names, via the stack's asset manifest."""
        return self.stack.asset_dir(self.properties["Code"]["S3Key"])

    @property
    def layer_dirs(self) -> list[Path]:
        """`python/` of each layer the template attaches (Lambda puts /opt/python on sys.path)."""
        return [
            self.stack.asset_dir(layer["Content"]["S3Key"]) / "python"
            for layer in self.resources_layers()
        ]

    def resources_layers(self) -> list[dict]:
        layers = []
        for arn in self.properties.get("Layers", []):
            for logical_id in self.stack.of_type("AWS::Lambda::LayerVersion"):
                if self.stack.ref(logical_id) == arn:
                    layers.append(self.stack.properties(logical_id))
        return layers

    @contextlib.contextmanager
    def environment_applied(self):
        """os.environ and boto3's default session as Lambda would set them for this function
        (template environment, region, name, role credentials), restored afterwards."""
        credentials = self.credentials
        saved, saved_session = dict(os.environ), boto3.DEFAULT_SESSION
        os.environ.update(self.environment)
        os.environ.update(
            {
                "AWS_REGION": self.stack.region,
                "AWS_DEFAULT_REGION": self.stack.region,
                "AWS_LAMBDA_FUNCTION_NAME": self.name,
                **credentials.environment(),
            }
        )
        boto3.DEFAULT_SESSION = credentials.session()
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)
            boto3.DEFAULT_SESSION = saved_session

    @contextlib.contextmanager
    def as_role(self):
        """A boto3 session of the execution role, with enforcement on: for the calls Lambda
        itself makes with the role (reading a stream for its event source mapping, ...)."""
        session = self.credentials.session()
        with enforced():
            yield session

    @property
    def module(self):
        """The handler module, imported fresh from the asset folder (clients made as the role)."""
        if self._module is None:
            with self.environment_applied(), enforced():
                self._module = import_from(self.asset_dir, self.module_name, self.layer_dirs)
        return self._module

    def attribute(self, name: str) -> Any:
        """`module.<name>` read inside the function's environment: a client the module makes
        lazily is made as the role, as it would be inside an invocation (e.g. to stub it)."""
        module = self.module
        with self.environment_applied(), enforced():
            return getattr(module, name)

    def invoke(self, event: dict, context: Any = None) -> Any:
        handler = getattr(self.module, self.handler_name)
        with self.environment_applied(), enforced():
            return handler(event, context or LambdaContext(self.name, self.stack.region))

    # -- what the Lambda service does with the execution role -----------------------------------

    def lambda_service_calls(self) -> list[str]:
        """Make the calls Lambda makes with this function's role; return their names. A refused
        call raises (ClientError with AccessDenied), noted with the step that made it."""
        from tests.support.lambda_service import service_calls

        return service_calls(self)

    @property
    def traced(self) -> bool:
        return self.properties.get("TracingConfig", {}).get("Mode") == "Active"

    @property
    def in_vpc(self) -> bool:
        return bool(self.properties.get("VpcConfig", {}).get("SubnetIds"))


class LambdaContext:
    def __init__(self, function_name: str, region: str = "us-east-1") -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def own_names(folders: list[Path]) -> set[str]:
    """Top-level modules and packages of these folders that are the function's own code (not
    the third-party packages bundled beside it)."""
    names = {p.stem for f in folders for p in Path(f).glob("*.py")}
    names |= {p.parent.name for f in folders for p in Path(f).glob("*/__init__.py")}
    return names - _bundled_modules([str(f) for f in folders])


def import_from(folder: Path, module_name: str, layer_dirs: list[Path] = ()):
    """Import `module_name` from `folder` (and its layers' folders), fresh: any module of the
    same name from another function, or from another copy of this one, is evicted first.

    The folders go at the *end* of sys.path: a bundled asset holds dependencies built for the
    Lambda platform (arm64), so third-party packages must come from the test environment while
    the handler's own modules (and handler_kit, from its layer) can only come from the asset.
    """
    folders = [str(folder), *map(str, layer_dirs)]
    own = own_names([Path(f) for f in folders])
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if name.split(".")[0] in own or "/lambda_src/" in origin or "/asset." in origin:
            del sys.modules[name]
    sys.path.extend(folders)
    try:
        return importlib.import_module(module_name)
    finally:
        for f in folders:
            sys.path.remove(f)


def _bundled_modules(folders: list[str]) -> set[str]:
    """Top-level names of the third-party packages bundled into the assets (their dist-info
    RECORDs say which): single-file ones such as six or typing_extensions are not the handler's
    own, and evicting them from sys.modules would split the test process's copy in two."""
    names = set()
    for folder in folders:
        for record in Path(folder).glob("*.dist-info/RECORD"):
            for line in record.read_text().splitlines():
                names.add(line.split(",", 1)[0].split("/", 1)[0].removesuffix(".py"))
    return names
