"""The bundled demo checkpoint is found in a clone and ships with a plain (non-editable) `pip install .`."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from r2l_viewer.core import assets
from r2l_viewer.core.assets import demo_checkpoint_path

ROOT = Path(__file__).resolve().parents[2]


def test_a_clone_finds_assets_demo_ckpt():
    assert demo_checkpoint_path() == ROOT / "assets" / "demo.ckpt" and demo_checkpoint_path().is_file()


def test_an_installed_copy_is_found_in_the_prefix(tmp_path, monkeypatch):
    installed = tmp_path / "share" / "r2l-viewer" / "demo.ckpt"
    installed.parent.mkdir(parents=True)
    installed.write_bytes(b"ckpt")
    monkeypatch.setattr(assets, "REPO_ASSETS", tmp_path / "no-clone" / "assets")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert demo_checkpoint_path() == installed


def test_nowhere_gives_the_repository_path_for_the_error_message(tmp_path, monkeypatch):
    monkeypatch.setattr(assets, "REPO_ASSETS", tmp_path / "assets")
    monkeypatch.setattr(assets, "_install_prefixes", lambda: [tmp_path / "prefix"])
    assert demo_checkpoint_path() == tmp_path / "assets" / "demo.ckpt"


def test_pyproject_installs_the_demo_where_it_is_looked_for():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    assert data_files["/".join(assets.INSTALLED_ASSETS)] == ["assets/demo.ckpt"]


def test_a_wheel_installed_without_the_clone_finds_its_demo(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("r2l_viewer", "trainers", "assets"):  # a copy: building in the clone would leave build/ in it
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(tmp_path), str(source)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("*.whl"))
    assert "r2l_viewer-0.1.0.data/data/share/r2l-viewer/demo.ckpt" in zipfile.ZipFile(wheel).namelist()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "env")], check=True)
    env_python = tmp_path / "env" / "bin" / "python"
    subprocess.run(pip + ["--python", str(env_python), "install", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True)
    code = "from r2l_viewer.core.assets import demo_checkpoint_path; print(demo_checkpoint_path())"
    found = subprocess.run([str(env_python), "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path,
                           env={"PATH": "/usr/bin:/bin"})  # run outside the clone, without its PYTHONPATH
    path = Path(found.stdout.strip())
    assert path == tmp_path / "env" / "share" / "r2l-viewer" / "demo.ckpt"
    assert path.read_bytes() == (ROOT / "assets" / "demo.ckpt").read_bytes()
