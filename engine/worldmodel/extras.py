"""Optional dependency groups ("extras"): a feature whose packages are missing says which extra installs them.

    require_diffusion()                      # MissingExtraError unless diffusers and transformers are importable
    try:
        from diffusers... import ...
    except ImportError as e:
        raise missing_extra_from(e, "the diffusion backend") from e

The core (editor, guidance maps, naive backend, export) never imports these packages; the diffusion
world model and its tools need the `[diffusion]` extra (pyproject.toml).
"""
from __future__ import annotations

import importlib.util

from engine.worldmodel.errors import MissingExtraError

DIFFUSION_EXTRA = "diffusion"
DIFFUSION_PACKAGES = ("diffusers", "transformers")
DIFFUSION_FEATURE = "the diffusion backend"


def install_hint(extra: str) -> str:
    """The command that installs an extra, e.g. pip install 'cornercase-studio[diffusion]'."""
    return f"pip install 'cornercase-studio[{extra}]'"


def missing_extra(package: str, feature: str = DIFFUSION_FEATURE, extra: str = DIFFUSION_EXTRA) -> MissingExtraError:
    """The error for a missing package: "the diffusion backend needs diffusers: pip install '...[diffusion]'"."""
    return MissingExtraError(f"{feature} needs {package}: {install_hint(extra)}", name=package)


def _importable(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # a parent package that fails, or a module with no spec
        return False


def require_packages(packages: tuple[str, ...], feature: str, extra: str) -> None:
    """MissingExtraError naming the first of `packages` that cannot be found (nothing is imported)."""
    for package in packages:
        if not _importable(package):
            raise missing_extra(package, feature, extra)


def require_diffusion(feature: str = DIFFUSION_FEATURE) -> None:
    """MissingExtraError unless the diffusion extra's packages (diffusers, transformers) are installed."""
    require_packages(DIFFUSION_PACKAGES, feature, DIFFUSION_EXTRA)


def missing_extra_from(error: ImportError, feature: str = DIFFUSION_FEATURE,
                       packages: tuple[str, ...] = DIFFUSION_PACKAGES, extra: str = DIFFUSION_EXTRA) -> MissingExtraError:
    """The MissingExtraError for an ImportError raised while importing a feature's packages: it names the
    package that failed (the first of `packages` when the error names another module, plus the error)."""
    top = (error.name or "").split(".")[0]
    if top in packages:
        return missing_extra(top, feature, extra)
    err = missing_extra(packages[0], feature, extra)
    return MissingExtraError(f"{err} ({type(error).__name__}: {error})", name=packages[0])
