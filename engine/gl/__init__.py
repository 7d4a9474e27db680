"""OpenGL helpers shared by the renderers (engine.render) and the asset thumbnails (engine.assets); no Qt.

Lives below both so that neither imports the other for it (no engine.assets <-> engine.render cycle).
"""
