"""The ASAM XML schemas (OpenSCENARIO 1.0-1.3, OpenDRIVE 1.7) and validation against them.

The schema files are not ours: the `scenariogeneration` package installs them as a top-level
``schemas/`` folder next to itself in site-packages (its own reader validates with them).
Validation uses lxml (libxml2, a few milliseconds per document); where lxml cannot load a schema,
`xmlschema` (pure Python, about a second per document) takes over. Both come with scenariogeneration.
Loaded schemas are cached per process.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias

OSC_SCHEMA_FILES: dict[int, str] = {
    0: "OpenSCENARIO_1_0.xsd",
    1: "OpenSCENARIO_1_1.xsd",
    2: "OpenSCENARIO_1_2.xsd",
    3: "OpenSCENARIO_1_3_1.xsd",
}
OPENDRIVE_SCHEMA_FILE = "opendrive_17_core.xsd"
MAX_REPORTED = 20


class SchemaNotFoundError(RuntimeError):
    """The XSD files that scenariogeneration ships cannot be found; the message says where we looked."""


@dataclass(frozen=True)
class SchemaProblem:
    """One schema violation: `path` is the XPath of the offending element, `reason` what is wrong."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class SchemaValidationError(ValueError):
    """A document does not validate; `problems` lists (up to MAX_REPORTED of) the violations."""

    def __init__(self, what: str, problems: list[SchemaProblem]) -> None:
        self.problems = list(problems)
        lines = [f"{what} does not validate against its schema ({len(problems)} problem(s)):"]
        lines += [f"  {p}" for p in self.problems[:MAX_REPORTED]]
        super().__init__("\n".join(lines))


def schema_dir() -> Path:
    """The folder with the ASAM XSD files (site-packages/schemas, installed by scenariogeneration)."""
    env = os.environ.get("CORNERCASE_XSD_DIR")
    candidates = [Path(env)] if env else []
    try:
        import scenariogeneration

        candidates.append(Path(scenariogeneration.__file__).resolve().parent.parent / "schemas")
    except ImportError:  # pragma: no cover - a pinned dependency
        pass
    for c in candidates:
        if (c / OSC_SCHEMA_FILES[2]).is_file():
            return c
    raise SchemaNotFoundError(
        "OpenSCENARIO/OpenDRIVE XSD files not found; looked in "
        + (", ".join(str(c) for c in candidates) or "nothing")
        + " (they come with the scenariogeneration package; set CORNERCASE_XSD_DIR to a folder holding them)"
    )


class _Validator:
    """A loaded schema: lxml's when it can load it, xmlschema's otherwise."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lxml: Any = _lxml_schema(path)
        self._xmlschema: Any = None
        if self._lxml is None:
            import xmlschema

            self._xmlschema = xmlschema.XMLSchema(str(path))

    def problems(self, data: bytes) -> list[SchemaProblem]:
        """Every violation of the XML document `data`."""
        if self._lxml is not None:
            from lxml import etree

            try:
                doc = etree.fromstring(data)
            except etree.XMLSyntaxError as e:
                return [SchemaProblem("/", f"not well-formed XML: {e}")]
            if self._lxml.validate(doc):
                return []
            return [SchemaProblem(e.path or "/", e.message) for e in self._lxml.error_log]
        assert self._xmlschema is not None   # one of the two validators is always loaded
        return [SchemaProblem(str(err.path or "/"), str(err.reason or err.message))
                for err in self._xmlschema.iter_errors(ET.fromstring(data))]


def _lxml_schema(path: Path) -> Any | None:
    """lxml's compiled schema (fast), or None when lxml is missing or cannot load this schema."""
    try:
        from lxml import etree
    except ImportError:  # pragma: no cover - a pinned dependency
        return None
    try:
        return etree.XMLSchema(etree.parse(str(path)))
    except (OSError, etree.LxmlError):  # a schema lxml cannot parse or compile: the pure-Python validator reads it
        return None


@cache
def _load_schema(filename: str) -> _Validator:
    path = schema_dir() / filename
    if not path.is_file():
        raise SchemaNotFoundError(f"schema file {path} is missing")
    return _Validator(path)


def openscenario_schema(minor_version: int) -> _Validator:
    """The loaded schema of OpenSCENARIO 1.<minor_version> (0..3)."""
    if minor_version not in OSC_SCHEMA_FILES:
        raise ValueError(f"OpenSCENARIO 1.{minor_version} has no schema here; supported: "
                         + ", ".join(f"1.{m}" for m in OSC_SCHEMA_FILES))
    return _load_schema(OSC_SCHEMA_FILES[minor_version])


def opendrive_schema() -> _Validator:
    """The loaded schema of OpenDRIVE 1.7."""
    return _load_schema(OPENDRIVE_SCHEMA_FILE)


XmlDocument: TypeAlias = "bytes | ET.Element | ET.ElementTree | str | os.PathLike[str]"
"""An XML document: its bytes, a parsed element or tree, or a file path."""


def _utf8(element: ET.Element) -> bytes:
    """An element serialised as UTF-8 bytes."""
    data = ET.tostring(element, encoding="utf-8")
    assert isinstance(data, bytes)   # an encoding other than "unicode" gives bytes
    return data


def _bytes(document: XmlDocument) -> bytes:
    if isinstance(document, bytes):
        return document
    if isinstance(document, ET.ElementTree):
        root = document.getroot()
        if root is None:
            raise ValueError("an empty ElementTree is not an XML document")
        return _utf8(root)
    if isinstance(document, ET.Element):
        return _utf8(document)
    return Path(document).read_bytes()


def schema_problems(schema: _Validator, document: XmlDocument) -> list[SchemaProblem]:
    """Every violation of `document` (bytes, an ElementTree element or tree, or a file path) against `schema`."""
    return schema.problems(_bytes(document))


def validate_openscenario(document: XmlDocument, minor_version: int | None = None) -> list[SchemaProblem]:
    """Violations of an OpenSCENARIO document (bytes, element, tree or path); the version is read
    from its FileHeader when not given."""
    data = _bytes(document)
    root = ET.fromstring(data)
    if minor_version is None:
        header = root.find("FileHeader")
        if header is None:
            return [SchemaProblem("/OpenSCENARIO", "no FileHeader element")]
        try:
            minor_version = int(header.attrib.get("revMinor", ""))
        except ValueError:
            return [SchemaProblem("/OpenSCENARIO/FileHeader", f"revMinor {header.attrib.get('revMinor')!r} is not an integer")]
    return schema_problems(openscenario_schema(minor_version), data)


def validate_opendrive(document: XmlDocument) -> list[SchemaProblem]:
    """Violations of an OpenDRIVE document (bytes, element, tree or path) against the 1.7 schema."""
    return schema_problems(opendrive_schema(), document)
