"""Operational tooling behind ``mlstack model`` and ``mlstack smoke``: AWS API calls with boto3.

Imported only by the CLI, never by the Pulumi program (a plan must not need boto3 or
credentials). Every client is built from the standard AWS settings (profile, region,
``AWS_ENDPOINT_URL``), so pointing ``AWS_ENDPOINT_URL`` at a local emulator sends every call
there.
"""
