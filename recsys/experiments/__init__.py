"""Online experiments with testers (issue 23): A/B tests and team-draft interleaving of hybrid
settings, the exposure log they read, their analysis and "ship the winner".

- :mod:`~recsys.experiments.arms`: experiments and arms (checked), the sticky A/B assignment;
- :mod:`~recsys.experiments.interleaving`: team-draft interleaving and its credit;
- :mod:`~recsys.experiments.exposure`: the batched exposure log of every feed card shown;
- :mod:`~recsys.experiments.serve`: the feed's hook (which setting ranks a render);
- :mod:`~recsys.experiments.stats`, :mod:`~recsys.experiments.analysis`: intervals, tests,
  power, the verdict, exports;
- :mod:`~recsys.experiments.manage`: create / start / pause / stop / ship (role checked);
- :mod:`~recsys.experiments.records`: their rows in the store.
"""
