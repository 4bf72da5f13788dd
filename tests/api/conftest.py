"""Shared set-up of the API tests: the schema fuzz prints its table of answers at the end."""


def pytest_terminal_summary(terminalreporter):
    from tests.api import fuzz_support

    if fuzz_support.ANSWERS:
        terminalreporter.section("schema fuzz: answers by status")
        for line in fuzz_support.table():
            terminalreporter.write_line(line)
