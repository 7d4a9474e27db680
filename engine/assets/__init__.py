"""Assets: bundled meshes for the ten nuScenes classes and loading of external GLB/OBJ folders."""
from engine.assets.library import (
    Asset,
    AssetError,
    AssetFolder,
    AssetLibrary,
    AssetProblem,
    builtin_ref,
    category_to_class,
    load_asset_file,
    scan_asset_folder,
)

__all__ = [
    "Asset", "AssetError", "AssetFolder", "AssetLibrary", "AssetProblem",
    "builtin_ref", "category_to_class", "load_asset_file", "scan_asset_folder",
]
