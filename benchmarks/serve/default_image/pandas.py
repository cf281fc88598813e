"""Stands in for pandas when the benchmarks start the server: the default image has no
pandas (only the explain extra brings it), but the development venv does, and
scikit-learn imports it whenever it can (about 30 MiB and a few hundred ms of start-up).
Put on PYTHONPATH, this makes the server start as it would in the default image."""

raise ImportError("pandas is not in the default serving image")
