"""JPEG draft mode against a full decode, on generated 12-megapixel photos.

``load_image`` asks Pillow's JPEG decoder for a reduced scale (1/2..1/8, done
in the DCT domain) just large enough for the model input, then resizes. The
baseline decodes every pixel (``open_image`` without ``max_side``) and then
does the same fit (``fit_image``), so only the draft differs. Each photo is
timed both ways back to back (a sample of the photos); medians over photos.
"""

from __future__ import annotations

import time

from benchmarks import data
from benchmarks.common import Context, Section, Target, median, ms, percentile, ratio

NAME = "decode"
TITLE = "Decoding 12-MP JPEGs: draft mode against a full decode"
TARGET_SPEEDUP = 4.0
SIZE = (32, 32)


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(ctx: Context) -> Section:
    from desktop_app.engine.images import fit_image, load_image, open_image

    section = Section(NAME, TITLE, "python -m benchmarks --only decode")
    start = time.perf_counter()
    photos = ctx.once("large_photos", lambda: data.large_photos(ctx.work / "photos", ctx.size(200, 3)))
    ctx.log(f"decode: {len(photos)} photos ready in {time.perf_counter() - start:.0f} s")
    mb = sum(p.stat().st_size for p in photos) / len(photos) / 1e6

    draft_load, full_load, draft_decode, full_decode = [], [], [], []
    for photo in photos[:1]:  # warm-up: code paths, page cache
        load_image(photo, SIZE)
        fit_image(open_image(photo), SIZE)
    # A full 12-MP decode plus resize costs about a second here: time every k-th photo both ways.
    timed = photos[:: max(1, len(photos) // ctx.size(30, 3))]
    for photo in timed:
        draft_load.append(_time(lambda: load_image(photo, SIZE)))
        full_load.append(_time(lambda: fit_image(open_image(photo), SIZE)))
        draft_decode.append(_time(lambda: open_image(photo, max_side=2 * max(SIZE))))
        full_decode.append(_time(lambda: open_image(photo)))
    speedup = median(full_load) / median(draft_load)
    decode_speedup = median(full_decode) / median(draft_decode)
    section.columns = ["Step", "Draft mode p50", "Draft p95", "Full decode p50", "Full p95", "Speed-up"]
    section.rows = [
        [
            f"file -> {SIZE[0]}x{SIZE[1]} model input",
            ms(median(draft_load)),
            ms(percentile(draft_load, 95)),
            ms(median(full_load)),
            ms(percentile(full_load, 95)),
            ratio(speedup),
        ],
        [
            "decode only (RGB, upright)",
            ms(median(draft_decode)),
            ms(percentile(draft_decode, 95)),
            ms(median(full_decode)),
            ms(percentile(full_decode, 95)),
            ratio(decode_speedup),
        ],
    ]
    section.targets.append(
        Target(
            f"12-MP JPEG to model input >= {TARGET_SPEEDUP:.0f}x faster with draft mode",
            ratio(speedup),
            speedup >= TARGET_SPEEDUP,
        )
    )
    section.notes += [
        f"{len(timed)} of {len(photos)} generated {data.PHOTO_SIZE[0]}x{data.PHOTO_SIZE[1]} JPEGs (quality 90, "
        f"{mb:.1f} MB each; all {len(photos)} go through the engine in the end-to-end section), one timing per "
        "photo and method, back to back, after one warm-up photo.",
        "Draft: `load_image(path, (32, 32))` (engine default fit). Full: `fit_image(open_image(path), (32, 32))` "
        "(every pixel decoded, same fit). Decode only: `open_image(path, max_side=64)` against `open_image(path)`.",
    ]
    section.numbers = {
        "photos": len(photos),
        "timed": len(timed),
        "draft_load_p50_s": median(draft_load),
        "full_load_p50_s": median(full_load),
        "speedup": speedup,
        "draft_decode_p50_s": median(draft_decode),
        "full_decode_p50_s": median(full_decode),
        "decode_speedup": decode_speedup,
    }
    return section
