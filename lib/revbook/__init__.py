"""revbook: notebook analytics for B2B subscription companies organised as The Model."""

__version__ = "0.1.0"
