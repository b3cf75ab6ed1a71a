"""Fail when user-facing text has no zh-hans translation.

1. Every entry of locale/zh_Hans/LC_MESSAGES/*.po is translated and not fuzzy.
2. The compiled .mo matches the .po (so `make run` needs no gettext tools).
3. When GNU gettext is installed: `makemessages` on a scratch copy of the project finds no msgid
   that the catalogue lacks (text added without `make messages`).
4. Every history change reason the code stores as a literal (``save_with_history(..., reason="...")``,
   ``obj._change_reason = "..."``, an f-string, ``"a" + ("b" if c else "")``) is listed in
   ``organisations/reasons.py``, whose entries the catalogue translates (1 and 3): timelines and the
   history page show reasons to users in the page's language.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
APPS = ("cases", "workflows", "notifications", "organisations", "indicators")
# Calls whose ``reason=`` becomes a history row's change reason.
REASON_CALLS = {"save_with_history", "record_save", "membership_grant", "membership_revoke", "_set_pregnancy_colour"}
SLOT = "\x00"  # stands for an f-string's {value} when matching a reason pattern


def parse_po(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for each entry; plural entries report their first form. A msgid with a
    context (pgettext) is reported as ``context + "\\x04" + msgid``, as gettext keys it."""
    entries: list[tuple[str, str, bool]] = []
    msgctxt: list[str] = []
    msgid: list[str] = []
    msgstr: list[str] = []
    fuzzy = False
    current: list[str] | None = None

    def flush() -> None:
        nonlocal msgctxt, msgid, msgstr, fuzzy
        if msgid or msgstr:
            key = "".join(msgid)
            entries.append((f"{''.join(msgctxt)}\x04{key}" if msgctxt else key, "".join(msgstr), fuzzy))
        msgctxt, msgid, msgstr, fuzzy = [], [], [], False

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            flush()
            current = None
        elif line.startswith("#") and msgstr:
            flush()
            fuzzy = line.startswith("#,") and "fuzzy" in line
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid_plural"):
            current = None
        elif line.startswith("msgctxt "):
            if msgstr:
                flush()
            current = msgctxt
            current.append(ast.literal_eval(line[8:]))
        elif line.startswith("msgid "):
            if msgstr:
                flush()
            current = msgid
            current.append(ast.literal_eval(line[6:]))
        elif line.startswith("msgstr[0] ") or line.startswith("msgstr "):
            current = msgstr
            current.append(ast.literal_eval(line.split(" ", 1)[1]))
        elif line.startswith("msgstr["):
            current = None
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
    return entries


def _reason_texts(node: ast.expr) -> list[str] | None:
    """The texts a reason expression can store, with SLOT for each variable part; None when it is a
    plain variable (its literal is checked where it is written)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        text = ""
        for part in node.values:
            text += part.value if isinstance(part, ast.Constant) else SLOT
        return [text]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _reason_texts(node.left), _reason_texts(node.right)
        if left is None or right is None:
            return None
        return [a + b for a in left for b in right]
    if isinstance(node, ast.IfExp):
        return (_reason_texts(node.body) or []) + (_reason_texts(node.orelse) or [])
    if isinstance(node, ast.BoolOp):  # ``data["reason"] or "roster page"``: check the literals
        return [text for value in node.values for text in (_reason_texts(value) or [])]
    return None


def stored_reasons(source: str, filename: str = "<string>") -> list[tuple[int, str]]:
    """(line, text) of every literal history change reason in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        expressions: list[ast.expr] = []
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "_change_reason" for t in node.targets):
            expressions.append(node.value)
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in REASON_CALLS:
                expressions += [k.value for k in node.keywords if k.arg == "reason"]
        for expression in expressions:
            found += [(expression.lineno, text) for text in _reason_texts(expression) or []]
    return found


def reason_problems(root: Path = ROOT) -> list[str]:
    """Stored reasons that ``organisations/reasons.py`` neither lists nor matches with a pattern."""
    sys.path.insert(0, str(root))
    try:
        from organisations.reasons import reason_known
    finally:
        sys.path.remove(str(root))
    problems = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            for line, text in stored_reasons(path.read_text(encoding="utf-8"), str(path)):
                if not reason_known(text.replace(SLOT, "x")):
                    shown = text.replace(SLOT, "{…}")
                    problems.append(f"{path.relative_to(root)}:{line}: history reason {shown!r} is not in "
                                    "organisations/reasons.py (add it there and translate it)")
    return problems


def main() -> int:
    problems: list[str] = reason_problems()
    catalogues = sorted(LOCALE.glob("*.po"))
    if not catalogues:
        print("no zh_Hans catalogue found")
        return 1
    known: dict[str, set[str]] = {}
    for po in catalogues:
        entries = parse_po(po)
        known[po.stem] = {msgid for msgid, _s, _f in entries}
        for msgid, msgstr, fuzzy in entries:
            if not msgid:
                continue
            if fuzzy:
                problems.append(f"{po.name}: fuzzy translation for {msgid!r}")
            elif not msgstr:
                problems.append(f"{po.name}: no translation for {msgid!r}")
        mo = po.with_suffix(".mo")
        if shutil.which("msgfmt"):
            with tempfile.TemporaryDirectory() as tmp:
                fresh = Path(tmp) / "fresh.mo"
                subprocess.run(["msgfmt", "-o", str(fresh), str(po)], check=True)  # noqa: S603, S607
                if not mo.exists() or fresh.read_bytes() != mo.read_bytes():
                    problems.append(f"{mo.name} is stale: run `make messages`")
        elif not mo.exists():
            problems.append(f"{mo.name} is missing: run `make messages`")

    if shutil.which("xgettext"):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "anmu"
            shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
                ".venv", ".git", "staticfiles", "media", "*.sqlite3*", "__pycache__", "node_modules"))
            for domain in known:
                subprocess.run(  # noqa: S603
                    [sys.executable, "manage.py", "makemessages", "-d", domain, "-l", "zh_Hans", "--ignore=tests",
                     "--ignore=benchmarks", "--ignore=tools", "--ignore=static/vendor", "--no-obsolete"],
                    cwd=copy, check=True, capture_output=True, env={"DEBUG": "1", "PATH": "/usr/bin:/bin"},
                )
                extracted = {m for m, _s, _f in parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po")}
                for msgid in sorted(extracted - known[domain]):
                    problems.append(f"{domain}.po lacks {msgid!r}: run `make messages` and translate it")
    for problem in problems:
        print(problem)
    if not problems:
        print(f"translations complete: {', '.join(p.name for p in catalogues)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
