"""A template greenai plugin. Keep this module light: import your framework inside methods."""

__version__ = "0.1.0"
