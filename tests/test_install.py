"""Installing as a fresh machine would: a new venv with the pip that Python bundles (no upgrade),
``pip install .`` from a copy of the checkout, then a real crawl of the sample site. Catches an
import we use but do not declare, and a dependency only an up-to-date pip would resolve."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO

# Top-level modules we import -> the distribution that must be declared for them.
_DISTRIBUTION = {
    "scrapy": "scrapy",
    "trafilatura": "trafilatura",
    "htmldate": "htmldate",
    "sqlalchemy": "sqlalchemy",
    "langdetect": "langdetect",
    "courlan": "courlan",
    "w3lib": "w3lib",
    "click": "click",
    "rich": "rich",
    "pyarrow": "pyarrow",
    "py3langid": "py3langid",
    "datasketch": "datasketch",
    "zstandard": "zstandard",
    "warcio": "warcio",
    "numpy": "numpy",
    "lxml": "lxml",
    "charset_normalizer": "charset-normalizer",
    "twisted": "twisted",
    "OpenSSL": "pyopenssl",
    "alembic": "alembic",
    # Optional: imported only where the feature is used, guarded, and declared in an extra.
    "brotli": "brotli",
    "redis": "scrapy-redis",
    "scrapy_redis": "scrapy-redis",
}
# Modules imported only inside a guard (an optional feature) -> the extra that declares them; none
# for a package that only widens what Scrapy decodes when it happens to be installed.
_OPTIONAL = {"brotli": None, "redis": "redis", "scrapy_redis": "redis"}
_OURS = {"crawler", "archive", "spiders", "pipelines", "middlewares", "settings"}


def _imported_modules() -> set[str]:
    files = [REPO / name for name in ("pipelines.py", "middlewares.py", "settings.py")]
    for folder in ("crawler", "archive", "spiders"):
        files += sorted((REPO / folder).rglob("*.py"))
    found: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - _OURS - set(sys.stdlib_module_names) - {"__future__"}


def _declared(extra: str | None = None) -> set[str]:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = set()
    requirements = project["optional-dependencies"][extra] if extra else project["dependencies"]
    for requirement in requirements:
        name = requirement.split(";")[0]
        for sep in "<>=![ ~":
            name = name.split(sep)[0]
        names.add(name.strip().lower().replace("_", "-"))
    return names


def test_every_import_is_declared():
    imported = _imported_modules()
    unknown = imported - set(_DISTRIBUTION)
    assert not unknown, f"imported but not in this test's table: {sorted(unknown)}"
    missing = {_DISTRIBUTION[m] for m in imported - set(_OPTIONAL)} - _declared()
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"
    for module, extra in _OPTIONAL.items():
        if extra is not None and module in imported:
            assert _DISTRIBUTION[module] in _declared(extra), f"{module} not in the {extra!r} extra"
    # trafilatura cleans HTML with lxml's cleaner, a package of its own since lxml 5.2; an old pip
    # does not resolve lxml's extra for it, so we declare it.
    assert "lxml-html-clean" in _declared()


def test_makefile_does_not_upgrade_pip():
    assert "--upgrade pip" not in (REPO / "Makefile").read_text(encoding="utf-8")


@pytest.mark.slow
def test_fresh_venv_with_bundled_pip_installs_and_crawls(site, tmp_path):
    src = tmp_path / "src"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        rel = Path(os.fsdecode(name))
        if not (REPO / rel).is_file():
            continue
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes((REPO / rel).read_bytes())
    venv = tmp_path / "venv"
    # The interpreter this suite runs under, its own ensurepip: the pip a fresh machine has.
    base = (
        Path(sysconfig.get_config_var("BINDIR")) / f"python{sys.version_info.major}.{sys.version_info.minor}"
    )
    python = str(base) if base.exists() else sys.executable
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "."],
        cwd=src,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    db = tmp_path / "archive.db"
    env.pop("http_proxy", None)
    env.pop("HTTP_PROXY", None)
    crawl = subprocess.run(
        [str(venv / "bin" / "crawler"), "crawl", site.url + "/", "--db", f"sqlite:///{db}"]
        + ["-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0"],
        cwd=tmp_path,  # not the checkout: the installed package must stand on its own
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr[-3000:]
    archived = re.search(r"Archived (\d+) new", crawl.stdout)
    assert archived and int(archived.group(1)) >= 10, crawl.stdout
