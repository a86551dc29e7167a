"""Old path of :mod:`recsys.models.weights`, kept because the notebook uses it.

``notebooks/tune_hybrid_weights.ipynb`` applies its tuned weights with ``from recsys import
weights`` then ``weights.apply(...)``, and copies of it people keep do the same; the weights moved
beside the scorer registry (issue 24). New code imports :mod:`recsys.models.weights`.
"""

from recsys.models.weights import *  # noqa: F403 - the module's public names, as they were here
from recsys.models.weights import __all__ as __all__
