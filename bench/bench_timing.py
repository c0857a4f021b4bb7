"""Timing shared by the Python bench peers: the same measure as bench/bench_timing.h."""
import statistics
import time


def median_ms(repeat, fn):
    """Runs fn once to warm up, then `repeat` times; the upper median wall time in milliseconds."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median_high(times)
