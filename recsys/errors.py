"""The package's own errors. Each message is one line a user can act on."""

from __future__ import annotations


class CineBlendError(Exception):
    """Base class: ``str(err)`` is a one-line, actionable message."""


class ConfigError(CineBlendError):
    """A setting is missing or malformed."""


class FetchError(CineBlendError):
    """A download failed (network, HTTP status, truncated or invalid file)."""


class BuildError(CineBlendError):
    """Turning the raw files into the Parquet catalogue failed."""


class CatalogError(CineBlendError):
    """The catalogue is missing or unreadable (e.g. not built yet, corrupt Parquet)."""


class UnknownTitleError(CineBlendError, KeyError):
    """A tconst that is malformed or not in the catalogue."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown title"


class StoreError(CineBlendError):
    """The app store (users, interactions, settings) failed."""


class DuplicateUserError(StoreError):
    """Registration with a username or email that is already taken."""

    def __init__(self, field: str, value: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"That {field} is already registered; choose another or log in.")


class ModelError(CineBlendError):
    """A model artifact is missing, corrupt or incompatible."""


class UnknownUserError(StoreError, KeyError):
    """No user with that id or username (deleted, or never registered)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown user"


class RegistrationError(CineBlendError, ValueError):
    """Sign-up details that break the rules; ``problems`` lists each one, human-readable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("Cannot register: " + " ".join(self.problems))


class EnrichError(CineBlendError):
    """TMDb enrichment cannot work as configured (e.g. the API key was rejected)."""


class EvaluationError(CineBlendError):
    """An offline evaluation cannot run as configured (bad settings, nobody to test)."""
