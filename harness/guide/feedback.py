"""What the guide asks the tester about their set-up, once, and about each journey, after it:
the answers the index's maintainers asked for (did it work, what was confusing, how easy, what
assistive technology could not do, anything else).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.guide.journeys import Journey
from harness.guide.prompts import ENVIRONMENT, Prompts

NONE_NAMED = "none named"
"""How a set-up question left unanswered reads in the report."""


class Kind(StrEnum):
    """The kind of answer a question takes."""

    YES_NO = "yes/no"
    RATING = "rating"
    TEXT = "text"


@dataclass(frozen=True)
class Question:
    """One question.

    :param key: its name, the key a scripted answers file answers it by.
    :param text: as asked; ``{title}`` is replaced by the journey's title.
    :param kind: the kind of answer.
    :param optional: for text, the person may leave it unanswered.
    """

    key: str
    text: str
    kind: Kind
    optional: bool = False

    def ask(self, prompts: Prompts, where: str, title: str = "") -> bool | int | str:
        """The person's answer (through ``prompts``), asked in ``where``."""
        text = self.text.format(title=title)
        if self.kind is Kind.YES_NO:
            return prompts.yes_no(where, self.key, text)
        if self.kind is Kind.RATING:
            return prompts.rating(where, self.key, text)
        return prompts.text(where, self.key, text, optional=self.optional)


@dataclass(frozen=True)
class TesterEnvironment:
    """What the tester says they use; an empty field was left unanswered."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    browser: str
    os: str
    key: str = ""
    app: str = ""


ENVIRONMENT_QUESTIONS = (
    Question("browser", "Which browser are you using, and which version?", Kind.TEXT),
    Question("os", "Which operating system are you using?", Kind.TEXT),
    Question("key", "Which security key will you use, if any?", Kind.TEXT, optional=True),
    Question("app", "Which authenticator app is on your phone, if any?", Kind.TEXT, optional=True),
)


def ask_environment(prompts: Prompts) -> TesterEnvironment:
    """Ask what the tester uses (in :data:`~harness.guide.prompts.ENVIRONMENT`)."""
    answers = {q.key: str(q.ask(prompts, ENVIRONMENT)) for q in ENVIRONMENT_QUESTIONS}
    return TesterEnvironment(**answers)


@dataclass(frozen=True)
class Feedback:
    """The tester's answers about one journey; an empty text was left unanswered."""

    worked: bool
    rating: int
    confusing: str = ""
    accessibility: str = ""
    comment: str = ""


FEEDBACK_QUESTIONS = (
    Question("worked", "Did '{title}' work for you?", Kind.YES_NO),
    Question("confusing", "What, if anything, was confusing?", Kind.TEXT, optional=True),
    Question("rating", "How easy was it, from 1 (very hard) to 5 (very easy)?", Kind.RATING),
    Question(
        "accessibility",
        "If you used a screen reader, magnifier or the keyboard alone: what could you not"
        " reach, hear or see?",
        Kind.TEXT,
        optional=True,
    ),
    Question("comment", "Anything else you want to tell the maintainers?", Kind.TEXT, True),
)
"""Asked after each journey, in this order; the keys are :class:`Feedback`'s fields."""


def ask_feedback(prompts: Prompts, journey: Journey) -> Feedback:
    """Ask the questions about ``journey`` (in its id)."""
    answers = {q.key: q.ask(prompts, journey.id, journey.title) for q in FEEDBACK_QUESTIONS}
    return Feedback(**answers)  # type: ignore[arg-type]  # each key's kind matches its field
