"""Asset folders built at synth time, without Docker: the shared package the way each runtime
takes it, the collector's third-party wheels, the SageMaker source archive, MWAA's bucket.

Everything lands in ``.cache/build/`` (git-ignored). Copies are rebuilt on every synth (cheap,
and CDK hashes contents, so an unchanged package keeps its asset hash); downloaded wheels are
kept per pin set, so only the first synth after a pin change needs PyPI.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable
from functools import cache
from hashlib import sha256
from pathlib import Path

from shoprec.lineage import CODE_VERSION_FILE, code_version

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / ".cache" / "build"
PACKAGE = "shoprec"
# The stand-ins of the local cloud are never deployed.
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "local")


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _copy_package(target: Path) -> None:
    shutil.copytree(REPO / PACKAGE, target / PACKAGE, ignore=_IGNORED)


def _normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them (tensorflow_cpu == tensorflow-cpu)."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def pins(lock: str, names: Iterable[str]) -> list[str]:
    """``name==version`` of each name from ``envs/<lock>.lock`` (the runtime's own pins)."""
    wanted = {_normalized(name) for name in names}
    found = [
        line.strip()
        for line in (REPO / "envs" / f"{lock}.lock").read_text().splitlines()
        if _normalized(line.split("==")[0]) in wanted
    ]
    if len(found) != len(wanted):
        raise ValueError(f"envs/{lock}.lock lacks some of {sorted(wanted)}: {found}")
    return sorted(found)


@cache
def shared_package(layout: str) -> Path:
    """The shared package in a folder: ``layer`` → ``python/shoprec`` (a Lambda layer),
    ``zip`` → ``shoprec`` (Glue ``--extra-py-files``; CDK zips the folder)."""
    folder = _fresh(BUILD / f"package-{layout}")
    _copy_package(folder / "python" if layout == "layer" else folder)
    return folder


# Lambda python3.12 runs on Amazon Linux 2023 (glibc 2.34): any of these wheels fits.
_LAMBDA_PLATFORMS = [
    f"--platform=manylinux_{tag}_x86_64" for tag in ("2_34", "2_28", "2_17", "2014")
]


@cache
def lambda_dependencies(*packages: str) -> Path:
    """Wheels for the Lambda python3.12 x86_64 runtime, pinned by envs/lambda.lock."""
    requirements = pins("lambda", packages)
    digest = sha256("\n".join(requirements).encode()).hexdigest()[:12]
    folder = BUILD / f"lambda-deps-{digest}"
    if not (folder / "complete").exists():
        _fresh(folder)
        # fmt: off
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--only-binary=:all:", *_LAMBDA_PLATFORMS,
             "--implementation", "cp", "--python-version", "3.12",
             "--target", str(folder / "python"), *requirements],
            check=True,
        )
        # fmt: on
        (folder / "complete").write_text("\n".join(requirements))
    return folder


def _add(archive: tarfile.TarFile, path: Path, name: str) -> None:
    info = archive.gettarinfo(str(path), arcname=name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    info.mode = 0o755 if path.is_dir() else 0o644
    if path.is_file():
        with path.open("rb") as data:
            archive.addfile(info, data)
    else:
        archive.addfile(info)


@cache
def training_source() -> Path:
    """``sourcedir.tar.gz`` for script mode: train.py, the shared package, requirements.txt
    (what the TensorFlow image lacks). Byte-identical for identical inputs (stable hash)."""
    staging = _fresh(BUILD / "training-source")
    tree = _fresh(staging / "tree")
    shutil.copy(REPO / "sagemaker" / "training" / "train.py", tree / "train.py")
    (tree / CODE_VERSION_FILE).write_text(code_version())  # lineage: the manifest records it
    (tree / "requirements.txt").write_text("\n".join(pins("ml", ["pyarrow"])) + "\n")
    _copy_package(tree)
    target = staging / "sourcedir.tar.gz"
    with (
        target.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w") as archive,
    ):
        for path in sorted(tree.rglob("*")):
            _add(archive, path, path.relative_to(tree).as_posix())
    return target


@cache
def mwaa_bucket(dags: Path, requirements: str) -> Path:
    """What MWAA reads from its bucket: ``dags/`` (the DAGs and the shared package beside
    them, on the DAG folder's import path) and ``requirements.txt``."""
    folder = _fresh(BUILD / "mwaa")
    shutil.copytree(dags, folder / "dags", ignore=_IGNORED)
    _copy_package(folder / "dags")
    (folder / "requirements.txt").write_text(requirements)
    return folder


def api_project() -> Path:
    """The Chalice project with the shared package in ``vendor/`` (how Chalice ships local
    packages). ``.chalice/deployments`` (Chalice's cache of built dependencies) is kept."""
    folder = BUILD / "api"
    source = REPO / "api"
    for name in ("app.py", "chalicelib", "requirements.txt", "vendor", ".chalice/config.json"):
        target = folder / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    shutil.copytree(source / "chalicelib", folder / "chalicelib", ignore=_IGNORED)
    for name in ("app.py", "requirements.txt", ".chalice/config.json"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name, folder / name)
    _copy_package(folder / "vendor")
    return folder
