"""The guided beta-test mode (``harness guide``): a person tries the index's login and 2FA
journeys with their own phone app, key and assistive technology, while the harness does the
clerical work.

The browser-free core, one idea per module:

* :mod:`harness.guide.journeys`: the journeys and their steps, as a tester reads them, and the
  :class:`~harness.guide.journeys.StepDriver` hook a browser driver implements;
* :mod:`harness.guide.prompts`: everything the guide asks the person, on a terminal or from a
  file of scripted answers;
* :mod:`harness.guide.feedback`: the questions about the tester's set-up and after each journey;
* :mod:`harness.guide.state`: the session's state in the report folder, to stop and resume;
* :mod:`harness.guide.report`: the session as Markdown, security findings kept private;
* :mod:`harness.guide.vault`: the few secrets a scripted session carries over a stop, kept out
  of the report folder;
* :mod:`harness.guide.session`: the session itself (journeys, narration, questions, saving,
  stopping and resuming, the offer to undo), on the step driver and an undo hook.

And what puts it in a browser:

* :mod:`harness.guide.browser`: the step driver, on Playwright and the page objects, with a
  masked screenshot and the automatic checks of every step;
* :mod:`harness.guide.standins`: the software stand-ins acting for the person in CI;
* :mod:`harness.guide.account`: the account's state and the undo, over HTTP with the browser's
  login;
* :mod:`harness.guide.sandbox`: the bundled server and an account for the person on it;
* :mod:`harness.guide.releases`: the destructive journeys' test projects, uploaded with twine;
* :mod:`harness.guide.collaborator`: the second account the collaborator journey adds and
  removes, made in the sandbox or given by the tester;
* :mod:`harness.guide.html`: the session as one offline HTML page;
* :mod:`harness.guide.command`: ``harness guide`` itself.
"""
