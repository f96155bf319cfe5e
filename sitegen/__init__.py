"""pith-sitegen: verify Pith provenance state files and render them as a static mirror."""

__version__ = "0.1.0"
