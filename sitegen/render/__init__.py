"""Turning values into bytes: the Jinja environment, page rows, JSON and XML encoders, search and mirror files.

Nothing here writes a file; every function returns the bytes of one output.
"""
