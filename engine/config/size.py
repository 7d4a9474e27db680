"""One image-size type: parsed from "448x256" (or (448, 256), [448, 256], {"width": .., "height": ..}) in one place.

    size = ImageSize.parse("448x256")      # ImageSize(width=448, height=256); str(size) == "448x256"
    w, h = size                            # iterates as (width, height)
    parse_size("448x256") == (448, 256)    # the same rules, as a tuple (command-line parsers)

Serialised as the string "448x256" (JSON round trip through `model_dump_json` / `model_validate`).
Width and height are whole pixels between MIN_SIDE and MAX_SIDE.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

if TYPE_CHECKING:
    from pydantic import ValidationError

MIN_SIDE = 16
MAX_SIDE = 8192
DEFAULT_SIZE = "448x256"


class ImageSize(BaseModel):
    """Width x height of every camera image, in pixels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    width: int = Field(ge=MIN_SIDE, le=MAX_SIDE)
    height: int = Field(ge=MIN_SIDE, le=MAX_SIDE)

    @model_validator(mode="before")
    @classmethod
    def _from_text_or_pair(cls, value: Any) -> Any:
        if isinstance(value, ImageSize):
            return {"width": value.width, "height": value.height}
        if isinstance(value, str):
            return dict(zip(("width", "height"), _split(value)))
        if isinstance(value, (tuple, list)):
            if len(value) != 2:
                raise ValueError(f"size must be (width, height), got {len(value)} numbers: {value!r}")
            return {"width": _whole(value[0], value), "height": _whole(value[1], value)}
        return value

    @model_serializer(mode="plain")
    def _as_text(self) -> str:
        return str(self)

    @classmethod
    def parse(cls, value: Any) -> "ImageSize":
        """ImageSize of "WxH", (w, h), [w, h], a dict or an ImageSize; ValueError with the reason otherwise."""
        from pydantic import ValidationError

        if isinstance(value, ImageSize):
            return value
        try:
            return cls.model_validate(value)
        except ValidationError as e:
            raise ValueError(_message(e, value)) from None

    def as_tuple(self) -> tuple[int, int]:
        """(width, height)."""
        return (self.width, self.height)

    # `w, h = size`; pydantic's BaseModel iterates (field, value) pairs, which this type never exposes
    def __iter__(self) -> Iterator[int]:  # type: ignore[override]  # unpacks as (width, height)
        return iter((self.width, self.height))

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


def parse_size(text: Any) -> tuple[int, int]:
    """'448x256' -> (448, 256); ValueError naming the problem otherwise (the only size parser)."""
    return ImageSize.parse(text).as_tuple()


def _split(text: str) -> tuple[int, int]:
    parts = text.strip().lower().replace("×", "x").replace("*", "x").split("x")
    if len(parts) != 2:
        raise ValueError(f"size: expected WIDTHxHEIGHT such as 448x256, got {text!r}")
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:
        raise ValueError(f"size: expected WIDTHxHEIGHT in whole pixels such as 448x256, got {text!r}") from None


def _whole(v: Any, whole: Any) -> int:
    if isinstance(v, bool) or not float(v).is_integer():
        raise ValueError(f"size must be whole pixels, got {whole!r}")
    return int(v)


def _message(error: ValidationError, value: Any) -> str:
    for err in error.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        if err.get("type") in ("greater_than_equal", "less_than_equal"):
            return (f"width and height must be between {MIN_SIDE} and {MAX_SIDE} pixels, got "
                    f"{value if isinstance(value, str) else value!r}" + (f" ({loc})" if loc else ""))
        msg = str(err.get("msg", "invalid size"))
        return msg.removeprefix("Value error, ") + (f" ({loc})" if loc else "")
    return f"invalid size {value!r}"
