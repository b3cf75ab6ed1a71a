"""Fail when user-facing text has no zh-hans translation.

1. Every entry of locale/zh_Hans/LC_MESSAGES/*.po is translated and not fuzzy.
2. The compiled .mo matches the .po (so `make run` needs no gettext tools).
3. When GNU gettext is installed: `makemessages` on a scratch copy of the project finds no msgid
   that the catalogue lacks (text added without `make messages`).
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


def parse_po(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for each entry; plural entries report their first form."""
    entries: list[tuple[str, str, bool]] = []
    msgid: list[str] = []
    msgstr: list[str] = []
    fuzzy = False
    current: list[str] | None = None

    def flush() -> None:
        nonlocal msgid, msgstr, fuzzy
        if msgid or msgstr:
            entries.append(("".join(msgid), "".join(msgstr), fuzzy))
        msgid, msgstr, fuzzy = [], [], False

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


def main() -> int:
    problems: list[str] = []
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
                     "--ignore=benchmarks", "--ignore=tools", "--no-obsolete"],
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
