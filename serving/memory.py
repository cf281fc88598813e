"""Keeping a worker's memory and garbage-collector pauses flat.

- glibc gives each thread that allocates its own arena and keeps freed memory in them;
  :func:`limit_arenas` caps them (as ``MALLOC_ARENA_MAX=2`` in the image does) and
  :func:`trim` hands free pages back to the kernel after a large request.
- The model's objects live as long as the process. :func:`freeze_heap` moves everything
  alive after loading into the collector's permanent generation, so full collections no
  longer walk the model's object graph (tens of milliseconds for a 100-tree forest), and
  forked workers do not dirty the shared pages by touching it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from functools import cache
from typing import Any

log = logging.getLogger("serving.memory")

#: ``mallopt`` parameter number of M_ARENA_MAX in glibc's malloc.h.
_M_ARENA_MAX = -8
#: Arenas per process: the event loop's thread and one helper thread.
ARENAS = 2
#: Requests whose body is at least this many bytes are followed by a trim.
TRIM_AFTER_BYTES = 1024 * 1024


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None  # not glibc (musl, macOS): nothing to tune
    return libc


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc malloc arenas for this process and its children; False when not glibc."""
    libc = _libc()
    return libc is not None and bool(libc.mallopt(_M_ARENA_MAX, arenas))


def trim() -> bool:
    """Collect garbage, then return free heap pages to the kernel.

    The collection matters: an exception's traceback refers to the frames that held a
    request's body, and such reference cycles are otherwise freed only when enough new
    objects have been allocated. With the model frozen (:func:`freeze_heap`) a full
    collection walks only the objects made since. Returns False when no page could be
    returned.
    """
    gc.collect()
    libc = _libc()
    return libc is not None and bool(libc.malloc_trim(0))


def freeze_heap() -> int:
    """Collect, then exempt every surviving object from future collections.

    Returns how many objects are frozen (the collector's permanent generation).
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
