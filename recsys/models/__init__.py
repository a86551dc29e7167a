"""The recommender: the scorer contract and registry (content TF-IDF, ALS, genre taste,
popularity), their weighted hybrid and the service the app calls
(:class:`~recsys.models.service.Recommender`)."""

from recsys.models import registry
from recsys.models.als import ALSConfig, ALSScorer, app_user_key, movielens_user_key
from recsys.models.base import Block, Profile, ProfileLike, Scorer, ScorerBase, TrainingData
from recsys.models.content import TfidfConfig, TfidfScorer
from recsys.models.hybrid import HybridConfig, WeightedHybrid, blend, normalise
from recsys.models.popularity import PopularityConfig, PopularityScorer
from recsys.models.service import Recommender, RecommenderConfig, latest_version, train
from recsys.models.taste import GenreTasteScorer, TasteConfig

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
