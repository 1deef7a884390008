"""mtn-runbook: keep the MTN wholesale API session alive in production."""

__version__ = "0.1.0"
