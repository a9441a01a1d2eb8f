"""Which scenario parameters a piece of code reads: a recording view of a scenario.

    seen = set()
    tracked = track(scenario, seen)
    compile_replicate(tracked, key)            # any consumer, called with the view
    seen                                       # {'inflow.first', 'dublin.share', ...}

A declared parameter (``schema.param``) is recorded as a whole when read; a section is walked.
Properties of a section (``simulation.grid_start``) are evaluated on the view, so the fields they
read are recorded too. The test suite uses it to find declared parameters that nothing consumes.
"""

from __future__ import annotations

from pydantic import BaseModel


class Tracked:
    """A read-only view of a scenario (or one of its sections) that records the parameters read."""

    __slots__ = ("_model", "_prefix", "_seen")

    def __init__(self, model: BaseModel, prefix: str, seen: set[str]):
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_seen", seen)

    def __getattr__(self, name: str):
        model = object.__getattribute__(self, "_model")
        cls = type(model)
        fields = cls.model_fields
        if name in fields:
            f = fields[name]
            key = object.__getattribute__(self, "_prefix") + (f.alias or name)
            value = getattr(model, name)
            declared = isinstance(f.json_schema_extra, dict)
            seen = object.__getattribute__(self, "_seen")
            if declared or not isinstance(value, BaseModel):
                seen.add(key)
                return value
            return Tracked(value, key + ".", seen)
        attr = getattr(cls, name, None)
        if isinstance(attr, property):
            return attr.fget(self)  # the property reads its fields through the view
        return getattr(model, name)

    def __setattr__(self, name, value):
        raise AttributeError("a scenario is frozen")

    def __reduce__(self):
        raise TypeError("a tracked scenario view cannot be pickled; use a serial run")


def track(scenario: BaseModel, seen: set[str]) -> Tracked:
    """A recording view of ``scenario`` that adds every parameter read to ``seen``."""
    return Tracked(scenario, "", seen)
