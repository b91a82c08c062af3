"""Untrusted image uploads: checked, then re-encoded so only pixels we decoded are stored.

Every upload is opened with Pillow and written out again, which drops EXIF (GPS!), comments,
extra chunks and anything appended after the image (HTML/PHP polyglots). Before any pixel is
decoded the header must show an allowed format, the one the file name claims, and a size
under our pixel limit, so a decompression bomb is refused after reading a few bytes.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Far below Pillow's default (89 Mpx): a 40 Mpx phone photo is the largest real input.
MAX_PIXELS = 40_000_000
# Stored originals are shrunk to this long edge; the listing page never needs more.
MAX_EDGE = 2400
THUMBNAIL_SIZE = (480, 480)
LARGE_EDGE = 1200

# Pillow format -> (extensions a seller's file may carry, stored extension, save options)
FORMATS: dict[str, tuple[tuple[str, ...], str, dict]] = {
    "JPEG": ((".jpg", ".jpeg"), "jpg", {"quality": 88, "optimize": True, "progressive": True}),
    "PNG": ((".png",), "png", {"optimize": True}),
    "WEBP": ((".webp",), "webp", {"quality": 85, "method": 4}),
}
ALLOWED_EXTENSIONS = tuple(ext for exts, _e, _o in FORMATS.values() for ext in exts)
# Markup or code inside an "image" means someone is trying to make a browser (or a PHP
# interpreter) treat it as something else; no camera writes these bytes.
_SUSPICIOUS = (b"<script", b"<html", b"<?php", b"<svg", b"<!doctype", b"<iframe", b"<body")


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    format: str
    width: int
    height: int
    sha256: str


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""


def sanitize_upload(upload) -> CleanImage:
    """Validate an uploaded file and return a clean re-encoded copy, or raise ValidationError.

    ``upload`` is a Django ``UploadedFile`` (or anything with ``name``, ``size`` and ``read``).
    """
    name = getattr(upload, "name", "") or ""
    extension = _extension(name)
    if extension == ".svg" or extension == ".svgz":
        raise _refuse(
            _("SVG files are not accepted: upload a JPEG, PNG or WebP photo."), "image_svg"
        )
    if extension not in ALLOWED_EXTENSIONS:
        raise _refuse(
            _("Upload a JPEG, PNG or WebP photo (.jpg, .jpeg, .png or .webp)."),
            "image_extension",
        )
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise _refuse(_too_big_message(), "image_too_large")
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _refuse(_too_big_message(), "image_too_large")
    if not data:
        raise _refuse(_("The file is empty."), "image_empty")
    lowered = data.lower()
    if lowered.lstrip().startswith((b"<?xml", b"<svg")) or b"<svg" in lowered[:4096]:
        raise _refuse(
            _("SVG files are not accepted: upload a JPEG, PNG or WebP photo."), "image_svg"
        )
    if any(marker in lowered for marker in _SUSPICIOUS):
        raise _refuse(
            _("The file contains web page or script content, so it is not accepted as a photo."),
            "image_polyglot",
        )
    return _reencode(data, extension)


def _too_big_message() -> str:
    return _("The file is larger than %(mb)d MB. Upload a smaller photo.") % {
        "mb": MAX_UPLOAD_BYTES // (1024 * 1024)
    }


def _reencode(data: bytes, extension: str) -> CleanImage:
    with warnings.catch_warnings():
        # Pillow only warns between its limit and twice it; for us any bomb is an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(
                _("The image has far too many pixels; the limit is %(mp)d megapixels.")
                % {"mp": MAX_PIXELS // 1_000_000},
                "image_too_many_pixels",
            ) from None
        except UnidentifiedImageError:
            raise _refuse(
                _("This file is not a JPEG, PNG or WebP image."), "image_unreadable"
            ) from None
        except OSError:
            raise _refuse(_("This image file is damaged."), "image_unreadable") from None
        with image:
            fmt = image.format or ""
            if fmt not in FORMATS:
                if fmt:
                    message = _(
                        "%(format)s images are not accepted: upload a JPEG, PNG or WebP photo."
                    ) % {"format": fmt}
                else:
                    message = _(
                        "This kind of image is not accepted: upload a JPEG, PNG or WebP photo."
                    )
                raise _refuse(message, "image_format")
            extensions, stored_ext, options = FORMATS[fmt]
            if extension not in extensions:
                raise _refuse(
                    _(
                        "The file is called %(ext)s but holds a %(format)s image. Rename it or "
                        "export it again."
                    )
                    % {"ext": extension, "format": fmt},
                    "image_mismatch",
                )
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _refuse(
                    _("The image is %(w)d x %(h)d pixels; the limit is %(mp)d megapixels.")
                    % {"w": width, "h": height, "mp": MAX_PIXELS // 1_000_000},
                    "image_too_many_pixels",
                )
            try:
                image.seek(0)  # animated WebP/PNG: the first frame only
                image.load()
                # Cameras store rotation in EXIF; apply it before the EXIF is dropped.
                clean = ImageOps.exif_transpose(image)
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
                raise _refuse(
                    _("This image file is damaged or incomplete. Export it again."),
                    "image_truncated",
                ) from None
    clean = _normalise_mode(clean, fmt)
    # Savers only write metadata passed as options, but a copied image keeps the source's
    # info dict (EXIF, XMP, text chunks): empty it so no future Pillow default can leak it.
    icc = clean.info.get("icc_profile")
    clean.info = {}
    if max(clean.size) > MAX_EDGE:
        clean.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif=, no pnginfo=, no comment: nothing but pixels (and the colour profile) survives.
    save_options = dict(options)
    if icc:
        save_options["icc_profile"] = icc
    clean.save(out, format=fmt, **save_options)
    payload = out.getvalue()
    digest = hashlib.sha256(payload).hexdigest()
    return CleanImage(
        content=ContentFile(payload, name=f"{uuid.uuid4().hex}.{stored_ext}"),
        format=fmt,
        width=clean.width,
        height=clean.height,
        sha256=digest,
    )


def _normalise_mode(image: Image.Image, fmt: str) -> Image.Image:
    if fmt == "JPEG":
        return image.convert("RGB") if image.mode not in ("RGB", "L") else image
    if image.mode in ("P", "LA", "PA"):
        return image.convert("RGBA")
    if image.mode not in ("RGB", "RGBA", "L"):
        return image.convert("RGBA" if "A" in image.getbands() else "RGB")
    return image


def render_thumbnails(data: bytes) -> tuple[bytes, bytes]:
    """(square card thumbnail, large display image) as WebP, from a stored clean image."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        base = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    thumb = ImageOps.fit(base, THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    large = base.copy()
    large.thumbnail((LARGE_EDGE, LARGE_EDGE), Image.Resampling.LANCZOS)
    return _webp(thumb), _webp(large)


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()
