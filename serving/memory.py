"""Keeping a worker's memory and garbage-collector pauses flat.

- glibc gives each thread that allocates its own arena and keeps freed memory in them,
  and after the first large block is freed it raises its mmap threshold (up to 32 MiB),
  so a large request's arrays then come from the heap and stay with the process.
  :func:`tune_allocator` caps the arenas and fixes the threshold (as ``MALLOC_ARENA_MAX``
  and ``MALLOC_MMAP_THRESHOLD_`` in the image do), so every block of at least
  ``MMAP_THRESHOLD_BYTES`` is its own mapping, returned to the kernel when freed;
  :func:`trim` hands what is left free in the heap back after a large request.
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
#: ``mallopt`` parameter number of M_MMAP_THRESHOLD; setting it turns off the dynamic one.
_M_MMAP_THRESHOLD = -3
#: Arenas per process: the event loop's thread and one helper thread.
ARENAS = 2
#: Blocks of at least this many bytes are mapped on their own and unmapped when freed.
#: glibc's initial value; larger than any array of a request of up to about 4,000 rows of
#: 4 values, so small requests never pay for a mapping.
MMAP_THRESHOLD_BYTES = 256 * 1024
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


def tune_allocator(arenas: int = ARENAS, mmap_threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Cap glibc's malloc arenas at ``arenas`` and fix its mmap threshold at
    ``mmap_threshold`` bytes, for this process and the workers it forks.

    Without the fixed threshold, freeing one large array (a decoded 6 MiB body) raises
    the threshold past it, and from then on such arrays are carved from the heap, whose
    pages stay with the worker (measured: +125 MiB peak and +11 % settled for eight 6 MiB
    CSV bodies, against +74 MiB and +0 % with it). Returns False when not glibc.
    """
    libc = _libc()
    if libc is None:
        return False
    capped = bool(libc.mallopt(_M_ARENA_MAX, arenas))
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and capped


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
