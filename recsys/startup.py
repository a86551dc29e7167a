"""Old path of :mod:`recsys.access.startup`, kept because operators run it from their own scripts.

The README told operators to check a deployment with ``python -m recsys.startup`` (and
``scripts/start.sh`` ran it) before the start-up checks moved into :mod:`recsys.access` (issue 24);
start scripts copied from it keep working. New code and scripts use ``recsys.access.startup``.
"""

import sys

from recsys.access.startup import main, prepare, secure_data_dir

__all__ = ["main", "prepare", "secure_data_dir"]

if __name__ == "__main__":
    sys.exit(main())
