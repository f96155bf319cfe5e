"""The site's shape, pure: URL layout, configuration values, shards, and which input owns which path.

Values in, values out: nothing here renders or touches the file system.
"""
