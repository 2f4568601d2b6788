"""HTML forms generated from JSON Schema, and posted forms read back into nested JSON.

Generic on purpose: a certificate type's fields come from the catalogue's JSON Schema (strings, dates,
integers, numbers, enums, nested objects and arrays of objects), so a new type needs no new template.
Inputs are named by their path, e.g. `details.heirs.0.name_bn`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from api.errors import ApiError
from sonod.bengali import to_ascii_digits
from sonod.domain import N_
from workflows.messages import Applicant, Contact

TABLE_ROWS = 3  # empty rows of an add-row table, for browsers without JavaScript
REMOVE = "_remove"  # a table row's "remove this row" box (`details.heirs.2._remove`): the row is left out


@dataclass
class Field:
    name: str  # the dotted path, e.g. "details.deceased.name_bn"
    key: str  # the last segment, which names the label
    kind: str  # text, date, integer, number, enum, email, tel, checkbox, group, table
    required: bool = False
    title: str | None = None
    description: str | None = None
    options: list[str] = field(default_factory=list)
    pattern: str | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    children: list[Field] = field(default_factory=list)
    min_rows: int = 0
    max_rows: int | None = None

    @property
    def input_id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    def at_row(self, row: int) -> Field:
        """A table column's field for one row: `details.heirs.#.name_bn` becomes `details.heirs.2.name_bn`."""
        return Field(**{**self.__dict__, "name": self.name.replace("#", str(row), 1),
                        "required": self.required and row == 0,
                        "children": [c.at_row(row) for c in self.children]})


def fields_from_schema(schema: dict, prefix: str) -> list[Field]:
    """The fields of an object schema, in the schema's own order."""
    defs = schema.get("$defs", {})
    return _object_fields(schema, prefix, defs)


def _resolve(node: dict, defs: dict) -> tuple[dict, bool]:
    """The node behind `$ref`/`allOf`/`anyOf [X, null]`, and whether null is allowed."""
    nullable = False
    while True:
        if "$ref" in node:
            node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            nullable = nullable or len(options) < len(node["anyOf"])
            node = {**options[0], **{k: v for k, v in node.items() if k != "anyOf"}}
        else:
            return node, nullable


def _object_fields(schema: dict, prefix: str, defs: dict) -> list[Field]:
    required = set(schema.get("required", []))
    return [_field(f"{prefix}.{key}", key, node, key in required, defs)
            for key, node in schema.get("properties", {}).items()]


def _field(name: str, key: str, node: dict, required: bool, defs: dict) -> Field:
    node, nullable = _resolve(node, defs)
    common: dict[str, Any] = dict(name=name, key=key, required=required and not nullable, title=node.get("title"),
                                  description=node.get("description"))
    kind = node.get("type")
    if "enum" in node or "const" in node:
        return Field(kind="enum", options=[str(v) for v in node.get("enum", [node.get("const")])], **common)
    if kind == "object":
        return Field(kind="group", children=_object_fields(node, name, defs), **common)
    if kind == "array":
        item, _ = _resolve(node.get("items", {}), defs)
        columns = _object_fields(item, f"{name}.#", defs) if item.get("type") == "object" \
            else [_field(f"{name}.#", key, item, True, defs)]
        return Field(kind="table", children=columns, min_rows=node.get("minItems", 0),
                     max_rows=node.get("maxItems"), **common)
    if kind == "string" and node.get("format") == "date":
        return Field(kind="date", **common)
    if kind == "string" and node.get("format") == "email":
        return Field(kind="email", max_length=node.get("maxLength"), **common)
    if kind in ("integer", "number"):
        return Field(kind=kind, minimum=node.get("minimum"), maximum=node.get("maximum"), **common)
    if kind == "boolean":
        return Field(kind="checkbox", **common)
    return Field(kind="text", pattern=node.get("pattern"), max_length=node.get("maxLength"), **common)


def applicant_fields() -> list[Field]:
    return fields_from_schema(Applicant.model_json_schema(), "applicant")


def contact_fields(mobile_required: bool) -> list[Field]:
    fields = fields_from_schema(Contact.model_json_schema(), "contact")
    for f in fields:
        if f.key == "mobile":
            f.kind, f.required, f.pattern = "tel", mobile_required, None
    return fields


def kinds_by_name(fields: list[Field]) -> dict[str, str]:
    """Each input's kind by its name with `#` for any row, to read posted values back."""
    out: dict[str, str] = {}
    for f in fields:
        if f.children:
            out |= kinds_by_name(f.children)
        else:
            out[f.name] = f.kind
    return out


NUMERIC = {"integer", "number", "date", "tel"}


def read_form(items: list[tuple[str, str]], kinds: dict[str, str]) -> dict[str, Any]:
    """Posted `a.b.0.c=value` pairs as nested JSON: blanks left out, rows with nothing in them or marked for
    removal dropped, Bengali digits of numbers and dates made ASCII."""
    removed = tuple(name.removesuffix(REMOVE) for name, value in items if name.endswith("." + REMOVE) and value)
    root: dict[str, Any] = {}
    for name, value in items:
        if removed and name.startswith(removed):
            continue
        pattern = ".".join("#" if part.isdigit() else part for part in name.split("."))
        kind = kinds.get(pattern)
        if kind is None:
            continue  # not a field of this form (csrf, idempotency key, …)
        value = value.strip()
        if kind in NUMERIC:
            value = to_ascii_digits(value)
        if value == "":
            continue
        _put(root, name.split("."), value)
    return _lists(root)


def _put(node: dict, path: list[str], value: Any) -> None:
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _lists(node: Any) -> Any:
    """Dicts keyed by row numbers become lists, in row order."""
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_lists(node[k]) for k in sorted(node, key=int)]
    return {k: _lists(v) for k, v in node.items()}


def value_at(data: dict, name: str) -> Any:
    """The value at a dotted path of what was posted, to fill a form in again."""
    node: Any = data
    for part in name.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
        if node is None:
            return None
    return node


def rows_of(data: dict, table: Field) -> int:
    """How many rows to show: the posted ones, at least the schema's minimum, and always a few empty ones."""
    filled = value_at(data, table.name)
    n = len(filled) if isinstance(filled, list) else 0
    rows = max(n + 1, table.min_rows, TABLE_ROWS)
    return min(rows, table.max_rows) if table.max_rows else rows


def error_name(loc: Sequence[str | int]) -> str:
    """`["body", "details", "heirs", 0, "name_bn"]` as an input name."""
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts)


# pydantic's error types as message keys of api/pages/i18n.py; other errors keep their own words
ERROR_KEYS = {
    "missing": "err_required", "string_pattern_mismatch": "err_pattern", "int_parsing": "err_number",
    "int_from_float": "err_number", "float_parsing": "err_number", "date_parsing": "err_date",
    "date_from_datetime_parsing": "err_date", "greater_than_equal": "err_range", "less_than_equal": "err_range",
    "too_short": "err_too_few", "string_too_short": "err_required",
    "literal_error": "err_choice", "enum": "err_choice", "value_error": None,
}


# the same, known by pydantic's words, for errors that arrive as text (api/services/applications.validate_details)
ERROR_PREFIXES = {
    "Field required": "err_required", "String should match pattern": "err_pattern",
    "Input should be a valid integer": "err_number", "Input should be a valid number": "err_number",
    "Input should be a valid date": "err_date", "List should have at least": "err_too_few",
    "Input should be greater": "err_range",
    "Input should be less": "err_range", "Input should be '": "err_choice",
}


TOO_LONG = re.compile(r"String should have at most (\d+) characters?")


def error_message(kind: str, msg: str) -> str | ApiError:
    """A message key the page can say in the reader's language, else the error's own words; a too-long text as a
    template with its limit (`t` says it with the page's digits)."""
    if too_long := TOO_LONG.match(msg):
        return ApiError.said(N_("Too long: at most {max_length} characters"), max_length=int(too_long.group(1)))
    if key := ERROR_KEYS.get(kind):
        return key
    return next((key for prefix, key in ERROR_PREFIXES.items() if msg.startswith(prefix)), msg)
