"""Children and animals reach nuScenes with their own categories (human.pedestrian.child, animal),
read back by nuscenes-devkit (issue 16)."""
from __future__ import annotations

from engine.export.pipeline import ExportSettings, export_nuscenes
from engine.library.builder import ScenarioBuilder
from engine.library.registry import bind_library


def test_child_and_animal_categories_in_the_devkit(tmp_path):
    from nuscenes.nuscenes import NuScenes

    from engine.export.nuscenes_schema import DEFAULT_VERSION

    b = ScenarioBuilder(duration=1.5)
    L = bind_library(b)
    L["sidewalk_walk"](side="right", ahead=6.0, child=True)
    L["animal"]("dog", lane="left", ahead=15.0)
    s = b.build(name="world")
    export_nuscenes(s, tmp_path, ExportSettings(size=(160, 90), frames=7, videos=False, guidance=False))
    nusc = NuScenes(version=DEFAULT_VERSION, dataroot=str(tmp_path), verbose=False)
    cats = {}
    for inst in nusc.instance:
        cats[nusc.get("category", inst["category_token"])["name"]] = inst
    assert "human.pedestrian.child" in cats and "animal" in cats
    # the child's box is a child's size (w l h of CHILD_SIZE), not an adult's
    ann = nusc.get("sample_annotation", cats["human.pedestrian.child"]["first_annotation_token"])
    assert ann["size"][2] < 1.3
