"""The one way the bench's Python clients run many transfers: `jobs` at a time."""

from concurrent.futures import ThreadPoolExecutor


def run_all(jobs, fn, items):
    """fn(item) for every item, `jobs` at once; the first exception propagates."""
    if jobs <= 1:
        for item in items:
            fn(item)
        return
    with ThreadPoolExecutor(jobs) as pool:
        for _ in pool.map(fn, items):
            pass
