"""How far the lab's shown time left is from the real time left (issue 19 item 5: within 1.5x).

Runs a default lab evaluation and a quick ``tune`` as store-backed jobs on a copy of a real
catalogue (a worker thread in this process, the same code a worker process runs), polls the
job's status as the lab page does (:func:`recsys.evaluation.jobs.status`) every 0.25 s, and once
the job has finished prints, at 10%, 25%, 50% and 75% of its real duration, the time left shown
then against the real time left, as a ratio (shown / real; 1.0 is exact, within 1.5x means
between 0.67 and 1.5).

    cp -r /work/data /work/data-copy
    CINEBLEND_DATA_DIR=/work/data-copy OPENBLAS_NUM_THREADS=1 python bench/time_left.py

``--runs N`` repeats each job (the second run of a kind is calibrated by the first's).
Never run against a data folder whose store you care about: it adds job rows and a lab run.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass

from recsys.config import Settings, get_settings
from recsys.evaluation import jobs as lab_jobs
from recsys.evaluation.background import DataSize, estimate_seconds
from recsys.evaluation.config import EvaluationConfig
from recsys.jobs import runner as jobs
from recsys.store import Store
from recsys.store import jobs as rows

POINTS = (0.10, 0.25, 0.50, 0.75)
POLL_S = 0.25
TIMELINE = False


@dataclass(frozen=True)
class Sample:
    elapsed_s: float
    left_s: float | None
    text: str
    fraction: float


def data_size(settings: Settings) -> DataSize:
    """What the lab page passes to the cost model (pages/evaluation.py's ``data_size``)."""
    from recsys.catalog.queries import Catalog

    with Catalog(settings.parquet_dir) as catalog:
        frame = catalog.movielens_ratings(in_catalog_only=True)
    return DataSize(frame.height, int(frame["ml_user_id"].n_unique()), max(int(frame["tconst"].n_unique()), 1))


def watch(store: Store, job_id: int) -> tuple[list[Sample], float]:
    """Poll the job until it ends; the samples taken while it ran, and its real duration."""
    samples: list[Sample] = []
    started: float | None = None
    while True:
        status = lab_jobs.status(store, job_id)
        assert status is not None
        if status.job.state == rows.RUNNING:
            now = time.monotonic()
            if started is None:
                started = now - status.elapsed_s
            samples.append(Sample(now - started, status.left_s, status.text, status.job.fraction))
        elif status.job.state != rows.QUEUED:
            if status.job.state != rows.DONE:
                raise SystemExit(f"job {job_id} ended {status.job.state}: {status.text}")
            return samples, status.elapsed_s
        time.sleep(POLL_S)


def report(name: str, samples: list[Sample], total_s: float) -> list[float]:
    print(f"{name}: real duration {total_s:.1f} s")
    ratios = []
    for point in POINTS:
        at = point * total_s
        sample = min(samples, key=lambda s: abs(s.elapsed_s - at))
        real = total_s - sample.elapsed_s
        if sample.left_s is None:
            print(f"  {point:4.0%}: no estimate shown ({sample.text})")
            ratios.append(float("inf"))
            continue
        ratio = sample.left_s / real if real > 0 else float("inf")
        ratios.append(ratio)
        print(
            f"  {point:4.0%} (t={sample.elapsed_s:5.1f} s): shown {sample.left_s:6.1f} s, real {real:6.1f} s,"
            f" ratio {ratio:4.2f}  | {sample.text}"
        )
    if TIMELINE:
        previous = ""
        for s in samples:  # each stage's start: time spent and the schedule's work done then
            stage = s.text.split(":")[0].split(" (")[0]
            if stage != previous:
                previous = stage
                print(f"    {s.elapsed_s:5.1f} s = time {s.elapsed_s / total_s:4.0%} work {s.fraction:4.0%}  {stage}")
    worst = max(max(r, 1 / r) if r > 0 else float("inf") for r in ratios)
    print(f"  worst factor {worst:.2f}x ({'within' if worst <= 1.5 else 'OUTSIDE'} 1.5x)")
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", choices=("evaluate", "tune"), default=None)
    parser.add_argument("--timeline", action="store_true", help="print work done against time spent")
    args = parser.parse_args()
    global TIMELINE
    TIMELINE = args.timeline
    logging.basicConfig(level=logging.WARNING)
    settings = get_settings()
    with Store.open(settings.store_url) as store:
        # a new analyst per run (tune is for analysts; the lab's rate limit is per user)
        tag = f"{time.time():.0f}"
        analyst = store.create_user(f"bench-time-left-{tag}", "Bench", f"bench-{tag}@example.com", "x")
        if analyst.role != "admin":
            store.set_role(analyst.id, "analyst")
        who = analyst.username
        runner = jobs.JobRunner(settings, store, server=f"bench:{time.time():.0f}:x", mode="thread")
        jobs._RUNNERS[(settings.store_url, str(settings.data_dir.resolve()))] = runner
        size = data_size(settings)
        for _ in range(args.runs):
            if args.only in (None, "evaluate"):
                config = EvaluationConfig()
                estimate = estimate_seconds(size, config)
                job = lab_jobs.enqueue_evaluation(settings, store, who, config, estimate, name="time-left bench")
                print(f"evaluation: cost model {estimate:.1f} s, shown estimate {job.estimate_s:.1f} s")
                report("default evaluation", *watch(store, job.id))
            if args.only in (None, "tune"):
                job = lab_jobs.enqueue_tune(settings, store, who, quick=True)
                print(f"quick tune: shown estimate {job.estimate_s}")
                report("quick tune", *watch(store, job.id))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
