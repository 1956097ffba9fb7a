"""Helpers for the browser tests: the isolation check, Chromium's flags, a fake
microphone recording, and a small PNG reader to tell a real screenshot from a blank one."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import struct
import sys
import wave
import zlib
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
PAGES = Path(__file__).resolve().parent / "pages"
HOW_TO_RUN = "run `make test`, which runs tests/browser inside `unshare -rn` (a network namespace with only lo)"

SAMPLE_RATE = 48_000


def isolation_problem() -> str | None:
    """Why the browser tests must not run here, or None.

    Chromium gathers ICE candidates on every interface it sees; only in a network
    namespace holding nothing but ``lo`` is all its traffic guaranteed to stay on
    loopback. ``if_nameindex`` lists the interfaces of this process's namespace
    (``/sys/class/net`` shows the namespace that mounted sysfs, not ours).
    """
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: `make browser-deps` installs it; {HOW_TO_RUN}"
    names = sorted(name for _index, name in socket.if_nameindex())
    if names != ["lo"]:
        return f"network interfaces {names} besides lo are visible: {HOW_TO_RUN}"
    return None


def chromium_args(fake_audio: Path) -> list[str]:
    """Headless Chromium with a fake microphone playing ``fake_audio`` and loopback ICE."""
    return [
        "--headless=new",
        "--no-sandbox",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={fake_audio}",
        "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--autoplay-policy=no-user-gesture-required",
        "--disable-background-networking",
        "--no-first-run",
    ]


def write_speech_wav(path: Path, *, lead_s: float = 1.0, voiced_s: float = 1.5, tail_s: float = 2.0) -> Path:
    """48 kHz mono 16-bit: silence, a voiced-like sound (harmonics of ~150 Hz at about
    0.3 of full scale, with a syllable-rate envelope), silence. Chromium loops it."""
    samples: list[int] = [0] * int(lead_s * SAMPLE_RATE)
    voiced = int(voiced_s * SAMPLE_RATE)
    harmonics = [(1, 1.0), (2, 0.6), (3, 0.45), (4, 0.3), (5, 0.2), (7, 0.1)]
    norm = sum(weight for _h, weight in harmonics)
    phase = 0.0
    for n in range(voiced):
        t = n / SAMPLE_RATE
        pitch = 150.0 + 12.0 * math.sin(2 * math.pi * 3.0 * t)  # a little intonation
        phase += 2 * math.pi * pitch / SAMPLE_RATE
        # Syllables at 4 Hz that never fall silent, faded in and out at the edges.
        envelope = 0.65 + 0.35 * math.sin(2 * math.pi * 4.0 * t) ** 2
        edge = min(1.0, n / 2400, (voiced - n) / 2400)
        value = sum(weight * math.sin(h * phase) for h, weight in harmonics) / norm
        samples.append(round(32767 * 0.3 * envelope * edge * value / 0.6))
    samples.extend([0] * int(tail_s * SAMPLE_RATE))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return path


# ------------------------------------------------------------------ PNG


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, prior: bytes, bpp: int) -> bytearray:
    if kind == 0:
        return line
    if kind == 2:
        return bytearray((x + p) & 0xFF for x, p in zip(line, prior, strict=True))
    out = bytearray(len(line))
    for i, x in enumerate(line):
        left = out[i - bpp] if i >= bpp else 0
        if kind == 1:
            out[i] = (x + left) & 0xFF
        elif kind == 3:
            out[i] = (x + ((left + prior[i]) >> 1)) & 0xFF
        elif kind == 4:
            out[i] = (x + _paeth(left, prior[i], prior[i - bpp] if i >= bpp else 0)) & 0xFF
        else:
            raise ValueError(f"unknown PNG filter {kind}")
    return out


async def screenshot_colours(shot: Path, row_step: int = 8) -> tuple[int, int, int]:
    """``png_colours`` of a PNG file, in a process of its own. In this process it would hold the
    test's loop, which is the gateway's, for seconds (in a thread too: the loop then waits for
    the GIL at every socket call), and the gateway would take a joined page for gone: its
    consent checks went unanswered for over 3 s."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, str(shot), str(row_step), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await child.communicate()
    assert child.returncode == 0, f"could not read {shot}"
    width, height, colours = json.loads(out)
    return int(width), int(height), int(colours)


def png_colours(data: bytes, row_step: int = 4) -> tuple[int, int, int]:
    """(width, height, distinct RGB colours on every ``row_step``-th row) of an 8-bit RGB(A) PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, bytearray()
    width = height = colour_type = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour_type not in (2, 6) or interlace:
                raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour_type}, interlace {interlace})")
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    bpp = 3 if colour_type == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(bytes(idat))
    prior = bytes(stride)
    colours: set[bytes] = set()
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), prior, bpp)
        if y % row_step == 0:
            colours.update(bytes(line[x : x + 3]) for x in range(0, stride, bpp))
        prior = bytes(line)
    return width, height, len(colours)


if __name__ == "__main__":
    print(json.dumps(png_colours(Path(sys.argv[1]).read_bytes(), int(sys.argv[2]))))
