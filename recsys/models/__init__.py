"""The recommender: the scorer contract and registry (content TF-IDF, ALS, genre taste,
popularity), their weighted hybrid and the service the app calls
(:class:`~recsys.models.service.Recommender`)."""

from typing import TYPE_CHECKING

from recsys.lazy import lazy_exports

if TYPE_CHECKING:  # the names below load on first use (recsys.lazy: no import cycle with the submodules)
    from recsys.models import registry
    from recsys.models.als import ALSConfig, ALSScorer, app_user_key, movielens_user_key
    from recsys.models.artifacts import latest_version
    from recsys.models.base import Block, Profile, ProfileLike, Scorer, ScorerBase, TrainingData
    from recsys.models.config import RecommenderConfig
    from recsys.models.content import TfidfConfig, TfidfScorer
    from recsys.models.hybrid import HybridConfig, WeightedHybrid, blend, normalise
    from recsys.models.popularity import PopularityConfig, PopularityScorer
    from recsys.models.service import Recommender
    from recsys.models.taste import GenreTasteScorer, TasteConfig
    from recsys.models.training import train

__all__ = [
    "ALSConfig",
    "ALSScorer",
    "Block",
    "GenreTasteScorer",
    "HybridConfig",
    "PopularityConfig",
    "PopularityScorer",
    "Profile",
    "ProfileLike",
    "Recommender",
    "RecommenderConfig",
    "Scorer",
    "ScorerBase",
    "TasteConfig",
    "TfidfConfig",
    "TfidfScorer",
    "TrainingData",
    "WeightedHybrid",
    "app_user_key",
    "blend",
    "latest_version",
    "movielens_user_key",
    "normalise",
    "registry",
    "train",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "ALSConfig": "als",
        "ALSScorer": "als",
        "app_user_key": "als",
        "movielens_user_key": "als",
        "Block": "base",
        "Profile": "base",
        "ProfileLike": "base",
        "Scorer": "base",
        "ScorerBase": "base",
        "TrainingData": "base",
        "TfidfConfig": "content",
        "TfidfScorer": "content",
        "HybridConfig": "hybrid",
        "WeightedHybrid": "hybrid",
        "blend": "hybrid",
        "normalise": "hybrid",
        "PopularityConfig": "popularity",
        "PopularityScorer": "popularity",
        "Recommender": "service",
        "RecommenderConfig": "config",
        "latest_version": "artifacts",
        "train": "training",
        "GenreTasteScorer": "taste",
        "TasteConfig": "taste",
    },
)
