#!/usr/bin/python3
"""Seed 004's image resize server, as its README describes it, for
bench/resize to measure pixd against.

One client at a time on 127.0.0.1:PORT (0: any free port, printed as
"listening on PORT"). Per connection: a 12-byte header (image size,
width, height: unsigned 32-bit, big-endian as every legacy protocol of
the brief), the image; the server decodes it whole with Pillow, resizes
it to exactly width x height (Pillow's default filter, bicubic), encodes
JPEG at quality 85, and answers with a 4-byte size and the JPEG. Reads
in BUFFER_SIZE pieces as the seed does, but gathers them in a list rather
than by repeated bytes concatenation, so the network side costs this
server nothing worth counting."""
import io
import socket
import struct
import sys

from PIL import Image

HOST = "127.0.0.1"
BUFFER_SIZE = 4096


def recv_exact(conn, n):
    parts, got = [], 0
    while got < n:
        chunk = conn.recv(min(BUFFER_SIZE, n - got))
        if not chunk:
            raise ConnectionError("client went away")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def resize_image(image_data, width, height, quality=85):
    img = Image.open(io.BytesIO(image_data))
    if img.mode != "RGB":
        img = img.convert("RGB")
    img = img.resize((width, height))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 65432
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((HOST, port))
    srv.listen(5)
    print(f"listening on {srv.getsockname()[1]}", flush=True)
    while True:
        conn, _ = srv.accept()
        with conn:
            try:
                size, width, height = struct.unpack("!III", recv_exact(conn, 12))
                out = resize_image(recv_exact(conn, size), width, height)
                conn.sendall(struct.pack("!I", len(out)) + out)
            except (ConnectionError, OSError) as e:
                print(f"client failed: {e}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
