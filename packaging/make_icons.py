"""Draw the application icon: PNG (256 px), Windows .ico and an SVG twin.

The design is one list of shapes in a 256-unit square (a photo above three
probability bars on a blue rounded tile), rendered twice: by Pillow at 4x with
an antialiased downscale, and as SVG. Run it again after changing a shape:

    python packaging/make_icons.py            # writes assets/icons/
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

UNITS = 256
SUPERSAMPLE = 4
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
GRADIENT = ("#3b5bdb", "#1098ad")  # top, bottom of the tile
ICON_STEM = "image-classifier"


@dataclass(frozen=True)
class Shape:
    """One filled shape; ``box`` is (x0, y0, x1, y1) or a flat polygon point list."""

    kind: str  # "rect" (rounded by radius), "ellipse" or "polygon"
    box: tuple[float, ...]
    fill: str
    radius: float = 0.0


SHAPES: tuple[Shape, ...] = (
    # Photo card with a sky, a sun and two hills.
    Shape("rect", (48, 36, 208, 140), "#ffffff", 14),
    Shape("rect", (58, 46, 198, 130), "#d0ebff", 8),
    Shape("ellipse", (160, 56, 184, 80), "#fcc419"),
    Shape("polygon", (58, 130, 104, 78, 150, 130), "#2f9e44"),
    Shape("polygon", (118, 130, 156, 92, 198, 130), "#37b24d"),
    # Three probability bars, longest first.
    Shape("rect", (48, 158, 208, 176), "#ffffff", 9),
    Shape("rect", (48, 186, 136, 204), "#ffffffb3", 9),
    Shape("rect", (48, 214, 96, 232), "#ffffff80", 9),
)


def _rgba(colour: str) -> tuple[int, int, int, int]:
    value = colour.lstrip("#")
    if len(value) == 6:
        value += "ff"
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4, 6))  # type: ignore[return-value]


def _tile(size: int) -> Image.Image:
    """The rounded tile filled with a vertical gradient."""
    top, bottom = _rgba(GRADIENT[0]), _rgba(GRADIENT[1])
    column = Image.new("RGBA", (1, size))
    for y in range(size):
        t = y / (size - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    gradient = column.resize((size, size))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size - 1, size - 1), radius=size * 0.22, fill=255)
    tile = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    tile.paste(gradient, (0, 0), mask)
    return tile


def render_png(size: int = UNITS) -> Image.Image:
    """Render the icon at ``size`` pixels (drawn at 4x, then downscaled)."""
    big = size * SUPERSAMPLE
    k = big / UNITS
    image = _tile(big)
    for shape in SHAPES:
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        coords = [c * k for c in shape.box]
        fill = _rgba(shape.fill)
        if shape.kind == "rect":
            draw.rounded_rectangle(coords, radius=shape.radius * k, fill=fill)
        elif shape.kind == "ellipse":
            draw.ellipse(coords, fill=fill)
        else:
            draw.polygon(coords, fill=fill)
        image = Image.alpha_composite(image, layer)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def render_svg() -> str:
    """The same design as an SVG document (scalable, for Linux desktops)."""

    def fill_attrs(colour: str) -> str:
        r, g, b, a = _rgba(colour)
        opacity = f' fill-opacity="{a / 255:.2f}"' if a < 255 else ""
        return f'fill="#{r:02x}{g:02x}{b:02x}"{opacity}'

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{UNITS}" height="{UNITS}" viewBox="0 0 {UNITS} {UNITS}">',
        '<defs><linearGradient id="tile" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{GRADIENT[0]}"/><stop offset="1" stop-color="{GRADIENT[1]}"/>'
        "</linearGradient></defs>",
        f'<rect width="{UNITS}" height="{UNITS}" rx="{UNITS * 0.22:g}" fill="url(#tile)"/>',
    ]
    for shape in SHAPES:
        if shape.kind == "rect":
            x0, y0, x1, y1 = shape.box
            parts.append(
                f'<rect x="{x0:g}" y="{y0:g}" width="{x1 - x0:g}" height="{y1 - y0:g}" '
                f'rx="{shape.radius:g}" {fill_attrs(shape.fill)}/>'
            )
        elif shape.kind == "ellipse":
            x0, y0, x1, y1 = shape.box
            parts.append(
                f'<ellipse cx="{(x0 + x1) / 2:g}" cy="{(y0 + y1) / 2:g}" rx="{(x1 - x0) / 2:g}" '
                f'ry="{(y1 - y0) / 2:g}" {fill_attrs(shape.fill)}/>'
            )
        else:
            points = " ".join(f"{x:g},{y:g}" for x, y in zip(shape.box[::2], shape.box[1::2]))
            parts.append(f'<polygon points="{points}" {fill_attrs(shape.fill)}/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_icons(out_dir: Path) -> list[Path]:
    """Write ``image-classifier.{png,ico,svg}`` into ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png, ico, svg = (out_dir / f"{ICON_STEM}{suffix}" for suffix in (".png", ".ico", ".svg"))
    image = render_png(UNITS)
    image.save(png, optimize=True)
    image.save(ico, sizes=ICO_SIZES)
    svg.write_text(render_svg(), encoding="utf-8")
    return [png, ico, svg]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parents[1] / "assets" / "icons"
    parser.add_argument("--out", type=Path, default=default_out, help="output folder (default: assets/icons)")
    args = parser.parse_args(argv)
    for path in write_icons(args.out):
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
