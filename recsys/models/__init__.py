"""The recommender: content (TF-IDF), collaborative (ALS), popularity, their weighted hybrid and
the service the app calls (:class:`~recsys.models.service.Recommender`)."""

from recsys.models.als import ALSConfig, ALSScorer, app_user_key, movielens_user_key
from recsys.models.base import Profile, ProfileLike, Scorer
from recsys.models.content import TfidfConfig, TfidfScorer
from recsys.models.hybrid import HybridConfig, WeightedHybrid, blend, normalise
from recsys.models.popularity import PopularityConfig, PopularityScorer
from recsys.models.service import Recommender, RecommenderConfig, latest_version, train

__all__ = [
    "ALSConfig",
    "ALSScorer",
    "HybridConfig",
    "PopularityConfig",
    "PopularityScorer",
    "Profile",
    "ProfileLike",
    "Recommender",
    "RecommenderConfig",
    "Scorer",
    "TfidfConfig",
    "TfidfScorer",
    "WeightedHybrid",
    "app_user_key",
    "blend",
    "latest_version",
    "movielens_user_key",
    "normalise",
    "train",
]
