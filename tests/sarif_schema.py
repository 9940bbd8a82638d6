"""The official SARIF 2.1.0 JSON schema, fetched once with npm and cached outside the repo.

The schema is not ours to copy into the repository. The npm package
`@microsoft/jest-sarif` ships it (`lib/schemas/sarif-2.1.0-rtm.5.json`), so the
ordinary npm client downloads that package's tarball (`npm pack`, no install, no
scripts), the schema is read straight out of the tarball and checked against a pinned
SHA-256, then cached in a folder outside the working tree:

    $DRIFTCHECK_TEST_CACHE, else $XDG_CACHE_HOME/driftcheck-tests,
    else ~/.cache/driftcheck-tests

Those are read from the environment when this module is imported, before the test
suite pins HOME to a temporary folder. `DRIFTCHECK_SARIF_SCHEMA=/path/to/file.json`
uses a copy you already have (it must match the pinned hash).

When the schema cannot be had, `official_validator()` skips the test locally and fails
it under CI (`CI=true`), saying what is missing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

NPM_PACKAGE = "@microsoft/jest-sarif"
NPM_VERSION = "1.0.0-beta.0"
SCHEMA_MEMBER = "package/lib/schemas/sarif-2.1.0-rtm.5.json"
SCHEMA_SHA256 = "2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8"
CACHE_FILE = f"sarif-2.1.0-rtm.5-{SCHEMA_SHA256[:12]}.json"

# The real environment, captured at import (collection) time: the autouse fixture in
# conftest.py later points HOME at a temporary folder, which would hide both the user's
# cache and their npm configuration (registry mirror, proxy, certificates).
_REAL_ENV: dict[str, str] = dict(os.environ)


def real_env() -> dict[str, str]:
    """The environment as it was before the test suite pinned HOME."""
    return dict(_REAL_ENV)


class SchemaUnavailable(RuntimeError):
    """The official schema could not be obtained; the message says why."""


def cache_dir(env: dict[str, str] | None = None) -> Path:
    env = _REAL_ENV if env is None else env
    if env.get("DRIFTCHECK_TEST_CACHE"):
        return Path(env["DRIFTCHECK_TEST_CACHE"])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "driftcheck-tests"
    return Path(env.get("HOME") or Path.home()) / ".cache" / "driftcheck-tests"


def in_ci(env: dict[str, str] | None = None) -> bool:
    value = (_REAL_ENV if env is None else env).get("CI", "")
    return value.strip().lower() in {"1", "true", "yes"}


def _checked(data: bytes, origin: str) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    if digest != SCHEMA_SHA256:
        raise SchemaUnavailable(
            f"the SARIF schema from {origin} has SHA-256 {digest}, expected {SCHEMA_SHA256}"
        )
    schema: dict[str, Any] = json.loads(data)
    return schema


def _from_npm(workdir: Path) -> bytes:
    npm = shutil.which("npm", path=_REAL_ENV.get("PATH"))
    if npm is None:
        raise SchemaUnavailable(
            "npm is not on PATH; it is needed once to fetch the official SARIF 2.1.0 schema "
            f"from the npm package {NPM_PACKAGE}"
        )
    spec = f"{NPM_PACKAGE}@{NPM_VERSION}"
    try:
        proc = subprocess.run(
            [npm, "pack", spec, "--ignore-scripts", "--json", "--pack-destination", str(workdir)],
            cwd=str(workdir),
            env=_REAL_ENV,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SchemaUnavailable(f"`npm pack {spec}` did not run: {exc}") from exc
    tarballs = sorted(workdir.glob("*.tgz"))
    if proc.returncode != 0 or not tarballs:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise SchemaUnavailable(
            f"`npm pack {spec}` failed (exit {proc.returncode}): " + " / ".join(tail)
        )
    try:
        with tarfile.open(tarballs[0], "r:gz") as archive:
            member = archive.extractfile(SCHEMA_MEMBER)
            if member is None:
                raise KeyError(SCHEMA_MEMBER)
            return member.read()
    except (KeyError, tarfile.TarError, OSError) as exc:
        raise SchemaUnavailable(f"{tarballs[0].name} has no readable {SCHEMA_MEMBER}") from exc


def _store(target: Path, data: bytes) -> None:
    """Write atomically: parallel test workers may fetch at the same time."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, target)
    except OSError:
        pass  # an unwritable cache only costs a download next time


@functools.lru_cache(maxsize=1)
def official_schema() -> dict[str, Any]:
    """The schema as data; raises `SchemaUnavailable` with the reason when it cannot."""
    if override := _REAL_ENV.get("DRIFTCHECK_SARIF_SCHEMA"):
        try:
            return _checked(Path(override).read_bytes(), override)
        except OSError as exc:
            raise SchemaUnavailable(f"DRIFTCHECK_SARIF_SCHEMA={override}: {exc}") from exc
    cached = cache_dir() / CACHE_FILE
    if cached.is_file():
        try:
            return _checked(cached.read_bytes(), str(cached))
        except (SchemaUnavailable, ValueError):
            cached.unlink(missing_ok=True)  # damaged: fetch again
    with tempfile.TemporaryDirectory(prefix="driftcheck-sarif-") as tmp:
        data = _from_npm(Path(tmp))
    schema = _checked(data, f"{NPM_PACKAGE}@{NPM_VERSION}")
    _store(cached, data)
    return schema


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = official_schema()
    # The schema names its own draft ("$schema": draft-04); honour it.
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


_failure: list[str] = []  # why the schema could not be had, so it is tried once only


def official_validator() -> jsonschema.protocols.Validator:
    """A validator for the official schema, or skip (locally) / fail (CI) the test."""
    if not _failure:
        try:
            return _validator()
        except SchemaUnavailable as exc:
            _failure.append(str(exc))
    message = f"official SARIF 2.1.0 schema unavailable: {_failure[0]}"
    if in_ci():
        pytest.fail(message + " (required under CI=true)", pytrace=False)
    pytest.skip(message)


def schema_errors(log: Any) -> list[str]:
    """Every violation of the official schema in `log`, as readable lines."""
    validator = official_validator()
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]


def assert_valid_sarif(log: Any) -> None:
    errors = schema_errors(log)
    assert not errors, "SARIF log violates the official 2.1.0 schema:\n" + "\n".join(errors[:20])
