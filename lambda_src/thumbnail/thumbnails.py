"""The resize path of the thumbnail function: bytes of a JPEG or PNG in, a small JPEG out.

Fast because it never decodes the full photo when it does not have to: for a JPEG, `draft()`
asks libjpeg to decode straight at 1/2, 1/4 or 1/8 scale (DCT scaling), choosing the
smallest scale that still covers the thumbnail, so a 12-megapixel photo is decoded as a
0.2-megapixel one: about an eighth of the work and a sixty-fourth of the memory. Only that
small image is then resampled (Lanczos) to the exact size. PNG has no reduced-scale decode;
there `reducing_gap` lets Pillow box-reduce by an integer factor before the Lanczos pass.

Safe on hostile input: only the JPEG and PNG decoders are allowed, the pixel count is checked
from the header before any pixel is decoded, and EXIF (camera serial, GPS position) is not
copied into the thumbnail. Anything Pillow cannot read is a `NotAPhoto`, never a crash.
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from typing import BinaryIO

from PIL import Image, ImageFile

# Decoders this function will run on user uploads; everything else is "not a photo".
FORMATS = ("JPEG", "PNG")
# 50 MP covers every phone and most DSLRs; beyond that a PNG would decode to > 200 MB.
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 82
# EXIF orientation tag -> the transpose that shows the photo upright.
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION_TAG = 0x0112

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False  # a cut-off upload is an error, not a grey half-photo


class NotAPhoto(ValueError):
    """The upload is not a JPEG/PNG this function thumbnails (corrupt, other format, too big)."""


@dataclasses.dataclass(frozen=True)
class Thumbnail:
    data: bytes
    width: int
    height: int
    source_width: int
    source_height: int
    source_format: str
    content_type: str = "image/jpeg"


def fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size of (width, height) scaled to fit a max_side square; never enlarged."""
    if width <= max_side and height <= max_side:
        return width, height
    if width >= height:
        return max_side, max(1, round(height * max_side / width))
    return max(1, round(width * max_side / height)), max_side


def make_thumbnail(source: BinaryIO | bytes, max_side: int = 256) -> Thumbnail:
    """A JPEG no larger than max_side x max_side, upright, without metadata."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():
            # Pillow only *warns* between MAX_IMAGE_PIXELS and twice that: refuse instead.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=FORMATS) as image:
                return _thumbnail(image, max_side)
    except NotAPhoto:
        raise
    except (
        Image.UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as err:
        raise NotAPhoto(str(err)) from err
    except (OSError, SyntaxError, ValueError, EOFError) as err:  # truncated/corrupt data
        raise NotAPhoto(f"unreadable {type(err).__name__}: {err}") from err


def _thumbnail(image: Image.Image, max_side: int) -> Thumbnail:
    source_format = image.format or "unknown"
    source_width, source_height = image.size
    if source_width * source_height > MAX_PIXELS:
        raise NotAPhoto(f"{source_width}x{source_height} is more than {MAX_PIXELS} pixels")
    orientation = image.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    target = fit(source_width, source_height, max_side)

    # JPEG: decode at the smallest 1/2^n scale that is still >= target (no-op for PNG).
    image.draft("RGB", target)
    if image.mode == "P" or (image.mode not in ("RGB", "RGBA", "L", "LA")):
        # Palette/16-bit/CMYK: resampling needs a true-colour mode (P would resize NEAREST).
        has_alpha = "transparency" in image.info or image.mode in ("PA", "RGBa", "La")
        image = image.convert("RGBA" if has_alpha else "RGB")
    small = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)

    if small.mode in ("RGBA", "LA"):  # JPEG has no alpha: flatten onto white
        background = Image.new("RGB", small.size, (255, 255, 255))
        background.paste(small, mask=small.getchannel("A"))
        small = background
    elif small.mode != "RGB":
        small = small.convert("RGB")
    if orientation in _ORIENTATION:
        small = small.transpose(_ORIENTATION[orientation])

    out = io.BytesIO()
    small.save(out, "JPEG", quality=JPEG_QUALITY)  # no exif=: camera metadata is dropped
    return Thumbnail(
        data=out.getvalue(),
        width=small.width,
        height=small.height,
        source_width=source_width,
        source_height=source_height,
        source_format=source_format,
    )
