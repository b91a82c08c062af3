"""The upload corpus: what a seller (or an attacker) might send as a product photo."""

import io
import struct
import time
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from PIL import Image

from marketplace.core.errors import DomainError
from marketplace.listings import services
from marketplace.listings.images import MAX_UPLOAD_BYTES, sanitize_upload
from marketplace.listings.models import Listing, ListingImage
from tests.listings.factories import image_bytes, make_listing, upload

pytestmark = pytest.mark.usefixtures("customs_tables")


def _png_with_size(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose header claims another size: a decompression bomb's signature."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def _refused(name: str, data: bytes, code: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        sanitize_upload(upload(name, data))
    assert caught.value.code == code, caught.value.messages
    return caught.value


@pytest.mark.parametrize("size", [(30_000, 30_000), (9_000, 5_000)])
def test_decompression_bombs_are_refused_from_the_header_alone(size):
    started = time.perf_counter()
    error = _refused("bomb.png", _png_with_size(*size), "image_too_many_pixels")
    assert time.perf_counter() - started < 0.5
    assert "megapixels" in error.messages[0]


def test_png_with_html_appended_is_refused():
    polyglot = (
        image_bytes("PNG") + b"<html><body><script>alert(document.cookie)</script></body></html>"
    )
    error = _refused("innocent.png", polyglot, "image_polyglot")
    assert "script content" in error.messages[0]


def test_svg_is_refused_by_name_and_by_content():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    _refused("logo.svg", svg, "image_svg")
    _refused("logo.png", svg, "image_svg")


def test_php_named_jpg_is_refused():
    _refused("shell.jpg", b"<?php system($_GET['c']); ?>", "image_polyglot")


def test_jpeg_carrying_php_in_a_comment_is_refused():
    jpeg = image_bytes("JPEG", comment=b"<?php echo 'x'; ?>")
    _refused("photo.jpg", jpeg, "image_polyglot")


def test_a_file_that_is_not_an_image_is_refused():
    _refused("photo.jpg", b"\x00\x01 plain garbage " * 20, "image_unreadable")


def test_truncated_jpeg_is_refused():
    whole = image_bytes("JPEG", size=(400, 300), color=(10, 120, 200))
    _refused("photo.jpg", whole[: len(whole) // 2], "image_truncated")


def test_oversized_file_is_refused_before_decoding():
    big = upload("huge.jpg", b"\xff" * (MAX_UPLOAD_BYTES + 1))
    with pytest.raises(ValidationError) as caught:
        sanitize_upload(big)
    assert caught.value.code == "image_too_large"
    assert "10 MB" in caught.value.messages[0]


def test_content_must_match_the_extension():
    error = _refused("photo.jpg", image_bytes("PNG"), "image_mismatch")
    assert "called .jpg but holds a PNG image" in error.messages[0]


@pytest.mark.parametrize("name", ["photo.gif", "photo.bmp", "photo", "photo.tiff"])
def test_only_jpeg_png_and_webp_names_are_accepted(name):
    _refused(name, image_bytes("PNG"), "image_extension")


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 7"
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    Image.new("RGB", (80, 40), (30, 140, 90)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_with_gps_exif_is_stored_without_it_and_upright():
    original = _jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as check:
        assert check.getexif().get_ifd(0x8825)  # the fixture really carries GPS
    clean = sanitize_upload(upload("holiday.jpg", original))
    stored = clean.content.read()
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()
        assert image.format == "JPEG"
        assert image.size == (40, 80)  # orientation applied before the EXIF was dropped
    assert (clean.width, clean.height) == (40, 80)


@pytest.mark.parametrize(
    ("name", "fmt", "extra"),
    [("a.png", "PNG", {"alpha": True}), ("a.webp", "WEBP", {}), ("a.jpeg", "JPEG", {})],
)
def test_valid_photos_are_reencoded_in_their_own_format(name, fmt, extra):
    clean = sanitize_upload(upload(name, image_bytes(fmt, size=(120, 90), **extra)))
    with Image.open(io.BytesIO(clean.content.read())) as image:
        assert image.format == fmt
        assert image.size == (120, 90)
    assert clean.content.name.endswith({"PNG": ".png", "WEBP": ".webp", "JPEG": ".jpg"}[fmt])


def test_large_photos_are_shrunk_to_the_stored_limit():
    clean = sanitize_upload(upload("big.jpg", image_bytes("JPEG", size=(3000, 1500))))
    assert (clean.width, clean.height) == (2400, 1200)


# --- Attaching photos and thumbnails -----------------------------------------------------


@pytest.fixture
def listing(shop):
    return make_listing(shop, status=Listing.Status.DRAFT)


def test_upload_attaches_the_photo_and_thumbnails_follow_after_commit(listing, run_on_commit):
    with run_on_commit():
        image = services.add_listing_image(
            listing=listing,
            upload=upload("a.jpg", image_bytes(size=(800, 600))),
            alt_text="Blue T-shirt, front",
            now=timezone.now(),
        )
    image.refresh_from_db()
    listing.refresh_from_db()
    assert listing.cover_image_id == image.pk
    assert image.thumbnail_status == ListingImage.ThumbnailStatus.READY
    with image.thumbnail.open("rb") as fh, Image.open(fh) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (480, 480))
    with image.large.open("rb") as fh, Image.open(fh) as large:
        assert large.size == (800, 600)


def test_thumbnails_are_idempotent(listing):
    image = services.add_listing_image(
        listing=listing, upload=upload("a.jpg", image_bytes()), alt_text="", now=timezone.now()
    )
    assert image.thumbnail_status == ListingImage.ThumbnailStatus.PENDING  # not committed yet
    assert services.generate_thumbnails(image_id=image.pk) is True
    image.refresh_from_db()
    names = (image.thumbnail.name, image.large.name)
    assert services.generate_thumbnails(image_id=image.pk) is False  # second run: nothing
    assert services.generate_thumbnails(image_id=image.pk, force=True) is True
    image.refresh_from_db()
    assert (image.thumbnail.name, image.large.name) == names  # same files, overwritten
    assert services.generate_thumbnails(image_id=999_999) is False  # deleted photo


def test_a_stored_file_that_cannot_be_decoded_is_marked_failed(listing):
    image = services.add_listing_image(
        listing=listing, upload=upload("a.jpg", image_bytes()), alt_text="", now=timezone.now()
    )
    with image.image.storage.open(image.image.name, "wb") as fh:
        fh.write(b"corrupted on disk")
    assert services.generate_thumbnails(image_id=image.pk) is False
    image.refresh_from_db()
    assert image.thumbnail_status == ListingImage.ThumbnailStatus.FAILED
    assert image.thumbnail_error


def test_the_same_photo_twice_is_refused(listing):
    data = image_bytes()
    services.add_listing_image(
        listing=listing, upload=upload("a.jpg", data), alt_text="", now=timezone.now()
    )
    with pytest.raises(DomainError, match="already on the listing"):
        services.add_listing_image(
            listing=listing, upload=upload("b.jpg", data), alt_text="", now=timezone.now()
        )


def test_reordering_and_deleting_keep_the_cover_right(listing, run_on_commit):
    first, _second, third = (
        services.add_listing_image(
            listing=listing,
            upload=upload(f"{n}.jpg", image_bytes(color=(n * 40, 10, 10))),
            alt_text=str(n),
            now=timezone.now(),
        )
        for n in range(3)
    )
    services.move_listing_image(image=third, offset=-1)
    assert list(listing.images.values_list("alt_text", flat=True)) == ["0", "2", "1"]
    services.move_listing_image(image=third, offset=-1)
    listing.refresh_from_db()
    assert listing.cover_image_id == third.pk
    stored = third.image.name
    with run_on_commit():
        services.delete_listing_image(image=third)
    listing.refresh_from_db()
    assert listing.cover_image_id == first.pk
    assert list(listing.images.values_list("position", flat=True)) == [0, 1]
    assert not first.image.storage.exists(stored)
