"""The data scoring works on: a questionnaire's :class:`Scheme` and the :class:`Counts` of a cell.

Both are frozen. Counts are integers, so cells merge exactly in any order (``a + b``); a
Scheme is built from a questionnaire definition or rebuilt from a summary's codebook, which is
what lets anyone recompute a published summary. The formulas live in :mod:`analysis.scoring`.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from questionnaires import Questionnaire

IndexKind = Literal["sipas", "papi"]

#: Bounds of a SIPAS index (a percentage).
SIPAS_RANGE = (0.0, 100.0)


# --------------------------------------------------------------------------------------------
# Counts


def _clean_counts(mapping: Mapping[Any, Any], key: Any) -> dict[Any, int]:
    """Return a sorted copy without zero entries, checking that every count is an integer >= 0.

    Own copies keep a frozen Counts safe from later changes to the caller's dict, dropping
    zeros makes ``Counts(options={k: 0}) == Counts()``, and sorting gives a stable repr.
    """
    out: dict[Any, int] = {}
    for k, v in mapping.items():
        count = operator.index(v)  # refuses 1.5 and 1.0: counts must add up exactly
        if count < 0:
            raise ValueError(f"negative count for {k!r}: {count}")
        if count:
            out[key(k)] = count
    return dict(sorted(out.items()))


def _option_key(k: Any) -> tuple[str, int]:
    question_id, code = k
    return (str(question_id), operator.index(code))


def _add_counts(a: Mapping[Any, int], b: Mapping[Any, int]) -> dict[Any, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


@dataclass(frozen=True)
class Counts:
    """Everything the summary needs, as integers that add up exactly in any order.

    ``options`` maps ``(question_id, option_code)`` to the number of answers with that code
    (every choice question, scored or not, so that profile questions can be tabulated too);
    ``groups`` maps a group **or** subgroup id to the number of responses with at least one
    counted answer in it; ``score_n``, ``score_sum`` and ``score_sqsum`` are the number, sum
    and sum of squares of the respondent scores in thousandths (:func:`respondent_score_milli`),
    used for the confidence interval of the index. ``a + b`` merges two cells.
    """

    n_responses: int = 0
    options: Mapping[tuple[str, int], int] = field(default_factory=dict)
    groups: Mapping[str, int] = field(default_factory=dict)
    score_n: int = 0
    score_sum: int = 0
    score_sqsum: int = 0

    def __post_init__(self) -> None:
        for name in ("n_responses", "score_n", "score_sum", "score_sqsum"):
            value = operator.index(getattr(self, name))
            if name != "score_sum" and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "options", _clean_counts(self.options, _option_key))
        object.__setattr__(self, "groups", _clean_counts(self.groups, str))

    def __add__(self, other: Counts) -> Counts:
        if not isinstance(other, Counts):
            return NotImplemented
        return Counts(
            n_responses=self.n_responses + other.n_responses,
            options=_add_counts(self.options, other.options),
            groups=_add_counts(self.groups, other.groups),
            score_n=self.score_n + other.score_n,
            score_sum=self.score_sum + other.score_sum,
            score_sqsum=self.score_sqsum + other.score_sqsum,
        )

    def __radd__(self, other: object) -> Counts:
        # Lets the builtin sum() start from its default 0: sum(cells.values()).
        if other == 0:
            return self
        return NotImplemented


# --------------------------------------------------------------------------------------------
# Scheme


class ScoredOption(NamedTuple):
    """How one option of a choice question scores: ``score`` None means "does not count"."""

    score: float | None
    satisfied: bool


@dataclass(frozen=True)
class SchemeSubgroup:
    """A PAPI sub-dimension and the ids of its scored items, in questionnaire order."""

    id: str
    label: str
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemeGroup:
    """A SIPAS element or PAPI dimension and the ids of its scored items, in questionnaire order.

    For PAPI, ``items`` lists every item of the dimension and each subgroup its own.
    """

    id: str
    label: str
    subgroups: tuple[SchemeSubgroup, ...] = ()
    items: tuple[str, ...] = ()


def _summary_error(reason: str) -> ValueError:
    return ValueError(f"not a summary of contract §6: {reason}")


@dataclass(frozen=True)
class Scheme:
    """What scoring needs to know about a questionnaire, from its definition or from a summary.

    ``groups`` are in questionnaire order, ``codebook`` holds the contract §6 codebook entries
    (id, type, group, subgroup, text, options with code, label, score and satisfied). The
    codebook is left out of the hash (dicts are not hashable) but not out of equality.
    """

    id: str
    version: int
    index: IndexKind
    groups: tuple[SchemeGroup, ...]
    codebook: tuple[dict[str, Any], ...] = field(hash=False)
    _options: dict[str, dict[int, ScoredOption]] = field(
        init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.index not in ("sipas", "papi"):
            raise ValueError(f"index must be 'sipas' or 'papi', got {self.index!r}")
        # A private deep copy: neither the caller's dicts nor a summary's copy can change it.
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "codebook", tuple(copy.deepcopy(dict(e)) for e in self.codebook))
        options: dict[str, dict[int, ScoredOption]] = {}
        for entry in self.codebook:
            qid = str(entry["id"])
            if qid in options:
                raise ValueError(f"duplicate question id in the codebook: {qid}")
            options[qid] = {
                operator.index(o["code"]): ScoredOption(
                    None if o.get("score") is None else float(o["score"]),
                    bool(o.get("satisfied", False)))
                for o in entry.get("options") or ()
            }
        object.__setattr__(self, "_options", options)
        for g in self.groups:
            if self.index == "papi" and not g.subgroups:
                raise ValueError(f"group {g.id}: a papi dimension needs subgroups")
            if self.index == "sipas" and g.subgroups:
                raise ValueError(f"group {g.id}: a sipas element has no subgroups")
            for qid in (*g.items, *(i for s in g.subgroups for i in s.items)):
                if qid not in options:
                    raise ValueError(f"group {g.id}: item {qid} is not in the codebook")

    @classmethod
    def from_questionnaire(cls, q: Questionnaire, lang: str = "vi") -> Scheme:
        """Build the scheme of a questionnaire definition, with labels in ``lang``."""
        scored = q.scored_questions
        groups = tuple(
            SchemeGroup(
                id=g.id,
                label=g.label.get(lang),
                subgroups=tuple(
                    SchemeSubgroup(s.id, s.label.get(lang),
                                   tuple(x.id for x in scored if x.subgroup == s.id))
                    for s in g.subgroups),
                items=tuple(x.id for x in scored if x.group == g.id),
            )
            for g in q.groups)
        return cls(q.id, q.version, q.index, groups, tuple(q.codebook(lang)))

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> Scheme:
        """Rebuild the scheme from a contract §6 summary (its questionnaire, groups and codebook).

        This is what lets anyone recompute a published summary from the raw responses.
        """
        try:
            meta = summary["questionnaire"]
            codebook = [dict(e) for e in summary["codebook"]]
            raw_groups = summary["groups"]
            groups = tuple(
                SchemeGroup(
                    id=str(g["id"]),
                    label=str(g["label"]),
                    subgroups=tuple(
                        SchemeSubgroup(
                            str(s["id"]), str(s["label"]),
                            tuple(str(e["id"]) for e in codebook if e.get("subgroup") == s["id"]))
                        for s in g.get("subgroups") or ()),
                    items=tuple(str(e["id"]) for e in codebook if e.get("group") == g["id"]),
                )
                for g in raw_groups)
            scheme = cls(str(meta["id"]), operator.index(meta["version"]), meta["index"],
                         groups, tuple(codebook))
        except (KeyError, TypeError, AttributeError) as exc:
            raise _summary_error(f"missing or malformed {exc}") from exc
        group_ids = {g.id for g in groups}
        subgroup_ids = {s.id for g in groups for s in g.subgroups}
        for e in codebook:
            if e.get("group") is not None and e["group"] not in group_ids:
                raise _summary_error(f"question {e['id']} names unknown group {e['group']!r}")
            if scheme.index == "papi" and e.get("group") is not None and (
                    e.get("subgroup") not in subgroup_ids):
                raise _summary_error(f"question {e['id']} needs a known subgroup")
        return scheme

    def option(self, question_id: str, code: int) -> ScoredOption | None:
        """Return how option ``code`` of ``question_id`` scores, or None when either is unknown."""
        return self._options.get(question_id, {}).get(code)

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Return the ids of the scored items, in questionnaire order."""
        return tuple(qid for g in self.groups
                     for qid in (*g.items, *(i for s in g.subgroups for i in s.items)))

    @property
    def profile_ids(self) -> tuple[str, ...]:
        """Return the ids of the unscored choice questions (field, sex, age…), in order.

        A summary can be broken down by any of them (the dashboard's "Theo đặc điểm").
        """
        return tuple(str(e["id"]) for e in self.codebook
                     if e.get("group") is None and e.get("type") == "choice")

    def options_of(self, question_id: str) -> Mapping[int, ScoredOption]:
        """Return the options of a question by code, in codebook order (empty when unknown)."""
        return self._options.get(question_id, {})

    @property
    def index_range(self) -> tuple[float, float]:
        """Return the lowest and highest possible index value."""
        if self.index == "sipas":
            return SIPAS_RANGE
        return (float(len(self.groups)), 10.0 * len(self.groups))
