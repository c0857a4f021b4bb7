"""Timing shared by the Python bench peers: the same measure as bench/bench_timing.h."""
import statistics
import time


def median_of(repeat, fn, now_ms):
    """Runs fn once to warm up, then `repeat` times; the upper median of now_ms() differences."""
    fn()
    times = []
    for _ in range(repeat):
        start = now_ms()
        fn()
        times.append(now_ms() - start)
    return statistics.median_high(times)


def median_ms(repeat, fn):
    """The upper median wall time in milliseconds."""
    return median_of(repeat, fn, lambda: time.perf_counter() * 1000)


def median_cpu_ms(repeat, fn):
    """The upper median CPU time of the process (all threads) in milliseconds: see bench_timing.h."""
    return median_of(repeat, fn, lambda: time.process_time() * 1000)
