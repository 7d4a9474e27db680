"""The naive world model: the renderer's shaded pass (or a composite into real frames) in the scenario's
environment. `NaiveBackend` is the embedded default; `EnvironmentPass` and `look_for` do the looks."""
