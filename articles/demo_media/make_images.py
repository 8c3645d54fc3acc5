"""Draw the demo's pictures, source logos and video: `python -m articles.demo_media.make_images`.

Everything the demo shows is made here, from shapes and gradients, so the repository owns every
pixel. The output is committed next to this file (`images/`, `logos/`, `video/`); run this again
only to change a drawing. The video needs the ffmpeg binary of the `imageio-ffmpeg` package
(a test extra).
"""

import math
import random
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
SIZE = (1600, 900)
JPEG_QUALITY = 80


# -- building blocks ----------------------------------------------------------------------------


def gradient(size, top, bottom) -> Image.Image:
    """A vertical gradient from colour `top` to colour `bottom`."""
    width, height = size
    strip = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / max(height - 1, 1)
        strip.putpixel(
            (0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    return strip.resize(size)


def rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))


def sun(draw, centre, radius, colour):
    x, y = centre
    draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)


def ridge(draw, rng, base_y, amplitude, colour, width=SIZE[0], steps=14):
    """A mountain ridge: a jagged polygon closed along the bottom of the picture."""
    points = [(0, SIZE[1])]
    for i in range(steps + 1):
        x = width * i / steps
        points.append((x, base_y - rng.uniform(0.2, 1.0) * amplitude))
    points.append((width, SIZE[1]))
    draw.polygon(points, fill=colour)


def waves(draw, top, colour, rows=9, amplitude=8, spacing=28, phase=0.0, line=4):
    for row in range(rows):
        y0 = top + row * spacing
        points = [
            (x, y0 + amplitude * math.sin(x / 60 + row * 0.9 + phase))
            for x in range(0, SIZE[0] + 20, 20)
        ]
        draw.line(points, fill=colour, width=line)


def skyline(draw, rng, base_y, colour, window, count=22):
    x = 0
    while x < SIZE[0]:
        width = rng.randint(50, 120)
        height = rng.randint(120, 420)
        draw.rectangle([x, base_y - height, x + width, base_y], fill=colour)
        for wy in range(base_y - height + 16, base_y - 20, 28):
            for wx in range(x + 10, x + width - 14, 22):
                if rng.random() < 0.45:
                    draw.rectangle([wx, wy, wx + 10, wy + 14], fill=window)
        x += width + rng.randint(4, 18)


def save_jpeg(image: Image.Image, name: str) -> Path:
    path = HERE / "images" / f"{name}.jpg"
    path.parent.mkdir(exist_ok=True)
    image.save(path, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return path


# -- the pictures -------------------------------------------------------------------------------


def river_delta(rng):
    image = gradient(SIZE, rgb("#1d3557"), rgb("#f1a66a"))
    draw = ImageDraw.Draw(image)
    sun(draw, (1180, 430), 90, rgb("#ffd6a5"))
    ridge(draw, rng, 520, 60, rgb("#3d405b"))
    draw.rectangle([0, 540, SIZE[0], SIZE[1]], fill=rgb("#457b9d"))
    waves(draw, 570, rgb("#a8dadc"), rows=12)
    # The barrage: a long wall with gates, water pouring through.
    draw.rectangle([120, 470, 1480, 545], fill=rgb("#6c757d"))
    for x in range(180, 1460, 160):
        draw.rectangle([x, 490, x + 80, 545], fill=rgb("#1d3557"))
        draw.rectangle([x + 6, 545, x + 74, 640], fill=rgb("#e0fbfc"))
    return image


def battery_park(rng):
    image = gradient(SIZE, rgb("#caf0f8"), rgb("#90e0ef"))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 620, SIZE[0], SIZE[1]], fill=rgb("#74a57f"))
    # The old chimney behind, the containers in front.
    draw.rectangle([1250, 180, 1330, 620], fill=rgb("#adb5bd"))
    draw.rectangle([1150, 420, 1450, 620], fill=rgb("#ced4da"))
    for row in range(2):
        for col in range(6):
            x, y = 80 + col * 180, 520 + row * 120
            draw.rectangle([x, y, x + 150, y + 90], fill=rgb("#f8f9fa"), outline=rgb("#495057"))
            draw.rectangle([x + 12, y + 14, x + 60, y + 30], fill=rgb("#2a9d8f"))
    for x in (200, 700, 1100):
        draw.line([(x, 620), (x, 240)], fill=rgb("#495057"), width=8)
        draw.line([(x - 60, 280), (x + 60, 280)], fill=rgb("#495057"), width=6)
    draw.line([(140, 280), (1160, 280)], fill=rgb("#495057"), width=2)
    return image


def dry_well(rng):
    image = gradient(SIZE, rgb("#ffba08"), rgb("#faa307"))
    draw = ImageDraw.Draw(image)
    sun(draw, (300, 220), 120, rgb("#fff3b0"))
    draw.rectangle([0, 560, SIZE[0], SIZE[1]], fill=rgb("#dda15e"))
    for _ in range(40):
        x, y = rng.randint(0, SIZE[0]), rng.randint(580, SIZE[1])
        draw.line(
            [(x, y), (x + rng.randint(30, 90), y + rng.randint(-6, 6))],
            fill=rgb("#bc6c25"),
            width=3,
        )
    # The well: a stone ring, two posts and a beam with a bucket.
    draw.ellipse([720, 560, 1000, 640], fill=rgb("#6b4423"))
    draw.rectangle([720, 600, 1000, 720], fill=rgb("#8d6e63"))
    draw.ellipse([720, 680, 1000, 760], fill=rgb("#8d6e63"))
    draw.rectangle([740, 400, 760, 620], fill=rgb("#4e342e"))
    draw.rectangle([960, 400, 980, 620], fill=rgb("#4e342e"))
    draw.rectangle([730, 390, 990, 412], fill=rgb("#4e342e"))
    draw.line([(860, 412), (860, 520)], fill=rgb("#3e2723"), width=3)
    draw.polygon([(840, 520), (880, 520), (874, 560), (846, 560)], fill=rgb("#607d8b"))
    return image


def border_crossing(rng):
    image = gradient(SIZE, rgb("#adb5bd"), rgb("#e9ecef"))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 600, SIZE[0], SIZE[1]], fill=rgb("#6c757d"))
    draw.polygon([(700, 900), (900, 900), (820, 600), (780, 600)], fill=rgb("#495057"))
    for x in range(0, SIZE[0], 40):
        draw.line([(x, 380), (x, 620)], fill=rgb("#343a40"), width=4)
    for y in (380, 450, 520, 590):
        draw.line([(0, y), (SIZE[0], y)], fill=rgb("#343a40"), width=3)
    # The barrier arm and the booth.
    draw.rectangle([560, 420, 700, 620], fill=rgb("#f8f9fa"), outline=rgb("#212529"), width=4)
    draw.rectangle([580, 450, 680, 520], fill=rgb("#74c0fc"))
    for i in range(8):
        colour = rgb("#e63946") if i % 2 == 0 else rgb("#f8f9fa")
        draw.rectangle([700 + i * 60, 540, 760 + i * 60, 560], fill=colour)
    return image


def andes_solar(rng):
    image = gradient(SIZE, rgb("#48cae4"), rgb("#caf0f8"))
    draw = ImageDraw.Draw(image)
    sun(draw, (1350, 170), 80, rgb("#fff3b0"))
    ridge(draw, rng, 430, 260, rgb("#6d6875"))
    ridge(draw, rng, 560, 150, rgb("#b5838d"))
    draw.rectangle([0, 640, SIZE[0], SIZE[1]], fill=rgb("#e5989b"))
    # The school, its roof covered in panels.
    draw.rectangle([520, 560, 1080, 760], fill=rgb("#ffcdb2"))
    draw.polygon([(480, 560), (800, 420), (1120, 560)], fill=rgb("#264653"))
    for i in range(7):
        for j in range(2):
            x0 = 560 + i * 70 + j * 30
            y0 = 520 - j * 50
            draw.polygon(
                [(x0, y0), (x0 + 60, y0), (x0 + 50, y0 - 36), (x0 - 10, y0 - 36)],
                fill=rgb("#1d3557"),
                outline=rgb("#a8dadc"),
            )
    draw.rectangle([760, 640, 840, 760], fill=rgb("#6b4423"))
    return image


def harbour(rng):
    image = gradient(SIZE, rgb("#023e8a"), rgb("#90e0ef"))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 560, SIZE[0], SIZE[1]], fill=rgb("#0077b6"))
    waves(draw, 600, rgb("#48cae4"), rows=10)
    draw.rectangle([0, 520, 700, 570], fill=rgb("#495057"))
    # Cranes on the quay.
    for x in (120, 380):
        draw.rectangle([x, 220, x + 26, 520], fill=rgb("#f77f00"))
        draw.rectangle([x - 120, 220, x + 260, 244], fill=rgb("#f77f00"))
        draw.line([(x + 13, 120), (x - 120, 232)], fill=rgb("#f77f00"), width=6)
        draw.line([(x + 13, 120), (x + 260, 232)], fill=rgb("#f77f00"), width=6)
        draw.line([(x + 200, 244), (x + 200, 420)], fill=rgb("#212529"), width=3)
    # The dredger.
    draw.polygon([(820, 560), (1420, 560), (1360, 640), (880, 640)], fill=rgb("#d62828"))
    draw.rectangle([1180, 470, 1320, 560], fill=rgb("#f8f9fa"))
    draw.line([(900, 560), (1060, 420)], fill=rgb("#212529"), width=10)
    return image


def heat_city(rng):
    image = gradient(SIZE, rgb("#ff6d00"), rgb("#ffd166"))
    draw = ImageDraw.Draw(image)
    sun(draw, (800, 330), 200, rgb("#fff1c1"))
    skyline(draw, rng, 760, rgb("#5a189a"), rgb("#ffd166"))
    draw.rectangle([0, 760, SIZE[0], SIZE[1]], fill=rgb("#3c096c"))
    # A hospital cross on the tallest roof in view.
    draw.rectangle([1300, 380, 1480, 760], fill=rgb("#f8f9fa"))
    draw.rectangle([1370, 420, 1410, 520], fill=rgb("#e63946"))
    draw.rectangle([1340, 450, 1440, 490], fill=rgb("#e63946"))
    return image


def radio_mast(rng):
    image = gradient(SIZE, rgb("#240046"), rgb("#7b2cbf"))
    draw = ImageDraw.Draw(image)
    for _ in range(120):
        x, y = rng.randint(0, SIZE[0]), rng.randint(0, 500)
        draw.point((x, y), fill=rgb("#e0aaff"))
    ridge(draw, rng, 760, 80, rgb("#10002b"))
    # The mast and the signal it no longer sends.
    draw.polygon([(780, 760), (820, 760), (806, 200), (794, 200)], fill=rgb("#c77dff"))
    for y in range(260, 760, 60):
        draw.line([(790, y), (810, y + 40)], fill=rgb("#10002b"), width=3)
    for radius in (90, 170, 250, 330):
        draw.arc(
            [800 - radius, 200 - radius, 800 + radius, 200 + radius],
            200,
            340,
            fill=rgb("#e0aaff"),
            width=6,
        )
    draw.line([(600, 80), (1000, 420)], fill=rgb("#ff4d6d"), width=18)
    return image


def river_fish(rng):
    image = gradient(SIZE, rgb("#2a9d8f"), rgb("#264653"))
    draw = ImageDraw.Draw(image)
    waves(draw, 60, rgb("#8ecae6"), rows=4, amplitude=10, spacing=36)
    for _ in range(14):
        x, y = rng.randint(80, 1480), rng.randint(260, 820)
        length = rng.randint(80, 150)
        colour = rgb(rng.choice(["#e9c46a", "#f4a261", "#e76f51"]))
        draw.ellipse([x, y, x + length, y + length // 3], fill=colour)
        draw.polygon(
            [(x, y + length // 6), (x - 40, y - 10), (x - 40, y + length // 3 + 10)], fill=colour
        )
        draw.ellipse([x + length - 28, y + 8, x + length - 18, y + 18], fill=rgb("#264653"))
    for x in range(0, SIZE[0], 90):
        draw.line(
            [(x, SIZE[1]), (x + 20, SIZE[1] - rng.randint(100, 260))], fill=rgb("#52b788"), width=8
        )
    return image


def typhoon_lines(rng):
    image = gradient(SIZE, rgb("#343a40"), rgb("#6c757d"))
    draw = ImageDraw.Draw(image)
    for _ in range(9):
        x, y = rng.randint(-100, 1500), rng.randint(-60, 200)
        draw.ellipse(
            [x, y, x + rng.randint(300, 520), y + rng.randint(120, 200)], fill=rgb("#495057")
        )
    for _ in range(160):
        x, y = rng.randint(0, SIZE[0]), rng.randint(0, SIZE[1])
        draw.line([(x, y), (x - 30, y + 70)], fill=rgb("#adb5bd"), width=2)
    draw.rectangle([0, 720, SIZE[0], SIZE[1]], fill=rgb("#2b2d42"))
    for x in (200, 620, 1040, 1460):
        draw.rectangle([x, 360, x + 18, 720], fill=rgb("#8d6e63"))
        draw.rectangle([x - 70, 380, x + 88, 392], fill=rgb("#8d6e63"))
    for offset in (-60, 0, 60):
        draw.line(
            [(209 + offset, 386), (629 + offset, 430), (1049 + offset, 386)],
            fill=rgb("#ffd166"),
            width=3,
        )
    draw.rectangle([1000, 600, 1160, 720], fill=rgb("#ffd166"))  # a lit repair truck
    return image


def desalination(rng):
    image = gradient(SIZE, rgb("#a2d2ff"), rgb("#e9f5ff"))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 600, SIZE[0], SIZE[1]], fill=rgb("#0096c7"))
    waves(draw, 630, rgb("#caf0f8"), rows=9)
    draw.rectangle([160, 380, 900, 600], fill=rgb("#dee2e6"))
    for x in range(200, 880, 120):
        draw.ellipse([x, 330, x + 90, 420], fill=rgb("#adb5bd"))
    draw.rectangle([900, 560, 1500, 580], fill=rgb("#6c757d"))
    # The brine plume, spreading from the outfall.
    for radius in range(40, 240, 40):
        draw.ellipse(
            [1500 - radius, 700 - radius // 3, 1500 + radius, 700 + radius // 3],
            outline=rgb("#ffffff"),
            width=3,
        )
    return image


def coal_town(rng):
    image = gradient(SIZE, rgb("#8d99ae"), rgb("#edf2f4"))
    draw = ImageDraw.Draw(image)
    ridge(draw, rng, 600, 200, rgb("#2b2d42"))
    draw.rectangle([0, 700, SIZE[0], SIZE[1]], fill=rgb("#52796f"))
    # The pithead wheel and a new workshop with a wind turbine.
    draw.ellipse([240, 260, 420, 440], outline=rgb("#212529"), width=12)
    draw.line([(330, 350), (230, 700)], fill=rgb("#212529"), width=14)
    draw.line([(330, 350), (430, 700)], fill=rgb("#212529"), width=14)
    draw.rectangle([820, 560, 1300, 760], fill=rgb("#f2e8cf"))
    draw.polygon([(800, 560), (1050, 460), (1320, 560)], fill=rgb("#bc4749"))
    draw.rectangle([1380, 300, 1392, 740], fill=rgb("#f8f9fa"))
    for angle in (90, 210, 330):
        a = math.radians(angle)
        draw.line(
            [(1386, 300), (1386 + 140 * math.cos(a), 300 - 140 * math.sin(a))],
            fill=rgb("#f8f9fa"),
            width=10,
        )
    return image


def newsroom_screens(rng):
    image = gradient(SIZE, rgb("#0b132b"), rgb("#1c2541"))
    draw = ImageDraw.Draw(image)
    for row in range(3):
        for col in range(4):
            x, y = 120 + col * 350, 110 + row * 240
            draw.rectangle(
                [x, y, x + 310, y + 200], fill=rgb("#3a506b"), outline=rgb("#5bc0be"), width=4
            )
            for line in range(6):
                length = rng.randint(80, 270)
                colour = rgb("#ff595e") if rng.random() < 0.25 else rgb("#6fffe9")
                draw.rectangle(
                    [x + 18, y + 20 + line * 28, x + 18 + length, y + 32 + line * 28], fill=colour
                )
    draw.polygon([(800, 330), (880, 470), (720, 470)], fill=rgb("#ffca3a"))
    draw.rectangle([794, 370, 806, 430], fill=rgb("#0b132b"))
    draw.rectangle([794, 442, 806, 456], fill=rgb("#0b132b"))
    return image


PICTURES = {
    "river-delta": river_delta,
    "battery-park": battery_park,
    "dry-well": dry_well,
    "border-crossing": border_crossing,
    "andes-solar": andes_solar,
    "harbour": harbour,
    "heat-city": heat_city,
    "radio-mast": radio_mast,
    "river-fish": river_fish,
    "typhoon-lines": typhoon_lines,
    "desalination": desalination,
    "coal-town": coal_town,
    "newsroom-screens": newsroom_screens,
}


# -- logos --------------------------------------------------------------------------------------

LOGOS = {
    # source slug: (initials, background, foreground)
    "delta-dispatch": ("DD", "#1d3557", "#a8dadc"),
    "open-grid-journal": ("OG", "#2a9d8f", "#ffffff"),
    "coastal-ledger": ("CL", "#023e8a", "#ffd166"),
    "free-press-monitor": ("FP", "#d62828", "#ffffff"),
    "tidewater-notes": ("TN", "#52796f", "#f2e8cf"),
}


def logo(initials: str, background: str, foreground: str) -> Image.Image:
    """A round badge with the outlet's initials, drawn at twice the size it is shown at."""
    size = 192
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse([4, 4, size - 4, size - 4], fill=rgb(background))
    draw.ellipse([18, 18, size - 18, size - 18], outline=rgb(foreground), width=5)
    font = ImageFont.load_default(size=78)
    draw.text((size / 2, size / 2), initials, font=font, fill=rgb(foreground), anchor="mm")
    return image


# -- the video ----------------------------------------------------------------------------------

VIDEO_SIZE = (640, 360)
VIDEO_SECONDS = 8
VIDEO_FPS = 20


def video_frame(index: int) -> Image.Image:
    """The barrage at night, its gates opening one by one and the water rising behind them."""
    t = index / (VIDEO_SECONDS * VIDEO_FPS)
    width, height = VIDEO_SIZE
    image = gradient(VIDEO_SIZE, rgb("#0b132b"), rgb("#3a506b"))
    draw = ImageDraw.Draw(image)
    sun(draw, (520, 70), 28, rgb("#f1faee"))  # the moon
    level = 200 - round(30 * t)
    draw.rectangle([0, level, width, height], fill=rgb("#1d3557"))
    for row in range(6):
        y0 = level + 12 + row * 22
        points = [(x, y0 + 4 * math.sin(x / 30 + row + t * 12)) for x in range(0, width + 10, 10)]
        draw.line(points, fill=rgb("#457b9d"), width=2)
    draw.rectangle([40, 180, 600, 225], fill=rgb("#6c757d"))
    gates = 6
    for gate in range(gates):
        x = 60 + gate * 90
        opened = t * gates > gate
        draw.rectangle([x, 190, x + 40, 225], fill=rgb("#0b132b"))
        if opened:
            fall = min(1.0, t * gates - gate)
            draw.rectangle([x + 4, 225, x + 36, 225 + round(110 * fall)], fill=rgb("#e0fbfc"))
            for _ in range(4):
                foam_x = x + 20 + 30 * math.sin(index * 0.7 + gate * 3 + _)
                foam_y = 225 + round(110 * fall)
                draw.ellipse([foam_x - 8, foam_y - 6, foam_x + 8, foam_y + 6], fill=rgb("#f1faee"))
    return image.filter(ImageFilter.SMOOTH)


def make_video(path: Path) -> None:
    import imageio_ffmpeg

    path.parent.mkdir(exist_ok=True)
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}", "-r", str(VIDEO_FPS), "-i", "-",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "28", "-preset", "slow",
        "-movflags", "+faststart", "-an", str(path),
    ]  # fmt: skip
    frames = b"".join(video_frame(index).tobytes() for index in range(VIDEO_SECONDS * VIDEO_FPS))
    subprocess.run(command, input=frames, check=True)  # noqa: S603 (our own binary and arguments)


def main() -> None:
    for name, draw in PICTURES.items():
        path = save_jpeg(draw(random.Random(name)), name)  # noqa: S311 (drawing, not secrets)
        print(f"{path.relative_to(HERE)}: {path.stat().st_size // 1024} KB")
    (HERE / "logos").mkdir(exist_ok=True)
    for slug, spec in LOGOS.items():
        path = HERE / "logos" / f"{slug}.png"
        logo(*spec).save(path, format="PNG", optimize=True)
        print(f"{path.relative_to(HERE)}: {path.stat().st_size // 1024} KB")
    video = HERE / "video" / "floodgates.mp4"
    make_video(video)
    print(f"{video.relative_to(HERE)}: {video.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
