"""Guidance maps: depth, normals, masks, occlusion, blanking, HD map, boxes, BEV, incremental updates."""
from __future__ import annotations

import threading
from dataclasses import replace

import cv2
import numpy as np
import pytest

from engine.classes import class_index
from engine.render.boxes import EDGE_VALUE, FACE_VALUE, FRONT_VALUE
from engine.render.gl_tiles import Lighting
from engine.render.guidance import Background
from engine.rig import ego_pose, project_agent_box
from engine.rig.projection import clipped_hull_points
from render_helpers import make_agent, make_scenario, ray_plane_depth


def _hull_mask(agent, t, cam, world_from_ego) -> np.ndarray:
    """(H, W) bool: the projected 3-D box footprint (convex hull of its clipped corners)."""
    pb = project_agent_box(agent, t, cam, cam.camera_from_world(world_from_ego))
    pts = clipped_hull_points(pb.corners_camera)
    uv = cam.project(pts).T
    mask = np.zeros((cam.height, cam.width), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.rint(uv * 16).astype(np.int32)), 1, cv2.LINE_8, 4)
    return mask.astype(bool)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_depth_on_the_ground_and_on_a_wall_equals_the_true_distance(renderer, rig, cube_asset):
    wall = make_agent("wall", "truck", 20.0, 0.0, size=(6.0, 1.0, 4.0), asset=cube_asset)   # front face at x = 19.5
    s = make_scenario([wall], road=False)
    renderer.set_scenario(s)
    renderer.set_inserted([])          # nothing blanked: we want the depth of the wall itself
    try:
        frame = renderer.render(0.0)
    finally:
        renderer.set_inserted(None)
    cam = rig["CAM_FRONT"]
    wfe = ego_pose(s, 0.0)
    d = frame["CAM_FRONT"].depth
    inst = frame["CAM_FRONT"].instance
    iid = frame.instance_ids["wall"]
    # the wall: interior pixels (eroded mask) against the ray / plane x = 19.5 intersection
    wall_px = cv2.erode((inst == iid).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert wall_px.sum() > 500
    v, u = np.nonzero(wall_px)
    truth = ray_plane_depth(cam, wfe, u.astype(float), v.astype(float), (1.0, 0.0, 0.0), 19.5)
    np.testing.assert_allclose(d[v, u], truth, rtol=2e-3)
    assert 17.0 < np.median(d[v, u]) < 18.5
    # the ground (z = 0) below the horizon
    ground = (inst == 0) & (d > 0)
    ground[: cam.height // 2 + 10] = False
    v, u = np.nonzero(ground)
    truth = ray_plane_depth(cam, wfe, u.astype(float), v.astype(float), (0.0, 0.0, 1.0), 0.0)
    np.testing.assert_allclose(d[v, u], truth, rtol=2e-3)
    # no geometry above the horizon on an empty map: depth 0 (sky)
    assert (d[:20] == 0).all()


def test_ground_normal_points_up_in_the_camera_frame(renderer, rig):
    s = make_scenario([], road=True)
    renderer.set_scenario(s)
    frame = renderer.render(0.0)
    wfe = ego_pose(s, 0.0)
    for name in ("CAM_FRONT", "CAM_BACK", "CAM_FRONT_LEFT"):
        cam = rig[name]
        up_cam = cam.camera_from_world(wfe)[:3, :3] @ np.array([0.0, 0.0, 1.0])
        assert up_cam[1] < -0.95            # "up" is image-up (-y) in the OpenCV camera frame
        n = frame[name].normal
        bottom = n[-40:].reshape(-1, 3)     # road / sidewalk right below the camera
        bottom = bottom[np.linalg.norm(bottom, axis=1) > 0]
        assert len(bottom) > 1000
        np.testing.assert_allclose(np.linalg.norm(bottom, axis=1), 1.0, atol=1e-3)
        assert np.median(bottom @ up_cam) > 0.999
        assert np.percentile(bottom @ up_cam, 5) > 0.99


def test_mask_covers_the_projected_box_footprint(renderer, rig, cube_asset):
    """A cube asset fills its box, so its mask and the projected box hull differ only on boundary
    pixels: IoU > 0.9 for silhouettes of a few thousand pixels (the boundary ring is ~5% of them).
    The builtin car is a car inside its box: the cabin is inset, the bumpers are rounded and the space
    under the body between the wheels is empty, which leaves 25-35% of the hull uncovered when seen
    from a roof camera (measured 0.67-0.72 over several poses), so it must reach IoU > 0.6 and, since
    the mesh lies inside its box, its mask must lie inside the hull."""
    cube = make_agent("cube", "car", 12.0, 3.0, 0.4, size=(2.0, 4.5, 1.7), asset=cube_asset)
    car = make_agent("car", "car", 14.0, -4.0, -0.3)
    s = make_scenario([cube, car], road=True)
    renderer.set_scenario(s)
    frame = renderer.render(0.0)
    wfe = ego_pose(s, 0.0)
    cam = rig["CAM_FRONT"]
    m = frame["CAM_FRONT"]
    cube_mask, cube_hull = m.instance == frame.instance_ids["cube"], _hull_mask(cube, 0.0, cam, wfe)
    car_mask, car_hull = m.instance == frame.instance_ids["car"], _hull_mask(car, 0.0, cam, wfe)
    assert cube_mask.sum() > 2000 and car_mask.sum() > 2000
    assert _iou(cube_mask, cube_hull) > 0.9
    assert _iou(car_mask, car_hull) > 0.6
    assert (car_mask & ~car_hull).sum() < 0.02 * car_mask.sum()
    # a box one metre to the side no longer matches
    aside = replace(car, trajectory=car.trajectory.translated(0.0, 1.0))
    assert _iou(car_mask, _hull_mask(aside, 0.0, cam, wfe)) < _iou(car_mask, car_hull) - 0.15


def test_an_agent_behind_another_is_hidden_in_the_mask(renderer, rig):
    bus = make_agent("bus", "bus", 15.0, 0.0)
    cone = make_agent("cone", "traffic_cone", 30.0, 0.0)
    renderer.set_scenario(make_scenario([bus, cone]))
    frame = renderer.render(0.0)
    front = frame["CAM_FRONT"]
    assert (front.instance == frame.instance_ids["bus"]).sum() > 1000
    assert not (front.instance == frame.instance_ids["cone"]).any()
    assert "cone" not in frame.visible_pixels()
    # the same cone moved out from behind the bus is seen
    renderer.update_agent(replace(cone, trajectory=cone.trajectory.translated(0.0, 6.0)))
    frame = renderer.render(0.0)
    assert (frame["CAM_FRONT"].instance == frame.instance_ids["cone"]).sum() > 20
    assert frame.visible_pixels()["cone"]["CAM_FRONT"] > 20


def test_depth_normal_edge_are_blank_inside_inserted_masks(renderer, demo_scenario):
    renderer.set_scenario(demo_scenario)
    frame = renderer.render(1.0)
    total = 0
    for _name, m in frame.cameras():
        ins = m.inserted
        total += ins.sum()
        assert (m.depth[ins] == 0).all()
        assert (m.normal_encoded[ins] == 0).all() and (m.normal[ins] == 0).all()
        assert (m.edge[ins] == 0).all()
        assert (m.object[~ins] == 0).all()
        np.testing.assert_array_equal(ins, m.instance > 0)      # every demo agent is inserted
        if ins.any():
            assert m.object[ins].any()
    assert total > 2000
    # with no agent inserted the same pixels carry the agents' own depth and normals
    renderer.set_inserted([])
    try:
        plain = renderer.render(1.0)
    finally:
        renderer.set_inserted(None)
    m = plain["CAM_FRONT"]
    agents = m.instance > 0
    assert agents.sum() > 500 and (m.depth[agents] > 0).all() and not m.inserted.any()


def test_locked_agents_are_not_inserted(renderer, demo_scenario):
    locked = replace(demo_scenario.agent("car_1"), locked=True)
    renderer.set_scenario(demo_scenario.with_agent(locked))
    frame = renderer.render(1.0)
    m = frame["CAM_FRONT"]
    car = m.instance == frame.instance_ids["car_1"]
    assert car.sum() > 200
    assert not m.inserted[car].any() and (m.depth[car] > 0).all() and not m.object[car].any()


def test_partial_update_equals_a_full_render(renderer, rig, demo_scenario):
    from engine.render.guidance import GuidanceRenderer

    renderer.set_scenario(demo_scenario)
    before = renderer.render(1.0)
    car = demo_scenario.agent("car_1")
    moved = replace(car, trajectory=car.trajectory.translated(1.5, 0.8))
    renderer.update_agent(moved)
    renderer.remove_agent("traffic_cone_2")
    after = renderer.render(1.0)
    assert before["CAM_FRONT"].rgb is not after["CAM_FRONT"].rgb
    assert after["CAM_BACK"].rgb is before["CAM_BACK"].rgb     # untouched cameras are shared, not redrawn
    with GuidanceRenderer(rig) as fresh:
        fresh.set_scenario(demo_scenario.with_agent(moved).without_agent("traffic_cone_2"))
        full = fresh.render(1.0)
    # instance ids are stable per renderer: compare through the agent ids
    remap = np.zeros(max(after.instance_ids.values()) + 1, np.int32)
    for aid, iid in after.instance_ids.items():
        remap[iid] = full.instance_ids[aid]
    for name, m in after.cameras():
        f = full[name]
        np.testing.assert_array_equal(remap[m.instance], f.instance)
        np.testing.assert_array_equal(m.depth, f.depth)
        np.testing.assert_array_equal(m.rgb, f.rgb)
        np.testing.assert_array_equal(m.boxes, f.boxes)
        assert (m.edge != f.edge).mean() < 1e-3
    assert not (after["CAM_FRONT"].rgb == before["CAM_FRONT"].rgb).all()


def test_renderer_refuses_other_threads(renderer, demo_scenario):
    renderer.set_scenario(demo_scenario)
    errors = []

    def work():
        try:
            renderer.render(0.0)
        except RuntimeError as e:
            errors.append(str(e))

    th = threading.Thread(target=work)
    th.start()
    th.join()
    assert errors and "thread" in errors[0]


def test_real_background_occludes_and_is_composited(renderer, rig, cube_asset):
    w, h = rig.size
    yy, xx = np.mgrid[0:h, 0:w]
    image = (((xx // 16 + yy // 16) % 2) * 180 + 40).astype(np.uint8)[..., None].repeat(3, -1)
    depth = np.full((h, w), 10.0, np.float32)                           # a wall 10 m in front of CAM_FRONT
    near = make_agent("near", "car", 6.0, 0.0, asset=cube_asset, size=(1.5, 1.0, 1.5))
    far = make_agent("far", "car", 20.0, 3.0, asset=cube_asset, size=(2.0, 2.0, 2.0))
    renderer.set_scenario(make_scenario([near, far]))
    renderer.set_backgrounds({"CAM_FRONT": Background(image, depth)})
    renderer.set_lighting(replace(Lighting(), shadow_strength=0.0))   # contact shadows would darken the image
    try:
        frame = renderer.render(0.0)
    finally:
        renderer.set_backgrounds(None)
        renderer.set_lighting(Lighting())
    m = frame["CAM_FRONT"]
    assert (m.instance == frame.instance_ids["near"]).sum() > 300
    assert not (m.instance == frame.instance_ids["far"]).any()      # behind the real surface
    bg = m.instance == 0
    np.testing.assert_array_equal(m.rgb[bg], image[bg])
    np.testing.assert_allclose(m.depth[bg], 10.0, rtol=1e-6)
    canny = cv2.Canny(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 50, 140)
    outside = ~cv2.dilate(m.inserted.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    np.testing.assert_array_equal(m.edge[outside], canny[outside])
    # other cameras keep the synthetic scene
    assert frame["CAM_BACK"].depth.max() > 10


def test_bad_backgrounds_name_the_camera(renderer, rig):
    w, h = rig.size
    with pytest.raises(ValueError, match="CAM_BACK: image must be"):
        renderer.set_backgrounds({"CAM_BACK": Background(np.zeros((h, w), np.uint8), np.zeros((h, w), np.float32))})
    with pytest.raises(ValueError, match="CAM_FRONT: depth must be finite"):
        renderer.set_backgrounds({"CAM_FRONT": Background(np.zeros((h, w, 3), np.uint8), np.full((h, w), np.nan, np.float32))})
    with pytest.raises(KeyError, match="CAM_TOP"):
        renderer.set_backgrounds({"CAM_TOP": Background(np.zeros((h, w, 3), np.uint8), np.zeros((h, w), np.float32))})
    renderer.set_backgrounds(None)


def test_hdmap_channels_follow_the_map(renderer, rig, demo_scenario):
    renderer.set_scenario(demo_scenario)
    t = 2.0
    frame = renderer.render(t)
    hd = frame["CAM_FRONT"].hdmap
    cam = rig["CAM_FRONT"]
    cfw = cam.camera_from_world(ego_pose(demo_scenario, t))

    def px(x, y):
        p = cfw[:3, :3] @ np.array([x, y, 0.0]) + cfw[:3, 3]
        u, v = cam.project(p[:, None])[:, 0]
        return int(round(v)), int(round(u))

    # the west crosswalk's centre is blue, the centre double line green, the south kerb red
    v, u = px(45.0 - 7.0 - 2.5, 0.0)
    assert hd[v, u, 2] == 255 and hd[v, u, 0] == 0
    v, u = px(25.0, 0.0)
    assert hd[v - 2:v + 3, u - 2:u + 3, 1].max() == 255
    v, u = px(30.0, -7.0)
    assert hd[v - 2:v + 3, u - 2:u + 3, 0].max() == 255
    assert hd[:60].max() == 0                                       # nothing in the sky


def test_boxes_one_channel_per_class_far_to_near(renderer, rig):
    car = make_agent("car", "car", 14.0, 0.0, 0.0)          # drives away from the ego: back face seen
    bus = make_agent("bus", "bus", 30.0, 0.3, np.pi)        # coming towards the ego, behind the car
    s = make_scenario([car, bus])
    renderer.set_scenario(s)
    frame = renderer.render(0.0)
    boxes = frame["CAM_FRONT"].boxes
    cam = rig["CAM_FRONT"]
    cfw = cam.camera_from_world(ego_pose(s, 0.0))
    ci, bi = class_index("car"), class_index("bus")
    others = [k for k in range(10) if k not in (ci, bi)]
    assert boxes[..., others].max() == 0
    c = project_agent_box(car, 0.0, cam, cfw).corners_px.mean(axis=1)
    v, u = int(c[1]), int(c[0])
    assert boxes[v, u, ci] == FACE_VALUE and boxes[v, u, bi] == 0     # the nearer car hides the bus
    b = project_agent_box(bus, 0.0, cam, cfw)
    top = b.corners_px[:, [0, 1]].mean(axis=1)                          # top of the bus front, above the car
    assert boxes[int(top[1]) + 2, int(top[0]), bi] == FRONT_VALUE
    assert (boxes[..., ci] == EDGE_VALUE).sum() > 100


def test_bev_is_ego_centred_with_heading_up(renderer):
    car = make_agent("car", "car", 10.0, 0.0)
    ped = make_agent("ped", "pedestrian", 0.0, 5.0)
    renderer.set_scenario(make_scenario([car, ped]))
    frame = renderer.render(0.0)
    bev, ch = frame.bev, frame.bev_channels
    rows, cols = bev.shape[:2]
    res = renderer.settings.bev.resolution
    car_c = bev[..., ch.index("car")]
    ped_c = bev[..., ch.index("pedestrian")]
    ego_x, ego_y = 0.0, 0.0   # the ego sits at the origin
    assert car_c[int(rows / 2 - (10.0 - ego_x) / res), cols // 2] == 255   # 10 m ahead: up
    assert ped_c[rows // 2, int(cols / 2 - (5.0 - ego_y) / res)] == 255     # 5 m left: left
    assert bev[..., ch.index("drivable")][rows // 2, cols // 2] == 255
    assert car_c.sum() > 0 and bev[..., ch.index("truck")].max() == 0


def test_agents_outside_their_time_are_not_drawn(renderer):
    from engine.scenario import Agent, Trajectory

    late = Agent("late", "car", (2.0, 4.5, 1.6), Trajectory.from_arrays([1.0, 2.0], [15.0, 20.0], [0, 0], [0, 0]))
    renderer.set_scenario(make_scenario([late]))
    assert not (renderer.render(0.5)["CAM_FRONT"].instance > 0).any()
    assert (renderer.render(1.5)["CAM_FRONT"].instance > 0).sum() > 100


def test_missing_asset_falls_back_with_a_warning(renderer, tmp_path):
    car = make_agent("car", "car", 12.0, 0.0, asset=str(tmp_path / "gone.glb"))
    renderer.set_scenario(make_scenario([car]))
    frame = renderer.render(0.0)
    assert any("gone.glb" in w and "builtin:car" in w for w in frame.warnings)
    assert (frame["CAM_FRONT"].instance > 0).sum() > 200
