"""Qt application layer: windows, docks, canvases, workers. Only this package imports Qt."""
from app._refcount_guard import guard as _guard_refcounts

_guard_refcounts()
