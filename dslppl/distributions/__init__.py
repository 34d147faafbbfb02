"""Distributions, constraints and transforms that dslppl adds to torch's."""
from .delta import Delta
from .discrete_uniform import DiscreteUniform
from .transforms import CovarianceTransform, OrderedTransform, ordered_vector
from .truncated import ImproperUniform, Truncated

__all__ = ["CovarianceTransform", "Delta", "DiscreteUniform", "ImproperUniform", "OrderedTransform", "Truncated", "ordered_vector"]
