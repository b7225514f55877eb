"""Regenerates the Pillow reference files in this folder (run with Pillow 12.x: python3 make_pillow_refs.py).

resize/: src_*.png random RGB images and Pillow Image.resize(..., BICUBIC) results
         named src_<name>__<W>x<H>.png (BicubicResamplerTest expects bit equality).
decode/: inputs in several formats and, for each, <input>.expected.png: what transformers would
         process, i.e. Pillow open, ImageOps.exif_transpose, then convert_to_rgb (alpha composited
         over white). PillowConformanceTest compares the Java decoder with these.
"""
import io, os, struct, zlib
import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(1234)

def convert_to_rgb(im):  # transformers.image_transforms.convert_to_rgb
    if im.mode == "RGB":
        return im
    rgba = im.convert("RGBA")
    bg = Image.new("RGBA", rgba.size, (255, 255, 255))
    return Image.alpha_composite(bg, rgba).convert("RGB")

def scene(w, h):
    """Smooth gradients, hard edges and some noise: a photo-like test picture."""
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([x * 255 / max(w - 1, 1), y * 255 / max(h - 1, 1), (x + y) * 127 / max(w + h, 1)], -1)
    a[h // 4: h // 2, w // 5: w // 2] = (250, 30, 40)
    a[h // 2:, w // 2:] = (20, 60, 230)
    a += rng.normal(0, 6, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")

def resize_refs():
    d = os.path.join(HERE, "resize"); os.makedirs(d, exist_ok=True)
    sources = {
        "noise37x23": Image.fromarray(rng.integers(0, 256, (23, 37, 3), dtype=np.uint8), "RGB"),
        "noise131x97": Image.fromarray(rng.integers(0, 256, (97, 131, 3), dtype=np.uint8), "RGB"),
        "scene64x48": scene(64, 48),
    }
    targets = {
        "noise37x23": [(80, 50), (13, 9), (37, 60), (5, 23), (1, 1), (200, 7), (36, 24)],
        "noise131x97": [(28, 28), (56, 84), (130, 98), (131, 3), (17, 250)],
        "scene64x48": [(112, 84), (28, 56), (64, 47)],
    }
    for name, im in sources.items():
        im.save(os.path.join(d, f"src_{name}.png"))
        for w, h in targets[name]:
            im.resize((w, h), Image.BICUBIC).save(os.path.join(d, f"src_{name}__{w}x{h}.png"))

def png_chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xFFFFFFFF)

def raw_png(w, h, color_type, depth, rows):
    body = zlib.compress(b"".join(b"\0" + r for r in rows))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0))
            + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b""))

def offset_gif(transparent):
    """A 4x2 logical screen whose only frame is 2x2 at x=2: Pillow paints the rest with palette
    index 0, or with the transparent index (then white after convert_to_rgb)."""
    out = b"GIF89a" + struct.pack("<HHBBB", 4, 2, 0x81, 0, 0)  # global table of 4 colours
    out += bytes([0, 255, 0, 255, 0, 0, 0, 0, 255, 9, 9, 9])   # green, red, blue, gray
    if transparent:
        out += bytes([0x21, 0xF9, 4, 0x01, 0, 0, 2, 0])          # graphic control: index 2 transparent
    out += b"," + struct.pack("<HHHHB", 2, 0, 2, 2, 0)          # image descriptor at (2, 0), 2x2
    # LZW, minimum code size 2: clear(4), 1, 1, 1, 1, end(5); code size grows to 4 bits after
    # the table reaches 8 entries.
    codes = [(4, 3), (1, 3), (1, 3), (1, 3), (1, 4), (5, 4)]
    acc = nbits = 0
    data = bytearray()
    for code, width in codes:
        acc |= code << nbits; nbits += width
        while nbits >= 8:
            data.append(acc & 0xFF); acc >>= 8; nbits -= 8
    if nbits:
        data.append(acc & 0xFF)
    out += bytes([2, len(data)]) + bytes(data) + b"\0" + b";"
    return out

def decode_refs():
    d = os.path.join(HERE, "decode"); os.makedirs(d, exist_ok=True)
    base = scene(48, 32)
    files = {}
    buf = io.BytesIO(); base.save(buf, "JPEG", quality=90); files["scene.jpg"] = buf.getvalue()
    buf = io.BytesIO(); base.save(buf, "JPEG", quality=90, subsampling=0); files["scene444.jpg"] = buf.getvalue()
    buf = io.BytesIO(); base.convert("L").save(buf, "JPEG", quality=90); files["gray.jpg"] = buf.getvalue()
    buf = io.BytesIO(); base.save(buf, "WEBP", quality=80); files["lossy.webp"] = buf.getvalue()
    buf = io.BytesIO(); base.save(buf, "WEBP", lossless=True); files["lossless.webp"] = buf.getvalue()
    rgba = base.convert("RGBA"); a = np.asarray(rgba).copy(); a[..., 3] = np.linspace(0, 255, 48, dtype=np.uint8)[None, :]
    rgba = Image.fromarray(a, "RGBA")
    buf = io.BytesIO(); rgba.save(buf, "WEBP", lossless=True); files["alpha.webp"] = buf.getvalue()
    buf = io.BytesIO(); rgba.save(buf, "PNG"); files["rgba.png"] = buf.getvalue()
    buf = io.BytesIO(); rgba.convert("LA").save(buf, "PNG"); files["la.png"] = buf.getvalue()
    pal = base.quantize(16); pal.info["transparency"] = 3
    buf = io.BytesIO(); pal.save(buf, "PNG", transparency=3); files["palette_trns.png"] = buf.getvalue()
    g16 = (np.arange(48 * 32, dtype=np.uint32).reshape(32, 48) * 43 % 65536).astype(">u2")
    files["gray16.png"] = raw_png(48, 32, 0, 16, [r.tobytes() for r in g16])
    rgb16 = (rng.integers(0, 65536, (32, 48, 3))).astype(">u2")
    files["rgb16.png"] = raw_png(48, 32, 2, 16, [r.tobytes() for r in rgb16])
    g4 = rng.integers(0, 16, (32, 48))
    files["gray4.png"] = raw_png(48, 32, 0, 4, [bytes((r[i] << 4) | r[i + 1] for i in range(0, 48, 2)) for r in g4])
    frames = [base, base.transpose(Image.ROTATE_180)]
    buf = io.BytesIO(); frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    files["two_frames.gif"] = buf.getvalue()
    buf = io.BytesIO(); base.save(buf, "BMP"); files["scene.bmp"] = buf.getvalue()
    # linear_rgb.icc is Java's built-in CS_LINEAR_RGB profile (ICC_Profile.getInstance(...).getData()).
    icc = open(os.path.join(HERE, "linear_rgb.icc"), "rb").read()
    buf = io.BytesIO(); base.save(buf, "JPEG", quality=90, icc_profile=icc); files["icc_linear.jpg"] = buf.getvalue()
    buf = io.BytesIO(); base.save(buf, "WEBP", lossless=True, icc_profile=icc); files["icc_linear.webp"] = buf.getvalue()
    buf = io.BytesIO(); base.save(buf, "PNG", icc_profile=icc); files["icc_linear.png"] = buf.getvalue()
    files["offset_frame.gif"] = offset_gif(transparent=False)
    files["offset_frame_trns.gif"] = offset_gif(transparent=True)
    for o in range(1, 9):
        exif = Image.Exif(); exif[0x0112] = o
        buf = io.BytesIO(); base.save(buf, "JPEG", quality=95, exif=exif.tobytes()); files[f"orient{o}.jpg"] = buf.getvalue()
    exif = Image.Exif(); exif[0x0112] = 6
    buf = io.BytesIO(); base.save(buf, "PNG", exif=exif.tobytes()); files["orient6.png"] = buf.getvalue()
    buf = io.BytesIO(); base.save(buf, "WEBP", lossless=True, exif=exif.tobytes()); files["orient6.webp"] = buf.getvalue()
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        im = Image.open(io.BytesIO(data))
        im = convert_to_rgb(ImageOps.exif_transpose(im))
        im.save(os.path.join(d, name + ".expected.png"))

resize_refs()
decode_refs()
