"""SQL files run over the de-identified zone's tables: ``${name}`` variables and statement splitting.

Used by ``deploy/run_sql.py`` (job task) and available to ``deid sql``. Variables are plain
identifiers only: they end up in DDL unquoted.
"""

from __future__ import annotations

import re

from deid.errors import SqlFileError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def parse_vars(items: list[str]) -> dict[str, str]:
    """``name=value`` pairs; names and values must be identifiers (they end up in DDL unquoted)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not _IDENT.match(name) or not _IDENT.match(value):
            raise SqlFileError(f"--var expects name=identifier, got {item.split('=')[0]!r}=...")
        out[name] = value
    return out


def render(sql: str, variables: dict[str, str]) -> str:
    """Replace ``${name}``; a variable the file uses but nobody gave is an error."""
    missing = sorted({m for m in _VAR.findall(sql) if m not in variables})
    if missing:
        raise SqlFileError("variables not given: " + ", ".join(missing))
    return _VAR.sub(lambda m: variables[m.group(1)], sql)


def split_statements(sql: str) -> list[str]:
    """Statements separated by ``;`` outside quotes, ``--`` comments removed."""
    statements: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(sql):
        c = sql[i]
        if quote:
            buf.append(c)
            if c == quote:
                quote = None
        elif c in ("'", '"', "`"):
            quote = c
            buf.append(c)
        elif c == "-" and sql.startswith("--", i):
            nl = sql.find("\n", i)
            i = len(sql) if nl < 0 else nl
            continue
        elif c == ";":
            statements.append("".join(buf).strip())
            buf = []
        else:
            buf.append(c)
        i += 1
    statements.append("".join(buf).strip())
    return [s for s in statements if s]
