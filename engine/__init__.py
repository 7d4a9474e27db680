"""The machinery of the corner-case studio: no Qt in here (see DESIGN.md, Layers)."""
