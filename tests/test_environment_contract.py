"""The environment contract: what each handler reads from its environment is what its function's
template sets, both ways, in every template of every stage.

Reads are found in the code each function deploys (its asset folder, and the `python/` folder of
each layer the template attaches, e.g. lambda_src/layers/handler_kit and dynamodb_client), starting
at the handler module and following the imports of the function's own modules and packages, with
Python's `ast`: `os.environ["X"]`, `os.environ.get("X"...)`, `os.getenv("X"...)`, `environ[...]`
after `from os import environ`, a name bound to `os.environ` (`env = os.environ; env["X"]`),
`"X" in os.environ`, and handler_kit's reader (`with environment() as env: env.text("X")`,
`env.integer("X", default=...)`, ...; required unless given a default), with the name a string
literal or a module-level string constant (`os.environ.get(DAX_ENDPOINT_VARIABLE)`). A read whose
name is anything else is itself a failure: the contract must be checkable.

The rules, per function (its templates: dev, prod, and the variants that add functions):
- every variable a template sets is read by the code (a renamed or stale one fails);
- a variable read without a default (`os.environ["X"]`) is set in every template;
- a variable read with a default (`.get`, `getenv`, `in`) is set in at least one template: a
  default may stand in for a stage on purpose (dev has no DAX, so no DAX_ENDPOINT), but a name no
  template sets is a rename the default would hide.
Lambda's own variables (LAMBDA_RESERVED: AWS_REGION, the credentials, ...) are set by Lambda, not
by the template, and are left out on both sides. Functions whose code is not ours (CDK's
custom-resource providers) are left out: their code is not in lambda_src/.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.synth import REPO_ROOT, starter_kit

# Set by Lambda itself (reserved, or defined by the runtime): never in a template.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
LAMBDA_RESERVED = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "LANG",
        "PATH",
        "LD_LIBRARY_PATH",
        "PYTHONPATH",
        "TZ",
        "AWS_XRAY_CONTEXT_MISSING",
        "AWS_XRAY_DAEMON_ADDRESS",
        "_AWS_XRAY_DAEMON_ADDRESS",
        "_AWS_XRAY_DAEMON_PORT",
        "AWS_LAMBDA_LOG_FORMAT",
        "AWS_LAMBDA_LOG_LEVEL",
    }
)

# A default read in a function's own code that no function deploying that code sets.
NOBODY_SETS_IT = "no template of a function with this code sets it"


@dataclasses.dataclass(frozen=True)
class Read:
    name: str
    required: bool  # os.environ[...]: no default
    where: str  # file:line


# -- reading the code ------------------------------------------------------------------------------


def own_modules(folders: list[Path]) -> dict[str, Path]:
    """Modules of these folders that are the function's own, not bundled packages, by dotted
    name: top-level modules, and packages with their modules (handler_kit, handler_kit.rest)."""
    bundled = set()
    for folder in folders:
        for record in folder.glob("*.dist-info/RECORD"):
            for line in record.read_text().splitlines():
                bundled.add(line.split(",", 1)[0].split("/", 1)[0].removesuffix(".py"))
    found = {}
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            if path.stem not in bundled:
                found.setdefault(path.stem, path)
        for init in sorted(folder.glob("*/__init__.py")):
            package = init.parent
            if package.name in bundled:
                continue
            for path in sorted(package.rglob("*.py")):
                parts = path.relative_to(folder).with_suffix("").parts
                name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                found.setdefault(name, path)
    return found


def environment_reads(folders: list[Path], module: str) -> tuple[list[Read], list[str]]:
    """(the reads, the reads whose name is not a constant) of `module` and the own modules it
    imports, transitively."""
    modules = own_modules(folders)
    reads, unreadable, pending, seen = [], [], [module], set()
    while pending:
        name = pending.pop()
        if name in seen or name not in modules:
            continue
        seen.add(name)
        path = modules[name]
        tree = ast.parse(path.read_text(), filename=str(path))
        finder = _ReadFinder(path.name, _string_constants(tree))
        finder.visit(tree)
        reads += finder.reads
        unreadable += finder.unreadable
        pending += [n for n in finder.imported if n in modules]
    return reads, unreadable


def _string_constants(tree: ast.Module) -> dict[str, str]:
    constants = {}
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else ([node.target] if isinstance(node, ast.AnnAssign) and node.value else [])
        )
        value = getattr(node, "value", None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            for target in targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = value.value
    return constants


# handler_kit.settings.Environment's accessors: (name, default=...) except choice's
# (name, choices, default=...). `with environment() as env:` binds the reader.
KIT_ACCESSORS = {"text": 1, "integer": 1, "flag": 1, "items": 1, "choice": 2}


def _imported_names(dotted: str) -> list[str]:
    """`a.b.c` -> a, a.b, a.b.c: an import runs each package's __init__ on the way."""
    parts = dotted.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


class _ReadFinder(ast.NodeVisitor):
    def __init__(self, file: str, constants: dict[str, str]) -> None:
        self.file, self.constants = file, constants
        self.reads: list[Read] = []
        self.unreadable: list[str] = []
        self.imported: list[str] = []
        self.environ_names: set[str] = set()
        self.getenv_names: set[str] = set()
        self.kit_readers: set[str] = set()

    # imports: own modules to follow, and `from os import environ/getenv`
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.imported += _imported_names(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "os":
            for alias in node.names:
                if alias.name == "environ":
                    self.environ_names.add(alias.asname or "environ")
                if alias.name == "getenv":
                    self.getenv_names.add(alias.asname or "getenv")
        elif node.module and node.level == 0:
            self.imported += _imported_names(node.module)
            self.imported += [f"{node.module}.{alias.name}" for alias in node.names]

    def visit_With(self, node: ast.With) -> None:
        """`with environment() as env:` (handler_kit.settings): env.<accessor>("X") reads X."""
        for item in node.items:
            call = item.context_expr
            function = call.func if isinstance(call, ast.Call) else None
            named = (isinstance(function, ast.Name) and function.id == "environment") or (
                isinstance(function, ast.Attribute) and function.attr == "environment"
            )
            if named and isinstance(item.optional_vars, ast.Name):
                self.kit_readers.add(item.optional_vars.id)
        self.generic_visit(node)

    def _is_environ(self, node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ) or (isinstance(node, ast.Name) and node.id in self.environ_names)

    def _record(self, key: ast.AST, required: bool, node: ast.AST) -> None:
        where = f"{self.file}:{node.lineno}"
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            self.reads.append(Read(key.value, required, where))
        elif isinstance(key, ast.Name) and key.id in self.constants:
            self.reads.append(Read(self.constants[key.id], required, where))
        else:
            self.unreadable.append(f"{where}: {ast.unparse(key)}")

    def visit_Assign(self, node: ast.Assign) -> None:
        """`env = os.environ`: `env[...]` and `env.get(...)` are reads too (names are tracked per
        module, not per scope: a name bound to os.environ anywhere counts everywhere)."""
        if self._is_environ(node.value):
            self.environ_names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self._is_environ(node.value) and isinstance(node.ctx, ast.Load):
            self._record(node.slice, True, node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in self.kit_readers
            and func.attr in KIT_ACCESSORS
            and node.args
        ):
            has_default = len(node.args) > KIT_ACCESSORS[func.attr] or any(
                keyword.arg == "default" for keyword in node.keywords
            )
            self._record(node.args[0], not has_default, node)
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in ("get", "setdefault", "pop")
            and self._is_environ(func.value)
            and node.args
        ):
            self._record(node.args[0], False, node)
        elif (
            (
                isinstance(func, ast.Attribute)
                and func.attr == "getenv"
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
            )
            or (isinstance(func, ast.Name) and func.id in self.getenv_names)
        ) and node.args:
            self._record(node.args[0], False, node)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        if (
            len(node.ops) == 1
            and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and self._is_environ(node.comparators[0])
        ):
            self._record(node.left, False, node)
        self.generic_visit(node)


# -- reading the templates -------------------------------------------------------------------------


@dataclasses.dataclass
class DeployedFunction:
    """One function of one template: where its code is, what the template sets."""

    label: str  # "<stack>/<construct path> [<stage>]"
    key: str  # the function across stages: "<stack>/<construct path>"
    folders: list[Path]  # its asset folder, then its layers' python/ folders
    module: str
    variables: dict[str, object]


def ours(asset: Path, module: str) -> bool:
    """The function's handler module is one of lambda_src/'s (not a CDK provider's)."""
    handler = asset / f"{module}.py"
    return handler.is_file() and any(
        handler.read_bytes() == candidate.read_bytes()
        for candidate in (REPO_ROOT / "lambda_src").glob(f"*/{module}.py")
    )


def deployed_functions(
    template: dict, stack_id: str, stage: str, asset_dir: Callable[[str], Path]
) -> list[DeployedFunction]:
    resources = template["Resources"]
    found = []
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::Lambda::Function" or "S3Key" not in props.get("Code", {}):
            continue
        if not str(props.get("Runtime", "")).startswith("python"):
            continue
        module = props["Handler"].rpartition(".")[0]
        folder = asset_dir(props["Code"]["S3Key"])
        if not ours(folder, module):
            continue
        layers = []
        for layer in props.get("Layers", []):
            layer_id = layer.get("Ref") if isinstance(layer, dict) else None
            content = resources[layer_id]["Properties"]["Content"]
            layers.append(asset_dir(content["S3Key"]) / "python")
        path = resource["Metadata"]["aws:cdk:path"].split("/", 1)[1].removesuffix("/Resource")
        found.append(
            DeployedFunction(
                label=f"{stack_id}/{path} [{stage}]",
                key=f"{stack_id}/{path}",
                folders=[folder, *layers],
                module=module,
                variables=props.get("Environment", {}).get("Variables", {}),
            )
        )
    return found


def asset_resolver(assembly_dir: Path) -> Callable[[str], Path]:
    def resolve(s3_key: str) -> Path:
        asset_hash = s3_key.removesuffix(".zip")
        for manifest in assembly_dir.glob("*.assets.json"):
            files = json.loads(manifest.read_text()).get("files", {})
            if asset_hash in files:
                return assembly_dir / files[asset_hash]["source"]["path"]
        raise LookupError(f"no asset {asset_hash} in {assembly_dir}")

    return resolve


# -- the contract ----------------------------------------------------------------------------------


def contract_problems(functions: list[DeployedFunction]) -> list[str]:
    """Every way `functions` (one entry per function per template) break the contract."""
    problems = []
    by_key: dict[str, list[DeployedFunction]] = {}
    for function in functions:
        by_key.setdefault(function.key, []).append(function)
    # A variable read with a default is dead when no template of any function sets it: shared
    # layer code (handler_kit's origin lock) reads options that only some functions turn on
    # (and in a starter kit, maybe none of its own: there only a function's own reads count).
    set_anywhere = {name for function in functions for name in function.variables}
    set_for_code: dict[Path, set[str]] = {}
    for function in functions:
        set_for_code.setdefault(function.folders[0], set()).update(function.variables)
    for key, deployments in sorted(by_key.items()):
        for function in deployments:
            reads, unreadable = environment_reads(function.folders, function.module)
            problems += [
                f"{function.label}: cannot tell which variable {u} reads" for u in unreadable
            ]
            read_names = {r.name for r in reads} - LAMBDA_RESERVED
            template = set(function.variables) - LAMBDA_RESERVED
            for name in sorted(template - read_names):
                problems.append(
                    f"{function.label}: the template sets {name}, the code never reads it"
                )
            for read in reads:
                if read.required and read.name not in LAMBDA_RESERVED and read.name not in template:
                    problems.append(
                        f"{function.label}: {read.where} needs {read.name}, "
                        "the template does not set it"
                    )
        last = deployments[-1]
        reads, _ = environment_reads(last.folders, last.module)
        set_for_it = set_for_code[last.folders[0]]
        for read in reads:
            if read.required or read.name in LAMBDA_RESERVED:
                continue
            own_code = (last.folders[0] / read.where.split(":")[0]).exists()
            if own_code and read.name not in set_for_it:
                # Its own code (the folder it deploys, which functions sharing that code share
                # too): one of their templates must set it; a function with other code setting
                # the same name says nothing about this one.
                problems.append(
                    f"{key}: {read.where} reads {read.name} (with a default), {NOBODY_SETS_IT}"
                )
            elif not own_code and read.name not in set_anywhere and not starter_kit():
                problems.append(
                    f"{key}: {read.where} reads {read.name} (with a default), "
                    "no template of any function sets it"
                )
    return sorted(set(problems))


def all_functions(assembly, variants) -> list[DeployedFunction]:
    functions = []
    for built in (assembly, *variants):
        for stack_id in built.stacks:  # every stack: a function's stack is no exemption
            functions += deployed_functions(
                built.template(stack_id), stack_id, built.stage, asset_resolver(built.outdir)
            )
    return functions


@pytest.fixture(scope="module")
def every_stage_function(synth, variants_with_more_functions) -> list[DeployedFunction]:
    functions = []
    for stage in ("dev", "prod"):
        functions += all_functions(synth(stage), variants_with_more_functions(stage))
    if not functions:
        pytest.skip("no blueprint with Lambda functions selected (BLUEPRINTS)")
    return functions


def test_every_handler_reads_what_its_template_sets_and_nothing_else(every_stage_function):
    problems = contract_problems(every_stage_function)
    assert not problems, "\n".join(problems)


def test_the_functions_checked_are_every_function_of_ours(every_stage_function):
    """The contract covers each of lambda_src/'s handlers, in both stages (none skipped)."""
    expected = {
        "MyBlog/Api/Handler",
        "MyBlog/Thumbnails/Function",
        "MyBlog/Subscriptions/Handler",
        "MyBlog/Subscriptions/WelcomeEmail/Function",
        "MyTodoList/TodoApi/Handler",
        "NeptuneGraph/BulkLoad/StartLoad",
        "NeptuneGraph/BulkLoad/LoadStatus",
        "NeptuneGraph/SmallLoads/Function",
        "EmployeeDirectoryServerless/Api/CreateEmployee",
        "EmployeeDirectoryServerless/Api/DeleteEmployee",
        "EmployeeDirectoryServerless/Api/GetEmployee",
        "EmployeeDirectoryServerless/Api/GetEmployeePhoto",
        "EmployeeDirectoryServerless/Api/ListEmployees",
        "EmployeeDirectoryServerless/Api/RequestPhotoUpload",
        "EmployeeDirectoryServerless/Api/UpdateEmployee",
        "EmployeeDirectoryServerless/Data/Thumbnails/Function",
        "EmployeeDirectoryClassic/Data/Thumbnails/Function",
        "MicroservicesInventory/Reserve/Function",
        "MicroservicesInventory/StockImport/Function",
        "MicroservicesNotifications/Notify/Function",
        "MicroservicesOrders/OrdersApi",
        "MicroservicesOrders/Publisher/Function",
        "ServerlessWebApp/Api/Handler",
        "UpdateServer/ReleasePublisher/Function",
    }
    built = {f.key.split("/")[0] for f in every_stage_function}
    checked = {(f.key, f.label.rsplit("[", 1)[1].rstrip("]")) for f in every_stage_function}
    assert {
        (k, stage) for k in expected if k.split("/")[0] in built for stage in ("dev", "prod")
    } <= checked


def test_the_layer_is_read_too(every_stage_function):
    """DAX_ENDPOINT is read only by the dynamodb_client layer (through a module constant)."""
    api = [f for f in every_stage_function if f.label == "MyBlog/Api/Handler [prod]"]
    if not api:
        pytest.skip("MyBlog not built")
    reads, _ = environment_reads(api[0].folders, api[0].module)
    assert any(r.name == "DAX_ENDPOINT" and r.where.startswith("dynamodb_client.py") for r in reads)


# -- a one-sided rename fails ----------------------------------------------------------------------


def renamed_in_template(function: DeployedFunction, old: str, new: str) -> DeployedFunction:
    variables = {(new if k == old else k): v for k, v in function.variables.items()}
    return dataclasses.replace(function, variables=variables)


def test_a_variable_renamed_in_one_template_is_reported(every_stage_function):
    """The first variable a function's code needs (no default), renamed in one template."""
    target, name = next(
        (f, read.name)
        for f in every_stage_function
        for read in environment_reads(f.folders, f.module)[0]
        if read.required and read.name in f.variables
    )
    renamed = f"{name}_RENAMED"
    functions = [
        renamed_in_template(f, name, renamed) if f is target else f for f in every_stage_function
    ]
    problems = contract_problems(functions)
    assert f"{target.label}: the template sets {renamed}, the code never reads it" in problems
    assert any(p.startswith(f"{target.label}: ") and f"needs {name}," in p for p in problems)


def test_a_variable_with_a_default_renamed_in_the_code_is_reported(every_stage_function, tmp_path):
    """CACHE_SECONDS has a default in the blog API: only the contract notices a rename."""
    api = [f for f in every_stage_function if f.key == "MyBlog/Api/Handler"]
    if not api:
        pytest.skip("MyBlog not built")
    copy = tmp_path / "asset"  # the asset's own modules and its bundled packages' RECORDs
    copy.mkdir()
    for path in api[0].folders[0].glob("*.py"):
        shutil.copy(path, copy)
    for record in api[0].folders[0].glob("*.dist-info/RECORD"):
        (copy / record.parent.name).mkdir()
        shutil.copy(record, copy / record.parent.name)
    (reader,) = [p for p in copy.glob("*.py") if '"CACHE_SECONDS"' in p.read_text()]
    reader.write_text(reader.read_text().replace('"CACHE_SECONDS"', '"CACHE_TTL_SECONDS"'))
    renamed = [dataclasses.replace(f, folders=[copy, *f.folders[1:]]) for f in api]
    problems = contract_problems(renamed)
    for function in renamed:
        assert (
            f"{function.label}: the template sets CACHE_SECONDS, the code never reads it"
            in problems
        )
    assert any(
        "reads CACHE_TTL_SECONDS (with a default), no template of a function with this code sets it"
        in p
        for p in problems
    )


def test_a_read_the_contract_cannot_name_is_reported(tmp_path):
    (tmp_path / "handler.py").write_text("import os\nNAME = 'X' + 'Y'\nvalue = os.environ[NAME]\n")
    function = DeployedFunction("S/F [dev]", "S/F", [tmp_path], "handler", {})
    assert contract_problems([function]) == [
        "S/F [dev]: cannot tell which variable handler.py:3: NAME reads"
    ]


def test_handler_kit_reads_are_found_required_unless_given_a_default(tmp_path):
    (tmp_path / "handler.py").write_text(
        "from handler_kit.settings import environment\n"
        "LIMIT = 'LIMIT'\n"
        "with environment() as env:\n"
        "    env.text('TABLE')\n"
        "    env.integer(LIMIT, default=5)\n"
        "    env.choice('MODE', ('a', 'b'), 'a')\n"
        "    env.flag('STRICT')\n"
    )
    function = DeployedFunction("S/F [dev]", "S/F", [tmp_path], "handler", {"STRICT": "true"})
    assert contract_problems([function]) == [
        "S/F [dev]: handler.py:4 needs TABLE, the template does not set it",
        "S/F: handler.py:5 reads LIMIT (with a default), " + NOBODY_SETS_IT,
        "S/F: handler.py:6 reads MODE (with a default), " + NOBODY_SETS_IT,
    ]


def test_the_kit_layer_is_read_too(every_stage_function):
    """Every function reads the POWERTOOLS_* variables its construct sets, in handler_kit (a
    package in a layer, imported by the handler's own modules)."""
    for function in every_stage_function:
        reads, _ = environment_reads(function.folders, function.module)
        kit = {r.name for r in reads if r.where.startswith("observability.py") and r.required}
        assert kit == {
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_METRICS_NAMESPACE",
            "POWERTOOLS_TRACE_DISABLED",
        }, function.label
