#!/usr/bin/env python3
"""Check that every query of the Grafana dashboard returns data.

A dashboard whose panels name a metric that no daemon exports (a typo, a
metric renamed, a counter that only appears after its first event) imports
fine and just shows "No data", so nobody notices until the night it is
needed. This script takes every target expr of every panel in throng.json
(rows included, collapsed or not), replaces the Grafana variables a
Prometheus instant query cannot know ($__rate_interval -> 1m,
$__interval -> 15s, ...), runs it on a live Prometheus through
/api/v1/query, and prints one line per expr with its number of series.
It exits 1 listing every expr that got an error or an empty result, so run
it against the cluster stack (deploy/cluster.sh up) after editing the
dashboard.

Standard library only.

Usage: check.py [--prometheus URL] [--timeout S] [DASHBOARD.json]
"""

import argparse
import json
import math
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

# What an instant query stands in for each of Grafana's built-in interval
# variables; longest names first so that $__interval_ms is not read as
# $__interval followed by "_ms".
SUBSTITUTIONS = [
    ("__rate_interval", "1m"),
    ("__interval_ms", "15000"),
    ("__interval", "15s"),
    ("__range_s", "3600"),
    ("__range_ms", "3600000"),
    ("__range", "1h"),
]


def substitute(expr):
    """Replace $name, ${name} and [[name]] for the variables above."""
    for name, value in SUBSTITUTIONS:
        expr = expr.replace("${%s}" % name, value)
        expr = expr.replace("[[%s]]" % name, value)
        expr = re.sub(r"\$%s(?![A-Za-z0-9_])" % re.escape(name), value, expr)
    return expr


def panel_targets(panels, path=()):
    """Yield (panel title path, refId, expr) for every target, depth first."""
    for panel in panels:
        title = panel.get("title") or "(untitled %s)" % panel.get("type", "panel")
        here = path + (title,)
        for target in panel.get("targets") or []:
            expr = target.get("expr")
            if expr:
                yield " / ".join(here), target.get("refId", "?"), expr
        # Rows keep their panels here when collapsed; library panels and
        # old-style nested panels use the same key.
        yield from panel_targets(panel.get("panels") or [], here)


def query(base, expr, timeout):
    """Run an instant query; return (series list, None) or (None, error)."""
    url = base.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = json.load(resp)
    except urllib.error.HTTPError as e:
        # Prometheus answers a bad query with 400 and a JSON error body.
        try:
            body = json.load(e)
        except ValueError:
            return None, "HTTP %d %s" % (e.code, e.reason)
    except (urllib.error.URLError, OSError, ValueError) as e:
        return None, "cannot query %s: %s" % (base, e)
    if body.get("status") != "success":
        return None, "%s: %s" % (body.get("errorType", "error"), body.get("error", body))
    data = body.get("data", {})
    result = data.get("result", [])
    kind = data.get("resultType")
    if kind in ("scalar", "string"):
        # A bare number or string: one value, never empty.
        return [{"metric": {}, "value": result}], None
    return result, None


def is_nan(series):
    value = series.get("value") or (series.get("values") or [[None, None]])[-1]
    try:
        return math.isnan(float(value[1]))
    except (TypeError, ValueError, IndexError):
        return False


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dashboard", nargs="?", default=os.path.join(here, "throng.json"),
                    help="dashboard JSON (default: throng.json next to this script)")
    ap.add_argument("--prometheus", default="http://127.0.0.1:9300",
                    help="Prometheus base URL (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds per query (default: %(default)s)")
    args = ap.parse_args()

    with open(args.dashboard, encoding="utf-8") as f:
        dashboard = json.load(f)
    targets = list(panel_targets(dashboard.get("panels") or []))
    if not targets:
        print("%s: no panel target has an expr" % args.dashboard, file=sys.stderr)
        return 1

    failed = []
    for where, ref, raw in targets:
        expr = substitute(raw)
        series, error = query(args.prometheus, expr, args.timeout)
        if error is None and not series:
            error = "empty result"
        if error is not None:
            print("FAIL  %-3s %s [%s]: %s\n        %s" % ("-", where, ref, error, expr))
            failed.append((where, ref, expr, error))
            continue
        # A quantile over a window with no observations is NaN: the series
        # exists (the metric is right) but the panel draws no point now.
        nans = sum(1 for s in series if is_nan(s))
        note = "  (%d NaN: no observations in the window)" % nans if nans else ""
        print("ok    %-3d %s [%s]: %s%s" % (len(series), where, ref, expr, note))

    print()
    if failed:
        print("%d of %d exprs failed against %s:" % (len(failed), len(targets), args.prometheus))
        for where, ref, expr, error in failed:
            print("  %s [%s]: %s\n    %s" % (where, ref, error, expr))
        return 1
    print("all %d exprs returned data from %s" % (len(targets), args.prometheus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
