"""Read questionnaire definitions from YAML and check them thoroughly.

A definition lives in ``definitions/<id>/v<version>.yaml``. Every error names the file and, where
there is one, the question, so that whoever edits a file can find the mistake at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import yaml

from .model import Group, Option, Question, Questionnaire, Section, Subgroup, Text

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"

# Ids are stored in columns of 64 characters.
QUESTIONNAIRE_ID = re.compile(r"^(?=.{1,64}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
GROUP_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")
MAX_VERSION = 9999
FILE_NAME = re.compile(r"^v([1-9][0-9]*)\.ya?ml$")

DEFAULT_TEXT_LENGTH = 1000

_TOP_KEYS = {"id", "version", "index", "title", "intro", "source", "notes", "scales", "groups",
             "sections"}
_SECTION_KEYS = {"id", "title", "intro", "group", "questions"}
_QUESTION_KEYS = {"id", "number", "type", "text", "help", "scale", "options", "required", "group",
                  "subgroup", "max_length", "display"}
_OPTION_KEYS = {"code", "label", "score", "satisfied"}


class QuestionnaireError(ValueError):
    """A questionnaire file is invalid; the message names the file and the question."""


class _Checker:
    """Collects the context (file, question) that every error message carries."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.where = ""

    def fail(self, reason: str) -> QuestionnaireError:
        where = f": {self.where}" if self.where else ""
        return QuestionnaireError(f"{self.path}{where}: {reason}")

    def mapping(self, value: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"{what} must be a mapping")
        return cast(Mapping[str, Any], value)

    def seq(self, value: Any, what: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(f"{what} must be a list")
        return value

    def keys(self, data: Mapping[str, Any], allowed: set[str], what: str) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(f"unknown key(s) in {what}: {', '.join(map(str, unknown))}")

    def string(self, value: Any, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{what} must be a non-empty text")
        if unicodedata.normalize("NFC", value) != value:
            raise self.fail(f"{what} is not in Unicode NFC form: {value!r}")
        return value.strip()

    def text(self, value: Any, what: str) -> Text:
        """Accept ``"…"`` (Vietnamese only) or ``{vi: "…", en: "…"}``."""
        if isinstance(value, str):
            return Text(vi=self.string(value, what))
        data = self.mapping(value, what)
        self.keys(data, {"vi", "en"}, what)
        if "vi" not in data:
            raise self.fail(f"{what} needs a Vietnamese text (vi)")
        en = data.get("en")
        return Text(vi=self.string(data["vi"], f"{what}.vi"),
                    en=self.string(en, f"{what}.en") if en is not None else None)

    def optional_text(self, value: Any, what: str) -> Text | None:
        return None if value is None else self.text(value, what)


def _yaml(source: str) -> Any:
    """Parse YAML safely, with libyaml's C parser when PyYAML has it (some ten times faster)."""
    return yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def load(path: Path | str) -> Questionnaire:
    """Load and check one definition file."""
    path = Path(path)
    check = _Checker(path)
    try:
        raw = _yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise check.fail(f"cannot read the file: {exc}") from exc
    except yaml.YAMLError as exc:
        raise check.fail(f"invalid YAML: {exc}") from exc
    return parse(raw, check)


def loads(source: str, name: str = "<definition>") -> Questionnaire:
    """Load a definition from YAML text (as stored in the database next to the responses)."""
    check = _Checker(name)
    try:
        raw = _yaml(source)
    except yaml.YAMLError as exc:
        raise check.fail(f"invalid YAML: {exc}") from exc
    return parse(raw, check)


def parse(raw: Any, check: _Checker | str = "<definition>") -> Questionnaire:
    """Build a Questionnaire from already parsed YAML data (tests use inline dicts)."""
    if isinstance(check, str):
        check = _Checker(check)
    data = check.mapping(raw, "the file")
    check.keys(data, _TOP_KEYS, "the questionnaire")
    for key in ("id", "version", "index", "title", "groups", "sections"):
        if key not in data:
            raise check.fail(f"missing key: {key}")

    qid = data["id"]
    if not isinstance(qid, str) or not QUESTIONNAIRE_ID.match(qid):
        raise check.fail(f"id must look like 'sipas-dichvu', got {qid!r}")
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
        raise check.fail(f"version must be an integer from 1 to {MAX_VERSION}, got {version!r}")
    index = data["index"]
    if index not in ("sipas", "papi"):
        raise check.fail(f"index must be 'sipas' or 'papi', got {index!r}")

    groups = _groups(check, data["groups"], index)
    scales = _scales(check, data.get("scales") or {}, index)
    sections = _sections(check, data["sections"], scales, groups, index)
    check.where = ""

    questionnaire = Questionnaire(
        id=qid,
        version=version,
        index=index,
        title=check.text(data["title"], "title"),
        intro=check.optional_text(data.get("intro"), "intro"),
        source=check.string(data["source"], "source") if "source" in data else "",
        notes=check.string(data["notes"], "notes") if "notes" in data else "",
        groups=groups,
        sections=sections,
    )
    _check_coverage(check, questionnaire)
    return questionnaire


def _groups(check: _Checker, raw: Any, index: str) -> tuple[Group, ...]:
    groups: list[Group] = []
    seen: set[str] = set()
    for i, item in enumerate(check.seq(raw, "groups"), start=1):
        g = check.mapping(item, f"group {i}")
        check.keys(g, {"id", "label", "subgroups"}, f"group {i}")
        gid = g.get("id")
        if not isinstance(gid, str) or not GROUP_ID.match(gid):
            raise check.fail(f"group {i}: invalid id {gid!r}")
        if gid in seen:
            raise check.fail(f"duplicate group id {gid!r}")
        seen.add(gid)
        subgroups: list[Subgroup] = []
        for j, sub in enumerate(check.seq(g.get("subgroups") or [], f"group {gid} subgroups"), 1):
            s = check.mapping(sub, f"group {gid} subgroup {j}")
            check.keys(s, {"id", "label"}, f"group {gid} subgroup {j}")
            sid = s.get("id")
            if not isinstance(sid, str) or not GROUP_ID.match(sid):
                raise check.fail(f"group {gid}: invalid subgroup id {sid!r}")
            if sid in seen:
                raise check.fail(f"duplicate group or subgroup id {sid!r}")
            seen.add(sid)
            subgroups.append(Subgroup(sid, check.text(s.get("label"), f"subgroup {sid} label")))
        if index == "papi" and not subgroups:
            raise check.fail(f"group {gid}: a papi dimension needs subgroups")
        if index == "sipas" and subgroups:
            raise check.fail(f"group {gid}: a sipas element has no subgroups")
        groups.append(Group(gid, check.text(g.get("label"), f"group {gid} label"),
                            tuple(subgroups)))
    if not groups:
        raise check.fail("a questionnaire needs at least one scored group")
    return tuple(groups)


def _options(check: _Checker, raw: Any, what: str, index: str) -> tuple[Option, ...]:
    options: list[Option] = []
    codes: set[int] = set()
    for i, item in enumerate(check.seq(raw, what), start=1):
        o = check.mapping(item, f"{what} option {i}")
        check.keys(o, _OPTION_KEYS, f"{what} option {i}")
        code = o.get("code")
        if not isinstance(code, int) or isinstance(code, bool) or not 0 <= code <= 999:
            raise check.fail(f"{what} option {i}: code must be an integer 0-999, got {code!r}")
        if code in codes:
            raise check.fail(f"{what}: duplicate option code {code}")
        codes.add(code)
        score = o.get("score")
        if score is not None:
            if not isinstance(score, int | float) or isinstance(score, bool):
                raise check.fail(f"{what} option {code}: score must be a number or null")
            low, high = (1, 5) if index == "sipas" else (0, 1)
            if not low <= score <= high:
                raise check.fail(f"{what} option {code}: score {score} outside {low}-{high}")
        satisfied = o.get("satisfied", False)
        if not isinstance(satisfied, bool):
            raise check.fail(f"{what} option {code}: satisfied must be true or false")
        if satisfied and score is None:
            raise check.fail(f"{what} option {code}: a satisfied option needs a score")
        options.append(Option(code, check.text(o.get("label"), f"{what} option {code} label"),
                              None if score is None else float(score), satisfied))
    if len(options) < 2:
        raise check.fail(f"{what}: a choice needs at least two options")
    return tuple(options)


def _scales(check: _Checker, raw: Any, index: str) -> dict[str, tuple[tuple[Option, ...], str]]:
    scales: dict[str, tuple[tuple[Option, ...], str]] = {}
    for name, item in check.mapping(raw, "scales").items():
        s = check.mapping(item, f"scale {name}")
        check.keys(s, {"options", "display"}, f"scale {name}")
        display = s.get("display", "list")
        if display not in ("row", "list"):
            raise check.fail(f"scale {name}: display must be 'row' or 'list'")
        scales[str(name)] = (_options(check, s.get("options"), f"scale {name}", index), display)
    return scales


def _sections(check: _Checker, raw: Any, scales: Mapping[str, tuple[tuple[Option, ...], str]],
              groups: tuple[Group, ...], index: str) -> tuple[Section, ...]:
    group_ids = {g.id for g in groups}
    subgroup_parent = {s.id: g.id for g in groups for s in g.subgroups}
    sections: list[Section] = []
    seen_sections: set[str] = set()
    seen_questions: set[str] = set()
    for i, item in enumerate(check.seq(raw, "sections"), start=1):
        check.where = ""
        s = check.mapping(item, f"section {i}")
        check.keys(s, _SECTION_KEYS, f"section {i}")
        sid = s.get("id")
        if not isinstance(sid, str) or not QUESTION_ID.match(sid.replace("-", "_")):
            raise check.fail(f"section {i}: invalid id {sid!r}")
        if sid in seen_sections:
            raise check.fail(f"duplicate section id {sid!r}")
        seen_sections.add(sid)
        default_group = s.get("group")
        questions: list[Question] = []
        for j, q_raw in enumerate(check.seq(s.get("questions"), f"section {sid} questions"), 1):
            check.where = f"section {sid}, question {j}"
            q = check.mapping(q_raw, "the question")
            qid = q.get("id")
            if not isinstance(qid, str) or not QUESTION_ID.match(qid):
                raise check.fail(f"invalid question id {qid!r}")
            check.where = f"question {qid}"
            check.keys(q, _QUESTION_KEYS, "the question")
            if qid in seen_questions:
                raise check.fail("duplicate question id")
            seen_questions.add(qid)
            questions.append(_question(check, q, qid, scales, default_group, group_ids,
                                       subgroup_parent, index))
        if not questions:
            raise check.fail(f"section {sid} has no questions")
        sections.append(Section(sid, check.text(s.get("title"), f"section {sid} title"),
                                check.optional_text(s.get("intro"), f"section {sid} intro"),
                                tuple(questions)))
    return tuple(sections)


def _question(check: _Checker, q: Mapping[str, Any], qid: str,
              scales: Mapping[str, tuple[tuple[Option, ...], str]], default_group: Any,
              group_ids: set[str], subgroup_parent: Mapping[str, str], index: str) -> Question:
    qtype = q.get("type", "choice")
    if qtype not in ("choice", "text"):
        raise check.fail(f"type must be 'choice' or 'text', got {qtype!r}")
    required = q.get("required", False)
    if not isinstance(required, bool):
        raise check.fail("required must be true or false")
    number = q.get("number")
    if number is not None and not isinstance(number, str | int):
        raise check.fail("number must be a short text")

    subgroup = q.get("subgroup")
    group = q.get("group", default_group)
    for name, value in (("subgroup", subgroup), ("group", group), ("scale", q.get("scale"))):
        if value is not None and not isinstance(value, str):
            raise check.fail(f"{name} must be a single id, got {value!r}")
    if subgroup is not None:
        if subgroup not in subgroup_parent:
            raise check.fail(f"unknown subgroup {subgroup!r}")
        if group is not None and group != subgroup_parent[subgroup]:
            raise check.fail(f"subgroup {subgroup!r} does not belong to group {group!r}")
        group = subgroup_parent[subgroup]
    if group is not None:
        if group not in group_ids:
            raise check.fail(f"unknown group {group!r}")
        if index == "papi" and subgroup is None:
            raise check.fail("a scored papi question needs a subgroup")

    options: tuple[Option, ...] = ()
    display = q.get("display")
    max_length = q.get("max_length")
    if qtype == "choice":
        if ("scale" in q) == ("options" in q):
            raise check.fail("a choice question needs either scale or options")
        if "scale" in q:
            if q["scale"] not in scales:
                raise check.fail(f"unknown scale {q['scale']!r}")
            options, scale_display = scales[q["scale"]]
            display = display or scale_display
        else:
            options = _options(check, q["options"], "options", index)
        if max_length is not None:
            raise check.fail("max_length applies to text questions only")
        if group is not None:
            if all(o.score is None for o in options):
                raise check.fail("a scored question needs options with scores")
            if index == "sipas" and not any(o.satisfied for o in options):
                raise check.fail("a scored sipas question needs options marked satisfied")
        elif any(o.score is not None or o.satisfied for o in options):
            raise check.fail("options of an unscored question must not carry scores")
    else:
        if "scale" in q or "options" in q:
            raise check.fail("a text question has no options")
        if group is not None:
            raise check.fail("a text question cannot be scored")
        if max_length is None:
            max_length = DEFAULT_TEXT_LENGTH
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1:
            raise check.fail("max_length must be a positive integer")
    if display not in (None, "row", "list"):
        raise check.fail("display must be 'row' or 'list'")

    return Question(
        id=qid,
        type=qtype,
        text=check.text(q.get("text"), "text"),
        number=None if number is None else str(number),
        help=check.optional_text(q.get("help"), "help"),
        options=options,
        required=required,
        group=group,
        subgroup=subgroup,
        max_length=max_length,
        display=display or "list",
    )


def _check_coverage(check: _Checker, questionnaire: Questionnaire) -> None:
    """Every group and subgroup must have at least one scored question."""
    used_groups = {q.group for q in questionnaire.scored_questions}
    used_subgroups = {q.subgroup for q in questionnaire.scored_questions}
    for g in questionnaire.groups:
        if g.id not in used_groups:
            raise check.fail(f"group {g.id} has no scored question")
        for s in g.subgroups:
            if s.id not in used_subgroups:
                raise check.fail(f"subgroup {s.id} has no scored question")


def definition_files(directory: Path | str = DEFINITIONS_DIR) -> list[Path]:
    """Return every definition file under ``directory``, sorted."""
    return sorted(p for p in Path(directory).glob("*/v*.y*ml") if p.is_file())


def load_all(directory: Path | str = DEFINITIONS_DIR) -> dict[tuple[str, int], Questionnaire]:
    """Load every definition, checking that each file's place matches its id and version."""
    found: dict[tuple[str, int], Questionnaire] = {}
    for path in definition_files(directory):
        questionnaire = load(path)
        match = FILE_NAME.match(path.name)
        if path.parent.name != questionnaire.id or not match:
            raise QuestionnaireError(
                f"{path}: must be stored as {questionnaire.id}/v{questionnaire.version}.yaml")
        if int(match.group(1)) != questionnaire.version:
            raise QuestionnaireError(
                f"{path}: file name says version {match.group(1)}, "
                f"the file says {questionnaire.version}")
        found[questionnaire.key] = questionnaire
    return found


def latest(questionnaires: Iterable[Questionnaire]) -> dict[str, Questionnaire]:
    """Return the highest version of each questionnaire id."""
    result: dict[str, Questionnaire] = {}
    for q in questionnaires:
        if q.id not in result or q.version > result[q.id].version:
            result[q.id] = q
    return result
