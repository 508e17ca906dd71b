"""What a run leaves behind: Allure results with the evidence of failures, secrets scrubbed,
the conformance matrix, the tester's summary, JUnit XML and the rendered HTML report."""
