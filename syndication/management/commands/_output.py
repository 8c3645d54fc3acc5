"""What every import command prints: a progress bar on long work, then a table of counts."""

import sys
from collections.abc import Callable, Iterable

from django.core.management.base import CommandError, OutputWrapper
from tqdm import tqdm

from syndication.models import ImportRun, RunStatus

COLUMNS = [
    ("created", "created"),
    ("updated", "updated"),
    ("unchanged", "unchanged"),
    ("flagged_changed", "flagged"),
    ("skipped", "skipped"),
    ("failed", "failed"),
    ("possible_duplicates", "possible duplicates"),
]
MAX_FAILURES_SHOWN = 20


def add_progress_argument(parser) -> None:
    parser.add_argument(
        "--progress",
        action="store_true",
        help="Show a progress bar on stderr even when it is not a terminal.",
    )


def progress_bar(options: dict, *, description: str) -> tqdm | None:
    """A tqdm bar on the command's error stream when it is a terminal or --progress was given.

    The stream is the one `call_command(..., stderr=...)` passed in the options, else
    sys.stderr: tqdm needs the stream itself, which redraws the bar in place.
    """
    stream = options.get("stderr") or sys.stderr
    if not (options["progress"] or stream.isatty()):
        return None
    return tqdm(file=stream, desc=description, unit=" items", leave=False, dynamic_ncols=True)


def ticker(bar: tqdm | None) -> Callable[[str], None] | None:
    if bar is None:
        return None
    return lambda _outcome: bar.update(1)


def summary_table(runs: Iterable[ImportRun]) -> str:
    """One row per run (what, status, counts) and a total row when there are several."""
    runs = list(runs)
    header = ["run", "what", "status", *(label for _name, label in COLUMNS)]
    rows = [
        [
            f"#{run.pk}",
            (str(run.feed) if run.feed_id else run.fetched_from or str(run.source))[:50],
            run.get_status_display() + (" (dry run)" if run.dry_run else ""),
            *(str(getattr(run, name)) for name, _label in COLUMNS),
        ]
        for run in runs
    ]
    if len(runs) > 1:
        rows.append(
            ["", "total", "", *(str(sum(getattr(r, name) for r in runs)) for name, _ in COLUMNS)]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if index < 3 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def run_details(run: ImportRun) -> list[str]:
    """The lines an operator needs beyond the counts: errors, anomalies, notes, failures."""
    lines = []
    if run.error_message:
        lines.append(f"Run #{run.pk} error: {run.error_message}")
    if run.anomaly:
        lines.append(f"Run #{run.pk} anomaly: {run.anomaly}")
    lines.extend(f"Run #{run.pk} note: {note}" for note in run.notes)
    failures = list(run.failures.all()[: MAX_FAILURES_SHOWN + 1])
    for failure in failures[:MAX_FAILURES_SHOWN]:
        guid = f" ({failure.guid})" if failure.guid else ""
        lines.append(
            f"Run #{run.pk} {failure.get_kind_display().lower()} item {failure.position}{guid}: "
            f"{failure.message}"
        )
    if len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"Run #{run.pk}: more in the admin (Import runs → #{run.pk}).")
    return lines


def report_single_run(stdout: OutputWrapper, run: ImportRun) -> None:
    """Print the run's summary; a failed run ends the command with its reason."""
    report(stdout, [run])
    if run.status == RunStatus.FAILED:
        raise CommandError(f"The import failed: {run.error_message or 'see above'}")


def report(stdout: OutputWrapper, runs: Iterable[ImportRun]) -> None:
    """Print the summary table, then the details of every run."""
    runs = list(runs)
    if not runs:
        stdout.write("Nothing to import.")
        return
    stdout.write(summary_table(runs))
    for run in runs:
        for line in run_details(run):
            stdout.write(line)
