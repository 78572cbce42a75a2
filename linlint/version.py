"""The version of linlint: one place, read by the package metadata and by the reports."""

__version__ = "0.2.0"
