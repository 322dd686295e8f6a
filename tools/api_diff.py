"""Compare the public Python API of two renders of the generated layer (``make api-diff``).

The public API is what users reach: each resource (``client.<tag>``) with its methods and
their parameters and return types, each exported model with its fields, and each
exported enum with its members. Both sides are read statically with griffe (nothing is
imported), so an old render whose imports no longer resolve can still be compared.

Severity rules (breaking = code written against the old API may stop working):

* removed resource, method, parameter, model, field or enum member: breaking;
* a field renamed (one removed and one added with the same type): breaking;
* added method, model, enum member, optional parameter or optional field: not breaking;
* added required parameter or required field: breaking;
* a parameter moved, made keyword-only/positional, or given another default: breaking;
* a changed annotation (parameter, return or field type): breaking (conservative: a type
  can only be judged compatible by reading it).

Usage: ``python tools/api_diff.py OLD_DIR NEW_DIR [--json] [--fail-on-breaking]``, where
each directory is a ``_generated`` package; ``make api-diff REF=<git ref>`` renders the
current spec and compares it with the package committed at the ref.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import griffe

__all__ = ["Api", "Change", "compare", "load_api", "main", "render_report"]


@dataclass(frozen=True)
class Param:
    """One parameter of a resource method."""

    name: str
    kind: str
    default: str | None
    annotation: str


@dataclass(frozen=True)
class Method:
    """One resource method: parameters (without ``self``) and return annotation."""

    params: tuple[Param, ...]
    returns: str


@dataclass(frozen=True)
class Field:
    """One model field: annotation and whether the model's constructor requires it."""

    annotation: str
    required: bool


@dataclass
class Api:
    """A snapshot of the public API of one render."""

    resources: dict[str, dict[str, Method]] = field(default_factory=dict)
    models: dict[str, dict[str, Field]] = field(default_factory=dict)
    enums: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One difference: ``kind`` is added / removed / renamed / changed."""

    kind: str
    what: str
    path: str
    breaking: bool
    detail: str = ""


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _method(function: griffe.Function) -> Method:
    params = tuple(
        Param(p.name, p.kind.value if p.kind else "", _text(p.default), str(p.annotation or ""))
        for p in function.parameters
        if p.name != "self"
    )
    return Method(params, str(function.returns or ""))


def _resource_classes(api: griffe.Module) -> Iterable[tuple[str, griffe.Class]]:
    for tag, module in sorted(api.modules.items()):
        for name, member in module.members.items():
            if (
                isinstance(member, griffe.Class)
                and name.endswith("Resource")
                and member.parent is module
            ):
                yield tag, member


def _public_methods(cls: griffe.Class) -> dict[str, Method]:
    return {
        name: _method(member)
        for name, member in cls.members.items()
        if isinstance(member, griffe.Function) and not name.startswith("_")
    }


def _is_enum(cls: griffe.Class) -> bool:
    return any(str(base).split(".")[-1] in {"Enum", "StrEnum", "IntEnum"} for base in cls.bases)


def _fields(cls: griffe.Class) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for name, member in cls.members.items():
        if (
            isinstance(member, griffe.Attribute)
            and not name.startswith("_")
            and name != "additional_properties"
            and "property" not in member.labels
            and member.annotation is not None
        ):
            out[name] = Field(str(member.annotation), required=member.value is None)
    return out


def load_api(generated_dir: Path) -> Api:
    """Read the resources, models and enums of the ``_generated`` package at ``generated_dir``."""
    package = griffe.load(
        generated_dir.name,
        search_paths=[str(generated_dir.parent)],
        resolve_aliases=False,
        allow_inspection=False,
    )
    assert isinstance(package, griffe.Module)
    snapshot = Api()
    api = package.members.get("api")
    if isinstance(api, griffe.Module):
        for tag, cls in _resource_classes(api):
            snapshot.resources[tag] = _public_methods(cls)
    models = package.members.get("models")
    if isinstance(models, griffe.Module):
        exported = {str(name) for name in (models.exports or [])}
        for module in models.modules.values():
            for name, member in module.members.items():
                if not isinstance(member, griffe.Class) or name not in exported:
                    continue
                if member.parent is not module:
                    continue
                if _is_enum(member):
                    snapshot.enums[name] = {
                        n for n, m in member.members.items() if isinstance(m, griffe.Attribute)
                    }
                else:
                    snapshot.models[name] = _fields(member)
    return snapshot


def _signature(method: Method) -> str:
    parts = []
    for p in method.params:
        default = "" if p.default is None else f"={p.default}"
        parts.append(f"{p.name}{default}")
    return f"({', '.join(parts)}) -> {method.returns}"


def _param_changes(where: str, old: Param, new: Param, moved: bool) -> list[Change]:
    """Changes of one parameter present on both sides."""
    changes: list[Change] = []
    if old.kind != new.kind:
        changes.append(Change("changed", "parameter", where, True, f"{old.kind} -> {new.kind}"))
    elif moved and new.kind.startswith("positional"):
        changes.append(Change("changed", "parameter", where, True, "position changed"))
    if old.default != new.default:
        detail = f"default {old.default} -> {new.default}"
        changes.append(Change("changed", "parameter", where, True, detail))
    if old.annotation != new.annotation:
        detail = f"type {old.annotation} -> {new.annotation}"
        changes.append(Change("changed", "parameter", where, True, detail))
    return changes


def _compare_params(path: str, old: Method, new: Method) -> list[Change]:
    changes: list[Change] = []
    before = {p.name: (i, p) for i, p in enumerate(old.params)}
    after = {p.name: (i, p) for i, p in enumerate(new.params)}
    for name in before.keys() - after.keys():
        changes.append(Change("removed", "parameter", f"{path}({name})", True))
    for name, (i, param) in after.items():
        where = f"{path}({name})"
        if name in before:
            j, previous = before[name]
            changes += _param_changes(where, previous, param, moved=i != j)
            continue
        optional = param.default is not None or param.kind.startswith("variadic")
        detail = "optional" if optional else "required"
        changes.append(Change("added", "parameter", where, not optional, detail))
    return changes


def _compare_resources(old: Api, new: Api) -> list[Change]:
    changes: list[Change] = []
    for tag in sorted(old.resources.keys() | new.resources.keys()):
        before, after = old.resources.get(tag), new.resources.get(tag)
        if after is None:
            changes.append(Change("removed", "resource", f"client.{tag}", True))
        elif before is None:
            changes.append(Change("added", "resource", f"client.{tag}", False))
        for name in sorted((before or {}).keys() | (after or {}).keys()):
            path = f"client.{tag}.{name}"
            m_old, m_new = (before or {}).get(name), (after or {}).get(name)
            if m_new is None:
                changes.append(Change("removed", "method", path, True))
            elif m_old is None:
                changes.append(Change("added", "method", path, False, _signature(m_new)))
            else:
                changes += _compare_params(path, m_old, m_new)
                if m_old.returns != m_new.returns:
                    detail = f"returns {m_old.returns} -> {m_new.returns}"
                    changes.append(Change("changed", "method", path, True, detail))
    return changes


def _compare_fields(model: str, old: dict[str, Field], new: dict[str, Field]) -> list[Change]:
    removed = sorted(old.keys() - new.keys())
    added = sorted(new.keys() - old.keys())
    changes: list[Change] = []
    if len(removed) == 1 and len(added) == 1:
        (gone,), (came,) = removed, added
        if old[gone].annotation == new[came].annotation:
            path = f"{model}.{gone} -> {model}.{came}"
            return [Change("renamed", "field", path, True, new[came].annotation)]
    for name in removed:
        changes.append(Change("removed", "field", f"{model}.{name}", True))
    for name in added:
        required = new[name].required
        detail = ("required " if required else "optional ") + new[name].annotation
        changes.append(Change("added", "field", f"{model}.{name}", required, detail))
    for name in sorted(old.keys() & new.keys()):
        before, after = old[name], new[name]
        if before.annotation != after.annotation:
            detail = f"type {before.annotation} -> {after.annotation}"
            changes.append(Change("changed", "field", f"{model}.{name}", True, detail))
        if after.required and not before.required:
            changes.append(Change("changed", "field", f"{model}.{name}", True, "now required"))
    return changes


def _compare_models(old: Api, new: Api) -> list[Change]:
    changes: list[Change] = []
    for model in sorted(old.models.keys() | new.models.keys()):
        if model not in new.models:
            changes.append(Change("removed", "model", model, True))
        elif model not in old.models:
            changes.append(Change("added", "model", model, False))
        else:
            changes += _compare_fields(model, old.models[model], new.models[model])
    for enum in sorted(old.enums.keys() | new.enums.keys()):
        before, after = old.enums.get(enum), new.enums.get(enum)
        if after is None:
            changes.append(Change("removed", "enum", enum, True))
        elif before is None:
            changes.append(Change("added", "enum", enum, False))
        else:
            changes += [
                Change("removed", "enum member", f"{enum}.{m}", True)
                for m in sorted(before - after)
            ]
            changes += [
                Change("added", "enum member", f"{enum}.{m}", False) for m in sorted(after - before)
            ]
    return changes


def compare(old: Api, new: Api) -> list[Change]:
    """Every difference between two snapshots, breaking ones flagged."""
    return _compare_resources(old, new) + _compare_models(old, new)


def render_report(changes: list[Change], *, old_label: str, new_label: str) -> str:
    """A plain-text report: one line per change, breaking ones first, and a summary."""
    lines = [f"public API: {old_label} -> {new_label}"]
    if not changes:
        lines.append("no changes to the public API")
        return "\n".join(lines)
    for change in sorted(changes, key=lambda c: (not c.breaking, c.what, c.path)):
        flag = "BREAKING" if change.breaking else "ok      "
        detail = f"  ({change.detail})" if change.detail else ""
        lines.append(f"{flag}  {change.kind:<8} {change.what:<11} {change.path}{detail}")
    breaking = sum(c.breaking for c in changes)
    lines.append(f"{len(changes)} changes, {breaking} breaking")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: compare two ``_generated`` directories and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the old _generated package directory")
    parser.add_argument("new", type=Path, help="the new _generated package directory")
    parser.add_argument("--old-label", default="old")
    parser.add_argument("--new-label", default="new")
    parser.add_argument("--json", action="store_true", help="print the changes as JSON")
    parser.add_argument(
        "--fail-on-breaking", action="store_true", help="exit 1 when a change is breaking"
    )
    args = parser.parse_args(argv)
    changes = compare(load_api(args.old), load_api(args.new))
    if args.json:
        payload: dict[str, Any] = {
            "old": args.old_label,
            "new": args.new_label,
            "changes": [asdict(c) for c in changes],
            "breaking": sum(c.breaking for c in changes),
        }
        print(json.dumps(payload, indent=2))
    else:
        print(render_report(changes, old_label=args.old_label, new_label=args.new_label))
    return 1 if args.fail_on_breaking and any(c.breaking for c in changes) else 0


if __name__ == "__main__":
    sys.exit(main())
