"""The registry of library functions: what scripts may call, and how calls are checked and recorded.

Each function is written as `def name(ctx: ScenarioBuilder, ...)` and registered with
`@library_function(category)`. `call()` binds the arguments to the signature (unknown or missing
arguments give a LibraryError naming the function and its parameters), checks each argument
against its annotation, records the call on the builder (the `behavior` / `behavior_params` of the
agents it makes) and runs it. The signatures and docstrings are also the reference the LLM prompt
lists (see `engine.prompting.template`), so the prompt never drifts from the code.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from engine.library.errors import LibraryError

if TYPE_CHECKING:
    from engine.library.builder import ScenarioBuilder

CATEGORIES = ("setup", "ego and vehicles", "sequences", "interactions", "intersection", "traffic control",
              "vulnerable road users", "static")


@dataclass(frozen=True)
class LibraryFunction:
    """One registered function; `func(ctx, *args, **kwargs)`."""

    name: str
    func: Callable[..., Any]
    category: str

    @cached_property
    def signature(self) -> inspect.Signature:
        """The signature a script sees (without the builder `ctx`)."""
        sig = inspect.signature(self.func)
        params = list(sig.parameters.values())[1:]
        return sig.replace(parameters=params)

    @cached_property
    def hints(self) -> dict[str, tuple[type, ...]]:
        """Parameter name -> accepted types, read from the annotation text (never evaluated)."""
        out = {}
        for name, p in self.signature.parameters.items():
            ann = p.annotation
            if ann is inspect.Parameter.empty:
                continue
            out[name] = _parse_annotation(ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann)))
        return out

    @property
    def doc(self) -> str:
        """The docstring plus the parameter bounds line (engine.library.bounds), which is enforced in `call`."""
        from engine.library.bounds import bounds_doc

        text = inspect.cleandoc(self.func.__doc__ or "")
        b = bounds_doc(self.name, list(self.signature.parameters))
        return f"{text}\n{b}" if b else text

    @property
    def summary(self) -> str:
        return self.doc.split("\n\n", 1)[0].replace("\n", " ")

    def call(self, ctx: ScenarioBuilder, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            names = ", ".join(self.signature.parameters)
            raise LibraryError(f"{self.name}(): {e}; its parameters are: {names}") from None
        for pname, value in bound.arguments.items():
            _check_type(self.name, pname, value, self.hints.get(pname))
        from engine.library.bounds import check_bounds

        problem = check_bounds(self.name, dict(bound.arguments))
        if problem:
            raise LibraryError(problem)
        bound.apply_defaults()
        snap = ctx.snapshot()
        try:
            ctx.begin_call(self.name, {k: v for k, v in bound.arguments.items()})
            return self.func(ctx, *bound.args, **bound.kwargs)
        except BaseException:          # cleanup then re-raise: any failure (even a deadline) undoes the call
            ctx.restore(snap)          # a failed call leaves the scenario as it was
            raise


REGISTRY: dict[str, LibraryFunction] = {}

F = TypeVar("F", bound=Callable[..., Any])


def library_function(category: str) -> Callable[[F], F]:
    """Register `func` under its own name in `category` (one of CATEGORIES)."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")

    def deco(func: F) -> F:
        if func.__name__ in REGISTRY:
            raise ValueError(f"library function {func.__name__!r} registered twice")
        REGISTRY[func.__name__] = LibraryFunction(func.__name__, func, category)
        return func

    return deco


def _parse_annotation(text: str) -> tuple[type, ...]:
    """'float | None' -> (float, NoneType); unknown names accept anything (object)."""
    from engine.library.builder import AgentHandle

    names = {"float": float, "int": int, "str": str, "bool": bool, "None": type(None), "list": list,
             "AgentHandle": AgentHandle}
    return tuple(names.get(part.strip().split("[")[0], object) for part in text.split("|"))


def _type_name(tp: Any) -> str:
    names = {float: "a number", int: "an integer", str: "a string", bool: "True or False", type(None): "None"}
    if tp in names:
        return names[tp]
    return getattr(tp, "__name__", str(tp))


def _check_type(fname: str, pname: str, value: Any, options: tuple[type, ...] | None) -> None:
    """Raise LibraryError when `value` is none of the accepted `options` types."""
    if not options or object in options:
        return
    for opt in options:
        if _fits(value, opt):
            return
    want = " or ".join(_type_name(o) for o in options)
    shown = repr(value) if not hasattr(value, "_id") else repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise LibraryError(f"{fname}: {pname} must be {want} (got {shown})")


def _fits(value: Any, tp: Any) -> bool:
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is bool:
        return isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if tp is list:
        return isinstance(value, (list, tuple))
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True


def library_functions() -> dict[str, LibraryFunction]:
    """Every registered function (importing the library modules registers them)."""
    import engine.library.functions  # noqa: F401  (registers)

    return dict(REGISTRY)


def bind_library(ctx: ScenarioBuilder) -> dict[str, Callable[..., Any]]:
    """name -> callable with the builder bound, for running scripts against `ctx`."""
    out = {}
    for name, lf in library_functions().items():
        def call(*args: Any, _lf: LibraryFunction = lf, **kwargs: Any) -> Any:
            return _lf.call(ctx, args, kwargs)
        call.__name__ = name
        call.__doc__ = lf.doc
        call.__signature__ = lf.signature  # type: ignore[attr-defined]
        out[name] = call
    return out
