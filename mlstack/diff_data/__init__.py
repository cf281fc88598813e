"""Data for ``mlstack diff``: replacement rules and on-demand prices.

* ``replacement_rules.json`` / :mod:`.replacement`: which changed input paths
  force a replacement, per Pulumi type token.  Regenerate with
  ``make replacement-rules TF_AWS_GIT=... K8S_GIT=... AWS_NATIVE_GIT=...``
  (``scripts/derive_replacement_rules.py``; the arguments are bare git
  snapshots of terraform-provider-aws, pulumi-kubernetes and pulumi-aws-native).
* ``prices.json`` / :mod:`.prices`: hourly on-demand prices in USD per
  instance-hour.  Regenerate with ``make prices`` (``scripts/update_prices.py``).

Both files are committed; the loaders read them lazily and cache them.
"""
