"""Qt application layer: windows, docks, canvases, workers. Only this package imports Qt."""
