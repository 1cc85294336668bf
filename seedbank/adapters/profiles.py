"""Finding and reading the versioned profiles under `profiles/<env>/<tenant>.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seedbank.domain.errors import ManifestError, ProfileNotFound, UsageError
from seedbank.domain.manifest import ENVS, SLUG, Manifest, check_identity, parse_manifest

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
        raise UsageError(f"unknown env {env!r}", fix=f"use one of {', '.join(ENVS)}")
    if not SLUG.match(tenant):
        raise UsageError(
            f"tenant id {tenant!r} is not a valid slug",
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
            f"{path} looks like a data dump, and seedbank only generates synthetic data (FR-019)",
            fix="pass a YAML manifest from profiles/<env>/<tenant>.yaml",
        )
    if not path.is_file():
        known = sorted(p.stem for p in (root / env).glob("*.yaml")) if (root / env).is_dir() else []
        raise ProfileNotFound(
            f"no versioned profile for tenant {tenant!r} in env {env!r} ({path} does not exist)",
            fix=(
                f"add {profile_path(root, env=env, tenant=tenant)} by pull request"
                + (f" or use one of: {', '.join(known)}" if known else "")
            ),
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}", fix="check the file") from None
    manifest = parse_manifest(text, source=str(path))
    check_identity(manifest, env=env, tenant=tenant, source=str(path))
    return LoadedProfile(path=path, manifest=manifest)


def all_profiles(root: Path) -> list[Path]:
    return sorted(root.glob("*/*.yaml"))


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
