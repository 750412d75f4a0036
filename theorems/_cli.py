"""``python -m theorems``: check every claim and its mutants, print the ledger, gate CI.

Exit codes: 0 when every claim's outcome matches its expectation and every mutant is killed,
1 otherwise, 2 for a usage error (unknown claim or topic, unknown profile, unwritable path).
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from hypothesis import settings

from theorems import profiles
from theorems._discovery import import_topics
from theorems._registry import Claim, RegistryError, all_claims, all_mutants
from theorems._runner import ClaimResult, MutantResult, run_claim, run_mutant
from theorems.ledger import format_ledger, ledger_passed, to_json, write_json_atomically

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # the shell's code for a process ended by SIGINT

# A run shows progress once it has lasted this long, so short runs print only the ledger.
_PROGRESS_AFTER_SECONDS = 2.0


class UsageError(Exception):
    """The command line names something that does not exist."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m theorems",
        description="Check every registered claim and its mutants with Hypothesis and print the ledger.",
    )
    parser.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run only claims whose id matches this glob (e.g. 'residual.*'); repeatable",
    )
    parser.add_argument(
        "--topic", action="append", default=[], metavar="NAME", help="run only this topic; repeatable"
    )
    parser.add_argument(
        "--profile",
        default=None,
        metavar="NAME",
        help=f"Hypothesis profile: {', '.join(profiles.PROFILES)} "
        f"(default: ${profiles.PROFILE_ENV} or {profiles.DEFAULT_PROFILE!r})",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the ledger as JSON to PATH (atomic)")
    parser.add_argument("--list", action="store_true", help="print claim ids and titles, then exit")
    parser.add_argument("--no-mutants", action="store_true", help="skip the mutants")
    parser.add_argument(
        "--import",
        dest="modules",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first so its claims register; repeatable",
    )
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the command line and return its exit code."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        profile_name = _profile_name(arguments.profile)
        if arguments.json is not None:
            check_json_path(arguments.json)
        import_topics(tuple(arguments.modules))
        selected = select_claims(all_claims(), arguments.claim, arguments.topic)
    except (UsageError, ImportError, RegistryError) as error:
        print(f"error: {error}", file=stderr)
        return EXIT_USAGE

    if arguments.list:
        width = max(len(c.id) for c in selected)
        for c in selected:
            print(f"{c.id.ljust(width)}  {c.title}", file=stdout)
        return EXIT_OK

    profile = settings.get_profile(profile_name)
    try:
        claim_results, mutant_results = run_all(selected, profile, not arguments.no_mutants, stderr)
    except KeyboardInterrupt:
        print("\ninterrupted: no ledger was printed or written", file=stderr)
        return EXIT_INTERRUPTED
    ledger = format_ledger(claim_results, mutant_results, profile_name, mutants_run=not arguments.no_mutants)
    print(ledger, file=stdout)

    if arguments.json:
        try:
            write_json_atomically(arguments.json, to_json(claim_results, mutant_results, profile_name))
        except OSError as error:
            print(f"error: cannot write the JSON ledger to {arguments.json!r}: {error}", file=stderr)
            return EXIT_USAGE
    return EXIT_OK if ledger_passed(claim_results, mutant_results) else EXIT_FAILED


def check_json_path(path: str) -> None:
    """Fail before the run, not after it, when ``--json PATH`` cannot be written.

    Raises:
        UsageError: the path is empty, is a directory, or its directory is missing or not
            writable.
    """
    if not path:
        raise UsageError("--json needs a file path, got an empty string")
    if os.path.isdir(path):
        raise UsageError(f"--json {path!r} is a directory; give a file path such as {os.path.join(path, 'ledger.json')!r}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"--json {path!r}: the directory {directory!r} does not exist")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"--json {path!r}: the directory {directory!r} is not writable")


def _profile_name(requested: str | None) -> str:
    profiles.register_profiles()
    name = requested or os.environ.get(profiles.PROFILE_ENV) or profiles.DEFAULT_PROFILE
    if name not in profiles.PROFILES:
        source = "--profile" if requested else f"${profiles.PROFILE_ENV}"
        raise UsageError(f"unknown Hypothesis profile {name!r} from {source}; valid profiles are {list(profiles.PROFILES)}")
    return name


def select_claims(claims: Sequence[Claim], patterns: Sequence[str], topics: Sequence[str]) -> list[Claim]:
    """Return the claims matching any pattern and any topic (no filter: all).

    Raises:
        UsageError: a pattern or topic matches no claim; the message lists the closest ids.
    """
    ids = [c.id for c in claims]
    known_topics = sorted({c.topic for c in claims})
    for topic in topics:
        if topic not in known_topics:
            close = difflib.get_close_matches(topic, known_topics, n=3, cutoff=0.4)
            raise UsageError(f"unknown topic {topic!r}; {_suggest(close, known_topics, 'topics')}")
    for pattern in patterns:
        if not fnmatch.filter(ids, pattern):
            close = difflib.get_close_matches(pattern, ids, n=5, cutoff=0.4)
            raise UsageError(f"no claim id matches {pattern!r}; {_suggest(close, ids, 'ids')}")

    selected = []
    for c in claims:
        if patterns and not any(fnmatch.fnmatchcase(c.id, p) for p in patterns):
            continue
        if topics and c.topic not in topics:
            continue
        selected.append(c)
    if not selected:
        raise UsageError(f"no claim matches both --claim {list(patterns)} and --topic {list(topics)}")
    return selected


def _suggest(close: list[str], known: list[str], kind: str) -> str:
    if close:
        return f"closest {kind}: {', '.join(close)}"
    return f"known {kind}: {', '.join(known)}"


def mutant_settings(profile: settings) -> settings:
    """Return the ``ci`` profile, with at least ``profile``'s number of examples.

    Mutants always run derandomized, so whether one is killed never depends on the seed and
    the exit code of a run is reproducible.
    """
    ci = settings.get_profile("ci")
    return settings(ci, max_examples=max(ci.max_examples, profile.max_examples))


def run_all(
    claims: Sequence[Claim], profile: settings, with_mutants: bool, stderr: TextIO
) -> tuple[list[ClaimResult], list[MutantResult]]:
    """Run each claim under ``profile``, then each mutant under :func:`mutant_settings`,
    showing progress on ``stderr`` for long runs."""
    mutants = all_mutants(claims) if with_mutants else []
    total = len(claims) + len(mutants)
    progress = _Progress(total, stderr)
    claim_results = []
    for c in claims:
        progress.start(c.id)
        claim_results.append(run_claim(c, profile))
    mutant_results = []
    for m in mutants:
        progress.start(m.id)
        mutant_results.append(run_mutant(m, mutant_settings(profile)))
    progress.finish()
    return claim_results, mutant_results


class _Progress:
    """One status line on stderr, shown only after the run has lasted a couple of seconds."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.started = time.monotonic()
        self.interactive = stream.isatty()
        self.shown = False

    def start(self, label: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.started
        if elapsed < _PROGRESS_AFTER_SECONDS and not self.shown:
            return
        self.shown = True
        text = f"[{self.done}/{self.total}] {elapsed:6.1f}s  {label}"
        if self.interactive:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.shown and self.interactive:
            self.stream.write("\r\033[K")
            self.stream.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
