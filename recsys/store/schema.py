"""The app store's tables (SQLAlchemy Core), as the repository code sees them.

The migrations in ``recsys/store/migrations/versions`` create the same schema on their own (they
never import this module, so an old migration keeps meaning what it meant); a test compares the
two. Keep the SQL portable: everything here must work on SQLite and PostgreSQL.

Timestamps are timezone-aware UTC with microsecond resolution (:class:`UTCDateTime`): SQLite
stores them as fixed-width text, which sorts chronologically; PostgreSQL as ``timestamptz``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from recsys.access.roles import DEFAULT_ROLE, ROLES
from recsys.columns import DISLIKE, LIKE, SUPERLIKE

#: Onboarding steps, in order; a new user starts at the first, "done" ends onboarding.
ONBOARDING_STEPS: tuple[str, ...] = ("genres", "movies", "tv", "done")
#: Interaction values the store accepts (``recsys.columns``).
VALUES: frozenset[int] = frozenset({LIKE, DISLIKE, SUPERLIKE})

USERNAME_MAX = 32
NAME_MAX = 80
EMAIL_MAX = 254
TCONST_MAX = 12
SETTING_KEY_MAX = 100

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, microsecond resolution."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    Binds aware datetimes only (converted to UTC; stored naive on SQLite, which has no time
    zones) and always returns aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Store timestamps must be timezone-aware; use datetime.now(UTC).")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


metadata = MetaData(naming_convention=NAMING_CONVENTION)

_steps = ", ".join(f"'{s}'" for s in ONBOARDING_STEPS)
_values = ", ".join(str(v) for v in sorted(VALUES))
_roles = ", ".join(f"'{r}'" for r in ROLES)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(USERNAME_MAX), nullable=False),
    Column("email", String(EMAIL_MAX), nullable=False),
    Column("name", String(NAME_MAX), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("is_active", Boolean(), nullable=False, server_default="1"),
    Column("favourite_genres", JSON(), nullable=False, server_default="[]"),
    Column("onboarding_step", String(16), nullable=False, server_default=ONBOARDING_STEPS[0]),
    Column("role", String(16), nullable=False, server_default=DEFAULT_ROLE),
    # Raised by logout, password / role change: a cookie issued for an older version is refused.
    Column("session_version", Integer, nullable=False, server_default="0"),
    UniqueConstraint("username"),
    # emails are not unique (migration 0012_email_not_unique): a sign-up never reveals that one exists
    CheckConstraint(f"onboarding_step IN ({_steps})", name="onboarding_step"),
    CheckConstraint(f"role IN ({_roles})", name="role"),
    sqlite_autoincrement=True,  # never reuse a deleted user's id
)

interactions = Table(
    "interactions",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tconst", String(TCONST_MAX), primary_key=True),
    Column("value", SmallInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint(f"value IN ({_values})", name="value"),
)

interaction_history = Table(
    "interaction_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("tconst", String(TCONST_MAX), nullable=False),
    Column("value", SmallInteger, nullable=True),  # NULL: the rating was removed
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint(f"value IS NULL OR value IN ({_values})", name="value"),
    Index(None, "user_id", "created_at"),
    sqlite_autoincrement=True,  # ids only grow: the tie-breaker for equal timestamps
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(SETTING_KEY_MAX), primary_key=True),
    Column("value", JSON(none_as_null=False), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(64), nullable=True),
)

#: Longest poster URL the TMDb cache stores (image base + size + poster path).
POSTER_URL_MAX = 512

tmdb_cache = Table(
    "tmdb_cache",
    metadata,
    Column("tconst", String(TCONST_MAX), primary_key=True),
    Column("tmdb_id", Integer, nullable=True),  # NULL for a miss
    Column("media_type", String(8), nullable=True),  # "movie" or "tv"; NULL for a miss
    Column("poster_url", String(POSTER_URL_MAX), nullable=True),
    Column("overview", String(), nullable=True),  # unbounded VARCHAR on both backends
    Column("hit", Boolean(), nullable=False),  # False: TMDb knows no such IMDb id
    Column("fetched_at", UTCDateTime(), nullable=False),
    CheckConstraint("media_type IS NULL OR media_type IN ('movie', 'tv')", name="media_type"),
)

#: "Not interested": titles a user hid from the feed (not a rating, no signal for the models).
hidden_titles = Table(
    "hidden_titles",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tconst", String(TCONST_MAX), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

#: Longest throttle key (``kind:`` + a username or a client address).
THROTTLE_KEY_MAX = 160

#: Failed sign-ins and registrations per account / client (:mod:`recsys.access.throttle`): shared by
#: every app server through the store.
auth_throttle = Table(
    "auth_throttle",
    metadata,
    Column("key", String(THROTTLE_KEY_MAX), primary_key=True),
    Column("count", Integer, nullable=False, server_default="0"),
    Column("window_start", UTCDateTime(), nullable=False),
    Column("last_at", UTCDateTime(), nullable=False),
    Column("blocked_until", UTCDateTime(), nullable=True),
)

#: Background job states: waiting for its server's worker, running, finished, failed.
JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "failed")
_job_states = ", ".join(f"'{s}'" for s in JOB_STATES)
JOB_STAGE_MAX = 200
JOB_ERROR_MAX = 500

#: Background jobs (one row per request), shared by every app server (``recsys.store.jobs``).
jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # "fetch_build", "train", "evaluate", ...
    Column("state", String(16), nullable=False),
    Column("stage", String(JOB_STAGE_MAX), nullable=False, server_default=""),  # what it does now
    Column("fraction", Float(), nullable=False, server_default="0"),  # overall, 0..1
    Column("requested_by", String(64), nullable=True),
    Column("server", String(128), nullable=False),  # host:pid of the app server that runs it
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),  # last progress: a heartbeat
    Column("error", String(JOB_ERROR_MAX), nullable=True),
    Column("params", JSON(), nullable=True),  # what to run (an evaluation's settings)
    Column("result", JSON(), nullable=True),  # what it made (an evaluation's run id)
    Column("estimate_s", Float(), nullable=True),  # expected wall time when it was queued
    Column("cancel_requested", Boolean(), nullable=False, server_default="0"),
    Column("fence", Integer(), nullable=True),  # the job lease's generation it runs under
    CheckConstraint(f"state IN ({_job_states})", name="state"),
    Index(None, "kind", "state"),
    sqlite_autoincrement=True,
)

#: Fencing leases (:mod:`recsys.jobs.fence`): one row per lock name; ``generation`` goes up by one each
#: time a job takes the lease, and every write the job makes checks it is still its own.
#: ``worker:<id>`` rows are the heartbeats of worker processes.
job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(160), primary_key=True),
    Column("generation", Integer(), nullable=False, server_default="0"),
    Column("holder", String(128), nullable=True),
    Column("job_id", Integer(), nullable=True),
    Column("renewed_at", UTCDateTime(), nullable=True),
)
#: A stored run's outcome: figures stored, or kept in the history with the reason it has none.
RUN_STATES: tuple[str, ...] = ("done", "failed", "cancelled")
_run_states = ", ".join(f"'{s}'" for s in RUN_STATES)
RUN_NAME_MAX = 120
RUN_REASON_MAX = 500

#: Stored evaluation runs (the lab's history): the run's JSON document (the same as ``evaluate
#: --json``) and its per-user metric vectors as compressed Parquet bytes.
evaluation_runs = Table(
    "evaluation_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),  # NULL: the CLI
    Column("model_version", String(64), nullable=False),
    Column("catalogue_build", String(128), nullable=False),
    Column("dataset", String(200), nullable=False),
    Column("protocol", String(16), nullable=False),
    Column("config", JSON(), nullable=False),
    Column("document", JSON(), nullable=False),
    Column("per_user", LargeBinary(), nullable=False),
    Column("name", String(RUN_NAME_MAX), nullable=True),
    Column("notes", String(), nullable=True),  # unbounded VARCHAR on both backends
    # "done"; "failed" / "cancelled" runs are kept with their reason and no figures
    Column("status", String(16), nullable=False, server_default="done"),
    Column("reason", String(RUN_REASON_MAX), nullable=True),
    # the user inspector's lists (recsys.evaluation.runs.pack_lists); NULL for older runs
    Column("lists", LargeBinary(), nullable=True),
    CheckConstraint(f"status IN ({_run_states})", name="status"),
    Index(None, "created_at"),
    sqlite_autoincrement=True,
)

#: Every change of the live hybrid weights: who, when, the weights before and after.
weight_changes = Table(
    "weight_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("changed_at", UTCDateTime(), nullable=False),
    Column("changed_by", String(64), nullable=True),
    Column("action", String(16), nullable=False),  # "apply" or "reset"
    Column("old", JSON(), nullable=True),  # NULL: the defaults were in use
    Column("new", JSON(), nullable=False),
    Column("reason", String(500), nullable=True),  # why, as the person wrote it (plain text)
    Column("run_id", Integer, nullable=True),  # the evaluation run the weights came from
    Column("experiment_id", Integer, nullable=True),  # the experiment whose winner was shipped
    CheckConstraint("action IN ('apply', 'reset')", name="action"),
    sqlite_autoincrement=True,
)

#: Online experiments (:mod:`recsys.experiments`): one row per experiment, its arms as JSON
#: (``[{"name", "weights", "stages"}]``); at most one running or paused per section.
EXPERIMENT_METHODS: tuple[str, ...] = ("ab", "interleave")
EXPERIMENT_STATES: tuple[str, ...] = ("draft", "running", "paused", "stopped")
ARM_NAME_MAX = 40

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(RUN_NAME_MAX), nullable=False),
    Column("section", String(8), nullable=False),
    Column("method", String(16), nullable=False),
    Column("arms", JSON(), nullable=False),
    Column("status", String(16), nullable=False, server_default="draft"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("stopped_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("shipped_arm", String(ARM_NAME_MAX), nullable=True),
    Column("notes", String(), nullable=True),
    CheckConstraint("method IN ('ab', 'interleave')", name="method"),
    CheckConstraint("status IN ('draft', 'running', 'paused', 'stopped')", name="status"),
    CheckConstraint("section IN ('movie', 'tv')", name="section"),
    Index(None, "section", "status"),
    sqlite_autoincrement=True,
)

#: A/B arms as assigned (a hash of user and experiment decides; the row records it for analysis).
experiment_assignments = Table(
    "experiment_assignments",
    metadata,
    Column("experiment_id", Integer, ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("arm", String(ARM_NAME_MAX), nullable=False),
    Column("assigned_at", UTCDateTime(), nullable=False),
)

#: Every feed card shown, once per render: who, which session and render, section, position, the
#: setting that placed it ("live" or an experiment arm), the model version. Written in batches.
exposures = Table(
    "exposures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("shown_at", UTCDateTime(), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("session", String(40), nullable=False),
    Column("render", String(40), nullable=False),
    Column("section", String(8), nullable=False),
    Column("tconst", String(TCONST_MAX), nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("setting", String(ARM_NAME_MAX), nullable=False),
    Column("experiment_id", Integer, nullable=True),  # kept when an experiment row is deleted
    Column("model_version", String(64), nullable=True),
    Index(None, "experiment_id", "shown_at"),
    Index(None, "user_id", "tconst"),
    Index(None, "shown_at"),
    sqlite_autoincrement=True,
)

INVITE_TOKEN_HASH_LEN = 64  # hex SHA-256 of the link's token (the token itself is never stored)

#: One-time invite links (``recsys.access.invites``): which role the invited account gets, until when the
#: link works, and who used it. The link's token is kept only as its SHA-256.
invites = Table(
    "invites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(INVITE_TOKEN_HASH_LEN), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_by", String(USERNAME_MAX), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Column("used_by", String(USERNAME_MAX), nullable=True),
    UniqueConstraint("token_hash"),
    CheckConstraint(f"role IN ({_roles})", name="role"),
    sqlite_autoincrement=True,
)
