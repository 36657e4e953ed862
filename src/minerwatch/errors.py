"""Exceptions at minerwatch's boundary; the CLI turns each into one clear line and an exit code."""


class MinerwatchError(Exception):
    """Base of every error the CLI reports to the user instead of a traceback."""

    exit_code = 2


class InputError(MinerwatchError):
    """An input (capture, feed, rule file, path) cannot be read or is not in a known format."""


class UsageError(MinerwatchError):
    """The command line or configuration asks for something impossible."""


class OutputError(MinerwatchError):
    """An output (events file, standard output, extraction directory) cannot be written: never blamed on
    an input, and never mistaken for a finding."""
