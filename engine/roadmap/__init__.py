"""Road maps: procedural layouts (straight roads, intersections) that agree with trajectories."""
