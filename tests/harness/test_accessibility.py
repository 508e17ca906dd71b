"""The accessibility checks fail for the right reason: each on a small page that breaks what it
checks, next to its honest twin that does not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page

from harness import accessibility
from harness.accessibility import (
    Violation,
    attach_axe_results,
    axe_violations,
    describe,
    focus_is_visible,
    is_announced,
    overflows_horizontally,
    serious,
    start_at_top,
    tab_stops,
    tab_to,
)

SECRET = "hunter2-in-the-page"


def html(body: str, head: str = "") -> str:
    """A page that is otherwise clean: a language, a title, a main landmark and a heading."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Test page</title>{head}</head>"
        f"<body><main><h1>Test page</h1>{body}</main></body></html>"
    )


UNLABELLED = html(f'<form><input type="text" name="code" value="{SECRET}"></form>')
LABELLED = html('<form><label for="code">Code</label><input id="code" name="code"></form>')


class TestAxeViolations:
    def test_input_without_a_label_is_a_serious_violation_of_rule_label(self, page: Page) -> None:
        page.set_content(UNLABELLED)
        blocking = serious(axe_violations(page))
        assert "label" in [violation.rule_id for violation in blocking]
        label = next(violation for violation in blocking if violation.rule_id == "label")
        assert label.impact in ("serious", "critical")
        assert label.targets == ("input",)
        assert label.help_url.startswith("https://dequeuniversity.com/rules/axe/")

    def test_labelled_input_has_no_violation(self, page: Page) -> None:
        page.set_content(LABELLED)
        assert axe_violations(page) == []

    def test_only_wcag_21_a_and_aa_rules_run(self, page: Page) -> None:
        # No main landmark and content outside landmarks break best-practice rules only
        # (landmark-one-main, region): not WCAG 2.1 A/AA.
        page.set_content('<!doctype html><html lang="en"><title>t</title><p>Text</p></html>')
        assert axe_violations(page) == []

    def test_serious_keeps_serious_and_critical_only(self) -> None:
        found = [
            Violation(f"rule-{impact}", impact, "help", "url", ("p",))
            for impact in ("minor", "moderate", "serious", "critical")
        ]
        assert [violation.impact for violation in serious(found)] == ["serious", "critical"]

    def test_violation_keeps_no_html_snippet_nor_failure_summary(self) -> None:
        result = {
            "id": "label",
            "impact": "critical",
            "help": "Form elements must have labels",
            "helpUrl": "https://dequeuniversity.com/rules/axe/4.12/label",
            "nodes": [
                {
                    "html": f'<input value="{SECRET}">',
                    "failureSummary": f"Fix any of the following: {SECRET}",
                    "target": ["form > input"],
                },
                {"html": "<input>", "target": [["#host", "input"], "input"]},
            ],
        }
        violation = Violation.from_axe(result)
        assert violation.targets == ("form > input", "#host input >>> input")
        assert SECRET not in repr(violation)

    def test_targets_keep_structural_attribute_values_only(self) -> None:
        result = {
            "id": "label",
            "nodes": [
                {"target": ['input[name="code"]']},
                {"target": ['input[value="123456"]', 'a[href$="x?token"]']},
                {"target": ['input[type="text"][value="say \\"hi\\""]']},
            ],
        }
        assert Violation.from_axe(result).targets == (
            'input[name="code"]',
            'input[value="…"] >>> a[href$="…"]',
            'input[type="text"][value="…"]',
        )

    def test_value_attribute_in_a_real_target_is_hidden(self, page: Page) -> None:
        page.set_content(
            html('<input type="text" value="s3cr3t-a"><input type="text" value="s3cr3t-b">')
        )
        (label,) = [v for v in axe_violations(page) if v.rule_id == "label"]
        assert len(label.targets) == 2
        assert not any("s3cr3t" in target for target in label.targets)


class TestAttachAxeResults:
    @pytest.fixture
    def attachments(self, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
        attached: list[dict[str, Any]] = []

        def attach(body: str, name: str, attachment_type: object) -> None:
            attached.append({"body": body, "name": name, "type": attachment_type})

        monkeypatch.setattr(accessibility.allure, "attach", attach)
        return attached

    def test_results_are_attached_without_html_snippets_or_page_text(
        self, page: Page, attachments: list[dict[str, Any]]
    ) -> None:
        page.set_content(UNLABELLED)
        page.locator("input").fill(SECRET + "-typed")
        attach_axe_results("demo", axe_violations(page))
        (attachment,) = attachments
        assert attachment["name"] == "axe-core: demo"
        assert attachment["type"] == accessibility.allure.attachment_type.JSON
        document = json.loads(attachment["body"])
        assert [violation["rule_id"] for violation in document["violations"]] == ["label"]
        assert document["violations"][0]["impact"] == "critical"
        assert document["violations"][0]["targets"] == ["input"]
        assert "html" not in _keys(document)
        assert "failureSummary" not in _keys(document)
        assert SECRET not in attachment["body"]

    def test_a_clean_page_is_attached_too(
        self, page: Page, attachments: list[dict[str, Any]]
    ) -> None:
        page.set_content(LABELLED)
        attach_axe_results("clean", axe_violations(page))
        assert [json.loads(a["body"])["violations"] for a in attachments] == [[]]


class TestReflow:
    WIDE = html('<div style="width: 1000px">Wide</div>')
    NARROW = html("<div>Narrow</div>")

    def test_a_1000_px_wide_element_overflows_at_320_px(self, page: Page) -> None:
        page.set_viewport_size({"width": 320, "height": 640})
        page.set_content(self.WIDE)
        assert overflows_horizontally(page)

    def test_the_same_page_without_it_does_not(self, page: Page) -> None:
        page.set_viewport_size({"width": 320, "height": 640})
        page.set_content(self.NARROW)
        assert not overflows_horizontally(page)


class TestTabStops:
    PAGE = html(
        '<a href="#top">Top</a>'
        '<form><label for="user">User</label><input id="user" name="username">'
        '<label for="pw">Password</label><input id="pw" name="password" type="password" autofocus>'
        '<input type="hidden" name="csrf_token" value="x">'
        '<input id="trap" name="honeypot" tabindex="-1" aria-label="Leave empty">'
        '<button type="button" disabled>Off</button>'
        '<input type="submit" value="Log in"></form>'
    )

    def test_tab_stops_are_the_controls_in_order_from_the_top(self, page: Page) -> None:
        page.set_content(self.PAGE)
        assert tab_stops(page) == [
            "a",
            "input#user[name=username]",
            "input#pw[name=password]",
            "input[type=submit]",
        ]
        assert page.locator("[data-harness-tab-start]").count() == 0

    def test_a_control_out_of_the_tab_order_is_not_a_tab_stop(self, page: Page) -> None:
        page.set_content(self.PAGE.replace('name="username"', 'name="username" tabindex="-1"'))
        assert "input#user[name=username]" not in tab_stops(page)

    def test_tab_stops_end_at_a_focus_trap(self, page: Page) -> None:
        trap = """<script>
            document.getElementById("last").addEventListener("keydown", event => {
                if (event.key === "Tab") { event.preventDefault(); document.getElementById("first").focus(); }
            });</script>"""  # noqa: E501
        page.set_content(
            html('<button id="first">1</button><button id="last">2</button><a href="#">3</a>')
            + trap
        )
        assert tab_stops(page, limit=10) == ["button#first", "button#last"]

    def test_describe_matches_a_tab_stop(self, page: Page) -> None:
        page.set_content(self.PAGE)
        assert describe(page.locator("#pw")) in tab_stops(page)

    def test_tab_to_reaches_a_control_and_not_one_out_of_the_order(self, page: Page) -> None:
        page.set_content(self.PAGE)
        start_at_top(page)
        assert tab_to(page, page.locator('input[type="submit"]'))
        start_at_top(page)
        assert not tab_to(page, page.locator("#trap"), limit=10)


class TestFocusVisible:
    PAGE = html(
        '<button id="plain">Default</button>'
        '<button id="bare" style="outline: none">No outline</button>'
        '<button id="shadow" style="outline: none; box-shadow: 0 0 0 3px #05f">Shadow</button>'
        '<button id="clear" style="outline: 2px solid transparent">Transparent</button>'
    )

    @pytest.mark.parametrize(
        ("element_id", "visible"),
        [("plain", True), ("bare", False), ("shadow", True), ("clear", False)],
    )
    def test_focus_indicator_by_style(self, page: Page, element_id: str, visible: bool) -> None:
        page.set_content(self.PAGE)
        start_at_top(page)
        assert tab_to(page, page.locator(f"#{element_id}"))
        assert focus_is_visible(page) is visible

    def test_nothing_focused_is_not_visible_focus(self, page: Page) -> None:
        page.set_content(self.PAGE)
        assert not focus_is_visible(page)


class TestAnnounced:
    PAGE = html(
        '<ul role="alert"><li id="alert">Wrong</li></ul>'
        '<div aria-live="polite"><p id="live">Wrong</p></div>'
        '<div aria-live="off"><p id="off">Wrong</p></div>'
        '<ul><li id="silent">Wrong</li></ul>'
    )

    @pytest.mark.parametrize(
        ("element_id", "announced"),
        [("alert", True), ("live", True), ("off", False), ("silent", False)],
    )
    def test_in_a_live_region(self, page: Page, element_id: str, announced: bool) -> None:
        page.set_content(self.PAGE)
        assert is_announced(page.locator(f"#{element_id}")) is announced


def _keys(value: object) -> set[str]:
    """Every key of every mapping inside a JSON document."""
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()
