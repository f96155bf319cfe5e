"""The Pith format, pure: canonical bytes, Pith numbers, models, strict parsing, keys, checks, reports.

Bytes in, values out; nothing here reads a file, writes one or knows about the site.
"""
