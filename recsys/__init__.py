"""CineBlend's recommender package: catalogue, store, models, evaluation.

Only ``recsys.ui`` imports streamlit; everything else is plain Python usable from the CLI,
notebooks and tests.
"""

__version__ = "0.1.0"
