"""The HTML report: Allure 3's command-line tool renders allure-results into one file, offline.

The tool is the npm package ``allure`` pinned in ``harness/report/allure/package.json``; the
project's set-up (``./tasks``) installs it with ``npm ci`` when Node is present. Its config,
``allurerc.json`` beside it, asks the Awesome report for single-file mode, so ``index.html``
carries its scripts, styles and data inline and opens from ``file://`` (testers mail it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.errors import HarnessError

ALLURE_PACKAGE = Path(__file__).parent / "allure"
CONFIG = ALLURE_PACKAGE / "allurerc.json"
CLI = ALLURE_PACKAGE / "node_modules" / "allure" / "cli.js"
# Allure 3 writes Google Analytics into every report and has no switch for it yet
# (allure-framework/allure3 issue #476); the page would call Google each time it is opened.
ANALYTICS = re.compile(
    r'\s*<script async src="https://www\.googletagmanager\.com/gtag/js\?[^"]*"></script>'
    r"\s*<script>.*?</script>",
    re.DOTALL,
)
REMOTE_ASSET = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""")


def allure_command() -> list[str] | None:
    """The argv prefix that runs the installed Allure CLI, or None without ``node`` or the CLI."""
    node = shutil.which("node")
    if node is None or not CLI.is_file():
        return None
    return [node, str(CLI)]


def render(
    results: Path,
    output: Path,
    *,
    title: str,
    categories: Sequence[Mapping[str, object]] = (),
    timeout: float = 300,
) -> Path:
    """Render the allure-results folder ``results`` into ``output``; return its ``index.html``.

    ``output`` is created and must not exist or be empty. The page is self-contained and loads
    nothing from the network (the analytics tag Allure adds is removed). Nothing is fetched
    while rendering either.

    :raises HarnessError: in one line: the CLI is not installed, ``results`` holds no results,
        ``output`` is not empty, the CLI failed (with the last line of its stderr), timed out or
        wrote no page, or the page would load a script or style from the network.
    """
    command = allure_command()
    if command is None:
        raise HarnessError(
            "Allure 3's CLI is not installed (it needs node): run `./tasks run` once for its"
            " set-up, or `npm ci --prefix harness/report/allure`"
        )
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise HarnessError(f"no allure results to render in {results}")
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise HarnessError(f"cannot render the HTML report into {output}: it is not empty")
    output.mkdir(parents=True, exist_ok=True)
    # The Awesome report reads categories from its config, not from categories.json.
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    if categories:
        config["categories"] = [dict(category) for category in categories]
    try:
        with tempfile.TemporaryDirectory() as scratch:
            config_path = Path(scratch) / CONFIG.name
            config_path.write_text(json.dumps(config), encoding="utf-8")
            # Run inside `results` and name it ".": the CLI reads its arguments as globs.
            argv = [
                *command,
                "generate",
                ".",
                f"--config={config_path}",
                f"--output={output.resolve()}",
                f"--report-name={title}",
            ]
            done = subprocess.run(
                argv,
                cwd=results,
                env={**os.environ, "NO_COLOR": "1"},
                capture_output=True,
                text=True,
                timeout=timeout,
            )
    except subprocess.TimeoutExpired:
        raise HarnessError(f"Allure's CLI did not render {results} within {timeout:g} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        raise HarnessError(
            f"Allure's CLI failed to render {results} (exit {done.returncode}): {last}"
        )
    index = output / "index.html"
    if not index.is_file():
        raise HarnessError(f"Allure's CLI exited without writing {index}")
    html = ANALYTICS.sub("", index.read_text(encoding="utf-8"))
    if REMOTE_ASSET.search(html):
        raise HarnessError(f"{index} would load a script or style from the network")
    index.write_text(html, encoding="utf-8")
    return index
