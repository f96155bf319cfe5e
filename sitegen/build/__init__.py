"""The build pipeline: per-paper jobs and their pool, the incremental cache, shards and their merge."""
