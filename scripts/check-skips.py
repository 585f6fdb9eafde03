#!/usr/bin/env python3
"""Fails when a test skipped (printed a line starting with `SKIP:`) that the allowlist does not name.

On CI every prerequisite is installed, so a test that skips has not tested anything: that is a
failure, unless this host cannot do what the test needs (the allowlist says why).

usage: check-skips.py JUNIT_XML ALLOWLIST
"""
import re
import sys
import xml.etree.ElementTree as ET


def main() -> int:
    junit, allowlist = sys.argv[1], sys.argv[2]
    allowed = {}
    with open(allowlist, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            if not reason.strip():
                print(f"{allowlist}: {name}: an allowed skip needs a reason", file=sys.stderr)
                return 2
            allowed[name] = reason.strip()
    skipped = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        text = " ".join((e.text or "") for e in case.iter() if e.tag in ("system-out", "system-err"))
        reasons = [m.group(1).strip() for m in re.finditer(r"^SKIP:(.*)$", text, re.M)]
        if reasons:
            skipped[name] = reasons
    unexpected = {n: r for n, r in skipped.items() if not any(a in n for a in allowed)}
    for name, reasons in sorted(skipped.items()):
        mark = "allowed" if name not in unexpected else "NOT ALLOWED"
        print(f"skipped ({mark}): {name}: {'; '.join(reasons)}")
    print(f"{len(skipped)} skipped, {len(unexpected)} not on the allowlist")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
