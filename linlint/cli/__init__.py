"""The ``linlint`` command line."""
