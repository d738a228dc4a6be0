"""Thumbnail benchmark: four ways to make a 256-px thumbnail of a 12-megapixel photo.

    .venv/bin/python benchmarks/thumbnail.py [--repeat 15] [--size 256]

(a) full decode      Image.open -> convert("RGB") -> resize -> save          (the common path)
(b) thumbnail()      Image.open -> thumbnail((256, 256)) with its defaults -> save
(c) ours             lambda_src/thumbnail/thumbnails.make_thumbnail          (the handler's path)
(d) floor            Image.open -> draft("RGB", box) -> load()   (reduced-scale decode only)

Each variant of each format runs in a fresh subprocess that receives the encoded photo on stdin,
so one variant's allocations cannot raise another's peak, and the peak RSS (the kernel's
VmHWM, which, unlike tracemalloc, sees Pillow's C image buffers) is that variant's alone.
"baseline" is the child's peak RSS just before the first run (interpreter + Pillow + the
encoded photo); "added" is what the variant put on top of it. Times are medians over --repeat
runs after one warm-up run. Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
THUMBNAIL_SRC = REPO_ROOT / "lambda_src" / "thumbnail"
VARIANTS = {
    "a": "(a) full decode: open, convert, resize, save",
    "b": "(b) Pillow thumbnail() defaults, save",
    "c": "(c) ours: make_thumbnail()",
    "d": "(d) floor: draft + load only",
}


# -- the photo ---------------------------------------------------------------------------------


def photo_like(width: int = 4000, height: int = 3000, seed: int = 7, grain: bool = True):
    """A 12 MP image that compresses like a photo: soft shapes, gradients and sensor noise."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    small = (width // 8, height // 8)
    scene = Image.linear_gradient("L").resize(small).convert("RGB")
    draw = ImageDraw.Draw(scene)
    for _ in range(120):
        x, y = rng.randrange(small[0]), rng.randrange(small[1])
        r = rng.randrange(8, 90)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    scene = scene.filter(ImageFilter.GaussianBlur(3)).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    if not grain:
        return scene
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 40) for _ in range(3)])
    # Fine detail and sensor grain on top of the smooth scene: without it the JPEG would be
    # ~1 MB and decode unrealistically fast; with it, ~4 MB at quality 90, like a phone photo.
    return Image.blend(scene, noise, 0.3)


def encode(image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=90)
    else:
        image.save(out, "PNG", compress_level=3)
    return out.getvalue()


def largest_accepted_png() -> bytes:
    """The handler's worst case: a smooth 50 MP (MAX_PIXELS) RGBA PNG, which stays under the
    20 MB upload limit because it compresses well, and must still be fully decoded."""
    from PIL import Image

    sys.path.insert(0, str(THUMBNAIL_SRC))
    from thumbnails import MAX_PIXELS

    width = int((MAX_PIXELS * 4 / 3) ** 0.5)
    image = photo_like(width, MAX_PIXELS // width, grain=False).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize(image.size))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


# -- one variant, in a child process -----------------------------------------------------------


def _peak_rss_kb() -> int:
    """This process's RSS high-water mark (VmHWM). Not getrusage's ru_maxrss: that one survives
    exec and starts at the parent's peak, which would charge the photo generation to the child."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_child(variant: str, repeat: int, size: int) -> None:
    from PIL import Image

    sys.path.insert(0, str(THUMBNAIL_SRC))
    from thumbnails import fit, make_thumbnail

    data = sys.stdin.buffer.read()

    def full_decode() -> None:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        image = image.resize(fit(*image.size, size))
        image.save(io.BytesIO(), "JPEG")

    def pillow_thumbnail() -> None:
        image = Image.open(io.BytesIO(data))
        image.thumbnail((size, size))
        image.convert("RGB").save(io.BytesIO(), "JPEG")

    def ours() -> None:
        make_thumbnail(io.BytesIO(data), size)

    def floor() -> None:
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (size, size))
        image.load()

    work = {"a": full_decode, "b": pillow_thumbnail, "c": ours, "d": floor}[variant]
    baseline = _peak_rss_kb()
    work()  # warm-up: lazy plugin imports, first allocations
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    json.dump(
        {
            "median_ms": statistics.median(times) * 1000,
            "peak_kb": _peak_rss_kb(),
            "baseline_kb": baseline,
        },
        sys.stdout,
    )


def measure(variant: str, data: bytes, repeat: int, size: int) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            variant,
            "--repeat",
            str(repeat),
            "--size",
            str(size),
        ],
        input=data,
        capture_output=True,
        check=True,
    )
    return json.loads(result.stdout)


# -- the table ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--child", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.repeat, args.size)
        return

    import PIL

    photo = photo_like()
    inputs = {fmt: encode(photo, fmt) for fmt in ("JPEG", "PNG")}
    del photo
    print(
        f"Pillow {PIL.__version__}, Python {sys.version.split()[0]}, {args.size}-px thumbnail of "
        f"a 4000x3000 photo, median of {args.repeat} runs, one fresh process per cell\n"
    )
    results = {}
    for fmt, data in inputs.items():
        print(f"{fmt}: {len(data) / 1e6:.1f} MB encoded")
        for variant in VARIANTS:
            results[fmt, variant] = measure(variant, data, args.repeat, args.size)
    worst = largest_accepted_png()
    print(f"PNG 50 MP RGBA (largest accepted): {len(worst) / 1e6:.1f} MB encoded")
    results["PNG 50 MP RGBA", "c"] = measure("c", worst, max(3, args.repeat // 5), args.size)
    print()
    print("| variant | format | median ms | peak RSS MB | added over baseline MB |")
    print("|---|---|---:|---:|---:|")
    for (fmt, variant), r in results.items():
        print(
            f"| {VARIANTS[variant]} | {fmt} | {r['median_ms']:.1f} | {r['peak_kb'] / 1024:.1f} | "
            f"{(r['peak_kb'] - r['baseline_kb']) / 1024:.1f} |"
        )

    a, c = results["JPEG", "a"], results["JPEG", "c"]
    added = {k: results["JPEG", k]["peak_kb"] - results["JPEG", k]["baseline_kb"] for k in "ac"}
    ms = {k: results["JPEG", k]["median_ms"] for k in "abcd"}
    checks = [
        (f"ours {ms['a'] / ms['c']:.1f}x faster than (a)", ms["a"] >= 3 * ms["c"], ">= 3x"),
        (f"ours {ms['c'] / ms['b']:.2f}x the time of (b)", ms["c"] <= ms["b"], "<= 1x"),
        (f"ours {ms['c'] / ms['d']:.2f}x the floor (d)", ms["c"] <= 1.2 * ms["d"], "<= 1.2x"),
        (
            f"ours adds {added['c'] / max(added['a'], 1):.2f}x the memory (a) adds",
            added["c"] <= added["a"] / 4,
            "<= 0.25x",
        ),
        (
            f"ours peaks at {c['peak_kb'] / a['peak_kb']:.2f}x the RSS of (a), whole process",
            c["peak_kb"] <= a["peak_kb"] / 4,
            "<= 0.25x",
        ),
    ]
    print("\nJPEG targets:")
    for text, ok, target in checks:
        print(f"  [{'met' if ok else 'MISSED'}] {text} (target {target})")
    worst = max(r["peak_kb"] for (fmt, v), r in results.items() if v == "c")
    print(
        f"\nHandler resize path, worst peak RSS (this process; add the Lambda runtime and "
        f"boto3): {worst / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
