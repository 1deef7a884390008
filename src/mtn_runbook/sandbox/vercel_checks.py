"""The checks the real Vercel API applies to an env var body (a create item, an edit), each
answering the reason it would give for a 400, or None.

No unknown field; `key` letters, digits and underscores, not starting with a digit; `value` a
string ("" is stored, as Vercel does); `type` encrypted, sensitive or plain; `target` a non-empty
array (never a string) of production, preview, development, and no development for a sensitive
var; `visibility` config or secret (the vercel CLI 60 sends it along with `type`).
"""

from __future__ import annotations

import re
from typing import Any

TARGETS = ("production", "preview", "development")
TYPES = ("encrypted", "sensitive", "plain")
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FIELDS = {"key", "value", "type", "target", "gitBranch", "comment", "customEnvironmentIds", "visibility"}
VISIBILITIES = ("config", "secret")   # the vercel CLI 60 sends it along with `type`


def check_item(item: Any) -> str | None:
    """The reason the real API would reject this env var body, or None."""
    if not isinstance(item, dict):
        return "Invalid request: body should be object or array of objects."
    for name in ("key", "value", "type", "target"):
        if name not in item:
            return f"Invalid request: missing required property `{name}`."
    return check_fields(item)


def check_fields(item: dict) -> str | None:
    """Body fields of a create or an edit: no unknown field, `target` an array (never a string)."""
    extra = sorted(set(item) - FIELDS)
    if extra:
        return f"Invalid request: should NOT have additional property `{extra[0]}`."
    if "key" in item and (not isinstance(item["key"], str) or not KEY_RE.match(item["key"])):
        return ("The name of your Environment Variable contains invalid characters. Only letters, digits, "
                "and underscores are allowed. Furthermore, the name should not start with a digit.")
    if "value" in item and not isinstance(item["value"], str):
        return "Invalid request: `value` should be string."   # "" is stored, as Vercel does
    if "type" in item and item["type"] not in TYPES:
        return f"Invalid request: `type` should be equal to one of the allowed values \"{', '.join(TYPES)}\"."
    if "target" in item:
        target = item["target"]
        if not isinstance(target, list) or not target or any(t not in TARGETS for t in target):
            return "Invalid request: `target` should be array of \"production\", \"preview\", \"development\"."
        if item.get("type") == "sensitive" and "development" in target:
            return "Sensitive Environment Variables cannot be created in the Development environment."
    for name in ("gitBranch", "comment"):
        if item.get(name) is not None and not isinstance(item[name], str):
            return f"Invalid request: `{name}` should be string."
    if "visibility" in item and item["visibility"] not in VISIBILITIES:
        return "Invalid request: `visibility` should be equal to one of the allowed values \"config, secret\"."
    if "customEnvironmentIds" in item and not isinstance(item["customEnvironmentIds"], list):
        return "Invalid request: `customEnvironmentIds` should be array."
    return None
