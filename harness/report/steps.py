"""Allure steps for what the harness does on a test's behalf, so a failure's report shows the
steps that led to it: each public method of the page objects and of the protocol client, and
each HTTP request (its method and path; never its query, which may carry a token).

Arguments are not recorded: they are often passwords or codes.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import allure

Class = TypeVar("Class", bound=type)


def step_per_method(cls: Class, *, skip: Collection[str] = ()) -> Class:
    """Make each public method ``cls`` defines (not those in ``skip``, nor properties or static
    and class methods) an Allure step titled "Class: method name", after the class of the
    object it is called on; returns ``cls``."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or name in skip or not inspect.isfunction(member):
            continue
        setattr(cls, name, _as_step(name.replace("_", " "), member))
    return cls


def request_step(method: str, url: str) -> AbstractContextManager[Any]:
    """The step of one HTTP request: "GET /account/login/"."""
    return allure.step(f"{method} {urlsplit(url).path}")


def _as_step(action: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def stepped(self: object, *args: Any, **kwargs: Any) -> Any:
        with allure.step(f"{type(self).__name__}: {action}"):
            return method(self, *args, **kwargs)

    return stepped
