"""The peers bench-serve runs beside the serving image, each in a virtualenv of its own."""
