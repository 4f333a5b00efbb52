"""Questionnaire definitions as versioned data, and the loader that checks them.

Importable without Flask: ``from questionnaires import load_all`` works in a notebook.
"""

from .loader import (
    DEFINITIONS_DIR,
    QuestionnaireError,
    definition_files,
    latest,
    load,
    load_all,
    loads,
    parse,
)
from .model import Group, Option, Question, Questionnaire, Section, Subgroup, Text

__all__ = [
    "DEFINITIONS_DIR",
    "Group",
    "Option",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "Section",
    "Subgroup",
    "Text",
    "definition_files",
    "latest",
    "load",
    "load_all",
    "loads",
    "parse",
]
