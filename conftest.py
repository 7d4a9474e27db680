"""Repository-root conftest: puts the repo on sys.path and sets headless defaults before any import."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("QT_XCB_GL_INTEGRATION", "xcb_egl")
