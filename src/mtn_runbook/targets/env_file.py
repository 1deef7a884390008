"""The bytes of an env file, and the one `KEY=value` line a push owns in it.

Only that line changes (every other byte stays as it was; the line is appended when missing),
and a quoted value stays quoted.
"""

from __future__ import annotations


def _eol(line: bytes) -> bytes:
    return line[len(line.rstrip(b"\r\n")):]


class EnvFile:
    """The bytes of an env file, and the one variable in it this target owns."""

    def __init__(self, content: bytes, key: str):
        self.content, self.key = content, key.encode("ascii")
        self.lines = content.splitlines(keepends=True)

    def _split(self, line: bytes) -> tuple[bytes, bytes] | None:
        """(prefix, raw value) when `line` assigns the key, e.g. `MTN_SESSION=...` or `export MTN_SESSION=...`."""
        body = line.rstrip(b"\r\n")
        head, sep, rest = body.partition(self.key + b"=")
        bare = head.strip(b" \t")
        if sep and (bare == b"" or (bare == b"export" and head.endswith((b" ", b"\t")))):
            return head, rest
        return None

    def values(self) -> list[str]:
        found = []
        for line in self.lines:
            split = self._split(line)
            if split:
                raw = split[1].strip()
                if len(raw) >= 2 and raw[:1] in (b'"', b"'") and raw[-1:] == raw[:1]:
                    raw = raw[1:-1]
                found.append(raw.decode("utf-8", "replace"))
        return found

    def with_value(self, value: str) -> bytes:
        new, replaced = [], False
        for line in self.lines:
            split = self._split(line)
            if split is None:
                new.append(line)
                continue
            prefix, raw = split
            quote = raw.strip()[:1] if raw.strip()[:1] in (b'"', b"'") else b""
            new.append(prefix + self.key + b"=" + quote + value.encode("utf-8") + quote + _eol(line))
            replaced = True
        if not replaced:
            if new and not new[-1].endswith(b"\n"):
                new[-1] += b"\n"
            new.append(self.key + b"=" + value.encode("utf-8") + b"\n")
        return b"".join(new)
