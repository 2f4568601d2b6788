"""The citizen app's icons, drawn at commit time from one geometry (the favicon's: a certificate with a tick and a
seal): `python -m infra.app_icons` writes api/static/app/icon.svg and the PNGs the install prompt wants, full-bleed
so that a launcher's mask (a circle, a squircle) cuts only green. Nothing is downloaded; Pillow draws them."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "api" / "static" / "app"
SIZES = (192, 512)
GREEN, PALE, RED, WHITE = "#0a5c36", "#cfe3d8", "#d4202c", "#ffffff"
# On a 32-unit square, inside the central 80% that a maskable icon keeps (3.2 to 28.8).
PAPER = [(10, 6), (19.5, 6), (24, 10.5), (24, 26), (10, 26)]
FOLD = [(19.5, 6), (19.5, 10.5), (24, 10.5)]
TICK = [(12.8, 17.5), (15.6, 20.3), (21, 14)]
SEAL = (23.5, 24.5, 4)  # centre x, y and radius


def svg() -> str:
    points = " ".join
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
            f'<rect width="32" height="32" fill="{GREEN}"/>'
            f'<polygon points="{points(f"{x},{y}" for x, y in PAPER)}" fill="{WHITE}"/>'
            f'<polygon points="{points(f"{x},{y}" for x, y in FOLD)}" fill="{PALE}"/>'
            f'<polyline points="{points(f"{x},{y}" for x, y in TICK)}" fill="none" stroke="{GREEN}" '
            'stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/>'
            f'<circle cx="{SEAL[0]}" cy="{SEAL[1]}" r="{SEAL[2]}" fill="{RED}"/></svg>\n')


def png(size: int) -> Image.Image:
    """Drawn four times larger and scaled down, for smooth edges."""
    big = size * 4
    k = big / 32
    image = Image.new("RGB", (big, big), GREEN)
    draw = ImageDraw.Draw(image)
    draw.polygon([(x * k, y * k) for x, y in PAPER], fill=WHITE)
    draw.polygon([(x * k, y * k) for x, y in FOLD], fill=PALE)
    width = round(2.4 * k)
    draw.line([(x * k, y * k) for x, y in TICK], fill=GREEN, width=width, joint="curve")
    for x, y in (TICK[0], TICK[-1]):
        draw.ellipse([x * k - width / 2, y * k - width / 2, x * k + width / 2, y * k + width / 2], fill=GREEN)
    cx, cy, r = SEAL
    draw.ellipse([(cx - r) * k, (cy - r) * k, (cx + r) * k, (cy + r) * k], fill=RED)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(svg(), encoding="utf-8")
    for size in SIZES:
        png(size).quantize(32).save(OUT / f"icon-{size}.png", optimize=True)  # 32 colours: a third of the bytes


if __name__ == "__main__":
    main()
