"""Asset palette entries and icons, recent-file bookkeeping, the map pictures of the preview."""
from __future__ import annotations

import numpy as np


def test_palette_uses_bundled_thumbnails_and_draws_a_fallback(qapp, tmp_path):
    from app.asset_palette import builtin_entries, class_icon, entry_pixmap
    from engine.classes import CLASS_COLORS, class_names

    entries = builtin_entries()
    assert [e.cls for e in entries] == class_names()
    assert all(e.asset == f"builtin:{e.cls}" for e in entries)
    bare = builtin_entries(tmp_path)  # a folder without thumbnails
    assert all(e.thumbnail is None for e in bare)
    img = entry_pixmap(bare[0], 64).toImage()
    c = img.pixelColor(10, 32)  # inside the rounded square, left of the initials
    assert (c.red(), c.green(), c.blue()) == CLASS_COLORS[bare[0].cls]
    assert not class_icon("bus").isNull()


def test_palette_mime_round_trips(qapp):
    from app.asset_palette import PaletteWidget
    from app.bev_canvas import ASSET_MIME, decode_asset_mime

    w = PaletteWidget()
    e = w.entries()[1]
    mime = w.mime_for(e)
    assert decode_asset_mime(mime.data(ASSET_MIME)) == (e.cls, e.asset)
    assert decode_asset_mime(b"not json") is None


def test_recent_files_are_deduplicated_and_capped(tmp_path):
    from app.ui_state import push_recent

    files = []
    for i in range(12):
        files = push_recent(files, tmp_path / f"f{i}.json")
    files = push_recent(files, tmp_path / "f5.json")
    assert len(files) == 10 and files[0].endswith("f5.json")
    assert sum(f.endswith("f5.json") for f in files) == 1


def test_map_pictures_fallbacks():
    from app.map_visuals import boxes_to_rgb, depth_to_rgb, instances_to_rgb

    d = np.array([[[0.0, 2.0, 80.0]]], dtype=np.float32)
    rgb = depth_to_rgb(d)
    assert rgb.shape == (1, 1, 3, 3) and rgb[0, 0, 0].tolist() == [0, 0, 0]
    assert not np.array_equal(rgb[0, 0, 1], rgb[0, 0, 2])  # near and far differ
    ids = instances_to_rgb(np.array([[[0, 1, 2]]]))
    assert ids[0, 0, 0].tolist() == [0, 0, 0] and not np.array_equal(ids[0, 0, 1], ids[0, 0, 2])
    boxes = np.zeros((1, 1, 1, 10), np.uint8)
    boxes[..., 1] = 255  # truck
    assert boxes_to_rgb(boxes)[0, 0, 0].tolist() == [255, 127, 14]


def test_frustum_geometry_points_the_front_camera_forward():
    from app.scene3d_geometry import camera_label_position, frustum_segments
    from engine.rig import CameraRig
    from engine.rig.pose import pose_matrix

    rig = CameraRig.default()
    pose = pose_matrix(10.0, 5.0, np.pi / 2)  # ego heading north (+y)
    segs = frustum_segments(rig["CAM_FRONT"], pose, depth=8.0)
    assert segs.shape == (16, 3)
    far_centre = camera_label_position(rig["CAM_FRONT"], pose, depth=8.0)
    assert far_centre[1] > 5.0 + 7.0 and abs(far_centre[0] - 10.0) < 1.0
    back = camera_label_position(rig["CAM_BACK"], pose, depth=8.0)
    assert back[1] < 5.0 - 5.0
