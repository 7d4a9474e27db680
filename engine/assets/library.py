"""The asset library: resolves an agent's asset reference to a mesh normalised to a unit box.

References: ``builtin:<class>`` (resources/assets/<class>/<class>.glb) or a path to a GLB / glTF / OBJ
(/ PLY / STL) file. Every mesh goes through the same path: load (scene flattened, textures baked to
vertex colours), rotate from the file's axes into the canonical frame (x forward, y left, z up),
then fit to the unit box [-0.5, 0.5]^2 x [0, 1]; an agent's model matrix scales it to its own box.

File axes come from a sidecar JSON next to the file (``<name>.json`` with
``"file_axes": {"up": "+y", "forward": "+z"}``) or default to the glTF convention (up +y,
forward +z). A mesh whose long horizontal side disagrees with its class box is turned 90 degrees
about z, and the turn is reported as a note.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

import numpy as np
import trimesh

from engine.assets.normalize import GLTF_AXES, AxesError, canonical_from_file, fit_to_box, rotate
from engine.classes import class_names, class_table, default_size
from engine.paths import RESOURCES_DIR

ASSETS_DIR: Path = RESOURCES_DIR / "assets"
MESH_SUFFIXES = (".glb", ".gltf", ".obj", ".ply", ".stl")
COMPANION_SUFFIXES = (".json", ".mtl", ".png", ".jpg", ".jpeg", ".bin", ".txt", ".md", ".webp", ".tga", ".bmp")
BUILTIN_PREFIX = "builtin:"
UNIT_BOX = (1.0, 1.0, 1.0)
DEFAULT_COLOR = (160, 160, 165, 255)


ProblemSeverity = Literal["error", "warning"]
"""error: the file is not usable; warning: usable, but check it."""


class AssetError(ValueError):
    """An asset could not be used; the message names the reference or file and the problem."""


@dataclass(frozen=True)
class AssetProblem:
    """One problem with one file of an asset folder."""

    path: str
    message: str
    severity: ProblemSeverity = "error"  # error: not usable; warning: usable, but check it

    def __str__(self) -> str:
        return f"{self.path}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Asset:
    """A mesh ready to render: canonical frame, fitted to the unit box, vertex-coloured.

    mesh: Trimesh with vertex colours (V, 4) uint8 and bounds [-0.5, 0.5] x [-0.5, 0.5] x [0, 1].
    """

    ref: str
    cls: str | None
    mesh: trimesh.Trimesh
    source: str
    notes: tuple[str, ...] = ()

    @property
    def triangles(self) -> int:
        return int(len(self.mesh.faces))


@dataclass
class AssetFolder:
    """The result of scanning a DriveObj3D-style folder (one sub-folder per category)."""

    root: Path
    assets: dict[str, list[Path]] = field(default_factory=dict)
    problems: list[AssetProblem] = field(default_factory=list)

    def paths(self, cls: str) -> list[Path]:
        """Usable asset files of a class (empty list if none)."""
        return list(self.assets.get(cls, []))


def builtin_ref(cls: str) -> str:
    """The reference string of a class's bundled asset."""
    return f"{BUILTIN_PREFIX}{cls}"


def builtin_path(cls: str, root: Path = ASSETS_DIR) -> Path:
    """Where the bundled GLB of a class lives."""
    return root / cls / f"{cls}.glb"


def sidecar_path(mesh_path: Path) -> Path:
    """The sidecar JSON of a mesh file (same folder, same stem)."""
    return mesh_path.with_suffix(".json")


# ---------------------------------------------------------------------------------- loading
def read_mesh_file(path: Path) -> trimesh.Trimesh:
    """Load any mesh file trimesh reads as one vertex-coloured Trimesh (scene graph flattened).

    Raises AssetError naming the file for missing files, unreadable data, empty or non-finite geometry.
    """
    path = Path(path)
    if not path.is_file():
        raise AssetError(f"{path}: file not found")
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise AssetError(f"{path}: unsupported file type {path.suffix!r}; expected one of {', '.join(MESH_SUFFIXES)}")
    try:
        loaded = trimesh.load(str(path), force="scene", process=False)
    # a user's file: trimesh and its loaders raise ValueError, KeyError, IndexError, OSError, JSONDecodeError...
    # for malformed data; every one means "this file is unusable", said with the exception's type
    except Exception as e:  # noqa: BLE001
        raise AssetError(f"{path}: cannot read mesh: {type(e).__name__}: {e}") from None
    assert isinstance(loaded, trimesh.Scene), "force='scene' loads a Scene"
    meshes: list[trimesh.Trimesh] = []
    for node in loaded.graph.nodes_geometry:
        transform, geom_name = loaded.graph[node]
        geom = loaded.geometry[geom_name]
        if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
            continue
        g = geom.copy()
        g.visual = _vertex_colored(g)
        g.apply_transform(transform)
        meshes.append(g)
    if not meshes:
        raise AssetError(f"{path}: contains no triangles")
    mesh = trimesh.util.concatenate(meshes) if len(meshes) > 1 else meshes[0]
    assert isinstance(mesh, trimesh.Trimesh), "Trimesh parts concatenate to a Trimesh"
    if not np.all(np.isfinite(mesh.vertices)):
        raise AssetError(f"{path}: vertex coordinates include NaN or infinity")
    return mesh


def _vertex_colored(mesh: trimesh.Trimesh) -> trimesh.visual.ColorVisuals:
    """The mesh's look as per-vertex colours (textures sampled at the vertices, materials' base colour)."""
    vis = mesh.visual
    try:
        if isinstance(vis, trimesh.visual.TextureVisuals):
            vis = vis.to_color()  # type: ignore[no-untyped-call]  # trimesh: unannotated
        if not isinstance(vis, trimesh.visual.ColorVisuals):
            raise ValueError("no visual")
        colors = np.asarray(vis.vertex_colors, dtype=np.uint8)
        if colors.shape != (len(mesh.vertices), 4):
            raise ValueError
    # a colour that cannot be baked (odd textures, UVs or materials make trimesh and PIL raise ValueError,
    # IndexError, AttributeError, OSError...) falls back to the default colour: the mesh stays usable
    except Exception:  # noqa: BLE001
        colors = np.tile(np.array(DEFAULT_COLOR, np.uint8), (len(mesh.vertices), 1))
    return trimesh.visual.ColorVisuals(mesh, vertex_colors=colors)


def read_sidecar(mesh_path: Path) -> dict[str, Any]:
    """The sidecar JSON of a mesh file, or {} when there is none. AssetError for an unreadable one."""
    p = sidecar_path(mesh_path)
    if not p.is_file():
        return {}
    try:
        doc = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise AssetError(f"{p}: cannot read sidecar JSON: {e}") from None
    if not isinstance(doc, dict):
        raise AssetError(f"{p}: sidecar must be a JSON object")
    return doc


def normalize_mesh(mesh: trimesh.Trimesh, cls: str | None, file_axes: Mapping[str, str] | None = None,
                   where: str = "mesh") -> tuple[trimesh.Trimesh, tuple[str, ...]]:
    """Rotate a file-frame mesh into the canonical frame and fit it to the unit box.

    Returns (unit-box mesh, notes). The class box decides the 90-degree turn about z: a class whose
    box is longer than wide (vehicles) wants its mesh longer along x, a barrier longer along y.
    """
    axes = {**GLTF_AXES, **(file_axes or {})}
    try:
        r = canonical_from_file(axes["up"], axes["forward"])
    except AxesError as e:
        raise AssetError(f"{where}: file_axes: {e}") from None
    m = rotate(mesh, r)
    notes: list[str] = []
    if cls is not None:
        w, l, _ = default_size(cls)
        ext = m.extents
        if abs(l - w) > 0.15 * max(l, w) and (ext[0] > ext[1]) != (l > w) and abs(ext[0] - ext[1]) > 0.05 * max(ext[:2]):
            m = rotate(m, np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
            notes.append(f"{where}: turned 90 degrees about z so its long side matches the {cls} box; "
                         "set file_axes in a sidecar JSON if the front is wrong")
    try:
        return fit_to_box(m, UNIT_BOX), tuple(notes)
    except ValueError as e:
        raise AssetError(f"{where}: {e}") from None


def load_asset_file(path: str | os.PathLike[str], cls: str | None = None, ref: str | None = None) -> Asset:
    """Load one mesh file as an `Asset` (unit box). The sidecar's ``class`` is used when `cls` is None."""
    path = Path(path)
    mesh = read_mesh_file(path)
    side = read_sidecar(path)
    cls = cls or side.get("class")
    if cls is not None and cls not in class_table():
        raise AssetError(f"{path}: unknown class {cls!r}; expected one of {', '.join(class_names())}")
    unit, notes = normalize_mesh(mesh, cls, side.get("file_axes"), str(path))
    return Asset(ref or str(path), cls, unit, side.get("source", str(path)), notes)


# ---------------------------------------------------------------------------------- folders
def _category_aliases() -> dict[str, str]:
    """Folder-name spellings accepted for each class: name, nuScenes category and common words."""
    out: dict[str, str] = {}
    for name, info in class_table().items():
        for key in (name, info.category, info.category.split(".")[-1], info.category.replace(".", "_")):
            out[_norm(key)] = name
    extra = {"cone": "traffic_cone", "trafficcone": "traffic_cone", "person": "pedestrian", "human": "pedestrian",
             "adult": "pedestrian", "bike": "bicycle", "cyclist": "bicycle", "motorbike": "motorcycle",
             "excavator": "construction_vehicle", "lorry": "truck"}
    out.update({_norm(k): v for k, v in extra.items()})
    return out


def _norm(s: str) -> str:
    s = s.strip().lower().replace("-", "_").replace(" ", "_")
    return s[:-1] if s.endswith("s") and not s.endswith("ss") and len(s) > 3 else s


def category_to_class(folder_name: str) -> str | None:
    """The class a category folder holds (``Car``, ``cars``, ``vehicle.car`` -> car), or None."""
    return _category_aliases().get(_norm(folder_name))


def scan_asset_folder(root: str | os.PathLike[str], validate: bool = True) -> AssetFolder:
    """Scan ``root/<category>/*.glb|*.obj ...``; with `validate`, load each file and report its problems.

    Unknown category folders, unsupported files, unreadable meshes and bad sidecars are reported per
    file; files that load are listed under their class.
    """
    root = Path(root)
    result = AssetFolder(root)
    if not root.is_dir():
        result.problems.append(AssetProblem(str(root), "not a folder"))
        return result
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        cls = category_to_class(sub.name)
        if cls is None:
            result.problems.append(AssetProblem(str(sub), f"unknown category folder {sub.name!r}; expected a class "
                                                          f"name such as {', '.join(class_names())}"))
            continue
        for f in sorted(p for p in sub.rglob("*") if p.is_file()):
            suffix = f.suffix.lower()
            if suffix in COMPANION_SUFFIXES:
                continue
            if suffix not in MESH_SUFFIXES:
                result.problems.append(AssetProblem(str(f), f"unsupported file type {suffix or '(none)'!r}; skipped",
                                                    "warning"))
                continue
            if validate:
                try:
                    asset = load_asset_file(f, cls)
                except AssetError as e:
                    result.problems.append(AssetProblem(str(f), str(e).removeprefix(f"{f}: ")))
                    continue
                result.problems += [AssetProblem(str(f), n.removeprefix(f"{f}: "), "warning") for n in asset.notes]
            result.assets.setdefault(cls, []).append(f)
    for p in sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in MESH_SUFFIXES):
        result.problems.append(AssetProblem(str(p), "mesh file outside a category folder; skipped", "warning"))
    return result


# ---------------------------------------------------------------------------------- library
class AssetLibrary:
    """Resolves asset references to unit-box `Asset`s, caching each file once.

    `search_dirs` are tried, in order, for relative paths (for example the folder of the scenario
    file), then the current directory.
    """

    def __init__(self, root: str | os.PathLike[str] = ASSETS_DIR, search_dirs: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.root = Path(root)
        self.search_dirs = [Path(d) for d in search_dirs]
        self._cache: dict[tuple[str, str | None], tuple[float, Asset]] = {}

    def resolve(self, ref: str, cls: str | None = None) -> Asset:
        """The asset for a reference; AssetError names the reference and the problem."""
        if ref.startswith(BUILTIN_PREFIX):
            name = ref[len(BUILTIN_PREFIX):]
            if name not in class_table():
                raise AssetError(f"asset {ref!r}: unknown builtin class {name!r}; expected one of {', '.join(class_names())}")
            return self._builtin(name)
        path = self._find(ref)
        key = (str(path), cls)
        mtime = path.stat().st_mtime
        hit = self._cache.get(key)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        asset = load_asset_file(path, cls, ref)
        self._cache[key] = (mtime, asset)
        return asset

    def for_agent(self, ref: str, cls: str) -> tuple[Asset, str | None]:
        """The asset of an agent, falling back to its class's builtin; returns (asset, warning or None)."""
        try:
            return self.resolve(ref, cls), None
        except AssetError as e:
            return self._builtin(cls), f"{e}; using {builtin_ref(cls)}"

    def _find(self, ref: str) -> Path:
        p = Path(ref).expanduser()
        candidates = [p] if p.is_absolute() else [d / p for d in self.search_dirs] + [Path.cwd() / p]
        for c in candidates:
            if c.is_file():
                return c
        raise AssetError(f"asset {ref!r}: file not found (looked in {', '.join(str(c.parent) for c in candidates)})")

    def _builtin(self, cls: str) -> Asset:
        key = (BUILTIN_PREFIX + cls, cls)
        hit = self._cache.get(key)
        if hit is not None:
            return hit[1]
        path = builtin_path(cls, self.root)
        if path.is_file():
            asset = load_asset_file(path, cls, builtin_ref(cls))
        else:  # the generated files are missing: build the same mesh in memory
            from engine.assets.builtin import build_class_mesh

            unit = fit_to_box(build_class_mesh(cls), UNIT_BOX)
            asset = Asset(builtin_ref(cls), cls, unit, "builtin (built in memory)", (f"{path}: not found; built in memory",))
        self._cache[key] = (0.0, asset)
        return asset
