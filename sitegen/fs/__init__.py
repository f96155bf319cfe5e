"""The file system: finding and reading inputs under ``content/``, and staging and publishing the site.

The one place that opens inputs and writes outputs; path safety lives here.
"""
