#!/usr/bin/env python3
"""Writes decompression-bomb inputs for peak-memory checks (issue 18 item 7; docs/security.md).

    tools/bomb_inputs.py OUT_DIR JPEG

OUT_DIR gets: bomb20k.png / bomb30k.png (8-bit gray PNGs of 20000x20000 / 30000x30000 pixels, ~0.4 / 0.9
MB), mid8k.png (8000x8000, within the default --max-pixels), and TFRecords of one tf.Example each whose
image/encoded (img_bomb), image/segmentation/class/encoded (cls_bomb), image/object/mask (mask_bomb) or
image/segmentation/class/predicted (pred_bomb) is the 20k PNG; img_mid holds the 8k image; ok holds none.
JPEG is a small 128x128 JPEG used as the image where the bomb is elsewhere. Standard library only.
"""
import struct
import sys
import zlib
from pathlib import Path


def png(width, height, value=0):
    """A gray PNG streamed row by row, so a 30000x30000 one never exists uncompressed here."""
    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data))
    packer = zlib.compressobj(9)
    row = b'\0' + bytes([value]) * width
    data = b''.join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', data) + chunk(b'IEND', b'')


def varint(n):
    out = bytearray()
    while True:
        low, n = n & 0x7f, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, payload):  # Length-delimited protobuf field.
    return varint((number << 3) | 2) + varint(len(payload)) + payload


def bytes_feature(values):
    return field(1, b''.join(field(1, v) for v in values))


def float_feature(values):
    return field(2, field(1, struct.pack('<%df' % len(values), *values)))


def int_feature(values):
    return field(3, field(1, b''.join(varint(v) for v in values)))


def example(features):
    return field(1, b''.join(field(1, field(1, k.encode()) + field(2, v)) for k, v in features.items()))


CRC32C = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    CRC32C.append(c)


def masked_crc(data):
    c = 0xffffffff
    for b in data:
        c = CRC32C[(c ^ b) & 0xff] ^ (c >> 8)
    c ^= 0xffffffff
    return ((((c >> 15) | (c << 17)) & 0xffffffff) + 0xa282ead8) & 0xffffffff


def tfrecord(records):
    out = b''
    for r in records:
        length = struct.pack('<Q', len(r))
        out += length + struct.pack('<I', masked_crc(length)) + r + struct.pack('<I', masked_crc(r))
    return out


def od_record(image, fmt, width, height, mask, class_mask, extra=None):
    features = {
        'image/encoded': bytes_feature([image]), 'image/format': bytes_feature([fmt]),
        'image/filename': bytes_feature([b'a.' + fmt]), 'image/source_id': bytes_feature([b'1']),
        'image/height': int_feature([height]), 'image/width': int_feature([width]),
        'image/object/bbox/xmin': float_feature([0.1]), 'image/object/bbox/xmax': float_feature([0.5]),
        'image/object/bbox/ymin': float_feature([0.1]), 'image/object/bbox/ymax': float_feature([0.5]),
        'image/object/class/label': int_feature([1]), 'image/object/class/text': bytes_feature([b'bottle']),
        'image/object/mask': bytes_feature([mask]),
        'image/segmentation/class/encoded': bytes_feature([class_mask]),
        'image/segmentation/class/format': bytes_feature([b'png']),
    }
    features.update(extra or {})
    return tfrecord([example(features)])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out, jpeg = Path(sys.argv[1]), Path(sys.argv[2]).read_bytes()
    out.mkdir(parents=True, exist_ok=True)
    big, mid, small = png(20000, 20000), png(8000, 8000, 7), png(128, 128, 1)
    (out / 'bomb20k.png').write_bytes(big)
    (out / 'bomb30k.png').write_bytes(png(30000, 30000))
    (out / 'mid8k.png').write_bytes(mid)
    (out / 'ok.record').write_bytes(od_record(jpeg, b'jpeg', 128, 128, small, small))
    (out / 'img_bomb.record').write_bytes(od_record(big, b'png', 20000, 20000, small, small))
    (out / 'cls_bomb.record').write_bytes(od_record(jpeg, b'jpeg', 128, 128, small, big))
    (out / 'mask_bomb.record').write_bytes(od_record(jpeg, b'jpeg', 128, 128, big, small))
    predicted = {'image/segmentation/class/predicted': bytes_feature([big])}
    (out / 'pred_bomb.record').write_bytes(od_record(jpeg, b'jpeg', 128, 128, small, small, predicted))
    (out / 'img_mid.record').write_bytes(od_record(mid, b'png', 8000, 8000, small, png(8000, 8000, 1)))


if __name__ == '__main__':
    main()
