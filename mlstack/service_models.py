"""botocore's AWS service models, read once per process.

Every boto3 session parses the JSON models of the services it makes clients for (the
SageMaker model alone is megabytes of JSON: 0.1 to 0.2 s a client). The tooling makes a new
session for every client, so that each one reads the settings and credentials of the moment,
and the sagemaker SDK makes sessions of its own. Here sessions share one botocore data loader
per search path (``AWS_DATA_PATH``): a client costs the parse of its model once per process.
The loader only reads the files botocore and boto3 ship (and those under the search path), so
sharing it changes no client.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.session
from botocore.loaders import Loader

_LOADERS: dict[str | None, Loader] = {}
"""Data loaders by search path string (``None``: botocore's default paths only)."""


class _SearchPaths(list[str]):
    """A shared loader's search paths, each once: boto3 appends its own data directory to
    the loader of every session it makes."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def shared_loader(search_path_string: str | None = None) -> Loader:
    """The process's data loader for ``search_path_string`` (as
    :func:`botocore.loaders.create_loader` reads it: paths joined by ``os.pathsep``)."""
    if search_path_string not in _LOADERS:
        extra = search_path_string.split(os.pathsep) if search_path_string else []
        paths = _SearchPaths(os.path.expanduser(os.path.expandvars(p)) for p in extra)
        _LOADERS[search_path_string] = Loader(extra_search_paths=paths)
    return _LOADERS[search_path_string]


def new_session(**settings: Any) -> boto3.session.Session:
    """A new boto3 session (settings and credentials read now, ``settings`` as boto3's
    ``Session`` takes them) whose service models come from the shared loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", shared_loader(core.get_config_variable("data_path")))
    return boto3.session.Session(botocore_session=core, **settings)


@contextmanager
def sessions_share_loaders() -> Iterator[None]:
    """Every botocore session made inside the block (the sagemaker SDK's own included)
    uses the shared loaders."""
    original = botocore.session.create_loader
    botocore.session.create_loader = shared_loader
    try:
        yield
    finally:
        botocore.session.create_loader = original
