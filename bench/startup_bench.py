#!/usr/bin/env python3
"""Start-up of the segtune front end: wall time and peak resident memory of whole processes.

   bench/startup_bench.py BUILD_DIR [RUNS]

For each command: RUNS runs (default 10) after one warm-up, the median wall time (spawn to exit) and
the median peak RSS. RSS comes from GNU time's %M in separate runs: a child spawned straight from
Python starts its high-water mark with Python's own ~15 MB (vfork before exec), one spawned by
`time` with time's ~2 MB. The named peer is a C++ program that only links
libtorch_cpu (what every segtune command cost before the front end lost LibTorch, issue 19) and,
for scale, `true` (the floor of spawning any process here). Ratios are peer / segtune.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time


def wall_ms(argv):
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                                       (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, status = os.waitpid(pid, 0)
    wall = (time.perf_counter() - start) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("failed (exit %d): %s" % (os.waitstatus_to_exitcode(status), " ".join(argv)))
    return wall


def peak_rss_mb(argv):
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, check=True)
    return int(r.stderr.strip().splitlines()[-1]) / 1024


def measure(argv, runs):
    wall_ms(argv)
    walls = [wall_ms(argv) for _ in range(runs)]
    rss = [peak_rss_mb(argv) for _ in range(runs)]
    return statistics.median(walls), statistics.median(rss)


def torch_only_peer(work):
    """A program whose main() does nothing, linked against libtorch_cpu (no --as-needed)."""
    src, exe = os.path.join(work, "peer.cpp"), os.path.join(work, "torch_only")
    with open(src, "w") as f:
        f.write("int main() { return 0; }\n")
    torch_lib = subprocess.run(["python3", "-c", "import sys; print('/usr/lib/' + sys.implementation._multiarch)"],
                               capture_output=True, text=True).stdout.strip()
    subprocess.run(["g++", src, "-o", exe, "-Wl,--no-as-needed", "-L" + torch_lib, "-ltorch_cpu", "-lc10"], check=True)
    return exe


def main():
    build = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    segtune = os.path.join(build, "segtune")
    work = tempfile.mkdtemp(prefix="segtune-startup-")
    coco, dt = os.path.join(work, "coco.json"), os.path.join(work, "dt.json")
    with open(coco, "w") as f:
        f.write('{"images":[{"id":1,"file_name":"a.png","width":10,"height":10}],"annotations":[{"id":1,'
                '"image_id":1,"category_id":1,"bbox":[1,1,4,4],"area":16,"iscrowd":0}],'
                '"categories":[{"id":1,"name":"bottle"}]}')
    with open(dt, "w") as f:
        f.write('[{"image_id":1,"category_id":1,"bbox":[1,1,4,4],"score":0.9}]')
    # A one-record TFRecord written by segtune itself (coco2tfrecord runs in the front end too).
    img = os.path.join(work, "a.png")
    subprocess.run(["python3", "-c", "import sys,zlib,struct\n"
                    "def chunk(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d))\n"
                    "raw=b''.join(b'\\x00'+b'\\x80'*30 for _ in range(10))\n"
                    "open(sys.argv[1],'wb').write(b'\\x89PNG\\r\\n\\x1a\\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',10,10,8,2,0,0,0))"
                    "+chunk(b'IDAT',zlib.compress(raw))+chunk(b'IEND',b''))", img], check=True)
    records = os.path.join(work, "a.record")
    subprocess.run([segtune, "-q", "coco2tfrecord", "--annotations", coco, "--images-dir", work, "-o", records],
                   check=True, stdout=subprocess.DEVNULL)
    label_map = os.path.join(work, "label_map.pbtxt")
    metrics = os.path.join(work, "metrics.json")
    commands = [
        ("--version", [segtune, "--version"]),
        ("--help", [segtune, "--help"]),
        ("train --help", [segtune, "train", "--help"]),
        ("labelmap", [segtune, "labelmap", coco, "-o", label_map, "--overwrite"]),
        ("records info", [segtune, "records", "info", records]),
        ("coco-eval (1 image)", [segtune, "coco-eval", "--groundtruth", coco, "--predictions", dt, "-o", metrics, "--overwrite"]),
        ("models (loads the plugin)", [segtune, "models"]),
    ]
    print("machine: %d cores, load %s; %d runs each, medians" % (os.cpu_count(), os.getloadavg()[0], runs))
    floor = measure(["/usr/bin/true"], runs)
    peer = measure([torch_only_peer(work)], runs)
    print("%-28s %9s %9s" % ("command", "wall ms", "RSS MB"))
    print("%-28s %9.1f %9.1f" % ("peer: /usr/bin/true", *floor))
    print("%-28s %9.1f %9.1f" % ("peer: main() + libtorch_cpu", *peer))
    for name, argv in commands:
        wall, rss = measure(argv, runs)
        print("%-28s %9.1f %9.1f   peer/segtune: %.1fx time, %.1fx memory" % (name, wall, rss, peer[0] / wall,
                                                                               peer[1] / rss))


if __name__ == "__main__":
    main()
