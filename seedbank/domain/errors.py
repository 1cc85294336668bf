"""seedbank's one exception tree (pure: no I/O).

Every failure a user can cause or meet is one of these; the CLI turns it into one
sentence on stderr and the exit code below, never a traceback.

    SeedbankError ............................ 1  unexpected / internal
    ├── UsageError ........................... 2  bad command-line input or environment setting
    ├── ManifestError ........................ 3  profile missing, unreadable or invalid
    ├── GuardRefused ......................... 4  a run-policy guard said no (window, budget,
    │   │                                         execution policy, TTL debt, dump input)
    │   └── SloExceeded                           the run passed its SLO by 20 %: aborted
    ├── LockHeld ............................. 5  another run holds the env/tenant lock
    ├── DependencyUnavailable ................ 6  fail closed: a guard's service is down
    │   ├── DatabaseUnavailable
    │   ├── VaultUnavailable
    │   ├── WormUnavailable
    │   └── BrokerUnavailable
    ├── SaltMismatch ......................... 7  manifest / Vault / checkpoint salt versions differ
    ├── WormMisconfigured .................... 8  evidence bucket lacks COMPLIANCE Object Lock
    ├── NonDeterministic ..................... 9  a re-run batch produced a different digest
    │   └── DatasetFormatMismatch                 data of another dataset format would be mixed
    ├── VerificationFailed .................. 10  a verification gate failed
    ├── SeedingFailed ....................... 11  a batch could not be written after its retries
    ├── LeaseLost ........................... 12  the run lost its lock lease (session died and
    │                                             another run took it): it stopped writing
    └── Interrupted ........................ 130  SIGINT/SIGTERM: stopped at a batch boundary
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 340
FIX_LIMIT = 150
"""A sentence is at most ~500 characters: message and fix are cut (and made one printable
line) when the error is made, before any regex (redaction, log filters) ever sees them."""


# `user:password@` inside a URL, even one a path normalisation left with a single slash;
# bounded repeats keep it linear on hostile input.
_CREDENTIALS = re.compile(r"(?<=[/:])([^\s:/@]{1,64}):[^\s/@]{1,256}@")


def one_line(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, control characters and lone surrogates escaped,
    and any URL password masked: an error sentence never carries a credential."""
    cut = _CREDENTIALS.sub(r"\1:***@", text[: limit + 1])
    clean = "".join(
        ch if ch.isprintable() else " " if ch in "\t\n\r" else ascii(ch)[1:-1] for ch in cut
    )
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


class SeedbankError(Exception):
    """Raised for an unexpected failure inside seedbank."""

    exit_code = 1
    #: Short machine-readable name, recorded in the audit trail.
    event = "error"

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = one_line(message, MESSAGE_LIMIT)
        self.fix = one_line(fix, FIX_LIMIT) if fix is not None else None
        super().__init__(self.sentence())

    def sentence(self) -> str:
        """The one line a user sees: what was wrong, then how to fix it."""
        text = self.message.rstrip(".")
        return f"{text}; {self.fix.rstrip('.')}." if self.fix else f"{text}."


class UsageError(SeedbankError):
    """Raised when command-line arguments or environment settings are missing or malformed."""

    exit_code = 2
    event = "usage"


class ManifestError(SeedbankError):
    """Raised when a profile is missing, unreadable or fails validation."""

    exit_code = 3
    event = "manifest_invalid"


class ProfileNotFound(ManifestError):
    """Raised when no versioned profile exists for the requested env/tenant."""

    event = "profile_missing"


class GuardRefused(SeedbankError):
    """Raised when a run-policy guard refuses the run before anything is locked."""

    exit_code = 4
    event = "guard_refused"


class SloExceeded(GuardRefused):
    """Raised when a run passes its env's duration budget by more than 20 % (NFR-001)."""

    event = "slo_exceeded"


class LockHeld(SeedbankError):
    """Raised when another run holds the env/tenant lock."""

    exit_code = 5
    event = "lock_held"


class DependencyUnavailable(SeedbankError):
    """Raised when a service a guard depends on cannot be reached: the run fails closed."""

    exit_code = 6
    event = "dependency_down"


class DatabaseUnavailable(DependencyUnavailable):
    """Raised when PostgreSQL cannot be reached or refuses the connection."""

    event = "database_down"


class VaultUnavailable(DependencyUnavailable):
    """Raised when Vault/OpenBao cannot be reached or denies the salt read."""

    event = "vault_down"


class WormUnavailable(DependencyUnavailable):
    """Raised when the WORM evidence store cannot be reached or refuses a write."""

    event = "worm_down"


class BrokerUnavailable(DependencyUnavailable):
    """Raised when the Celery broker stays unreachable after a few short retries."""

    event = "broker_down"


class SaltMismatch(SeedbankError):
    """Raised when the manifest's salt version differs from Vault's or the checkpoints'."""

    exit_code = 7
    event = "salt_mismatch"


class WormMisconfigured(SeedbankError):
    """Raised when the evidence bucket lacks Object Lock with a COMPLIANCE default."""

    exit_code = 8
    event = "worm_misconfigured"


class NonDeterministic(SeedbankError):
    """Raised when a batch's digest differs from the checkpoint of an earlier run."""

    exit_code = 9
    event = "non_deterministic"


class DatasetFormatMismatch(NonDeterministic):
    """Raised when a dataset (its checkpoints or rows) is of another dataset format than
    this seedbank generates (``GENERATOR_VERSION``): never mixed, purged and reseeded."""

    event = "dataset_format_mismatch"


class VerificationFailed(SeedbankError):
    """Raised when a verification gate fails after seeding."""

    exit_code = 10
    event = "verification_failed"


class SeedingFailed(SeedbankError):
    """Raised when a batch could not be written after its retries."""

    exit_code = 11
    event = "seeding_failed"


class LeaseLost(SeedbankError):
    """Raised when a run's lock lease was taken over: the fenced write is refused."""

    exit_code = 12
    event = "lease_lost"


class Interrupted(SeedbankError):
    """Raised when SIGINT/SIGTERM stopped a purge or run at a batch boundary."""

    exit_code = 130
    event = "interrupted"


EXIT_CODES: dict[str, int] = {
    cls.__name__: cls.exit_code
    for cls in (
        SeedbankError,
        UsageError,
        ManifestError,
        GuardRefused,
        LockHeld,
        DependencyUnavailable,
        SaltMismatch,
        WormMisconfigured,
        NonDeterministic,
        VerificationFailed,
        SeedingFailed,
        LeaseLost,
        Interrupted,
    )
}
