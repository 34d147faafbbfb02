"""Binding: checked data plus generated code gives a `BoundModel`, the input of inference."""
from .bind import Compiled, bind
from .bound import BoundModel, LatentSite
from .data import DataWarning, Inputs, load_json, prepare

__all__ = ["BoundModel", "Compiled", "DataWarning", "Inputs", "LatentSite", "bind", "load_json", "prepare"]
