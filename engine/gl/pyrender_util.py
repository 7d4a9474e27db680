"""Sharing an EGL display between pyrender and moderngl.

pyrender's `OffscreenRenderer.delete()` (and its EGL platform's `__del__`) end with `eglTerminate` on
the EGL display, which every other context of the process shares (moderngl's included): afterwards
those contexts are dead. `release_offscreen` frees pyrender's GL objects and destroys only its own
context, and disarms the platform so that garbage collection does not terminate the display later.
"""
from __future__ import annotations

from typing import Any


def release_offscreen(renderer: Any) -> None:  # a pyrender.OffscreenRenderer (pyrender ships no types)
    """Free a pyrender OffscreenRenderer without terminating the shared EGL display."""
    platform = getattr(renderer, "_platform", None)
    if platform is None:
        return
    platform.make_current()
    renderer._renderer.delete()
    display = getattr(platform, "_egl_display", None)
    context = getattr(platform, "_egl_context", None)
    if display is not None and context is not None:
        from OpenGL.EGL import EGL_NO_CONTEXT, EGL_NO_SURFACE, eglDestroyContext, eglMakeCurrent

        eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT)
        eglDestroyContext(display, context)
        platform._egl_context = None
        platform._egl_display = None   # its __del__ would eglTerminate the shared display
    else:  # another platform (pyglet, OSMesa): its own delete is safe
        platform.delete_context()
    renderer._renderer = None
    renderer._platform = None
