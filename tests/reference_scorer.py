"""A reference scorer written only from the public contract, to check the app's summary.

It re-derives what the summary JSON of contract §6 promises from the raw responses of §5 and a
codebook, with its own code: it imports nothing from ``analysis``, ``questionnaires`` or
``survey``. The codebook is read straight from the questionnaire YAML files with PyYAML
(:func:`load_definition`), so that not even the codebook comes from the code under test; one
built from a summary's own ``codebook`` (:func:`definition_from_summary`) is there to check
that the two agree.

Formulas, as the contract words them:

* every option of a scored question carries ``score`` (``null`` = the answer does not count)
  and, for SIPAS, ``satisfied`` (true for 4 *Hài lòng* and 5 *Rất hài lòng*);
* item: ``n`` = answers whose option has a score (blanks and null-scored options left out),
  ``satisfied`` = those of them whose option is satisfied, ``rate`` = 100 × satisfied / n,
  ``rate_ci95`` = the Wilson 95 % interval of the rate in percent, ``mean`` = the mean score;
* SIPAS (§6.1): a group's value = the unweighted mean of its items' rates (items with n = 0
  left out); the index = the unweighted mean of the groups' values; null where nothing is
  left to average;
* PAPI (§6.2): x_s = the mean of the subgroup's item means; the subgroup's value =
  (1 + 9 x_s) / k, k the number of subgroups of its group; a group's value = the sum of its
  subgroups' values, the index = the sum of the groups' values; a null subgroup makes its
  group and the index null; items carry only ``n`` and ``mean``;
* a group's or subgroup's ``n`` = the responses with at least one counted answer in it;
  ``n_responses`` = the responses that pass the filters (an ``excluded`` response, §8, counts
  nowhere);
* the index ``ci95``: §6.1 leaves the method to the README, which names a Wilson score
  interval with a Korn–Graubard effective sample size and an end-padded variance. Written
  here from the README's words: every response gets its own score on the index scale (SIPAS:
  100 × the mean over the groups where it has counted answers of its share of satisfied
  answers there; PAPI: the sum over all subgroups of (1 + 9 x) / k with x its own mean score
  there, none when it lacks a subgroup), stored in thousandths of a point; with the range
  [L, H], p = (index − L) / (H − L) and the scores rescaled likewise, SS their sum of squared
  deviations, c = (p² + (1 − p)²) / 2, v = (SS + c) / n, n_eff = max(n, n p (1 − p) / v), and
  the interval is Wilson's for p with n_eff trials, mapped back to [L, H] (exactly L or H at
  p = 0 or 1); none without an index value or without a score.
"""

from __future__ import annotations

import csv
import fractions
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

Z95 = 1.959963984540054
"""Φ⁻¹(0.975), the z of a 95 % interval (contract §6.1: 1.959964…)."""

VIETNAM = timezone(timedelta(hours=7))
"""Vietnam time (UTC+7 all year, no daylight saving): the calendar of --from and --to."""

FIXED_COLUMNS = ("response_id", "submitted_at", "unit", "channel")
"""The first columns of the wide format (contract §5); §8 and §13 add flags, excluded, serial."""


# --------------------------------------------------------------------------------------------
# The definition: codebook plus the order of groups and subgroups


@dataclass(frozen=True)
class Definition:
    """What a questionnaire scores: its index kind, its groups and the §6 codebook."""

    id: str
    version: int
    index: str  # "sipas" or "papi"
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (group id, its subgroup ids), in order
    codebook: tuple[dict[str, Any], ...]

    def question(self, question_id: str) -> dict[str, Any] | None:
        for entry in self.codebook:
            if entry["id"] == question_id:
                return entry
        return None

    def items_of_group(self, group_id: str) -> list[str]:
        return [e["id"] for e in self.codebook if e.get("group") == group_id]

    def items_of_subgroup(self, subgroup_id: str) -> list[str]:
        return [e["id"] for e in self.codebook
                if e.get("group") is not None and e.get("subgroup") == subgroup_id]


def _vi(text: Any) -> Any:
    """Return the Vietnamese text of a YAML text: a plain string or ``{vi: …, en: …}``."""
    if isinstance(text, Mapping):
        text = text.get("vi")
    return text.strip() if isinstance(text, str) else text


def _yaml_options(raw: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"code": int(o["code"]), "label": _vi(o.get("label")),
             "score": None if o.get("score") is None else float(o["score"]),
             "satisfied": bool(o.get("satisfied", False))} for o in raw]


def definition_from_yaml(data: Mapping[str, Any]) -> Definition:
    """Build the definition from a parsed questionnaire YAML file.

    A question's group is its own ``group``, else its section's ``group``; a question with a
    ``subgroup`` belongs to the group that lists that subgroup. Options come from the named
    ``scale`` or from the question's own ``options``; ``type`` is ``choice`` unless ``text``.
    """
    groups = tuple((str(g["id"]), tuple(str(s["id"]) for s in g.get("subgroups") or ()))
                   for g in data["groups"])
    parent = {s: g for g, subs in groups for s in subs}
    scales = {name: _yaml_options(s["options"]) for name, s in (data.get("scales") or {}).items()}
    codebook: list[dict[str, Any]] = []
    for section in data["sections"]:
        for q in section["questions"]:
            subgroup = q.get("subgroup")
            group = parent[subgroup] if subgroup is not None else q.get("group",
                                                                        section.get("group"))
            qtype = q.get("type", "choice")
            if qtype == "text":
                options: list[dict[str, Any]] = []
            elif "scale" in q:
                options = [dict(o) for o in scales[q["scale"]]]
            else:
                options = _yaml_options(q["options"])
            codebook.append({"id": str(q["id"]), "type": qtype, "group": group,
                             "subgroup": subgroup, "text": _vi(q.get("text")),
                             "options": options})
    return Definition(str(data["id"]), int(data["version"]), str(data["index"]), groups,
                      tuple(codebook))


def load_definition(definitions_dir: str | Path, questionnaire_id: str,
                    version: int | None = None) -> Definition:
    """Read ``<dir>/<id>/v<version>.yaml`` (the highest version when none is given)."""
    folder = Path(definitions_dir) / questionnaire_id
    if version is None:
        version = max(int(p.stem[1:]) for p in folder.glob("v*.yaml") if p.stem[1:].isdigit())
    data = yaml.safe_load((folder / f"v{version}.yaml").read_text(encoding="utf-8"))
    return definition_from_yaml(data)


def definition_from_summary(summary: Mapping[str, Any]) -> Definition:
    """Build the definition from a §6 summary's questionnaire, groups and codebook."""
    meta = summary["questionnaire"]
    groups = tuple((str(g["id"]), tuple(str(s["id"]) for s in g.get("subgroups") or ()))
                   for g in summary["groups"])
    return Definition(str(meta["id"]), int(meta["version"]), str(meta["index"]), groups,
                      tuple(dict(e) for e in summary["codebook"]))


def codebook_differences(a: Definition, b: Definition) -> list[str]:
    """List where two definitions disagree on anything the summary depends on (and texts)."""
    out: list[str] = []
    for what in ("id", "version", "index", "groups"):
        if getattr(a, what) != getattr(b, what):
            out.append(f"{what}: {getattr(a, what)!r} != {getattr(b, what)!r}")
    ids_a = [e["id"] for e in a.codebook]
    ids_b = [e["id"] for e in b.codebook]
    if ids_a != ids_b:
        out.append(f"question ids or order: {ids_a} != {ids_b}")
    for ea, eb in zip(a.codebook, b.codebook, strict=False):
        for key in ("id", "type", "group", "subgroup", "text"):
            if _vi(ea.get(key)) != _vi(eb.get(key)):
                out.append(f"{ea['id']}.{key}: {ea.get(key)!r} != {eb.get(key)!r}")
        opts_a = [(o["code"], o.get("score"), bool(o.get("satisfied")), _vi(o.get("label")))
                  for o in ea.get("options") or ()]
        opts_b = [(o["code"], o.get("score"), bool(o.get("satisfied")), _vi(o.get("label")))
                  for o in eb.get("options") or ()]
        if opts_a != opts_b:
            out.append(f"{ea['id']}.options: {opts_a} != {opts_b}")
    return out


# --------------------------------------------------------------------------------------------
# The raw responses (contract §5)


def read_csv(text: str | bytes) -> list[dict[str, str]]:
    """Read a wide CSV (UTF-8, a BOM allowed) into one dict per row, every cell as text."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    text = text.removeprefix("\ufeff")
    return [dict(row) for row in csv.DictReader(io.StringIO(text, newline=""))]


def vietnam_day(submitted_at: str) -> date:
    """Return the calendar day in Vietnam of an ISO 8601 time (no offset = Vietnam time)."""
    moment = datetime.fromisoformat(submitted_at)
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(VIETNAM).date()


def filter_rows(rows: Iterable[Mapping[str, str]], *, date_from: date | None = None,
                date_to: date | None = None, units: Sequence[str] = (),
                channels: Sequence[str] = ()) -> list[Mapping[str, str]]:
    """Keep the rows the filters of contract §3 select: inclusive Vietnam days, any-of lists."""
    kept = []
    for row in rows:
        day = vietnam_day(row["submitted_at"])
        if date_from is not None and day < date_from:
            continue
        if date_to is not None and day > date_to:
            continue
        if units and row["unit"] not in units:
            continue
        if channels and row["channel"] not in channels:
            continue
        kept.append(row)
    return kept


# --------------------------------------------------------------------------------------------
# Scoring


def wilson(successes: int, n: int, z: float = Z95) -> list[float] | None:
    """Return the Wilson score interval of successes / n, in percent, or None when n = 0.

    With p = s/n: centre = (p + z²/(2n)) / (1 + z²/n) and
    half = z/(1 + z²/n) · √(p(1 − p)/n + z²/(4n²)); the interval is 100 × (centre ∓ half).
    """
    if n == 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [100 * (centre - half), 100 * (centre + half)]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _counted(definition: Definition, row: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Return the row's counted answers: question id -> its option (non-null score)."""
    out: dict[str, dict[str, Any]] = {}
    for entry in definition.codebook:
        if entry.get("group") is None or entry.get("type") != "choice":
            continue
        cell = (row.get(entry["id"]) or "").strip()
        if not cell:
            continue  # not answered
        code = int(cell)
        options = [o for o in entry["options"] if o["code"] == code]
        if not options:
            raise ValueError(f"question {entry['id']}: unknown code {code}")
        if options[0].get("score") is not None:
            out[entry["id"]] = options[0]
    return out


def _excluded(row: Mapping[str, str]) -> bool:
    return (row.get("excluded") or "").strip() == "1"


def _respondent_score(definition: Definition, counted: Mapping[str, Mapping[str, Any]]
                      ) -> float | None:
    """One response's own score on the index scale (README: the index interval)."""
    if definition.index == "sipas":
        shares = []
        for gid, _ in definition.groups:
            mine = [counted[q] for q in definition.items_of_group(gid) if q in counted]
            if mine:
                shares.append(sum(1 for o in mine if o.get("satisfied")) / len(mine))
        return 100 * sum(shares) / len(shares) if shares else None
    total = 0.0
    for _, subgroups in definition.groups:
        for sid in subgroups:
            scores = [float(counted[q]["score"]) for q in definition.items_of_subgroup(sid)
                      if q in counted]
            if not scores:
                return None
            total += (1 + 9 * sum(scores) / len(scores)) / len(subgroups)
    return total


def _index_range(definition: Definition) -> tuple[float, float]:
    if definition.index == "sipas":
        return (0.0, 100.0)
    return (1.0 * len(definition.groups), 10.0 * len(definition.groups))


def _index_interval(index: float | None, milli: Sequence[int], low: float, high: float,
                    z: float) -> list[float] | None:
    """The README's index interval, from the respondents' scores in thousandths."""
    if index is None or not milli:
        return None
    n, span = len(milli), high - low
    p = min(max((index - low) / span, 0.0), 1.0)
    mean = fractions.Fraction(sum(milli), n)
    ss = float(sum((fractions.Fraction(m) - mean) ** 2 for m in milli)) / 1e6 / span ** 2
    v = (ss + (p * p + (1 - p) ** 2) / 2) / n
    n_eff = max(n, n * p * (1 - p) / v)
    centre = (p + z * z / (2 * n_eff)) / (1 + z * z / n_eff)
    half = z * math.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff * n_eff)) / (1 + z * z / n_eff)
    bottom = low if p == 0 else max(low, low + span * (centre - half))
    top = high if p == 1 else min(high, low + span * (centre + half))
    return [min(bottom, index), max(top, index)]


TARGETS = {"sipas": 80.0}
"""Contract §8's target by index kind when none is configured: satisfaction above 80 % (the PAR
programme, NQ 30c/NQ-CP); PAPI has none."""


def verdict(target: float | None, ci95: Sequence[float] | None) -> str | None:
    """Contract §8: met when the interval's low end reaches the target, not met when its high
    end stays below, undecided otherwise; None without a target or an index."""
    if target is None or ci95 is None:
        return None
    if ci95[0] >= target:
        return "met"
    if ci95[1] < target:
        return "not_met"
    return "undecided"


def score(definition: Definition, rows: Iterable[Mapping[str, str]],
          z: float = Z95, target: float | None | str = "default") -> dict[str, Any]:
    """Recompute the summary's numbers from raw rows (already filtered).

    Returns ``{"n_responses", "index": {"value", "ci95", "range"}, "groups": {id: {"value",
    "n"}}, "subgroups": {id: {"value", "n"}}, "items": {id: {"n", "satisfied", "rate",
    "rate_ci95", "mean"}}}``, keyed by ids; ``ci95`` is the README's interval (see the module
    docstring). ``target`` is the one in force, by default contract §8's for the index kind.
    """
    if target == "default":
        target = TARGETS.get(definition.index)
    assert target is None or isinstance(target, float | int)
    rows = list(rows)
    kept = [row for row in rows if not _excluded(row)]
    answers = [_counted(definition, row) for row in kept]
    sipas = definition.index == "sipas"

    items: dict[str, dict[str, Any]] = {}
    for entry in definition.codebook:
        if entry.get("group") is None:
            continue
        qid = entry["id"]
        given = [a[qid] for a in answers if qid in a]
        n = len(given)
        satisfied = sum(1 for o in given if o.get("satisfied"))
        items[qid] = {
            "n": n,
            "satisfied": satisfied if sipas else None,
            "rate": (100 * satisfied / n if n else None) if sipas else None,
            "rate_ci95": wilson(satisfied, n, z) if sipas else None,
            "mean": _mean([float(o["score"]) for o in given]),
        }

    def responses_with_answers_in(question_ids: Sequence[str]) -> int:
        return sum(1 for a in answers if any(q in a for q in question_ids))

    groups: dict[str, dict[str, Any]] = {}
    subgroups: dict[str, dict[str, Any]] = {}
    for gid, subs in definition.groups:
        members = definition.items_of_group(gid)
        if sipas:
            value = _mean([items[q]["rate"] for q in members if items[q]["n"] > 0])
        else:
            k = len(subs)
            parts: list[float | None] = []
            for sid in subs:
                sub_items = definition.items_of_subgroup(sid)
                x = _mean([items[q]["mean"] for q in sub_items if items[q]["n"] > 0])
                sub_value = None if x is None else (1 + 9 * x) / k
                subgroups[sid] = {"value": sub_value,
                                  "n": responses_with_answers_in(sub_items)}
                parts.append(sub_value)
            known = [p for p in parts if p is not None]
            value = sum(known) if len(known) == len(parts) else None
        groups[gid] = {"value": value, "n": responses_with_answers_in(members)}

    values = [g["value"] for g in groups.values()]
    if sipas:
        index = _mean([v for v in values if v is not None])
    else:
        known_values = [v for v in values if v is not None]
        index = sum(known_values) if len(known_values) == len(values) else None

    low, high = _index_range(definition)
    milli = [round(s * 1000) for s in (_respondent_score(definition, a) for a in answers)
             if s is not None]
    ci95 = _index_interval(index, milli, low, high, z)

    return {"n_responses": len(kept), "n_excluded": len(rows) - len(kept),
            "index": {"value": index, "ci95": ci95, "range": [low, high]},
            "target": {"value": None if target is None else float(target),
                       "verdict": verdict(target, ci95 if index is not None else None)},
            "groups": groups, "subgroups": subgroups, "items": items}


def score_csv(definition: Definition, csv_text: str | bytes, **filters: Any) -> dict[str, Any]:
    """Read an exported CSV, apply ``filters`` (see :func:`filter_rows`) and score it."""
    return score(definition, filter_rows(read_csv(csv_text), **filters))


# --------------------------------------------------------------------------------------------
# Comparison with a summary


def _close(a: Any, b: Any, tolerance: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return (isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b)
                and all(_close(x, y, tolerance) for x, y in zip(a, b, strict=True)))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= tolerance


def differences(summary: Mapping[str, Any], reference: Mapping[str, Any], *,
                tolerance: float = 1e-9) -> list[str]:
    """List every number of ``summary`` that disagrees with the reference (empty: all agree)."""
    out: list[str] = []

    def check(where: str, got: Any, expected: Any, exact: bool = False) -> None:
        same = got == expected and type(got) is type(expected) if exact else _close(
            got, expected, tolerance)
        if not same:
            out.append(f"{where}: app {got!r} != reference {expected!r}")

    check("n_responses", summary["n_responses"], reference["n_responses"], exact=True)
    check("n_excluded", summary["n_excluded"], reference["n_excluded"], exact=True)
    check("index.value", summary["index"]["value"], reference["index"]["value"])
    check("index.ci95", summary["index"]["ci95"], reference["index"]["ci95"])
    target = summary.get("target") or {}
    check("target.value", target.get("value"), reference["target"]["value"])
    check("target.verdict", target.get("verdict"), reference["target"]["verdict"], exact=True)
    seen_groups = [g["id"] for g in summary["groups"]]
    if seen_groups != list(reference["groups"]):
        out.append(f"groups: app {seen_groups} != reference {list(reference['groups'])}")
    sipas = summary["questionnaire"]["index"] == "sipas"
    seen_items: list[str] = []

    def check_items(where: str, listed: Sequence[Mapping[str, Any]]) -> None:
        for item in listed:
            qid = item["id"]
            seen_items.append(qid)
            expected = reference["items"].get(qid)
            if expected is None:
                out.append(f"{where}.{qid}: not a scored item of the reference")
                continue
            for key in ("n", "satisfied"):
                check(f"{where}.{qid}.{key}", item[key], expected[key], exact=True)
            for key in ("rate", "rate_ci95", "mean"):
                check(f"{where}.{qid}.{key}", item[key], expected[key])

    for group in summary["groups"]:
        gid = group["id"]
        expected_group = reference["groups"].get(gid)
        if expected_group is None:
            continue
        check(f"{gid}.value", group["value"], expected_group["value"])
        check(f"{gid}.n", group["n"], expected_group["n"], exact=True)
        if sipas:
            if group["subgroups"]:
                out.append(f"{gid}.subgroups: a sipas group has none, got {group['subgroups']}")
            check_items(gid, group["items"])
            continue
        if group["items"]:
            out.append(f"{gid}.items: a papi group lists its items in its subgroups")
        for sub in group["subgroups"]:
            sid = sub["id"]
            expected_sub = reference["subgroups"].get(sid)
            if expected_sub is None:
                out.append(f"{gid}.{sid}: not a subgroup of the reference")
                continue
            check(f"{gid}.{sid}.value", sub["value"], expected_sub["value"])
            check(f"{gid}.{sid}.n", sub["n"], expected_sub["n"], exact=True)
            check_items(f"{gid}.{sid}", sub["items"])
    if sorted(seen_items) != sorted(reference["items"]):
        out.append(f"items: app lists {sorted(seen_items)}, "
                   f"reference scores {sorted(reference['items'])}")
    return out
