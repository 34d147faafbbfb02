"""Distributions, constraints and transforms that dslppl adds to torch's."""
from .delta import Delta
from .discrete_uniform import DiscreteUniform
from .transforms import CovarianceTransform, OrderedTransform, ordered_vector
from .truncated import ImproperUniform, Truncated
from .vonmises import VonMises

__all__ = ["CovarianceTransform", "Delta", "DiscreteUniform", "ImproperUniform", "OrderedTransform", "Truncated", "VonMises",
           "ordered_vector"]
