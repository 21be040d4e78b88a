"""Prompt templates with {{variables}}, saved by name and versioned."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from playground.errors import InvalidInput
from playground.i18n import t
from storage import UnitOfWork

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
MAX_VARIABLES = 8


def template_variables(body: str) -> list[str]:
    """Variable names in order of first appearance."""
    seen: list[str] = []
    for name in VARIABLE.findall(body or ""):
        if name not in seen:
            seen.append(name)
    return seen


def render_template(body: str, values: Mapping[str, object]) -> str:
    names = template_variables(body)
    missing = [n for n in names if not str(values.get(n) if values.get(n) is not None else "").strip()]
    if missing:
        raise InvalidInput(t("compare.fill_variables", names=", ".join(missing)))
    return VARIABLE.sub(lambda m: str(values[m.group(1)]), body)


def variable_values(body: str, values: Sequence[str]) -> dict[str, str]:
    """The template's variables paired, in order, with the values typed into their fields."""
    return {name: values[i] for i, name in enumerate(template_variables(body)[:MAX_VARIABLES])}


def carry_values(shown: Sequence[str], values: Sequence[str], names: Sequence[str]) -> list[str]:
    """The values for the fields of ``names`` when the prompt changes: each field keeps what was
    typed into the field of the same variable (``shown[i]`` holds ``values[i]``), never the value
    of the field that happened to sit in its place; a new variable starts empty."""
    typed = {name: value for name, value in zip(shown, values) if value}
    return [typed.get(name, "") for name in names]


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    version: int
    version_id: int
    body: str
    variables: list[str]


class TemplateService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]):
        self.uow_factory = uow_factory

    @staticmethod
    def check_name(name: str | None) -> str:
        name = (name or "").strip()
        if not name:
            raise InvalidInput(t("compare.template_no_name"))
        return name

    @staticmethod
    def check_body(body: str | None) -> list[str]:
        """The template's variables, or why it cannot be saved."""
        if not (body or "").strip():
            raise InvalidInput(t("compare.template_empty"))
        variables = template_variables(body or "")
        if len(variables) > MAX_VARIABLES:
            raise InvalidInput(t("compare.template_too_many_variables", limit=MAX_VARIABLES, count=len(variables)))
        return variables

    def save(self, name: str, body: str) -> TemplateInfo:
        name = self.check_name(name)
        variables = self.check_body(body)
        with self.uow_factory() as uow:
            version = uow.templates.save(name, body, variables)
            return TemplateInfo(name, version.version, version.id, version.body, list(version.variables))

    def names(self) -> list[str]:
        with self.uow_factory() as uow:
            return [t.name for t in uow.templates.list()]

    def latest(self, name: str) -> TemplateInfo:
        with self.uow_factory() as uow:
            template = uow.templates.by_name(name)
            if template is None:
                raise InvalidInput(t("compare.no_such_template", name=repr(name)))
            version = uow.templates.latest_version(template.id)
            if version is None:  # deleted meanwhile (saving always adds a version)
                raise InvalidInput(t("compare.no_such_template", name=repr(name)))
            return TemplateInfo(name, version.version, version.id, version.body, list(version.variables))

    def version(self, version_id: int) -> TemplateInfo | None:
        with self.uow_factory() as uow:
            version = uow.templates.get_version(version_id)
            if version is None:
                return None
            return TemplateInfo(
                version.template.name, version.version, version.id, version.body, list(version.variables)
            )

    def matching_version(self, name: str, body: str) -> int | None:
        """The id of the saved version whose text is exactly ``body``, so a run can record it."""
        if not (name or "").strip():
            return None
        with self.uow_factory() as uow:
            template = uow.templates.by_name(name.strip())
            if template is None:
                return None
            for version in reversed(template.versions):
                if version.body == body:
                    return version.id
        return None
