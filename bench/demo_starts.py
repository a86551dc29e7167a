"""Wall time of N simultaneous "Try a demo profile" starts through a real server (by hand).

    .venv/bin/python -m bench.demo_starts [--starts 16] [--rounds 1]

Builds the synthetic catalogue with long-history MovieLens "fans" (demo personas; see
``tests.support.synthetic``) in a temporary folder, starts ``streamlit run app.py`` on loopback
and opens ``--starts`` websocket sessions that each load the sign-in page and click a demo
profile at the same moment (``tests.support.demo_starts``). Prints how many reached the feed,
the wall time of the whole burst and, as the baseline measured in the same run, one start
alone. Before the demo template (issue 10) 16 starts mostly failed; see the README.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from tests.support.app_server import AppServer
from tests.support.demo_starts import start_demos
from tests.support.synthetic import build_synthetic_data
from tests.support.testers import run_async


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (server log)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cineblend-demo-bench-"))
    print(f"log: {root / 'streamlit.log'} (kept with --keep)")
    try:
        data_dir = build_synthetic_data(root / "synthetic", fans=4)
        with AppServer(data_dir, log_path=root / "streamlit.log") as server:
            alone = run_async(lambda: start_demos(server.url, 1))
            print(f"1 start: reached feed {alone.reached}/1 in {alone.seconds:.2f} s {alone.failures}")
            for r in range(args.rounds):
                burst = run_async(lambda: start_demos(server.url, args.starts))
                print(
                    f"round {r + 1}: {args.starts} simultaneous starts: {burst.reached}/{args.starts} "
                    f"reached the feed in {burst.seconds:.2f} s "
                    f"({burst.seconds / max(alone.seconds, 1e-9):.1f}x one start); server alive: {server.running()}"
                )
                for failure in burst.failures:
                    print("  ", failure)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
