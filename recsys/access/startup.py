"""What every start of the app does first, before serving anyone: refuse a weak cookie key and
make the data folder private (:mod:`recsys.private`).

``python -m recsys.access.startup`` runs the same checks from a shell (``scripts/start.sh`` does, so a
bad setting stops the start with its one-line reason); the app runs :func:`prepare` once per
process and data folder (``recsys.ui.resources.settings``) and shows the reason on every page.
"""

from __future__ import annotations

import logging
import sys

from recsys.config import Settings, get_settings
from recsys.errors import CineBlendError, ConfigError
from recsys.private import file_mode, private_dir, tighten, tighten_sqlite, tighten_tree
from recsys.store.engine import parse_url, sqlite_path

logger = logging.getLogger(__name__)


def secure_data_dir(settings: Settings) -> None:
    """The data folder ``0700``; the SQLite store and its WAL / SHM, the cookie key and the model
    files ``0600`` (stricter when the umask says so); looser ones left by earlier runs are
    tightened."""
    try:
        private_dir(settings.data_dir)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the data folder {settings.data_dir}: {exc.strerror}; check CINEBLEND_DATA_DIR."
        ) from exc
    db = sqlite_path(parse_url(settings.store_url))
    if db is not None:
        tighten_sqlite(db)
    tighten(settings.cookie_key_file, file_mode())
    tighten_tree(settings.models_dir)


def prepare(settings: Settings) -> None:
    """Refuse to start on a weak cookie key (ConfigError, one line), then secure the data folder."""
    secure_data_dir(settings)
    settings.cookie_key()  # generated on the first start; a short configured one is refused here


def main() -> int:
    try:
        prepare(get_settings())
    except CineBlendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
