"""driftcheck on a real npm package's sources, as the benchmark does for Python.

The package (pinned, small: plain ES modules and .d.ts typings) is fetched with
`npm pack` once into a cache folder outside the repository. Without npm (or without the
registry) the tests skip locally; under CI=true they fail instead, so CI cannot pass
without having run them. bench/fetch_npm_sources.py does the same on a larger package.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest

PACKAGE = "ky@1.14.3"
ROOT = Path(__file__).resolve().parent.parent
# Read at import, before the hermetic fixture points HOME at a temp folder: npm's own
# configuration (registry, certificates) lives in the real one.
_REAL_HOME = os.environ.get("HOME", "")
CACHE = Path(
    os.environ.get("DRIFTCHECK_NPM_CACHE") or Path(tempfile.gettempdir()) / "driftcheck-npm-cache"
)


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "fetch_npm_sources", ROOT / "bench" / "fetch_npm_sources.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _bench()


@pytest.fixture(scope="module")
def sources() -> Path:
    env = {**os.environ, "HOME": _REAL_HOME} if _REAL_HOME else None
    try:
        return bench.fetch(PACKAGE, CACHE, env=env)
    except (bench.FetchError, OSError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the real package: {exc}")
        pytest.skip(f"cannot fetch {PACKAGE}: {exc}")


def test_every_file_of_a_real_package_parses(sources: Path) -> None:
    stats = bench.measure(sources)
    assert set(stats) == {"javascript", "typescript"}  # .js and .d.ts
    for language, s in stats.items():
        assert s.files >= 20, language
        assert s.crashes == 0 and s.parse_errors == 0, language
        assert s.symbols >= 50 and s.references >= 50, language


def test_planted_drift_in_a_real_package_is_found(sources: Path, tmp_path: Path) -> None:
    repo, plan = bench.plant(sources, tmp_path / "work", env=dict(os.environ))
    code, findings, _ = bench.scan(repo)
    assert code == 1
    assert bench.check(findings, plan) == [], [f["message"] for f in findings]
    stale = [f for f in findings if f["kind"] == "stale-caller"]
    assert len(stale) == 1 and "plantedExtra" in stale[0]["message"]
