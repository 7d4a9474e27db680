"""Bundled assets and the asset loading path (builtin and external GLB/OBJ folders)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from engine.assets import AssetError, AssetLibrary, builtin_ref, category_to_class, load_asset_file, scan_asset_folder
from engine.assets.builtin import HEADLIGHT, TAILLIGHT, build_class_mesh
from engine.assets.library import ASSETS_DIR, builtin_path
from engine.assets.normalize import GLTF_AXES, file_from_canonical, fit_to_box, rotate
from engine.classes import class_names, default_size


@pytest.fixture(scope="module")
def library():
    return AssetLibrary()


@pytest.mark.parametrize("cls", class_names())
def test_bundled_asset_files_and_sidecar(cls):
    folder = ASSETS_DIR / cls
    side = json.loads((folder / f"{cls}.json").read_text())
    assert side["class"] == cls
    assert side["file_axes"] == GLTF_AXES
    assert "x forward" in side["canonical_frame"] and "z up" in side["canonical_frame"]
    assert side["size_wlh"] == pytest.approx(list(default_size(cls)))
    png = folder / side["thumbnail"]
    import cv2
    thumb = cv2.imread(str(png))
    assert thumb is not None and thumb.shape[0] >= 64
    assert thumb.std() > 10, "thumbnail looks blank"


@pytest.mark.parametrize("cls", class_names())
def test_builtin_loads_into_the_unit_box_matching_the_builder(library, cls):
    asset = library.resolve(builtin_ref(cls), cls)
    lo, hi = asset.mesh.bounds
    np.testing.assert_allclose(lo, [-0.5, -0.5, 0.0], atol=1e-4)
    np.testing.assert_allclose(hi, [0.5, 0.5, 1.0], atol=1e-4)
    colors = np.unique(np.asarray(asset.mesh.visual.vertex_colors)[:, :3], axis=0)
    assert len(colors) >= 2, "a recognisable asset has differently coloured parts"
    # the GLB stores glTF axes; loading must give back the canonical mesh the builder made
    want = fit_to_box(build_class_mesh(cls), (1, 1, 1))
    np.testing.assert_allclose(np.sort(asset.mesh.vertices, axis=0), np.sort(want.vertices, axis=0), atol=1e-4)


def test_builtin_meshes_fill_their_class_box():
    for cls in class_names():
        w, l, h = default_size(cls)
        lo, hi = build_class_mesh(cls).bounds
        np.testing.assert_allclose(hi - lo, [l, w, h], rtol=1e-6)
        np.testing.assert_allclose([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]], [0, 0, 0], atol=1e-9)


def test_car_front_is_at_plus_x():
    """Headlights sit at the front, tail lights at the back."""
    m = build_class_mesh("car")
    c = np.asarray(m.visual.vertex_colors)[:, :3]
    x = m.vertices[:, 0]
    head = (c == HEADLIGHT).all(axis=1)
    tail = (c == TAILLIGHT).all(axis=1)
    assert head.sum() >= 16 and tail.sum() >= 16
    assert x[head].min() > 1.5 and x[tail].max() < -1.5


def test_bundled_assets_stay_small():
    total = sum(p.stat().st_size for p in ASSETS_DIR.rglob("*") if p.is_file())
    assert total < 600 * 1024, f"resources/assets holds {total / 1024:.0f} KiB"


def _write_glb(path, mesh):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(trimesh.exchange.gltf.export_glb(trimesh.Scene(mesh)))


def test_external_gltf_asset_is_turned_into_the_canonical_frame(tmp_path):
    # a "car" 4 long (glTF forward +z), 2 wide (x), 1.5 high (+y), red at its front
    body = trimesh.creation.box(extents=(2.0, 1.5, 4.0))
    body.visual.vertex_colors = [0, 0, 255, 255]
    nose = trimesh.creation.box(extents=(0.5, 0.5, 0.2))
    nose.apply_translation((0, 0, 2.1))
    nose.visual.vertex_colors = [255, 0, 0, 255]
    _write_glb(tmp_path / "Cars" / "sedan.glb", trimesh.util.concatenate([body, nose]))
    asset = load_asset_file(tmp_path / "Cars" / "sedan.glb", "car")
    np.testing.assert_allclose(asset.mesh.bounds, [[-0.5, -0.5, 0], [0.5, 0.5, 1]], atol=1e-6)
    c = np.asarray(asset.mesh.visual.vertex_colors)
    red = c[:, 0] == 255
    assert asset.mesh.vertices[red, 0].min() > 0.4, "the front (+z in glTF) must become +x"
    assert not asset.notes


def test_sidecar_file_axes_and_sideways_meshes(tmp_path):
    # z-up file, long along y: the sidecar says forward is +y, so no turn is needed
    m = trimesh.creation.box(extents=(2.0, 5.0, 1.5))
    p = tmp_path / "truck.obj"
    m.export(p)
    (tmp_path / "truck.json").write_text(json.dumps({"file_axes": {"up": "+z", "forward": "+y"}}))
    a = load_asset_file(p, "truck")
    assert not a.notes
    # without the sidecar: glTF axes assumed, long side lands on y and the loader turns it, with a note
    p2 = tmp_path / "other.obj"
    trimesh.creation.box(extents=(5.0, 1.5, 2.0)).export(p2)
    b = load_asset_file(p2, "truck")
    assert b.notes and "turned 90 degrees" in b.notes[0]
    assert np.ptp(b.mesh.vertices[:, 0]) == pytest.approx(1.0)


def test_scan_folder_reports_problems_per_file(tmp_path):
    good = trimesh.creation.box(extents=(1.0, 1.8, 0.6))
    _write_glb(tmp_path / "car" / "ok.glb", good)
    (tmp_path / "car" / "broken.glb").write_bytes(b"not a glb at all")
    (tmp_path / "car" / "notes.txt").write_text("ignored companion file")
    (tmp_path / "car" / "model.fbx").write_bytes(b"\0")
    flat = trimesh.Trimesh(vertices=[[0, 0, 0], [1, 0, 0], [0, 0, 1]], faces=[[0, 1, 2]])
    _write_glb(tmp_path / "pedestrians" / "flat.glb", flat)
    (tmp_path / "spaceships").mkdir()
    result = scan_asset_folder(tmp_path)
    assert [p.name for p in result.paths("car")] == ["ok.glb"]
    by_file = {Path(p.path).name: p for p in result.problems}
    assert "broken.glb" in by_file and by_file["broken.glb"].severity == "error"
    assert "model.fbx" in by_file and "unsupported" in by_file["model.fbx"].message
    assert "flat.glb" in by_file and "no extent" in by_file["flat.glb"].message
    assert "spaceships" in by_file and "unknown category" in by_file["spaceships"].message
    assert "notes.txt" not in by_file


@pytest.mark.parametrize("name, cls", [("car", "car"), ("Cars", "car"), ("vehicle.car", "car"),
                                       ("traffic cone", "traffic_cone"), ("movable_object.barrier", "barrier"),
                                       ("Pedestrian", "pedestrian"), ("construction", "construction_vehicle"),
                                       ("spaceship", None)])
def test_category_folder_names(name, cls):
    assert category_to_class(name) == cls


def test_bad_references_are_clear_and_agents_fall_back(library, tmp_path):
    with pytest.raises(AssetError, match="unknown builtin class 'tank'"):
        library.resolve("builtin:tank")
    with pytest.raises(AssetError, match="nowhere.glb.*file not found"):
        library.resolve("nowhere.glb", "car")
    asset, warning = library.for_agent(str(tmp_path / "missing.glb"), "bus")
    assert asset.ref == builtin_ref("bus") and "missing.glb" in warning


def test_relative_paths_resolve_against_search_dirs(tmp_path):
    _write_glb(tmp_path / "assets" / "cone.glb", trimesh.creation.cone(radius=0.2, height=0.8,
                                                                       transform=trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0])))
    lib = AssetLibrary(search_dirs=[tmp_path])
    a = lib.resolve("assets/cone.glb", "traffic_cone")
    assert a.mesh.bounds[1][2] == pytest.approx(1.0)
    assert lib.resolve("assets/cone.glb", "traffic_cone") is a   # cached


def test_library_builds_builtins_in_memory_when_files_are_missing(tmp_path):
    lib = AssetLibrary(root=tmp_path)
    a = lib.resolve("builtin:car")
    assert "built in memory" in a.source
    assert not builtin_path("car", tmp_path).exists()


def test_glb_round_trip_of_axes():
    m = build_class_mesh("bicycle")
    stored = rotate(m, file_from_canonical("+y", "+z"))
    # in glTF axes the bicycle's length (x) is along z and its height along y
    ext = stored.extents
    assert ext[2] == pytest.approx(m.extents[0]) and ext[1] == pytest.approx(m.extents[2])
