"""Mutation-test the core modules with mutmut 3 and print the share of mutants killed.

Usage: ``make mutate`` (every module below), ``make mutate MODULES=billing/ledger.py``
(one or more, space-separated), or ``.venv/bin/python scripts/mutate.py --diff MODULE``
to print each surviving mutant's diff as well.

Modules that share their tests (MODULE_TESTS) are mutated in one mutmut run, in a scratch
copy of the project under ``var/mutate/`` (locked while it runs), so a run never writes
into the work tree. The mutmut configuration is generated per run and appended to the
copy's ``pyproject.toml`` as ``[tool.mutmut]``: the modules to mutate, the test folders
that exercise them, and the slow or external tests to leave out. Each module's surviving
mutants, with their diffs, go to ``var/mutate/survivors-<module>.txt``.
Mutation runs use the embedded defaults (SQLite in memory, local-memory cache, eager
Celery, embedded engines), whatever the shell exports: they are faster and isolated.
Every run starts fresh, so a result never survives a change of code or tests. mutmut
needs the selected tests to pass unmutated, so a first plain run names the tests that
fail and leaves them out (a few at most). MUTATE_PYTEST_ARGS adds pytest arguments to
every run, MUTATE_JOBS sets the parallel mutants (2), MUTATE_GOAL the share to reach (85).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("MUTATE_DIR") or ROOT / "var" / "mutate")

# A scratch copy holds the whole project but for these (tests may import any part of it).
LEFT_OUT = {
    ".git", ".venv", "var", "mutants", ".mutmut-cache", ".env", "build", "staticfiles",
    ".pytest_cache", ".ruff_cache", ".mypy_cache", ".hypothesis", "node_modules",
}  # fmt: skip
SOURCE_PATHS = ["regen", "billing"]

# The tests that may kill a module's mutants. mutmut then runs, for each mutant, only the
# tests that called the mutated function while it collected coverage.
ENGINE_TESTS = ["tests/engine"]
WEB_TESTS = ["tests/api", "tests/regen", "tests/billing", "tests/pages", "tests/promises"]
MODULE_TESTS: dict[str, list[str]] = {
    "regen/engine/thresholds.py": ENGINE_TESTS,
    "regen/engine/pricing.py": ENGINE_TESTS,
    "regen/engine/loop.py": ENGINE_TESTS,
    "billing/ledger.py": WEB_TESTS,
    "regen/idempotency.py": WEB_TESTS,
    "regen/evalcache.py": WEB_TESTS,
    "regen/evals.py": WEB_TESTS,
}

# Never in a mutation run: a browser, a real worker, the live-server SDK test and the
# schema fuzz are slow and test the wiring, not these modules' decisions.
PYTEST_ARGS = [
    "-p",
    "no:cacheprovider",
    "-p",
    "mutate_plugin",
    "--ignore=tests/browser",
    "--ignore=tests/celery",
    "--ignore=tests/api/test_schema_fuzz.py",
    "--ignore=tests/api/test_sdk.py",
    "--ignore=tests/engine/llm",
]

# Settings that would point a run at shared services or refuse SQLite (CI=true).
DROPPED_ENV = (
    "DATABASE_URL",
    "CACHE_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "RAIL_EVALUATOR",
    "RAIL_REGENERATOR",
    "ROOT_URLCONF",
    "CI",
)

KILLED = {"killed", "timeout", "caught by type check"}

# A pytest plugin for the scratch copy. Fastest tests first, so most mutants die in the
# first second (pytest-django's stable sort then restores its database order), and
# Hypothesis derandomized, so a run's verdicts do not depend on luck.
PLUGIN = '''"""Written by scripts/mutate.py: fast tests first, reproducible Hypothesis."""

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "mutate",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def pytest_configure(config):
    settings.load_profile("mutate")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    stats = Path("mutmut-stats.json")
    if stats.exists():
        durations = json.loads(stats.read_text()).get("duration_by_test", {})
        items.sort(key=lambda item: durations.get(item.nodeid, 0.0))


# The pre-flight run (MUTATE_RECORD=path) records which tests fail before any mutation.
RECORD = os.environ.get("MUTATE_RECORD")
outcomes = {"failed": set(), "run": 0}


def pytest_collectreport(report):
    if RECORD and report.failed:
        outcomes["failed"].add(report.nodeid)


def pytest_runtest_logreport(report):
    if RECORD and report.when == "call":
        outcomes["run"] += 1
    if RECORD and report.failed:
        outcomes["failed"].add(report.nodeid)


def pytest_sessionfinish(session):
    if RECORD:
        failed = sorted(outcomes["failed"])
        Path(RECORD).write_text(json.dumps({"failed": failed, "run": outcomes["run"]}))
'''


def default_modules() -> list[str]:
    """Name the gauged modules; the eval cache is regen/evals.py until it has its own."""
    cache = "regen/evalcache.py" if (ROOT / "regen/evalcache.py").exists() else "regen/evals.py"
    return [
        "regen/engine/thresholds.py",
        "regen/engine/pricing.py",
        "regen/engine/loop.py",
        "billing/ledger.py",
        "regen/idempotency.py",
        cache,
    ]


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def tests_for(module: str) -> list[str]:
    return MODULE_TESTS.get(module, ["tests"])


def pytest_args(left_out: list[str]) -> list[str]:
    """Give every pytest run its arguments, leaving out ``left_out`` (files or test ids)."""
    extra = shlex.split(os.environ.get("MUTATE_PYTEST_ARGS", ""))
    skip = [f"--deselect={t}" if "::" in t else f"--ignore={t}" for t in left_out]
    return PYTEST_ARGS + extra + skip


def mutmut_config(modules: list[str], left_out: list[str]) -> str:
    """Write the ``[tool.mutmut]`` block that mutates ``modules``, which share their tests."""
    return "\n".join(
        [
            "",
            "[tool.mutmut]",
            f"source_paths = {toml_list(SOURCE_PATHS)}",
            f"only_mutate = {toml_list(modules)}",
            f"also_copy = {toml_list(project_parts() + ['mutate_plugin.py'])}",
            f"pytest_add_cli_args = {toml_list(pytest_args(left_out))}",
            f"pytest_add_cli_args_test_selection = {toml_list(tests_for(modules[0]))}",
            "use_git_change_detection = false",
            "debug = false",
            "",
        ]
    )


def project_parts() -> list[str]:
    """Name the project's top-level files and folders a scratch copy takes."""
    return sorted(
        p.name
        for p in ROOT.iterdir()
        if p.name not in LEFT_OUT
        and p.name != "pyproject.toml"
        and not p.name.endswith((".egg-info", ".sqlite3"))
    )


def prepare(modules: list[str], workdir: Path) -> None:
    """Copy the project into ``workdir``, ready for ``configure``."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in project_parts():
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, workdir / part, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, workdir / part)
    pyproject = (ROOT / "pyproject.toml").read_text()
    if "[tool.mutmut]" in pyproject:
        raise SystemExit("mutate: pyproject.toml has its own [tool.mutmut]; remove it first")
    (workdir / "pyproject.toml").write_text(pyproject)
    (workdir / "mutate_plugin.py").write_text(PLUGIN)


def failing_tests(modules: list[str], workdir: Path) -> list[str]:
    """Run the selected tests once, unmutated, and name those that fail.

    mutmut needs every selected test to pass before it mutates anything; in a work tree
    shared with others a test may be broken for reasons of its own. Such tests are left
    out of the run (and named), unless they are so many that the verdicts would be void.
    """
    record = workdir / "preflight.json"
    command = [sys.executable, "-m", "pytest", "-q", "--tb=line", *pytest_args([])]
    env = {**mutation_env(), "MUTATE_RECORD": str(record)}
    with (workdir / "preflight.log").open("w") as out:
        subprocess.run(
            command + tests_for(modules[0]), cwd=workdir, env=env, stdout=out, stderr=out
        )
    if not record.exists():
        raise SystemExit(f"mutate: the tests did not run (log: {workdir / 'preflight.log'})")
    outcome = json.loads(record.read_text())
    failed: list[str] = outcome["failed"]
    if len(failed) > max(3, outcome["run"] // 20):
        raise SystemExit(
            f"mutate: {len(failed)} of {outcome['run']} tests fail unmutated "
            f"(log: {workdir / 'preflight.log'}); fix them first"
        )
    for test in failed:
        print(f"  left out, fails unmutated: {test}")
    return failed


def configure(modules: list[str], workdir: Path, left_out: list[str]) -> None:
    pyproject = workdir / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + mutmut_config(modules, left_out))


def mutation_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env["CONN_MAX_AGE"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@dataclass
class Result:
    module: str
    by_mutant: dict[str, str]
    seconds: float
    """The time of the whole mutmut run, shared by the modules mutated in it."""
    run: str

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.by_mutant.values() if s in statuses)

    @property
    def total(self) -> int:
        return len(self.by_mutant)

    @property
    def killed(self) -> int:
        return self.count(*KILLED)

    @property
    def survivors(self) -> list[str]:
        return sorted(name for name, s in self.by_mutant.items() if s not in KILLED)

    @property
    def share(self) -> float:
        return 100.0 * self.killed / self.total if self.total else 0.0


def read_results(module: str, workdir: Path, seconds: float) -> Result:
    from mutmut.stats import status_by_exit_code

    meta = json.loads((workdir / "mutants" / (module + ".meta")).read_text())
    by_mutant = {name: status_by_exit_code[code] for name, code in meta["exit_code_by_key"].items()}
    return Result(module, by_mutant, seconds, workdir.name)


def groups_of(modules: list[str]) -> list[list[str]]:
    """Group the modules that share their tests: one mutmut run (and one coverage run) each."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for module in modules:
        groups.setdefault(tuple(tests_for(module)), []).append(module)
    return list(groups.values())


def workdir_of(modules: list[str]) -> Path:
    return WORK / "+".join(Path(m).stem for m in modules)


def survivors_path(module: str) -> Path:
    return WORK / f"survivors-{module.replace('/', '_').removesuffix('.py')}.txt"


def lock(workdir: Path) -> IO[str]:
    """Hold the run's lock, or stop: two runs must not share one ``mutants/``."""
    WORK.mkdir(parents=True, exist_ok=True)
    handle = open(workdir.with_suffix(".lock"), "w")  # noqa: SIM115 (held until exit)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        message = f"mutate: {workdir} is in use by another run; wait, or set MUTATE_DIR"
        raise SystemExit(message) from None
    return handle


def run_group(modules: list[str], *, jobs: int, verbose: bool) -> list[Result]:
    """Mutate ``modules`` in one scratch copy and read mutmut's verdict on each mutant."""
    workdir = workdir_of(modules)
    held = lock(workdir)
    try:
        print(f"mutate: {' '.join(modules)} (tests: {' '.join(tests_for(modules[0]))})")
        started = time.monotonic()
        prepare(modules, workdir)
        configure(modules, workdir, failing_tests(modules, workdir))
        run_mutmut(modules, workdir, jobs=jobs, verbose=verbose)
        seconds = time.monotonic() - started
        results = [read_results(module, workdir, seconds) for module in modules]
        for result in results:
            write_survivors(result, workdir)
        return results
    finally:
        held.close()


def run_mutmut(modules: list[str], workdir: Path, *, jobs: int, verbose: bool) -> None:
    log = workdir / "mutmut.log"
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)]
    with log.open("w") as out:
        done = subprocess.run(
            command,
            cwd=workdir,
            env=mutation_env(),
            stdout=None if verbose else out,
            stderr=subprocess.STDOUT if not verbose else None,
            check=False,
        )
    missing = [m for m in modules if not (workdir / "mutants" / (m + ".meta")).exists()]
    if done.returncode != 0 or missing:  # e.g. a selected test fails unmutated
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"mutate: mutmut failed (log: {log})\n{tail}")


def write_survivors(result: Result, workdir: Path) -> Path:
    """Write every survivor's diff to the module's survivors file and return its path."""
    path = survivors_path(result.module)
    # one subprocess for every diff, inside the scratch copy mutmut reads from
    code = (
        "import sys\n"
        "from mutmut.mutation.diff_apply import get_diff_for_mutant\n"
        f"path = {result.module!r}\n"
        "for name, status in zip(sys.argv[1::2], sys.argv[2::2]):\n"
        "    print(f'# {name}: {status}')\n"
        "    print(get_diff_for_mutant(name, path=path))\n"
        "    print()\n"
    )
    args = [x for name in result.survivors for x in (name, result.by_mutant[name])]
    with path.open("w") as out:
        subprocess.run([sys.executable, "-c", code, *args], cwd=workdir, stdout=out, check=False)
    return path


def print_table(results: list[Result], goal: float) -> None:
    header = f"{'module':<28} {'mutants':>7} {'killed':>6} {'survived':>8} {'other':>5} "
    header += f"{'killed %':>8} {'time':>6}"
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        other = r.total - r.killed - r.count("survived")
        mark = "" if r.share >= goal else "  < goal"
        print(
            f"{r.module:<28} {r.total:>7} {r.killed:>6} {r.count('survived'):>8} {other:>5} "
            f"{r.share:>7.1f}% {r.seconds:>5.0f}s{mark}"
        )
    total = sum(r.total for r in results)
    killed = sum(r.killed for r in results)
    survived = sum(r.count("survived") for r in results)
    share = 100.0 * killed / total if total else 0.0
    print("-" * len(header))
    seconds = sum({r.run: r.seconds for r in results}.values())
    print(
        f"{'total':<28} {total:>7} {killed:>6} {survived:>8} {total - killed - survived:>5} "
        f"{share:>7.1f}% {seconds:>5.0f}s"
    )
    print(f"(killed counts timeouts; other = no tests, suspicious, ...; goal {goal:.0f}%;")
    print(" modules with the same tests share one mutmut run, and its time)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths such as billing/ledger.py")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATE_JOBS", "2")))
    parser.add_argument("--goal", type=float, default=float(os.environ.get("MUTATE_GOAL", "85")))
    parser.add_argument("--diff", action="store_true", help="print each survivor's diff")
    parser.add_argument("-v", "--verbose", action="store_true", help="show mutmut's output")
    args = parser.parse_args(argv)

    modules = args.modules or default_modules()
    for module in modules:
        if not (ROOT / module).is_file():
            parser.error(f"no such module: {module}")
    results = []
    for group in groups_of(modules):
        for result in run_group(group, jobs=args.jobs, verbose=args.verbose):
            path = survivors_path(result.module)
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            print(f"  {result.module}: {result.killed}/{result.total} killed; survivors in {shown}")
            if args.diff:
                print(path.read_text())
            results.append(result)
    print_table(results, args.goal)
    return 0 if all(r.share >= args.goal for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
