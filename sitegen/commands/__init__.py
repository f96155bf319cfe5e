"""The commands beside ``build``: ``serve`` (preview), ``pull`` (fetch states) and ``check`` (audit a site)."""
