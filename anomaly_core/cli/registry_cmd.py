"""``anomaly registry``: inspect versions, verify them, and move aliases (promote / rollback)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import add_common_options, emit, log


def _registry(args: argparse.Namespace) -> Any:
    from ..registry import open_registry  # lazy: keeps `anomaly --help` fast

    return open_registry(args.store)


def _fmt_event(e: dict[str, Any]) -> str:
    return (f"#{e.get('seq')} {e.get('at')} {e.get('alias')}: {e.get('from') or '-'} -> {e.get('to')} "
            f"({e.get('action')} by {e.get('actor')}: {e.get('reason')})")


# -- handlers ------------------------------------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    rows = _registry(args).list_versions(args.name)

    def human(r: dict[str, Any]) -> str:
        if not r["versions"]:
            return f"no versions of {args.name!r} in {args.store}"
        return "\n".join(f"{v['version']:>5}  {v.get('registered_at') or '':32}  "
                         f"{v.get('model_type') or '-':10}  {','.join(v['aliases'])}" for v in r["versions"])

    emit(args, {"name": args.name, "versions": rows}, human)
    return 0


def _show(args: argparse.Namespace) -> int:
    shown = _registry(args).show(args.name, args.version)
    emit(args, shown, lambda r: json.dumps(r, indent=2, sort_keys=True))
    return 0


def _aliases(args: argparse.Namespace) -> int:
    found = _registry(args).aliases(args.name)

    def human(r: dict[str, Any]) -> str:
        if not r["aliases"]:
            return f"no aliases set for {args.name!r}"
        return "\n".join(f"{a:12} -> {i['version']:>5}  (moved {i.get('updated_at')} by {i.get('actor')}: "
                         f"{i.get('reason')})" for a, i in sorted(r["aliases"].items()))

    emit(args, {"name": args.name, "aliases": found}, human)
    return 0


def _history(args: argparse.Namespace) -> int:
    events = _registry(args).history(args.name, args.alias)
    emit(args, {"name": args.name, "alias": args.alias, "history": events},
         lambda r: "\n".join(_fmt_event(e) for e in r["history"]) or "no alias moves recorded")
    return 0


def _verify(args: argparse.Namespace) -> int:
    report = _registry(args).verify(args.name, args.version)

    def human(r: dict[str, Any]) -> str:
        lines = [f"{'ok ' if f['ok'] else 'BAD'} {f['file']}"
                 + (f"  ({f['problem']})" if f.get("problem") else "") for f in r["files"]]
        verdict = "ok" if r["ok"] else f"FAILED: bad files {', '.join(r['bad'])}"
        return "\n".join([*lines, f"version {r['version']} of {r['name']}: {verdict}"])

    emit(args, report, human)
    if not report["ok"]:
        log.error("version %s of %s fails verification: %s", report["version"], args.name,
                  "; ".join(f"{f['file']} ({f['problem']})" for f in report["files"] if not f["ok"]))
        return 1
    return 0


def _promote(args: argparse.Namespace) -> int:
    event = _registry(args).promote(args.name, args.version, args.alias, reason=args.reason, actor=args.actor,
                                    expected_version=args.expected_version)
    emit(args, event, _fmt_event)
    return 0


def _rollback(args: argparse.Namespace) -> int:
    event = _registry(args).rollback(args.name, args.alias, to=args.to, reason=args.reason, actor=args.actor)
    emit(args, event, _fmt_event)
    return 0


# -- parser --------------------------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``anomaly registry`` and its subcommands."""
    parser = subparsers.add_parser("registry", help="inspect versions and move aliases",
                                   description="Inspect model versions, verify them, promote and roll back.")
    sub = parser.add_subparsers(dest="registry_command", required=True, metavar="ACTION")

    def leaf(name: str, func: Any, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_common_options(p)
        p.set_defaults(func=func)
        return p

    leaf("list", _list, "list the versions of a model")
    leaf("show", _show, "show metadata and manifest of a version").add_argument("version")
    leaf("aliases", _aliases, "show every alias and the version it points at")
    leaf("history", _history, "alias moves, oldest first").add_argument(
        "alias", nargs="?", default=None, help="one alias (default: all)")
    leaf("verify", _verify, "check every file of a version against its manifest (exit 1 if bad)"
         ).add_argument("version")

    p = leaf("promote", _promote, "point an alias at a version (verified first; recorded in history)")
    p.add_argument("version")
    p.add_argument("--alias", required=True)
    p.add_argument("--reason", required=True)
    p.add_argument("--actor", default=None, help="recorded in history (default: $ANOMALY_ACTOR or user@host)")
    p.add_argument("--expected-version", default=None,
                   help="refuse unless the alias currently points at this version (strict compare-and-swap)")

    p = leaf("rollback", _rollback, "move an alias back to its previous version (or --to V)")
    p.add_argument("--alias", required=True)
    p.add_argument("--to", default=None,
                   help="the version to move to (default: where the last move came from)")
    p.add_argument("--reason", required=True)
    p.add_argument("--actor", default=None)
