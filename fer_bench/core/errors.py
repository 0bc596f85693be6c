"""User-facing errors: the CLI prints these as one line and exits non-zero."""


class FerBenchError(Exception):
    """A mistake in the user's input (missing data, bad file, bad option).

    The message must name the offending file, row or option; the CLI prints it
    without a traceback.
    """


class DataNotFoundError(FerBenchError):
    pass
