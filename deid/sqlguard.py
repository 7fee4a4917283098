"""``deid sql`` is read-only over the registered views: a conservative allowlist, then Spark.

A query is accepted only when it is **one** ``SELECT`` or ``WITH`` statement whose ``FROM``/``JOIN``
sources are registered views, CTE names, subqueries or ``VALUES``/``range``, and that holds none of:
DDL/DML/session words (``INSERT``, ``DIRECTORY``, ``CREATE``, ``SET``, ...), functions that reach out
of the views (``reflect``, ``java_method``, ``read_files``, ``secret``, ``IDENTIFIER(...)``) and
direct file queries (``parquet.`/path` ``, any quoted name with ``/``, ``:`` or ``\\``). The session
also runs with ``spark.sql.runSQLOnFiles=false``. Refusals are :class:`deid.errors.SqlRefusedError`
naming the rule, never the query text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from deid.errors import SqlRefusedError

DENIED_WORDS = frozenset([
    "INSERT", "INTO", "DIRECTORY", "OVERWRITE", "CREATE", "DROP", "ALTER", "DELETE", "UPDATE", "MERGE",
    "TRUNCATE", "LOAD", "CACHE", "UNCACHE", "REFRESH", "SET", "RESET", "ADD", "LIST", "GRANT", "REVOKE",
    "MSCK", "ANALYZE", "USE", "DESCRIBE", "DESC_TABLE", "SHOW", "EXPLAIN", "REPAIR", "EXPORT", "IMPORT",
    "COPY", "OPTIMIZE", "VACUUM", "RESTORE", "CLONE", "CALL", "EXECUTE", "EXEC", "DECLARE", "REFLECT",
    "JAVA_METHOD", "TRY_REFLECT", "READ_FILES", "SECRET", "IDENTIFIER", "HTTP_REQUEST", "LOCATION",
    "OPTIONS", "TBLPROPERTIES"
])
FILE_FORMATS = frozenset([
    "PARQUET", "DELTA", "JSON", "CSV", "ORC", "TEXT", "AVRO", "BINARYFILE", "JDBC", "HIVE", "FILE",
    "XML", "CLOUDFILES"
])
_ALLOWED_SOURCES = frozenset({"VALUES", "RANGE", "LATERAL"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "quoted" (backtick identifier), "string", "punct"
    text: str


def tokenize(sql: str) -> list[Token]:
    """Words, backtick identifiers, string literals and punctuation; comments dropped."""
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
        elif sql.startswith("--", i):
            nl = sql.find("\n", i)
            i = n if nl < 0 else nl + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise SqlRefusedError("the query has an unterminated comment")
            i = end + 2
        elif c in "'\"`":
            j = i + 1
            while j < n and sql[j] != c:
                j += 2 if sql[j] == "\\" and c != "`" else 1
            if j >= n:
                raise SqlRefusedError("the query has an unterminated quote")
            tokens.append(Token("quoted" if c == "`" else "string", sql[i + 1:j]))
            i = j + 1
        elif m := _WORD.match(sql, i):
            tokens.append(Token("word", m.group(0).upper()))
            i = m.end()
        else:
            tokens.append(Token("punct", c))
            i += 1
    return tokens


def _cte_names(tokens: list[Token]) -> set[str]:
    """Names defined by ``WITH name AS (`` / ``, name AS (``."""
    names: set[str] = set()
    for k in range(len(tokens) - 2):
        a, b, c = tokens[k], tokens[k + 1], tokens[k + 2]
        if a.kind in ("word", "quoted") and b.text == "AS" and c.text == "(":
            names.add(a.text.upper())
    return names


_FROM_FUNCTIONS = frozenset({"EXTRACT", "TRIM", "SUBSTRING", "SUBSTR", "OVERLAY", "POSITION"})


def _in_function_call(tokens: list[Token]) -> list[bool]:
    """Per token: inside the parentheses of ``EXTRACT(... FROM ...)`` and the like."""
    flags, stack = [], []
    for k, tok in enumerate(tokens):
        if tok.text == "(":
            prev = tokens[k - 1] if k else None
            stack.append(prev is not None and prev.kind == "word" and prev.text in _FROM_FUNCTIONS)
        elif tok.text == ")" and stack:
            stack.pop()
        flags.append(bool(stack) and stack[-1])
    return flags


def _sources(tokens: list[Token]) -> Iterable[tuple[Token, Token | None]]:
    """(first token after FROM/JOIN or after a comma of a FROM list, the token after it)."""
    in_call = _in_function_call(tokens)
    for k, tok in enumerate(tokens):
        if in_call[k]:
            continue
        if tok.kind == "word" and tok.text in ("FROM", "JOIN") and k + 1 < len(tokens):
            yield tokens[k + 1], tokens[k + 2] if k + 2 < len(tokens) else None
            j = k + 2  # comma-separated FROM list at the same depth
            depth = 0
            while j < len(tokens):
                t = tokens[j]
                if t.text == "(":
                    depth += 1
                elif t.text == ")":
                    depth -= 1
                    if depth < 0:
                        break
                elif depth == 0 and t.kind == "word" and t.text in ("WHERE", "GROUP", "ORDER", "HAVING", "LIMIT",
                                                                    "JOIN", "UNION", "SELECT", "WINDOW"):
                    break
                elif depth == 0 and t.text == "," and j + 1 < len(tokens):
                    yield tokens[j + 1], tokens[j + 2] if j + 2 < len(tokens) else None
                j += 1


def check_read_only(query: str, views: Iterable[str]) -> str:
    """The query, stripped of a trailing ``;``, when it is one read-only SELECT over ``views``."""
    tokens = tokenize(query)
    while tokens and tokens[-1].text == ";":
        tokens.pop()
    if not tokens:
        raise SqlRefusedError("the query is empty")
    if any(t.kind == "punct" and t.text == ";" for t in tokens):
        raise SqlRefusedError("one statement only")
    first = next((t for t in tokens if t.text != "("), tokens[0])
    if first.kind != "word" or first.text not in ("SELECT", "WITH"):
        raise SqlRefusedError("only a SELECT (or WITH ... SELECT) query is allowed")
    for k, tok in enumerate(tokens):
        if tok.kind == "word" and tok.text in DENIED_WORDS:
            raise SqlRefusedError(f"'{tok.text}' is not allowed: deid sql is read-only over the views")
        if tok.kind == "quoted" and any(ch in tok.text for ch in "/:\\"):
            raise SqlRefusedError("direct file queries are not allowed; query the views")
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if tok.kind == "word" and tok.text in FILE_FORMATS and nxt is not None and nxt.text == ".":
            raise SqlRefusedError("direct file queries are not allowed; query the views")
    allowed = {v.upper() for v in views} | _cte_names(tokens) | _ALLOWED_SOURCES
    for src, after in _sources(tokens):
        if src.text == "(":
            continue
        if src.kind not in ("word", "quoted") or src.text.upper() not in allowed:
            raise SqlRefusedError("only the registered views can be queried: " + ", ".join(sorted(views)))
        if after is not None and after.text == ".":
            raise SqlRefusedError("qualified names are not allowed; query the views by their name")
    return query.strip().rstrip(";").strip()


READ_ONLY_CONF = {"spark.sql.runSQLOnFiles": "false"}
