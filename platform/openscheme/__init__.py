"""openscheme: health financing and social protection schemes declared in YAML.

`create_app` is imported lazily so that the pure core (definitions, formulas,
evaluation) can be used without loading Flask.
"""

__version__ = "0.1.0"


def create_app(config=None):
    from .web.app import create_app as factory

    return factory(config)
