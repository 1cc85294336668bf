"""Finding and reading the versioned profiles under `profiles/<env>/<tenant>.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seedbank.domain.errors import ManifestError, ProfileNotFound, UsageError
from seedbank.domain.manifest import (
    ENVS,
    MAX_MANIFEST_BYTES,
    SLUG,
    Manifest,
    check_identity,
    parse_manifest,
)
from seedbank.domain.manifest_types import shown

#: Inputs that would load data instead of generating it (FR-019: synthetic only).
DUMP_SUFFIXES = (
    ".sql",
    ".dump",
    ".backup",
    ".bak",
    ".gz",
    ".zst",
    ".tar",
    ".csv",
    ".parquet",
)


@dataclass(frozen=True)
class LoadedProfile:
    path: Path
    manifest: Manifest


def default_profiles_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "profiles"


def profile_path(root: Path, *, env: str, tenant: str) -> Path:
    return root / env / f"{tenant}.yaml"


def check_target(*, env: str | None, tenant: str | None) -> tuple[str, str]:
    """Validate the --env/--tenant pair before anything else happens."""
    if not tenant:
        raise UsageError("--tenant is required", fix="pass --tenant=<id>, e.g. --tenant=acme")
    if not env:
        raise UsageError("--env is required", fix=f"pass --env=<{'|'.join(ENVS)}>")
    if env not in ENVS:
        raise UsageError(f"unknown env {shown(env)}", fix=f"use one of {', '.join(ENVS)}")
    if not SLUG.fullmatch(tenant):
        raise UsageError(
            f"tenant id {shown(tenant)} is not a valid slug",
            fix="use lowercase letters, digits and '-', 2-63 characters",
        )
    return env, tenant


def load_profile(
    root: Path, *, env: str, tenant: str, explicit: Path | None = None
) -> LoadedProfile:
    """Load the profile for env/tenant, or the explicit `--profile` path if given."""
    path = explicit if explicit is not None else profile_path(root, env=env, tenant=tenant)
    if path.suffix.lower() in DUMP_SUFFIXES:
        raise ManifestError(
            f"{shown_path(path)} looks like a data dump, and seedbank only generates synthetic"
            " data (FR-019)",
            fix="pass a YAML manifest from profiles/<env>/<tenant>.yaml",
        )
    if _exists(path) and not path.is_file():
        # A directory, FIFO or device (/dev/zero) is not a missing profile: say what it is,
        # and never open it (a FIFO would block, /dev/zero never ends).
        raise ManifestError(
            f"{shown_path(path)} is not a regular file",
            fix="pass a YAML manifest from profiles/<env>/<tenant>.yaml",
        )
    if not path.is_file():
        known = sorted(p.stem for p in (root / env).glob("*.yaml")) if (root / env).is_dir() else []
        raise ProfileNotFound(
            f"no versioned profile for tenant {tenant!r} in env {env!r}"
            f" ({shown_path(path)} does not exist)",
            fix=(
                f"add {profile_path(root, env=env, tenant=tenant)} by pull request"
                + (f" or use one of: {', '.join(known)}" if known else "")
            ),
        )
    text = read_manifest_text(path)
    manifest = parse_manifest(text, source=str(path))
    check_identity(manifest, env=env, tenant=tenant, source=str(path))
    return LoadedProfile(path=path, manifest=manifest)


def _exists(path: Path) -> bool:
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:  # a name too long, a loop of links, no permission
        raise ManifestError(
            f"cannot read {shown_path(path)} ({exc.strerror or type(exc).__name__})",
            fix="pass the path of a YAML manifest",
        ) from None
    return True


def shown_path(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 120 else f"…{text[-119:]}"


def read_manifest_text(path: Path) -> str:
    """At most MAX_MANIFEST_BYTES of UTF-8 text: a larger file is refused unread."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ManifestError(
            f"cannot read {shown_path(path)} ({exc.strerror or type(exc).__name__})",
            fix="check the file and its permissions",
        ) from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            f"{shown_path(path)} is larger than {MAX_MANIFEST_BYTES // 1024} KiB,"
            " so it is not a manifest",
            fix="pass a profile such as profiles/dev/acme.yaml",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"{shown_path(path)} is not UTF-8 text (byte {exc.start})",
            fix="save the manifest as UTF-8",
        ) from None


def all_profiles(root: Path) -> list[Path]:
    try:
        return sorted(root.glob("*/*.yaml"))
    except OSError as exc:  # a name too long, a root that cannot be listed
        raise ManifestError(
            f"the profiles directory {str(root)[:120]!r} cannot be read ({exc.strerror})",
            fix="pass --root=<profiles dir> or set SEEDBANK_PROFILES_DIR to a readable directory",
        ) from None


def validate_all(root: Path) -> list[tuple[Path, ManifestError | None]]:
    """Validate every profile in the tree; each result pairs a path with its error."""
    results: list[tuple[Path, ManifestError | None]] = []
    for path in all_profiles(root):
        try:
            load_profile(root, env=path.parent.name, tenant=path.stem, explicit=path)
        except ManifestError as exc:
            results.append((path, exc))
        else:
            results.append((path, None))
    return results
