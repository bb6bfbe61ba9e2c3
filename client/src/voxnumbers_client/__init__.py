"""Python SDK and command line for the TryVox numbers API."""

__version__ = "0.1.0"
