"""Lambda deployment packages, bundled for the Lambda platform without Docker.

A function's code is one folder under `lambda_src/`; if that folder has a `requirements.txt`,
its wheels are installed for the Lambda platform (`pip --platform manylinux_2_28_aarch64
--only-binary=:all:`) at synth and cached under `.cache/lambda-deps/`. No Docker engine needed:
CDK's local bundling hook (`cdk.ILocalBundling`) runs pip on this machine.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SRC = REPO_ROOT / "lambda_src"
DEPENDENCY_CACHE = REPO_ROOT / ".cache" / "lambda-deps"

# The newest Python runtime that aws-cdk-lib knows and cdk-nag's AwsSolutions-L1 accepts.
RUNTIME = lambda_.Runtime.PYTHON_3_14
# Graviton: about 20 % cheaper per GB-second than x86_64 for the same code.
ARCHITECTURE = lambda_.Architecture.ARM_64
# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34): manylinux_2_28 fits.
# (manylinux2014 would silently pick older releases of some packages.)
WHEEL_PLATFORM = "manylinux_2_28_aarch64"
_SKIP = {"__pycache__", ".pytest_cache", "requirements.txt"}
# A requirements.txt line ending in this marker names a pure-Python package that PyPI has only
# as source (amazon-dax-client): it is built once into a py3-none-any wheel, then installed with
# the rest. A package that would build into a platform wheel is refused (wrong architecture).
PURE_PYTHON_SDIST = "# pure-python-sdist"


def _source_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not (set(p.relative_to(folder).parts) & _SKIP) and p.suffix != ".pyc"
    )


def _fingerprint(folder: Path) -> str:
    """Hash of the code, the requirements and the target platform: changes iff the bundle would."""
    digest = hashlib.sha256(f"{RUNTIME.name}|{WHEEL_PLATFORM}".encode())
    for path in _source_files(folder) + [folder / "requirements.txt"]:
        if path.exists():
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def install_dependencies(requirements: Path, *, python_version: str | None = None) -> Path:
    """Wheels of `requirements` for the Lambda platform (arm64, manylinux_2_28: also Amazon Linux
    2023 on Graviton), installed once into a shared cache; for the Lambda runtime's Python unless
    `python_version` (e.g. "3.12") says otherwise."""
    python_version = python_version or RUNTIME.name.removeprefix("python")
    key = hashlib.sha256(
        f"{python_version}|{WHEEL_PLATFORM}|".encode() + requirements.read_bytes()
    ).hexdigest()[:24]
    target = DEPENDENCY_CACHE / key
    if target.is_dir():
        return target
    DEPENDENCY_CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=DEPENDENCY_CACHE))
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--requirement",
        str(requirements),
        "--target",
        str(staging),
        "--platform",
        WHEEL_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--only-binary=:all:",
        "--no-compile",
    ]
    with tempfile.TemporaryDirectory(dir=DEPENDENCY_CACHE) as wheelhouse:
        if _build_pure_python_wheels(requirements, Path(wheelhouse)):
            command += ["--find-links", wheelhouse]
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(
            f"bundling {requirements} for {WHEEL_PLATFORM}/{python_version} failed "
            f"(is PyPI reachable?):\n{result.stderr[-2000:]}"
        )
    try:
        os.rename(staging, target)
    except OSError:  # another synth filled the cache first; theirs is identical
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _build_pure_python_wheels(requirements: Path, wheelhouse: Path) -> bool:
    """py3-none-any wheels of the requirements marked PURE_PYTHON_SDIST; False if none are."""
    marked = [
        line.split("#", 1)[0].strip()
        for line in requirements.read_text().splitlines()
        if line.rstrip().endswith(PURE_PYTHON_SDIST)
    ]
    for requirement in marked:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--wheel-dir",
                str(wheelhouse),
                requirement,
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"building {requirement} from source failed:\n{result.stderr[-2000:]}"
            )
    for wheel in wheelhouse.glob("*.whl"):
        if not wheel.name.endswith("-none-any.whl"):
            raise RuntimeError(
                f"{wheel.name} is not pure Python: it cannot be marked "
                f"{PURE_PYTHON_SDIST!r} in {requirements}"
            )
    return bool(marked)


@jsii.implements(cdk.ILocalBundling)
class _PipBundler:
    """Local bundling: cached platform wheels + the function's own files. Never needs Docker."""

    def __init__(self, folder: Path, prefix: str = "") -> None:
        self._folder = folder
        self._prefix = prefix  # "python" for a layer: Lambda adds /opt/python to sys.path

    def try_bundle(
        self, output_dir: str, _options=None, **_kwargs
    ) -> bool:  # jsii passes options positionally
        root = Path(output_dir) / self._prefix
        requirements = self._folder / "requirements.txt"
        if requirements.is_file():
            shutil.copytree(install_dependencies(requirements), root, dirs_exist_ok=True)
        for path in _source_files(self._folder):
            destination = root / path.relative_to(self._folder)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        return True


def bundled_asset(folder: Path, prefix: str = "") -> lambda_.Code:
    """`folder`'s files plus its requirements' wheels for the Lambda platform, under `prefix`
    ("python" for a layer: Lambda adds /opt/python to sys.path)."""
    return lambda_.Code.from_asset(
        str(folder),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=_fingerprint(folder),
        bundling=cdk.BundlingOptions(
            image=RUNTIME.bundling_image, local=_PipBundler(folder, prefix=prefix)
        ),
    )


def lambda_code(source: str) -> lambda_.Code:
    """The deployment package of `lambda_src/<source>/`, bundled if it has requirements."""
    folder = LAMBDA_SRC / source
    if not (folder / "handler.py").is_file() and not any(folder.glob("*.py")):
        raise ValueError(f"lambda_src/{source}/ has no Python handler")
    if not (folder / "requirements.txt").is_file():
        return lambda_.Code.from_asset(str(folder), exclude=["__pycache__", "*.pyc"])
    return bundled_asset(folder)
