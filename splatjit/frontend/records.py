"""Fast constructors for the frozen, slotted dataclasses the loader makes by the thousand.

Contract: `maker(cls)` returns `make(*values)`, which builds the same object as
`cls(*values)` given every field positionally, in field order: equal to it, of the same
class, with the same slots set. It skips what a generated frozen `__init__` pays for: one
`object.__setattr__` call per field (the frozen class refuses plain assignment). It runs
no `__post_init__` (so `cls` must not have one: checked here) and takes no defaults: every
field is given.
"""
from __future__ import annotations

import dataclasses
from typing import Callable


def maker(cls: type) -> Callable:
    """The fast positional constructor of frozen slotted dataclass `cls` (see the module)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen slotted dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__")
    names = [f.name for f in dataclasses.fields(cls)]
    env = {"NEW": object.__new__, "cls": cls}
    lines = [f"def make({', '.join(names)}):", "    o = NEW(cls)"]
    for k, name in enumerate(names):
        env[f"set{k}"] = cls.__dict__[name].__set__  # the slot's member descriptor
        lines.append(f"    set{k}(o, {name})")
    lines.append("    return o")
    exec(compile("\n".join(lines) + "\n", f"<make {cls.__name__}>", "exec"), env)  # noqa: S102
    make = env["make"]
    make.__doc__ = f"`{cls.__name__}(*fields)`, without the frozen constructor's setattr calls."
    return make
