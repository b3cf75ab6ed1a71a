"""Fill the empty or fuzzy entries of a .po catalogue from a JSON object {msgid: translation}.

    make messages
    python tools/po_fill.py locale/zh_Hans/LC_MESSAGES/django.po new-strings.json
    make messages   # compiles the .mo

Prints the msgids still untranslated. Plural entries are left for hand editing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _unquote(lines: list[str]) -> str:
    return "".join(json.loads(line) for line in lines if line.startswith('"'))


def _is_fuzzy_flag(line: str) -> bool:
    return line.startswith("#,") and "fuzzy" in line


def fill(entry: str, translations: dict[str, str], missing: list[str]) -> str:
    lines = entry.split("\n")
    starts = [n for n, line in enumerate(lines) if line.startswith("msgid ")]
    ends = [n for n, line in enumerate(lines) if line.startswith("msgstr")]
    if not starts or not ends or any(line.startswith("msgid_plural") for line in lines):
        return entry
    first, last = starts[0], ends[0]
    msgid = _unquote([lines[first][6:], *lines[first + 1:last]])
    msgstr = _unquote([lines[last][7:], *lines[last + 1:]])
    fuzzy = any(_is_fuzzy_flag(line) for line in lines)
    if msgid == "":  # the header
        return "\n".join(line for line in lines if line != "#, fuzzy")
    if msgstr and not fuzzy:
        return entry
    if msgid not in translations:
        missing.append(msgid)
        return entry
    head: list[str] = []
    for line in lines[:last]:
        if _is_fuzzy_flag(line):
            flags = [flag.strip() for flag in line[2:].split(",") if flag.strip() != "fuzzy"]
            if flags:
                head.append("#, " + ", ".join(flags))
        elif not line.startswith("#| "):
            head.append(line)
    return "\n".join([*head, "msgstr " + json.dumps(translations[msgid], ensure_ascii=False)])


def main(po_path: str, json_path: str) -> int:
    translations = json.loads(Path(json_path).read_text(encoding="utf-8"))
    po = Path(po_path)
    missing: list[str] = []
    entries = [fill(entry, translations, missing) for entry in po.read_text(encoding="utf-8").split("\n\n")]
    po.write_text("\n\n".join(entries), encoding="utf-8")
    print(f"still untranslated: {len(missing)}")
    for msgid in missing:
        print(json.dumps(msgid, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
