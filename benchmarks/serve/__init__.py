"""``make bench-serve``: the serving image against a Flask + gunicorn baseline."""
