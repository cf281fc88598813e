"""Stands in for shap when the benchmarks start the server as the default image: see
pandas.py beside this file."""

raise ImportError("shap is not in the default serving image")
