#!/usr/bin/env python3
"""Summarise an Autobahn fuzzingclient report directory (its index.json and per-case files).

Usage: python3 tests/conformance/summarize.py REPORT_DIR [--agent NAME] [--protocol-view]

Prints, per agent, a Markdown table per case group with Autobahn's own verdicts:
`behavior` (the case's data and close events) and `behaviorClose` (the closing handshake),
then every case whose verdict is not OK/INFORMATIONAL/UNIMPLEMENTED, with its result text and
close codes (consecutive case ids with the same outcome are folded into one line).

--protocol-view (for Parley's gateway, which is not an echo server): Autobahn fails nearly every
gateway case because the gateway sends a `{"type":"ready",...}` text frame right after the
handshake and answers data with JSON protocol frames instead of echoing it. This view is a
re-reading of Autobahn's per-case reports, not an Autobahn verdict: for the cases whose expected
events contain no data message (pings/pongs, reserved bits, opcodes, bad fragmentation,
invalid UTF-8, close handling), it drops that one leading `ready` frame from the received events
and checks them against the case's expected events, together with Autobahn's close verdict.
Cases that expect an echo are counted as "needs echo" and not judged.

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter, OrderedDict

GROUPS = OrderedDict(
    [
        ("1", "Framing (text/binary echo)"),
        ("2", "Pings/Pongs"),
        ("3", "Reserved bits"),
        ("4", "Opcodes"),
        ("5", "Fragmentation"),
        ("6", "UTF-8 handling"),
        ("7", "Close handling"),
        ("9", "Limits/performance"),
        ("10", "Misc (auto-fragmentation)"),
        ("12", "permessage-deflate (payloads)"),
        ("13", "permessage-deflate (parameters)"),
    ]
)
VERDICTS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
NOT_A_FAILURE = {"OK", "INFORMATIONAL", "UNIMPLEMENTED"}
READY_PREFIX = '{"type":"ready"'
PROBLEMS: list[str] = []


def fail(msg: str) -> None:
    print("summarize: " + msg, file=sys.stderr)
    sys.exit(2)


def case_key(cid: str) -> list[int]:
    return [int(p) for p in cid.split(".")]


def load_index(report_dir: str) -> dict:
    path = os.path.join(report_dir, "index.json")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        fail("cannot read %s: %s" % (path, e))
    if not isinstance(data, dict) or not data:
        fail("%s: expected an object of agents" % path)
    for agent, cases in data.items():
        if not isinstance(cases, dict):
            fail("%s: agent %r: expected an object of cases" % (path, agent))
        for cid, r in cases.items():
            if not isinstance(r, dict) or not {"behavior", "behaviorClose", "reportfile"} <= set(r):
                fail("%s: %s/%s lacks behavior/behaviorClose/reportfile" % (path, agent, cid))
            try:
                case_key(cid)
            except ValueError:
                fail("%s: %r is not a case id" % (path, cid))
    return data


def load_case(report_dir: str, entry: dict) -> dict:
    path = os.path.join(report_dir, entry["reportfile"])
    try:
        with open(path, encoding="utf-8") as f:
            r = json.load(f)
    except (OSError, ValueError) as e:
        fail("cannot read %s: %s" % (path, e))
    if not isinstance(r, dict):
        fail("%s: expected an object" % path)
    return r


def fold(rows: list[tuple[str, str, str]]) -> list[str]:
    """[(case id, text, suffix)] sorted by id -> lines; runs in one case group whose texts are
    equal but for their numbers, with equal suffixes, are folded into one 'first … last (n cases)'
    line, the numbers that differ shown as N."""
    out: list[str] = []

    def shape(k: int) -> tuple[str, str, str]:
        return rows[k][0].split(".")[0], re.sub(r"\d+", "N", rows[k][1]), rows[k][2]

    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and shape(j + 1) == shape(i):
            j += 1
        same = all(rows[k][1] == rows[i][1] for k in range(i, j + 1))
        text = rows[i][1] if same else shape(i)[1]
        ids = rows[i][0] if i == j else "%s … %s (%d cases)" % (rows[i][0], rows[j][0], j - i + 1)
        out.append("- %s: %s%s" % (ids, text, rows[i][2]))
        i = j + 1
    return out


def autobahn_tables(
    report_dir: str, agent: str, cases: dict, check_failed: set[str] | None, list_cases: bool
) -> list[str]:
    lines = [
        "| group | cases | OK | NON-STRICT | INFORMATIONAL | UNIMPLEMENTED | FAILED | close OK |",
        "| --- | --: | --: | --: | --: | --: | --: | --: |",
    ]
    by_group: dict[str, list[str]] = OrderedDict((g, []) for g in GROUPS)
    for cid in sorted(cases, key=case_key):
        by_group.setdefault(cid.split(".")[0], []).append(cid)
    totals: Counter = Counter()
    for g, ids in by_group.items():
        if not ids:
            continue
        c = Counter(cases[i]["behavior"] for i in ids)
        close_ok = sum(1 for i in ids if cases[i]["behaviorClose"] in ("OK", "INFORMATIONAL"))
        totals.update(c)
        totals["_n"] += len(ids)
        totals["_close"] += close_ok
        name = GROUPS.get(g, "group %s" % g)
        cells = " | ".join(str(c.get(v, 0)) for v in VERDICTS)
        lines.append("| %s %s | %d | %s | %d |" % (g, name, len(ids), cells, close_ok))
    cells = " | ".join(str(totals.get(v, 0)) for v in VERDICTS)
    lines.append("| **all** | %d | %s | %d |" % (totals["_n"], cells, totals["_close"]))
    rows = []
    for cid in sorted(cases, key=case_key):
        e = cases[cid]
        if e["behavior"] in NOT_A_FAILURE and e["behaviorClose"] in NOT_A_FAILURE:
            continue
        r = load_case(report_dir, e)
        accepted = (e["behavior"] == "NON-STRICT" and e["behaviorClose"] in NOT_A_FAILURE) or (
            cid.split(".")[0] in (check_failed or set()) and r.get("remoteCloseCode") == 1009
        )
        if check_failed is not None and not accepted:
            PROBLEMS.append("%s: %s / close %s" % (cid, e["behavior"], e["behaviorClose"]))
        rows.append(
            (
                cid,
                "%s / close %s — %s" % (e["behavior"], e["behaviorClose"], r.get("result", "?")),
                "; server's close code %s" % r.get("remoteCloseCode"),
            )
        )
    if rows and list_cases:
        lines += ["", "Cases not OK (Autobahn's result text):", ""] + fold(rows)
    elif rows:
        lines += ["", "(%d cases not OK: per-case results in index.html)" % len(rows)]
    return lines


def expects_data(r: dict) -> bool:
    exp = r.get("expected")
    if not isinstance(exp, dict) or not exp:
        return True  # cases with a custom check (9.x, 12.x, 13.x) compare echoed data
    return any(any(ev and ev[0] == "message" for ev in evs) for evs in exp.values())


def protocol_view(report_dir: str, cases: dict) -> list[str]:
    lines = [
        "| group | cases | needs echo (not judged) | judged | pass | fail |",
        "| --- | --: | --: | --: | --: | --: |",
    ]
    by_group: dict[str, list[str]] = OrderedDict((g, []) for g in GROUPS)
    for cid in sorted(cases, key=case_key):
        by_group.setdefault(cid.split(".")[0], []).append(cid)
    failures = []
    for g, ids in by_group.items():
        if not ids:
            continue
        echo = judged = ok = 0
        for cid in ids:
            e = cases[cid]
            r = load_case(report_dir, e)
            if expects_data(r):
                echo += 1
                continue
            judged += 1
            got = [list(ev) for ev in r.get("received", [])]
            if got and got[0][0] == "message" and str(got[0][1]).startswith(READY_PREFIX):
                got = got[1:]
            alternatives = {k: [list(ev) for ev in v] for k, v in r["expected"].items()}
            match = [k for k, v in alternatives.items() if v == got]
            close_ok = e["behaviorClose"] in ("OK", "INFORMATIONAL")
            if match and close_ok:
                ok += 1
            else:
                failures.append(
                    (
                        cid,
                        "events %s (expected one of %s); close %s"
                        % (json.dumps(got)[:160], json.dumps(alternatives)[:160], e["behaviorClose"]),
                        "; server's close code %s" % r.get("remoteCloseCode"),
                    )
                )
        name = GROUPS.get(g, "group %s" % g)
        lines.append(
            "| %s %s | %d | %d | %d | %d | %d |" % (g, name, len(ids), echo, judged, ok, judged - ok)
        )
    if failures:
        lines += ["", "Judged cases that do not pass:", ""] + fold(failures)
        PROBLEMS.append("%d cases fail the protocol view" % len(failures))
    return lines


def compare(report_dir: str, cases: dict, ref_dir: str, ref_cases: dict) -> list[str]:
    """Cases whose server close code differs from the reference run's (the echo server)."""
    same = explained = 0
    rows = []
    for cid in sorted(cases, key=case_key):
        if cid not in ref_cases:
            continue
        r = load_case(report_dir, cases[cid])
        ref = load_case(ref_dir, ref_cases[cid])
        code, ref_code = r.get("remoteCloseCode"), ref.get("remoteCloseCode")
        if code == ref_code:
            same += 1
        elif r.get("closedByMe") and r.get("localCloseCode") == code:
            # The fuzzer started the closing handshake itself, not as in the reference run (it
            # failed the connection with 1001 when the echo it expected did not come, or closed
            # without a code when its timer ran out), and the server answered with the same code
            # (or none), as RFC 6455 5.5.1 asks.
            explained += 1
        else:
            rows.append(
                (cid, "server's close code %s, reference run's %s" % (code, ref_code), "")
            )
    lines = [
        "Close codes against the reference run: %d cases the same; %d differ only because the "
        "fuzzer closed first, differently (no echo came), and the server answered with the "
        "fuzzer's own close code; %d differ otherwise%s" % (same, explained, len(rows), ":" if rows else "."),
    ]
    if rows:
        lines += [""] + fold(rows)
        PROBLEMS.append("%d close codes differ from the reference run" % len(rows))
    return lines


def close_codes(report_dir: str, cases: dict) -> list[str]:
    c: Counter = Counter()
    unclean = []
    for cid in sorted(cases, key=case_key):
        r = load_case(report_dir, cases[cid])
        c[r.get("remoteCloseCode")] += 1
        if (
            not r.get("wasClean", True)
            or r.get("wasServerConnectionDropTimeout")
            or r.get("wasCloseHandshakeTimeout")
            or r.get("wasOpenHandshakeTimeout")
        ):
            unclean.append(cid)
    if unclean:
        PROBLEMS.append("%d connections not closed cleanly" % len(unclean))
    parts = ", ".join(
        "%s × %d" % ("none" if k is None else k, v)
        for k, v in sorted(c.items(), key=lambda kv: -1 if kv[0] is None else kv[0])
    )
    return [
        "Close codes the server sent (per case): " + parts + ".",
        "Connections not closed cleanly, or timed out: %s."
        % (", ".join(unclean) if unclean else "none"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("report_dir")
    ap.add_argument("--agent")
    ap.add_argument("--protocol-view", action="store_true")
    ap.add_argument(
        "--check",
        action="store_true",
        help="exit 1 on: connections not closed cleanly, protocol-view failures, close codes "
        "that differ from the reference run without explanation, and (without "
        "--protocol-view) Autobahn verdicts other than OK/NON-STRICT/INFORMATIONAL/"
        "UNIMPLEMENTED outside the groups given by --allow-failed",
    )
    ap.add_argument(
        "--allow-failed",
        default="",
        metavar="GROUPS",
        help="comma-separated case groups in which --check accepts a failure when the server "
        "closed with 1009 (a configured maxPayload below the case's message size), e.g. 9",
    )
    ap.add_argument(
        "--compare",
        metavar="REF_DIR:AGENT",
        help="also compare server close codes with another report (the echo server's)",
    )
    a = ap.parse_args()
    data = load_index(a.report_dir)
    agents = [a.agent] if a.agent else sorted(data)
    for agent in agents:
        if agent not in data:
            fail("agent %r is not in the report (has: %s)" % (agent, ", ".join(sorted(data))))
        cases = data[agent]
        print("### Agent `%s` — Autobahn's verdicts (%d cases)" % (agent, len(cases)))
        print()
        check_failed = None
        if a.check and not a.protocol_view:
            check_failed = {g.strip() for g in a.allow_failed.split(",") if g.strip()}
        tables = autobahn_tables(a.report_dir, agent, cases, check_failed, not a.protocol_view)
        print("\n".join(tables))
        print()
        print("\n".join(close_codes(a.report_dir, cases)))
        print()
        if a.protocol_view:
            print("### Agent `%s` — protocol view (not an Autobahn verdict; see summarize.py)" % agent)
            print()
            print("\n".join(protocol_view(a.report_dir, cases)))
            print()
        if a.compare:
            ref_dir, _, ref_agent = a.compare.rpartition(":")
            ref = load_index(ref_dir)
            if ref_agent not in ref:
                fail("agent %r is not in %s" % (ref_agent, ref_dir))
            print("\n".join(compare(a.report_dir, cases, ref_dir, ref[ref_agent])))
            print()
    if a.check:
        if PROBLEMS:
            print("CHECK FAILED: " + "; ".join(PROBLEMS[:20]))
            sys.exit(1)
        print("CHECK OK")


if __name__ == "__main__":
    main()
