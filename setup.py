"""Package discovery: the dslppl packages plus grammar/, installed as dslppl.grammar."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["dslppl", "dslppl.*"]) + ["dslppl.grammar"])
