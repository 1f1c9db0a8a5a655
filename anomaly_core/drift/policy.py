"""The drift decision as configuration: rules over the statistics, and the verdict they give.

A rule is a list of conditions that must all hold (``"score.psi >= 0.1"``) and the verdict it asks
for (``then``: ``recalibrate`` or ``retrain``). Rules are OR-ed; the most severe verdict among the
fired rules wins and every fired rule is named. A condition's metric is a dotted path into the
statistics (``score.alert_rate.p_value``); ``features.*.psi`` means "any feature", and all wildcard
conditions of one rule must hold for the *same* feature. A rule whose metric is absent (no labels, no
features, no threshold) is skipped and reported as skipped, never fired.

Defaults use effect sizes only, plus the binomial alert-rate test *with an effect floor*: at n = 1e6 a
KS p-value is tiny for a difference nobody cares about, so p-values alone never fire a rule.
"""

from __future__ import annotations

import json
import operator
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput

VERDICTS = ("none", "recalibrate", "retrain", "insufficient_data")
_SEVERITY = {"none": 0, "recalibrate": 1, "retrain": 2}
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
}
_CONDITION = re.compile(r"^\s*([A-Za-z0-9_.*\-]+)\s*(>=|<=|>|<)\s*([-+0-9.eE]+|inf)\s*$")


@dataclass(frozen=True)
class Condition:
    metric: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> Condition:
        m = _CONDITION.match(text)
        if not m:
            raise InvalidInput(f"drift policy: cannot parse condition {text!r} (expected 'metric >= number')")
        return cls(m.group(1), m.group(2), float(m.group(3)))

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Rule:
    name: str
    when: tuple[Condition, ...]
    then: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Rule:
        try:
            name, when, then = str(d["name"]), d["when"], str(d["then"])
        except KeyError as err:
            raise InvalidInput(f"drift policy: a rule needs 'name', 'when' and 'then' "
                               f"(missing {err})") from None
        if then not in ("recalibrate", "retrain"):
            raise InvalidInput(f"drift policy: rule {name!r}: 'then' must be recalibrate or retrain, "
                               f"got {then!r}")
        when = [when] if isinstance(when, str) else list(when)
        if not when:
            raise InvalidInput(f"drift policy: rule {name!r} has no conditions")
        return cls(name, tuple(Condition.parse(str(c)) for c in when), then)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "when": [str(c) for c in self.when], "then": self.then}


def _rules(*specs: tuple[str, list[str], str]) -> tuple[Rule, ...]:
    return tuple(Rule(n, tuple(Condition.parse(c) for c in w), t) for n, w, t in specs)


#: Defaults, with the reasoning in docs/drift.md. Score rules ask to recalibrate (the threshold no
#: longer matches the score distribution); input drift and lost separation ask to retrain.
DEFAULT_RULES = _rules(
    ("score_psi", ["score.psi >= 0.05"], "recalibrate"),
    ("score_wasserstein", ["score.wasserstein_norm >= 0.2"], "recalibrate"),
    ("score_ks", ["score.ks_statistic >= 0.1"], "recalibrate"),
    ("alert_rate", ["score.alert_rate.p_value < 0.01", "score.alert_rate.rel_diff >= 0.5"], "recalibrate"),
    ("feature_psi", ["features.*.psi >= 0.1"], "retrain"),
    ("feature_wasserstein", ["features.*.wasserstein_norm >= 0.25"], "retrain"),
    ("separation_auc", ["score.separation.auc < 0.7"], "retrain"),
    ("separation_drop", ["score.separation.auc_drop >= 0.05"], "retrain"),
)


@dataclass(frozen=True)
class Policy:
    """What to compute and how to decide. Load with :meth:`from_dict` / :meth:`from_json`."""

    min_current: int = 1000          # fewer finite current values -> insufficient_data
    min_reference: int = 1000        # fewer finite reference values -> insufficient_data
    bins: int = 10                   # reference-quantile bins for PSI and JS
    default_alert_rate: float = 0.01  # without a threshold, alert above this reference quantile
    rules: tuple[Rule, ...] = field(default=DEFAULT_RULES)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Policy:
        known = {"min_current", "min_reference", "bins", "default_alert_rate", "rules"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InvalidInput(f"drift policy: unknown key(s) {unknown}; known: {sorted(known)}")
        kw: dict[str, Any] = {}
        try:
            for k in ("min_current", "min_reference", "bins"):
                if k in d:
                    kw[k] = int(d[k])
            if "default_alert_rate" in d:
                kw["default_alert_rate"] = float(d["default_alert_rate"])
        except (TypeError, ValueError) as err:
            raise InvalidInput(f"drift policy: {err}") from None
        if "rules" in d:
            if not isinstance(d["rules"], list):
                raise InvalidInput("drift policy: 'rules' must be a list")
            kw["rules"] = tuple(Rule.from_dict(r) for r in d["rules"])
        policy = cls(**kw)
        if policy.bins < 2 or policy.min_current < 1 or policy.min_reference < 1:
            raise InvalidInput("drift policy: bins must be >= 2 and the minimum sample sizes >= 1")
        if not 0.0 < policy.default_alert_rate < 1.0:
            raise InvalidInput("drift policy: default_alert_rate must be in (0, 1)")
        return policy

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Policy:
        try:
            with open(path, encoding="utf-8") as fh:
                d = json.load(fh)
        except FileNotFoundError:
            raise InvalidInput(f"drift policy {path}: no such file") from None
        except (OSError, json.JSONDecodeError) as err:
            raise InvalidInput(f"drift policy {path}: not readable JSON ({err})") from None
        if not isinstance(d, dict):
            raise InvalidInput(f"drift policy {path}: expected a JSON object")
        return cls.from_dict(d)

    def to_dict(self) -> dict[str, Any]:
        return {"min_current": self.min_current, "min_reference": self.min_reference, "bins": self.bins,
                "default_alert_rate": self.default_alert_rate, "rules": [r.to_dict() for r in self.rules]}


def _lookup(stats: Mapping[str, Any], path: str | list[str]) -> float | None:
    """The number at a dotted ``path`` (or a list of keys, for feature names that contain dots)."""
    node: Any = stats
    for part in path.split(".") if isinstance(path, str) else path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return float(node)


def _bind(metric: str, name: str) -> list[str]:
    """Keys of a wildcard metric for one feature: ``features.*.psi`` + ``f2.mean`` -> 3 keys."""
    head, tail = metric.split("*", 1)
    return [*head.strip(".").split("."), name, *tail.strip(".").split(".")]


def _evaluate(rule: Rule, stats: Mapping[str, Any]) -> dict[str, Any]:
    """``{"rule", "then", "fired", "values", "features"?, "skipped"?}`` for one rule."""
    out: dict[str, Any] = {"rule": rule.name, "then": rule.then, "when": [str(c) for c in rule.when]}
    wild = [c for c in rule.when if "*" in c.metric]
    plain = [c for c in rule.when if "*" not in c.metric]
    values: dict[str, float] = {}
    for c in plain:
        v = _lookup(stats, c.metric)
        if v is None:
            return {**out, "fired": False, "skipped": f"{c.metric} not available"}
        values[c.metric] = v
    ok = all(_OPS[c.op](values[c.metric], c.value) for c in plain)
    if wild:
        prefix = wild[0].metric.split("*", 1)[0].rstrip(".")
        names = _child_keys(stats, prefix)
        if not names:
            return {**out, "fired": False, "skipped": f"{prefix} not available"}
        hits: dict[str, dict[str, float]] = {}
        for name in names:
            vals = {c.metric.replace("*", name): _lookup(stats, _bind(c.metric, name)) for c in wild}
            checks = zip(wild, vals.values(), strict=True)
            if all(v is not None and _OPS[c.op](v, c.value) for c, v in checks):
                hits[name] = {k: v for k, v in vals.items() if v is not None}
        ok = ok and bool(hits)
        out["features"] = sorted(hits)
        for h in hits.values():
            values.update(h)
    return {**out, "fired": bool(ok), "values": values}


def _child_keys(stats: Mapping[str, Any], prefix: str) -> list[str]:
    node: Any = stats
    for part in prefix.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return []
        node = node[part]
    return sorted(node) if isinstance(node, Mapping) else []


def decide(stats: Mapping[str, Any], policy: Policy | None = None) -> dict[str, Any]:
    """The verdict for ``stats`` (``{"n": ..., "score": ..., "features": ...}`` as ``run_drift`` builds).

    Returns ``{"verdict", "reason", "fired": [rule names], "rules": [every rule's evaluation]}``.
    ``insufficient_data`` when a side has fewer finite values than the policy's minimum.
    """
    policy = policy or Policy()
    n_ref = int(_lookup(stats, "n.reference.finite") or 0)
    n_cur = int(_lookup(stats, "n.current.finite") or 0)
    short = []
    if n_cur < policy.min_current:
        short.append(f"current has {n_cur} finite values (minimum {policy.min_current})")
    if n_ref < policy.min_reference:
        short.append(f"reference has {n_ref} finite values (minimum {policy.min_reference})")
    if short:
        return {"verdict": "insufficient_data", "reason": "; ".join(short), "fired": [], "rules": []}
    evaluated = [_evaluate(rule, stats) for rule in policy.rules]
    fired = [e for e in evaluated if e["fired"]]
    if not fired:
        return {"verdict": "none", "reason": "no rule fired", "fired": [], "rules": evaluated}
    verdict = max((e["then"] for e in fired), key=_SEVERITY.__getitem__)
    reason = "; ".join(_explain(e) for e in fired)
    return {"verdict": verdict, "reason": reason, "fired": [e["rule"] for e in fired], "rules": evaluated}


def _explain(e: Mapping[str, Any]) -> str:
    vals = ", ".join(f"{k}={v:.4g}" for k, v in list(e["values"].items())[:4])
    more = f" (+{len(e['values']) - 4} more)" if len(e["values"]) > 4 else ""
    return f"{e['rule']} -> {e['then']}: {vals}{more}"
