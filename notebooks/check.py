#!/usr/bin/env python3
"""Fails unless an executed notebook ran every cell cleanly and shows its pictures.

nbconvert does not fail on a panicking evcxr cell or a top-level `?` error (they only reach
stderr), so this scans the executed notebook: error outputs, panics and errors on stderr,
cells that never ran, and fewer inline PNG pictures than expected.

    check.py EXECUTED.ipynb MIN_PNGS [MIN_HTML_TABLES]
"""
import json
import sys


def main(path, min_pngs, min_tables=0):
    nb = json.load(open(path))
    problems, pngs, tables = [], 0, 0
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]).strip().splitlines()[0:1]
        where = f"cell {i} ({source[0] if source else ''})"
        if cell.get("execution_count") is None:
            problems.append(f"{where}: never ran")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"{where}: {out.get('ename')}: {out.get('evalue')}")
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = "".join(out.get("text", ""))
                if "panicked at" in text or "error" in text.lower():
                    problems.append(f"{where}: stderr: {text.strip()[:300]}")
            if "image/png" in out.get("data", {}):
                pngs += 1
            if "<table>" in "".join(out.get("data", {}).get("text/html", "")):
                tables += 1
    if pngs < min_pngs:
        problems.append(f"{pngs} inline PNG pictures, expected at least {min_pngs}")
    if tables < min_tables:
        problems.append(f"{tables} HTML tables, expected at least {min_tables}")
    for p in problems:
        print(f"{path}: {p}")
    print(f"{path}: {'FAILED' if problems else 'ok'} ({pngs} pictures, {tables} tables)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], *map(int, sys.argv[2:4])))
