"""Thumbnails of de-identified frames, with the redacted boxes of the redactions table outlined."""

from __future__ import annotations

import base64
import io
from typing import Any

from deid import zones

THUMB_SIZE = 224
_COLOURS = {"redact": (230, 40, 40), "keep": (240, 170, 0)}


def read_dataset(location: str) -> Any:
    import pydicom

    return pydicom.dcmread(io.BytesIO(zones.read_bytes(location)), force=True)


def frame_image(ds: Any, frame: int = 0) -> Any:
    """Frame ``frame`` as a PIL RGB image, rendered the way a viewer shows it (VOI / window)."""
    from PIL import Image

    from deid.pixels.frames import Render, open_frames, render_frame

    frames = open_frames(ds)  # one frame decoded, not all
    return Image.fromarray(render_frame(frames, min(frame, frames.count - 1), ds, Render.VOI), "RGB")


def outline(img: Any, boxes: list[dict[str, Any]]) -> Any:
    """Rectangles around boxes (x, y, w, h in frame pixels), red for redacted, amber for kept."""
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    width = max(1, round(max(img.size) / THUMB_SIZE))
    for b in boxes:
        colour = _COLOURS.get(str(b.get("action", "")).lower(), (60, 140, 255))
        x, y, w, h = (int(b[k]) for k in ("x", "y", "w", "h"))
        draw.rectangle([x, y, x + w - 1, y + h - 1], outline=colour, width=width)
    return img


def png_data_uri(img: Any, size: int = THUMB_SIZE) -> str:
    small = img.copy()
    small.thumbnail((size, size))
    buf = io.BytesIO()
    small.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def thumbnail(location: str, boxes: list[dict[str, Any]], size: int = THUMB_SIZE) -> str | None:
    """A data URI of frame 0 with boxes outlined; None when the file or its pixels cannot be read."""
    try:
        img = frame_image(read_dataset(location))
    except Exception:  # noqa: BLE001 - a frame that cannot be shown is left out of the grid
        return None
    return png_data_uri(outline(img, boxes), size)
