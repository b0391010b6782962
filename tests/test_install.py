"""The two ways to install the suite (``make``, which the README's commands run, and conda's
``environment.yml``) install the same extras of pyproject.toml, the single source of
dependencies."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _extras(text: str, where: str) -> set[str]:
    """The extras of the one editable install of the project in ``text``: ``-e '.[a,b]'``."""
    found = re.findall(r"""-e\s+["']?\.\[([^\]]*)\]""", text)
    assert len(found) == 1, f"{where}: expected one `-e '.[extras]'`, found {found}"
    return {name.strip() for name in found[0].split(",")}


def test_make_and_conda_install_the_same_extras_of_pyproject():
    # environment.yml once installed .[test,bench] where the Makefile installs
    # .[test,bench,scale]: under conda the Dask tests were skipped and --engine dask failed
    make = _extras((REPO / "Makefile").read_text(encoding="utf-8"), "Makefile")
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    pip = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    conda = _extras("\n".join(pip[0]["pip"]), "environment.yml")
    assert conda == make, f"environment.yml installs {sorted(conda)}, the Makefile {sorted(make)}"
    # and an extra pip does not know is only a warning of pip's: each must be in pyproject.toml
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    defined = set(pyproject["project"]["optional-dependencies"])
    assert make <= defined, f"extras not in pyproject.toml: {sorted(make - defined)}"
