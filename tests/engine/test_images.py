"""Real Pillow files through the one image path: formats, modes, orientation, errors."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from desktop_app.engine import images
from desktop_app.engine.images import FIT_MODES, ImageLoadError, fit_image, load_image, open_image
from tests.engine.conftest import EXPECTED, exif_rotated_jpeg, half_red_half_blue, png_header_only

SIZE = (32, 32)


@pytest.mark.parametrize("name", sorted(n for n, r in EXPECTED.items() if r is None))
def test_readable_files_become_float_rgb(awkward_dir: Path, name: str) -> None:
    array = load_image(awkward_dir / name, SIZE)
    assert array.shape == (32, 32, 3) and array.dtype == np.float32
    assert array.min() >= 0.0 and array.max() <= 255.0


@pytest.mark.parametrize("name", sorted(n for n, r in EXPECTED.items() if r is not None))
def test_unreadable_files_give_their_reason(awkward_dir: Path, name: str) -> None:
    with pytest.raises(ImageLoadError) as info:
        load_image(awkward_dir / name, SIZE)
    assert info.value.reason == EXPECTED[name]
    assert info.value.path == str(awkward_dir / name)
    assert str(info.value).startswith(f"{name}: ")


def mean_rgb(array: np.ndarray) -> np.ndarray:
    return array.reshape(-1, 3).mean(axis=0)


def test_colours_survive_every_mode(awkward_dir: Path) -> None:
    # CMYK red -> red; 16-bit white -> white (not clipped/garbled); 1x1 blue -> blue.
    assert mean_rgb(load_image(awkward_dir / "cmyk.jpg", SIZE))[0] > 200
    assert np.allclose(load_image(awkward_dir / "grey16.png", SIZE), 255.0)
    assert np.allclose(load_image(awkward_dir / "tiny_1x1.png", SIZE), [0, 0, 255])
    assert np.allclose(load_image(awkward_dir / "picture.webp", SIZE), [255, 0, 0])


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    Image.fromarray(np.full((8, 8), 32768, dtype=np.uint16)).save(tmp_path / "mid.png")
    assert np.allclose(load_image(tmp_path / "mid.png", (8, 8)), 128.0, atol=1)


def test_transparency_goes_over_white(awkward_dir: Path) -> None:
    alpha = load_image(awkward_dir / "alpha.png", (30, 30), fit="squash")
    assert np.allclose(alpha[0, 0], images.BACKGROUND)  # transparent top band
    assert np.allclose(alpha[-1, -1], [0, 0, 255])
    palette = load_image(awkward_dir / "palette_transparent.png", (20, 20), fit="squash")
    assert np.allclose(palette[5, 2], images.BACKGROUND) and np.allclose(palette[5, 17], [0, 0, 255])
    assert np.allclose(load_image(awkward_dir / "la.png", SIZE), images.BACKGROUND)


def test_animated_gif_uses_the_first_frame(awkward_dir: Path) -> None:
    first = mean_rgb(load_image(awkward_dir / "animated.gif", SIZE))
    assert first[0] > 200 and first[1] < 50


@pytest.mark.parametrize(("orientation", "top", "bottom"), [(6, "red", "blue"), (8, "blue", "red")])
def test_exif_orientation_is_applied(orientation: int, top: str, bottom: str) -> None:
    # Stored 40x20, left red / right blue. Tag 6 rotates 90 deg clockwise for display:
    # the image becomes 20x40 with red on top; tag 8 the other way round.
    image = open_image(exif_rotated_jpeg(orientation))
    assert image.size == (20, 40)
    pixels = np.asarray(image, dtype=np.float32)
    channel = {"red": 0, "blue": 2}
    assert pixels[5, 10, channel[top]] > 200 and pixels[34, 10, channel[bottom]] > 200


def test_xmp_orientation_of_a_jpeg_without_exif_is_applied() -> None:
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 0, 255), (20, 0, 40, 20))
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>'
    )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", xmp=xmp)
    upright = open_image(buffer.getvalue())
    assert upright.size == (20, 40)
    pixels = np.asarray(upright, dtype=np.float32)
    assert pixels[5, 10, 0] > 200 and pixels[34, 10, 2] > 200  # red on top, as tag 6 shows it


@pytest.mark.parametrize("fit", ["squash", "crop", "pad"])
def test_an_image_already_at_the_model_size_keeps_its_pixels(fit: str) -> None:
    noise = np.random.default_rng(3).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG")
    np.testing.assert_array_equal(load_image(buffer.getvalue(), SIZE, fit=fit), noise.astype(np.float32))
    with pytest.raises(ValueError, match="unknown fit mode"):
        fit_image(Image.fromarray(noise), (32, 32), "stretch")


def test_bytes_and_path_agree(awkward_dir: Path) -> None:
    path = awkward_dir / "photo.jpg"
    np.testing.assert_array_equal(load_image(path, SIZE), load_image(path.read_bytes(), SIZE))


@pytest.mark.parametrize("name", sorted(n for n, r in EXPECTED.items() if r is None))
def test_files_read_whole_or_streamed_decode_alike(
    awkward_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    whole = images.load_pixels(awkward_dir / name, SIZE)
    monkeypatch.setattr(images, "WHOLE_READ_BYTES", 0)  # every file streamed from disk, as before
    np.testing.assert_array_equal(whole, images.load_pixels(awkward_dir / name, SIZE))


@pytest.mark.parametrize("size", [(1, 1), (7, 5), (32, 32), (300, 200)])
def test_pixels_of_is_the_array_numpy_makes(size: tuple[int, int]) -> None:
    noise = np.random.default_rng(sum(size)).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    image = Image.fromarray(noise)
    pixels = images.pixels_of(image)
    assert pixels.dtype == np.uint8 and pixels.shape == (size[1], size[0], 3)
    np.testing.assert_array_equal(pixels, np.asarray(image))
    np.testing.assert_array_equal(pixels, noise)


def test_non_ascii_path(awkward_dir: Path) -> None:
    assert mean_rgb(load_image(str(awkward_dir / "café ☕ 日本.png"), SIZE))[1] > 200


def test_big_jpeg_is_decoded_in_draft_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (4000, 3000), (200, 100, 50)).save(tmp_path / "big.jpg", quality=80)
    decoded_sizes: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        decoded_sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    array = load_image(tmp_path / "big.jpg", SIZE)
    assert decoded_sizes[0] == (500, 375)  # 1/8 scale, not 12 MP
    assert np.allclose(mean_rgb(array), [200, 100, 50], atol=3)
    preview = open_image(tmp_path / "big.jpg", max_side=256)
    assert max(preview.size) == 256 and decoded_sizes[-1] == (500, 375)


def test_pixel_limit_checked_on_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    with pytest.raises(ImageLoadError) as info:
        load_image(png_header_only(11, 10), SIZE)
    assert info.value.reason == "too_large" and "limit" in str(info.value)


def test_pillow_bomb_error_becomes_too_large() -> None:
    with pytest.raises(ImageLoadError) as info:  # over 2 x Image.MAX_IMAGE_PIXELS: Pillow raises on open
        load_image(png_header_only(30_000, 30_000), SIZE)
    assert info.value.reason == "too_large"


def test_missing_file_and_empty_bytes(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="does not exist") as info:
        load_image(tmp_path / "nope.png", SIZE)
    assert info.value.reason == "not_found"
    with pytest.raises(ImageLoadError) as info:
        load_image(b"", SIZE)
    assert info.value.reason == "empty_file" and info.value.path is None


def test_known_but_unsupported_type(tmp_path: Path) -> None:
    (tmp_path / "phone.heic").write_bytes(b"\0\0\0\x18ftypheic" + b"\0" * 64)
    with pytest.raises(ImageLoadError) as info:
        load_image(tmp_path / "phone.heic", SIZE)
    assert info.value.reason == "unsupported"


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.png"
    Image.new("RGB", (4, 4)).save(path)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # root reads anything: simulate the OS refusal instead

            def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(images.os, "open", refuse)  # images opens with os.open (O_NONBLOCK)
        with pytest.raises(ImageLoadError, match="permission denied") as info:
            load_image(path, SIZE)
        assert info.value.reason == "permission_denied"
    finally:
        path.chmod(0o644)


def test_truncated_images_stay_refused() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("fit", FIT_MODES)
def test_fit_modes_on_a_wide_image(fit: str) -> None:
    wide = np.asarray(half_red_half_blue(80, 20).convert("RGB"))  # red left, blue right
    array = load_image(Image_bytes(wide), (16, 16), fit=fit)
    assert array.shape == (16, 16, 3)
    if fit == "pad":
        assert np.allclose(array[0, 8], images.PAD_COLOUR, atol=2)  # grey band above
    else:
        assert array[8, 1, 0] > 200 and array[8, 14, 2] > 200


def test_unknown_fit_is_a_value_error(awkward_dir: Path) -> None:
    with pytest.raises(ValueError, match="squash, crop, pad"):
        load_image(awkward_dir / "photo.jpg", SIZE, fit="stretch")


def Image_bytes(pixels: np.ndarray) -> bytes:  # noqa: N802 - reads like a constructor
    import io

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


REAL_PHOTOS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real-photos"
SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"


def test_real_photos_and_samples_load(tmp_path: Path) -> None:
    photos = sorted(REAL_PHOTOS.rglob("*.png")) + sorted(SAMPLES.rglob("*.jpg"))
    if not photos:
        pytest.skip("no real photos or samples here")
    for photo in photos:
        for fit in FIT_MODES:
            array = load_image(photo, SIZE, fit=fit)
            assert array.shape == (32, 32, 3) and array.std() > 5, photo  # a real picture, not a flat fill
