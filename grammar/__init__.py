"""The .ppl grammar, shipped inside the package as ``dslppl.grammar``."""
