"""Media types: what a request's ``Content-Type`` is and which answer its ``Accept`` wants."""

from __future__ import annotations

from serving.errors import NotAcceptable

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"

#: Request bodies the built-in decoders understand.
DECODABLE = (JSON, CSV, NPY)
#: Answers the built-in encoders produce, the first being the default.
ENCODABLE = (JSON, CSV)


def media_type(header: str | None, default: str = JSON) -> str:
    """The bare, lower-case media type of a ``Content-Type`` header (parameters dropped).

    A missing or empty header means ``default`` (``application/json``, as in the SageMaker
    inference toolkit), so ``curl -d`` style clients that omit it still work.
    """
    if not header:
        return default
    return header.split(";", 1)[0].strip().lower() or default


def choose_answer_type(accept: str | None, offered: tuple[str, ...] = ENCODABLE) -> str:
    """Pick the answer's media type from an ``Accept`` header, honouring q-values.

    Missing, empty, ``*/*`` or ``application/*``-style ranges fall back to the first
    ``offered`` type that matches. Raises :class:`NotAcceptable` (406) when nothing
    offered is acceptable.
    """
    if not accept or not accept.strip():
        return offered[0]
    ranges: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        pieces = part.split(";")
        media = pieces[0].strip().lower()
        if not media:
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranges.append((-quality, position, media))
    for _, _, media in sorted(ranges):
        for candidate in offered:
            if _matches(media, candidate):
                return candidate
    raise NotAcceptable(f"cannot answer in any of {accept!r}; available: {', '.join(offered)}")


def _matches(media_range: str, media: str) -> bool:
    if media_range in ("*", "*/*"):
        return True
    major, _, minor = media_range.partition("/")
    if minor == "*":
        return media.startswith(major + "/")
    return media_range == media
