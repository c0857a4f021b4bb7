#!/usr/bin/env python3
"""Rewrites a torch.save zip with every entry deflated (torch.save itself stores them), optionally
padding one storage entry with zeros: a small file whose directory declares a large inflated size.

usage: deflate_pth.py IN OUT [ENTRY_SUFFIX PAD_BYTES]   (stdlib only: no torch needed)
"""
import sys
import zipfile

src, dst = sys.argv[1], sys.argv[2]
pad_suffix = sys.argv[3] if len(sys.argv) > 3 else None
pad_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 0
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if pad_suffix and info.filename.endswith(pad_suffix):
            entry = zipfile.ZipInfo(info.filename)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with zout.open(entry, "w", force_zip64=False) as f:
                f.write(data)
                chunk = bytes(1 << 20)
                left = pad_bytes
                while left > 0:
                    f.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
        else:
            zout.writestr(info.filename, data)
