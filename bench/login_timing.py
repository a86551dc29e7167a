"""Sign-in timing: does an unknown username answer faster than a known one? (run by hand)

    .venv/bin/python bench/login_timing.py [repeats]

Times :meth:`recsys.access.throttle.Throttle.sign_in` on a throwaway SQLite store at the app's bcrypt
cost for a known user with a wrong password, an unknown user, and a known user with the right
password (each with a fresh client so no throttle applies), and prints the medians and the
ratio unknown / known (1.0 = indistinguishable). Before the dummy check, unknown answered in
~80 ms against ~1.1 s (issue 10).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from recsys.access.throttle import Throttle
from recsys.store import Store
from recsys.store.accounts import BCRYPT_ROUNDS, register


def main(repeats: int = 15) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store.open(f"sqlite:///{Path(tmp) / 'app.db'}") as store:
        register(store, "alice", "Alice", "alice@example.com", "Secret#123")
        limits = Throttle(store)
        limits.sign_in("warm-up", "x", "warm-up")  # the dummy hash is made once per process
        cases = {
            "known user, wrong password": ("alice", "Wrong#pass1"),
            "unknown user": ("nobody", "Wrong#pass1"),
            "known user, right password": ("alice", "Secret#123"),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for i in range(repeats):
            for name, (username, password) in cases.items():
                started = time.perf_counter()
                limits.sign_in(username, password, f"client-{name}-{i}")
                times[name].append(time.perf_counter() - started)
                store.throttle_clear(f"account:{username}")  # keep every attempt unthrottled
        print(f"bcrypt cost {BCRYPT_ROUNDS}, {repeats} sign-ins each (median ms):")
        medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
        for name, ms in medians.items():
            print(f"  {name:<28} {ms:8.1f}")
        print(f"  ratio unknown / known-wrong: {medians['unknown user'] / medians['known user, wrong password']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
