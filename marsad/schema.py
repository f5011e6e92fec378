"""The schema: entity types, relation types and the argument types each relation allows.

One data file holds it (``marsad/schemas/conflict.yaml`` by default). The validator, training,
the model and the evaluation all take a :class:`Schema`, and a trained model stores the schema it
was trained with, so a user can train on another schema by editing that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import SchemaError

DEFAULT_SCHEMA_FILE = "conflict.yaml"


@dataclass(frozen=True)
class RelationType:
    name: str
    head: tuple[str, ...]
    tail: tuple[str, ...]
    symmetric: bool = False

    def allows(self, head_type: str, tail_type: str) -> bool:
        if head_type in self.head and tail_type in self.tail:
            return True
        return self.symmetric and tail_type in self.head and head_type in self.tail


@dataclass(frozen=True)
class Schema:
    entity_types: tuple[str, ...]
    relation_types: tuple[RelationType, ...] = ()
    name: str = "custom"

    def __post_init__(self) -> None:
        if len(set(self.entity_types)) != len(self.entity_types):
            raise SchemaError(f"schema {self.name}: entity types repeat: {list(self.entity_types)}")
        names = [r.name for r in self.relation_types]
        if len(set(names)) != len(names):
            raise SchemaError(f"schema {self.name}: relation types repeat: {names}")
        for rel in self.relation_types:
            for t in rel.head + rel.tail:
                if t not in self.entity_types:
                    raise SchemaError(f"schema {self.name}: relation {rel.name} names unknown entity type {t}")

    @property
    def relation_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.relation_types)

    def relation(self, name: str) -> RelationType:
        for rel in self.relation_types:
            if rel.name == name:
                return rel
        raise SchemaError(f"unknown relation type {name!r}; schema {self.name} has {list(self.relation_names)}")

    def allowed_relations(self, head_type: str, tail_type: str) -> tuple[str, ...]:
        """The relation types that may link an entity of ``head_type`` to one of ``tail_type``."""
        return tuple(r.name for r in self.relation_types if r.allows(head_type, tail_type))

    def to_dict(self) -> dict[str, Any]:
        rels: dict[str, Any] = {}
        for r in self.relation_types:
            rels[r.name] = {"head": list(r.head), "tail": list(r.tail)}
            if r.symmetric:
                rels[r.name]["symmetric"] = True
        return {"name": self.name, "entity_types": list(self.entity_types), "relation_types": rels}

    @classmethod
    def from_dict(cls, data: Any, source: str = "<schema>") -> "Schema":
        if not isinstance(data, dict) or not _names(data.get("entity_types")):
            raise SchemaError(f"{source}: a schema needs an 'entity_types' list")
        unknown = set(data) - {"name", "entity_types", "relation_types"}
        if unknown:
            raise SchemaError(f"{source}: unknown schema keys {sorted(unknown)}")
        if not isinstance(data.get("relation_types") or {}, dict):
            raise SchemaError(f"{source}: relation_types: needs a mapping from relation name to head and tail")
        rels = []
        for name, spec in (data.get("relation_types") or {}).items():
            if not isinstance(spec, dict) or not _names(spec.get("head")) or not _names(spec.get("tail")):
                raise SchemaError(f"{source}: relation_types.{name}: needs 'head' and 'tail' lists")
            extra = set(spec) - {"head", "tail", "symmetric"}
            if extra:
                raise SchemaError(f"{source}: relation_types.{name}: unknown keys {sorted(extra)}")
            rels.append(RelationType(name, tuple(spec["head"]), tuple(spec["tail"]), bool(spec.get("symmetric", False))))
        try:
            return cls(tuple(data["entity_types"]), tuple(rels), data.get("name", "custom"))
        except SchemaError as e:
            raise SchemaError(f"{source}: {e}") from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")


def _names(value: Any) -> bool:
    """Whether ``value`` is a non-empty list of type names (``head: ACTOR`` is a common slip)."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def load_schema(path: str | Path | None = None) -> Schema:
    """Load a schema file (YAML or JSON); with no path, the packaged conflict-news schema.

    >>> load_schema().entity_types
    ('ACTOR', 'LOCATION', 'WEAPON', 'NUMBER')
    """
    if path is None:
        text = resources.files("marsad.schemas").joinpath(DEFAULT_SCHEMA_FILE).read_text(encoding="utf-8")
        source = DEFAULT_SCHEMA_FILE
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise SchemaError(f"{path}: cannot read schema file: {e.strerror}") from None
        source = str(path)
    try:
        data = yaml.safe_load(text)  # YAML is a superset of JSON, so both load here
    except yaml.YAMLError as e:
        raise SchemaError(f"{source}: not valid YAML/JSON: {e}") from None
    return Schema.from_dict(data, source)
