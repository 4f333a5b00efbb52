"""Questionnaires as frozen data: what a form asks and how its answers are scored.

Nothing here knows about Flask, databases or pandas, so the same objects drive the web form,
the paper-entry screen, the exports and an offline notebook.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

Lang = Literal["vi", "en"]
IndexKind = Literal["sipas", "papi"]
QuestionType = Literal["choice", "text"]


@dataclass(frozen=True)
class Text:
    """A text shown to people, in Vietnamese and (optionally) English."""

    vi: str
    en: str | None = None

    def get(self, lang: str = "vi") -> str:
        """Return the text in ``lang``, falling back to Vietnamese."""
        if lang == "en" and self.en:
            return self.en
        return self.vi

    def __str__(self) -> str:
        return self.vi


@dataclass(frozen=True)
class Option:
    """One answer option of a choice question; ``code`` is what is stored and exported."""

    code: int
    label: Text
    score: float | None = None
    satisfied: bool = False


@dataclass(frozen=True)
class Question:
    """One question; scored questions carry the group (and subgroup) they count towards."""

    id: str
    type: QuestionType
    text: Text
    number: str | None = None
    help: Text | None = None
    options: tuple[Option, ...] = ()
    required: bool = False
    group: str | None = None
    subgroup: str | None = None
    max_length: int | None = None
    display: Literal["row", "list"] = "list"

    @property
    def scored(self) -> bool:
        """Whether the question counts towards the index."""
        return self.group is not None

    def option(self, code: int) -> Option | None:
        """Return the option with ``code``, or None when the code is unknown."""
        for opt in self.options:
            if opt.code == code:
                return opt
        return None


@dataclass(frozen=True)
class Subgroup:
    """A sub-dimension of a PAPI-style dimension."""

    id: str
    label: Text


@dataclass(frozen=True)
class Group:
    """A scored group: a SIPAS element (yếu tố) or a PAPI dimension."""

    id: str
    label: Text
    subgroups: tuple[Subgroup, ...] = ()


@dataclass(frozen=True)
class Section:
    """A block of questions shown together, with a heading."""

    id: str
    title: Text
    intro: Text | None = None
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True)
class Questionnaire:
    """One version of a questionnaire; never change the meaning of a version that has data."""

    id: str
    version: int
    index: IndexKind
    title: Text
    intro: Text | None
    source: str
    notes: str
    groups: tuple[Group, ...]
    sections: tuple[Section, ...]

    def __hash__(self) -> int:
        # Frozen, so the hash never changes; computing it walks every question and option,
        # and the caches keyed by a questionnaire (form classes, scoring schemes) ask for it
        # on every request. Kept in the instance's __dict__, outside the fields.
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.id, self.version, self.index, self.title, self.intro,
                           self.source, self.notes, self.groups, self.sections))
            self.__dict__["_hash"] = cached
        return int(cached)

    @property
    def key(self) -> tuple[str, int]:
        """Return ``(id, version)``, the identity of this definition."""
        return (self.id, self.version)

    @functools.cached_property
    def questions(self) -> tuple[Question, ...]:
        """Return every question in form order."""
        return tuple(q for s in self.sections for q in s.questions)

    @functools.cached_property
    def scored_questions(self) -> tuple[Question, ...]:
        """Return the questions that count towards the index, in form order."""
        return tuple(q for q in self.questions if q.scored)

    @functools.cached_property
    def _by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def question(self, question_id: str) -> Question | None:
        """Return the question with ``question_id``, or None."""
        return self._by_id.get(question_id)

    def codebook(self, lang: str = "vi") -> list[dict[str, Any]]:
        """Return the codebook of contract §6: every question with its options."""
        return [
            {
                "id": q.id,
                "type": q.type,
                "group": q.group,
                "subgroup": q.subgroup,
                "text": q.text.get(lang),
                "options": [
                    {
                        "code": o.code,
                        "label": o.label.get(lang),
                        "score": o.score,
                        "satisfied": o.satisfied,
                    }
                    for o in q.options
                ],
            }
            for q in self.questions
        ]
