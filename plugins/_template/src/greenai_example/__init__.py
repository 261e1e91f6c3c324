"""A template greenai plugin: format ``example-linear`` and backend ``example-hwmon``.

Keep this module light: greenai imports it when it discovers plugins.
"""

__version__ = "0.2.0"

from greenai_example.linear_file import save_example_model  # noqa: E402 - after __version__, which submodules read

__all__ = ["__version__", "save_example_model"]
