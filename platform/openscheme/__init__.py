"""openscheme: health financing and social protection schemes declared in YAML."""

__version__ = "0.1.0"
