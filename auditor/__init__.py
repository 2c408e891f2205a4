"""The AI spend auditor: what you spent on AI vendors, whether it was billed right, and what it would cost elsewhere."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ai-spend-auditor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
