"""Summarise an Autobahn|Testsuite fuzzingserver report (``conformance/reports/index.json``).

    python conformance/summarise.py [--outdir conformance/reports] [--agent NAME] [--markdown]

Prints, per case group (1..13 = the first component of the case id), how many
cases got each verdict, then every FAILED case with the reason taken from its
per-case JSON report. With several agents in the report and no ``--agent``,
each agent is summarised in turn. Exit status: 0 if no case FAILED and no
close-handshake problem, 1 otherwise, 3 if no report was found.

Verdicts: ``behavior`` is the protocol verdict (OK, NON-STRICT, INFORMATIONAL,
UNIMPLEMENTED, FAILED); ``behaviorClose`` is the closing-handshake verdict (OK,
INFORMATIONAL, UNIMPLEMENTED, FAILED, WRONG CODE, UNCLEAN, FAILED BY CLIENT).
Anything in behaviorClose other than OK/INFORMATIONAL/UNIMPLEMENTED is counted
as a close problem and listed with the failures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from typing import Any

VERDICTS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
CLOSE_OK = {"OK", "INFORMATIONAL", "UNIMPLEMENTED"}
GROUP_NAMES = {
    "1": "Framing",
    "2": "Pings/Pongs",
    "3": "Reserved bits",
    "4": "Opcodes",
    "5": "Fragmentation",
    "6": "UTF-8 handling",
    "7": "Close handling",
    "9": "Limits/performance",
    "10": "Misc",
    "12": "permessage-deflate (payloads)",
    "13": "permessage-deflate (params)",
}

Cases = dict[str, dict[str, Any]]


def case_key(case_id: str) -> tuple[int | str, ...]:
    """Sort key for case ids such as ``'9.3.10'`` (numeric per component)."""
    return tuple(int(p) if p.isdigit() else p for p in case_id.split("."))


def load(outdir: str) -> dict[str, Cases]:
    """Read ``index.json``: agent -> case id -> summary entry."""
    with open(os.path.join(outdir, "index.json")) as fh:
        index: dict[str, Cases] = json.load(fh)
    return index


def reason_for(outdir: str, entry: dict[str, Any]) -> str:
    """The server's reason for a bad verdict, from the case's own JSON report."""
    try:
        with open(os.path.join(outdir, entry["reportfile"])) as fh:
            rep = json.load(fh)
    except (OSError, KeyError, ValueError):
        return "(per-case report missing)"
    parts = []
    if rep.get("behavior") == "FAILED":
        parts.append(rep.get("result", ""))
    if rep.get("behaviorClose") not in CLOSE_OK:
        parts.append(f"close: {rep.get('resultClose', '')}")
    desc = (rep.get("description") or "").strip().split("\n")[0]
    return " | ".join(p for p in parts if p) + (f"  [case: {desc[:110]}]" if desc else "")


def summarise(outdir: str, agent: str, cases: Cases, markdown: bool) -> int:
    """Print the per-group table and the failures of one agent; 1 if anything failed."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    close_bad: dict[str, Counter[str]] = defaultdict(Counter)
    total: Counter[str] = Counter()
    failed = []
    for cid in sorted(cases, key=case_key):
        e = cases[cid]
        g = cid.split(".")[0]
        groups[g][e["behavior"]] += 1
        total[e["behavior"]] += 1
        if e["behaviorClose"] not in CLOSE_OK:
            close_bad[g][e["behaviorClose"]] += 1
        if e["behavior"] == "FAILED" or e["behaviorClose"] not in CLOSE_OK:
            failed.append((cid, e))

    cols = [*VERDICTS, "close-problem", "total"]
    where = os.path.relpath(os.path.join(outdir, "index.json"))
    print(f"Autobahn|Testsuite results for agent {agent!r} ({len(cases)} cases, report: {where})")
    if markdown:
        print("| group | " + " | ".join(cols) + " |")
        print("|---" * (len(cols) + 1) + "|")
    else:
        print(f"{'group':<36}" + "".join(f"{c:>15}" for c in cols))
    for g in sorted(groups, key=lambda s: int(s) if s.isdigit() else 99):
        name = f"{g} {GROUP_NAMES.get(g, '')}".strip()
        vals = [groups[g].get(v, 0) for v in VERDICTS]
        vals += [sum(close_bad[g].values()), sum(groups[g].values())]
        other = set(groups[g]) - set(VERDICTS)
        if other:
            name += f" (+{sorted(other)})"
        if markdown:
            print(f"| {name} | " + " | ".join(str(v) for v in vals) + " |")
        else:
            print(f"{name:<36}" + "".join(f"{v:>15}" for v in vals))
    tvals = [total.get(v, 0) for v in VERDICTS]
    tvals += [sum(sum(c.values()) for c in close_bad.values()), sum(total.values())]
    if markdown:
        print("| **all** | " + " | ".join(f"**{v}**" for v in tvals) + " |")
    else:
        print(f"{'ALL':<36}" + "".join(f"{v:>15}" for v in tvals))

    if failed:
        print(f"\nFAILED (behavior) or close-problem cases: {len(failed)}")
        for cid, e in failed:
            print(
                f"- {cid}: behavior={e['behavior']} close={e['behaviorClose']} "
                f"remoteCloseCode={e.get('remoteCloseCode')} -- {reason_for(outdir, e)}"
            )
    else:
        print("\nNo FAILED cases and no close-handshake problems.")
    return 1 if failed else 0


def main() -> int:
    """Summarise one agent, or every agent in the report."""
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description="Summarise an Autobahn fuzzingserver index.json")
    p.add_argument("--outdir", default=os.path.join(here, "reports"))
    p.add_argument("--agent", default=None, help="default: every agent in the report")
    p.add_argument("--markdown", action="store_true")
    a = p.parse_args()
    if not os.path.exists(os.path.join(a.outdir, "index.json")):
        print(f"no index.json under {a.outdir}", file=sys.stderr)
        return 3
    index = load(a.outdir)
    if a.agent is not None and a.agent not in index:
        print(f"agent {a.agent!r} not in report: {sorted(index)}", file=sys.stderr)
        return 3
    agents = [a.agent] if a.agent is not None else sorted(index)
    status = 0
    for n, agent in enumerate(agents):
        if n:
            print()
        status = max(status, summarise(a.outdir, agent, index[agent], a.markdown))
    return status


if __name__ == "__main__":
    sys.exit(main())
