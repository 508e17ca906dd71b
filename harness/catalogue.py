"""The conformance catalogue: the written requirements every scenario traces to.

``harness/catalogue.toml`` holds one ``[[requirement]]`` table per requirement: a stable
``id``, one line of ``text``, its ``source`` (an RFC section, a W3C WebAuthn step, an ASVS id,
the seed's stated behaviour…), its ``severity`` and the index ``policies`` it applies to (a
target profile's ``policy``). Scenarios name the requirements they check with
``@pytest.mark.requirement("ID", …)``; the plugin refuses ids the catalogue lacks.
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.errors import HarnessError

ID_PATTERN = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")
POLICIES = ("current", "2019-beta")
FIELDS = ("id", "text", "source", "severity", "policies")


class CatalogueError(HarnessError):
    """The catalogue file is missing, not TOML, or breaks the schema."""


class Severity(enum.StrEnum):
    """What a failure of the requirement means for a tester."""

    SECURITY = "security"
    FUNCTIONAL = "functional"
    USABILITY = "usability"


@dataclass(frozen=True)
class Requirement:
    """One written requirement.

    :param id: stable, e.g. ``TOTP-REPLAY-01``.
    :param text: one line stating the behaviour the index must have.
    :param source: where the requirement comes from.
    :param severity: security, functional or usability.
    :param policies: the index policies (``current``, ``2019-beta``) it applies to.
    """

    id: str
    text: str
    source: str
    severity: Severity
    policies: tuple[str, ...]

    def applies_to(self, policy: str) -> bool:
        return policy in self.policies


@dataclass(frozen=True)
class Catalogue:
    """The requirements by id, in the file's order."""

    requirements: dict[str, Requirement]

    @classmethod
    def load(cls, path: Path | None = None) -> Catalogue:
        """The bundled catalogue, or the one at ``path``.

        :raises CatalogueError: the file cannot be read, is not TOML, or breaks the schema.
        """
        where = resources.files("harness").joinpath("catalogue.toml") if path is None else path
        try:
            text = where.read_text(encoding="utf-8")
        except OSError as error:
            raise CatalogueError(f"cannot read the catalogue {where}: {error.strerror}") from None
        return cls.from_toml(text, source=str(where))

    @classmethod
    def from_toml(cls, text: str, source: str) -> Catalogue:
        """Build the catalogue from TOML text; ``source`` names it in error messages.

        :raises CatalogueError: not TOML, or a requirement breaks the schema.
        """
        try:
            tables = tomllib.loads(text).get("requirement", [])
        except tomllib.TOMLDecodeError as error:
            raise CatalogueError(f"the catalogue {source} is not valid TOML: {error}") from None
        if not isinstance(tables, list) or not tables:
            raise CatalogueError(f"the catalogue {source} has no [[requirement]] tables")
        requirements: dict[str, Requirement] = {}
        for number, table in enumerate(tables, start=1):
            requirement = _requirement(table, f"{source}, requirement {number}")
            if requirement.id in requirements:
                raise CatalogueError(f"{source}: the id {requirement.id} is defined twice")
            requirements[requirement.id] = requirement
        return cls(requirements)

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements

    def __getitem__(self, requirement_id: str) -> Requirement:
        return self.requirements[requirement_id]

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self.requirements.values())

    def __len__(self) -> int:
        return len(self.requirements)


def _requirement(table: object, where: str) -> Requirement:
    """One ``[[requirement]]`` table, checked field by field.

    :raises CatalogueError: naming the table and the field that is wrong.
    """
    if not isinstance(table, dict):
        raise CatalogueError(f"{where} is not a table")
    missing = [name for name in FIELDS if name not in table]
    unknown = sorted(set(table) - set(FIELDS))
    if missing or unknown:
        problem = f"lacks {', '.join(missing)}" if missing else f"has unknown {', '.join(unknown)}"
        raise CatalogueError(f"{where} {problem}")
    requirement_id, text, source, severity, policies = (table[name] for name in FIELDS)
    for name, value in (("id", requirement_id), ("text", text), ("source", source)):
        if not isinstance(value, str) or not value.strip() or "\n" in value:
            raise CatalogueError(f"{where}: {name} must be one non-empty line")
    if not ID_PATTERN.match(requirement_id):
        raise CatalogueError(f"{where}: the id {requirement_id!r} is not like TOTP-REPLAY-01")
    try:
        severity = Severity(severity)
    except ValueError:
        choices = ", ".join(Severity)
        raise CatalogueError(
            f"{where} ({requirement_id}): severity {severity!r} is not one of {choices}"
        ) from None
    if (
        not isinstance(policies, list)
        or not policies
        or any(policy not in POLICIES for policy in policies)
    ):
        raise CatalogueError(
            f"{where} ({requirement_id}): policies must list some of {', '.join(POLICIES)}"
        )
    return Requirement(requirement_id, text, source, severity, tuple(policies))
