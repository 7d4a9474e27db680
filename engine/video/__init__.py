"""Video and image output: H.264 MP4 with PyAV, JPEG frames, and writing a generated clip's folder atomically.

    write_mp4(frames, path, fps)                 # (T, H, W, 3) uint8 -> H.264 MP4, atomic
    read_mp4(path)                               # -> (T, H, W, 3) uint8
    write_clip_outputs(clip, out_dir)            # per-camera MP4s, panorama MP4, JPEGs, manifest
"""
from engine.video.clip_output import ClipFiles, panorama_frames, write_clip_outputs
from engine.video.mp4 import Mp4Writer, read_mp4, write_mp4

__all__ = ["ClipFiles", "Mp4Writer", "panorama_frames", "read_mp4", "write_clip_outputs", "write_mp4"]
