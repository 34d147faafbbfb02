"""The built-in distributions and functions of the language, and their registries."""
from .distributions import DISTRIBUTIONS, DistributionSpec, Support, register_distribution, unregister_distribution
from .functions import COMPREHENSIBLE, FUNCTIONS, FunctionSpec, Kind, register_function, unregister_function

__all__ = [
    "DISTRIBUTIONS", "DistributionSpec", "Support", "register_distribution", "unregister_distribution",
    "COMPREHENSIBLE", "FUNCTIONS", "FunctionSpec", "Kind", "register_function", "unregister_function",
]
