"""Command line: parses arguments, calls `compliance.api`, picks a formatter, sets the exit code.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 bad input (plan, pack, config,
arguments); 3 a --scheduler run the Dask cluster could not do (compliance/distributed.py). Bad input is
printed as `file:line:column: message`, never as a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from compliance import __version__
from compliance.errors import InputError, RunError
from compliance.model import SEVERITIES
from compliance.report import FORMATS, diff_formats
from compliance.schemas.config import FAIL_ON
from compliance.text import lead, lead_path, printable

if TYPE_CHECKING:
    from compliance.config import Config
    from compliance.distributed import Scheduler
    from compliance.model import RuleSet
    from compliance.report.base import OutputFormat

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
F = TypeVar("F", bound=Callable[..., Any])


class _Group(click.Group):
    """Turns InputError into located lines on stderr and exit code 2, and a RunError into one line and its exit
    code, for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            ctx.exit(EXIT_INPUT)
        except RunError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


class _Date(click.ParamType):  # type: ignore[type-arg]  # generic only since click 8.5 (the floor is 8.2)
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date; write YYYY-MM-DD", param, ctx)


DATE = _Date()


class _LazyChoice(click.Choice):  # type: ignore[type-arg]  # generic only since click 8.4 (the floor is 8.2)
    """A case-insensitive choice whose names are asked for when the command parses or shows its help, not when
    the CLI is imported (`diff_formats` imports every format module: a `check` must not pay for that)."""

    def __init__(self, names: Callable[[], Sequence[str]]) -> None:
        self._names = names
        super().__init__((), case_sensitive=False)

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names())

    @choices.setter
    def choices(self, value: object) -> None:
        """click's constructor sets the names; these come from `_names`."""


def _options_common(func: F) -> F:
    """The flags that mean the same thing on every command."""
    func = click.option("--rules", "rules", multiple=True, metavar="PATH",
                        help="Rule pack file or directory; repeatable. Replaces the configured packs "
                             "('bundled' names the built-in ones).")(func)
    func = click.option("--as-of", "as_of", type=DATE, default=None,
                        help="Judge the plan under the posture in force on this date (default: config, else today).")(func)
    func = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Config file (default: .compliance.yaml found from here upward).")(func)
    return func


def _scheduler_option(func: F) -> F:
    """--scheduler and how to trust it, from the command line or the environment only (never a config file: a pull
    request must not point CI at a cluster). The command gets one `scheduler`: None, or a checked
    distributed.Scheduler."""
    @functools.wraps(func)
    def command(*args: Any, scheduler: str | None, insecure_scheduler: bool, tls_ca_file: Path | None,
                tls_cert: Path | None, tls_key: Path | None, **kwargs: Any) -> Any:
        checked = None
        if scheduler is not None:
            from compliance import distributed

            checked = distributed.scheduler(scheduler, insecure_scheduler, tls_ca_file, tls_cert, tls_key)
        return func(*args, scheduler=checked, **kwargs)

    tls_file = click.Path(exists=True, dir_okay=False, path_type=Path)
    for option in reversed((  # applied from the last, so --help lists them in this order
        click.option("--scheduler", metavar="tls://HOST:8786", default=None, envvar="PLAN_COMPLIANCE_SCHEDULER",
                     help="Run on this Dask cluster instead of this machine (needs plan-compliance[dask]; "
                          "docs/scale.md). tcp:// only on this machine, unless --insecure-scheduler."),
        click.option("--insecure-scheduler", is_flag=True, envvar="PLAN_COMPLIANCE_INSECURE_SCHEDULER",
                     help="Accept a tcp:// scheduler on another machine: anyone who reaches it can run code here "
                          "and forge results."),
        click.option("--tls-ca-file", type=tls_file, envvar="PLAN_COMPLIANCE_TLS_CA_FILE",
                     help="CA certificate that the tls:// scheduler's certificate must be signed by."),
        click.option("--tls-cert", type=tls_file, envvar="PLAN_COMPLIANCE_TLS_CERT",
                     help="This client's certificate for a tls:// scheduler (signed by the same CA)."),
        click.option("--tls-key", type=tls_file, envvar="PLAN_COMPLIANCE_TLS_KEY",
                     help="The private key of --tls-cert, unless that file holds it."),
    )):
        command = option(command)
    return command  # type: ignore[return-value]


def _memo_formats() -> tuple[str, ...]:
    from compliance.memo.output import MEMO_FORMATS

    return MEMO_FORMATS


def _impact_formats() -> tuple[str, ...]:
    from compliance.report.impact import IMPACT_FORMATS

    return IMPACT_FORMATS


def _posture_formats() -> dict[str, Callable[[RuleSet, date], str]]:
    from compliance.posture import POSTURE_FORMATS

    return POSTURE_FORMATS


def _refuse_jobs_on_cluster(scheduler: Scheduler | None, jobs: int) -> None:
    """--jobs and --scheduler do not go together: the cluster's workers decide how many run at once."""
    if scheduler is not None and jobs != 1:
        raise click.UsageError("--jobs is for one machine; with --scheduler the cluster's workers decide")


def _settings(config_path: Path | None, rules: tuple[str, ...], as_of: date | None
              ) -> tuple[Config, list[str], date]:
    from compliance.config import find_config, load_config

    found = None if config_path else find_config()
    config = load_config(config_path or found)
    packs = list(rules) if rules else list(config.packs)
    if found is not None:  # settings nobody named on the command line: say where they came from, and what they set
        chosen = [f"packs: {', '.join(packs)}"] + ([f"fail_on: {config.fail_on}"] if config.sets_fail_on else []) \
            + ([f"as_of: {config.as_of}"] if config.as_of else [])
        click.echo(f"compliance: settings from {printable(found)} ({printable('; '.join(chosen))})", err=True)
    return config, packs, as_of or config.as_of or date.today()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="compliance")
@click.option("--verbose", "-v", is_flag=True, help="Also say on stderr what the pack cache declined or failed to do.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Check retirement-plan fund menus against cited, time-aware ERISA rule packs.

    A checklist aid that makes a fiduciary process visible and repeatable; not legal advice.
    """
    if verbose:  # logging is imported only then: a pre-commit run does not pay for it
        import logging

        logger, handler = logging.getLogger("compliance"), logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("compliance: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        ctx.call_on_close(lambda: logger.removeHandler(handler))


@cli.command(short_help="Check plans and report findings with file:line and citations.")
@click.argument("paths", nargs=-1)
@_options_common
@click.option("--format", "fmt", type=click.Choice(list(FORMATS), case_sensitive=False),
              default="text", show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to FILE (atomically) instead of standard output.")
@click.option("--fail-on", type=click.Choice(FAIL_ON, case_sensitive=False), default=None,
              help="Lowest severity that makes the exit code 1 (default: config, else error).")
@click.option("--fail-on-unrecorded", is_flag=True, default=False,
              help="Also fail (exit 1) when a fact a rule at or above --fail-on needs is not recorded: a gate "
                   "for complete records. Without it, facts to record never fail a run.")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Report and fail only on findings not recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Record the current findings as the baseline in FILE.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Check plans in this many processes.")
@_scheduler_option
@click.option("--also", "also", multiple=True, metavar="FORMAT=FILE",
              help="Also write this format to FILE from the same run (repeatable), e.g. --also sarif=out.sarif "
                   "--also markdown=summary.md: one check, several reports.")
@click.option("--min-severity", type=click.Choice(SEVERITIES, case_sensitive=False),
              default="watch", show_default=True,
              help="Show only findings at or above this severity (the exit code still follows --fail-on).")
@click.option("--color/--no-color", default=None,
              help="Colour the text format (default: on a terminal, unless NO_COLOR is set).")
def check(paths: tuple[str, ...], rules: tuple[str, ...], as_of: date | None, config_path: Path | None, fmt: str,
          output: Path | None, fail_on: str | None, fail_on_unrecorded: bool, baseline: Path | None,
          write_baseline: Path | None, jobs: int, scheduler: Scheduler | None, also: tuple[str, ...], min_severity: str,
          color: bool | None) -> None:
    """Check plan files (files, directories or globs) and report findings with file:line and citations."""
    from compliance import api
    from compliance.baseline import read_baseline, write_baseline_file
    from compliance.report import get_format
    from compliance.report.base import checklist_read
    from compliance.run import run_checks

    extra_outputs = [_also(spec) for spec in also]
    formatter = get_format(fmt)
    try:
        config, packs, as_of = _settings(config_path, rules, as_of)
        ruleset = api.load_rules(packs, config.file)
    except InputError as exc:  # a broken config or pack: shown where annotations and code scanning look, too
        _report_broken_settings(exc, [(formatter, output), *((get_format(f), p) for f, p in extra_outputs)],
                                [*paths, config_path, *rules])
        raise
    targets = list(paths) or list(config.plans)
    if not targets:
        raise click.UsageError("name at least one plan file or directory (or list plans in .compliance.yaml)")
    plans = api.expand_plan_paths(targets)
    _refuse_overwriting_inputs([output, write_baseline, *(p for _, p in extra_outputs)],
                               [*plans, baseline, *_settings_files(config, packs)])
    if color is None:  # https://no-color.org: a set, non-empty NO_COLOR turns colour off by default
        color = output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    _refuse_jobs_on_cluster(scheduler, jobs)
    reads = checklist_read([formatter, *(get_format(f) for f, _ in extra_outputs)])  # what workers send back
    if scheduler is None:
        from compliance.batch import check_many

        results = check_many(plans, ruleset, as_of, jobs, reads)
    else:  # Dask is imported only then
        from compliance import distributed

        results = distributed.check_many(plans, ruleset, as_of, scheduler, reads)
    with _writer(output, color) as write, _progress(plans) as one_done:
        run = run_checks(results, formatter, write,
                         fail_on=fail_on or config.fail_on, fail_on_unrecorded=fail_on_unrecorded,
                         known=read_baseline(baseline) if baseline else None, min_severity=min_severity, keep_reports=bool(extra_outputs),
                         record_fingerprints=write_baseline is not None, color=color and formatter.colours,
                         each=one_done, named={str(Path(t)) for t in targets if Path(t).is_file()},
                         broken=lambda problem: click.echo(str(problem), err=True))
    if not run.seen and not run.broken:
        raise InputError.at(" ".join(targets), 0, 0, "no plan file among these (only rule packs)")
    for extra_fmt, extra_path in extra_outputs:
        from compliance.atomic import write_atomic

        extra = get_format(extra_fmt)
        problems = run.problems if extra.reports_problems else []
        write_atomic(extra_path, extra.render(run.reports, problems, skipped=run.skipped).encode("utf-8"))
    if write_baseline:
        write_baseline_file(write_baseline, run.fingerprints)
    sys.exit(EXIT_INPUT if run.problems else EXIT_FINDINGS if run.fails else EXIT_OK)


@contextmanager
def _writer(output: Path | None, color: bool = False) -> Iterator[Callable[[str], object]]:
    """A write(text) function: to standard output as it comes, or into FILE, replaced atomically at the end."""
    if output is None:
        yield lambda text: click.echo(text, nl=False, color=color)
        return
    from compliance.atomic import atomic_writer

    with atomic_writer(output) as handle:
        yield lambda text: handle.write(text.encode("utf-8"))


@contextmanager
def _progress(plans: list[str]) -> Iterator[Callable[[], None]]:
    """A function to call as each plan is done: it moves a progress bar on an interactive terminal for batches,
    and does nothing in CI or when stderr is redirected (without loading click's terminal code)."""
    if len(plans) < 2 or not sys.stderr.isatty() or os.environ.get("CI"):
        yield lambda: None
        return
    with click.progressbar(length=len(plans), label="Checking plans", file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def _also(spec: str) -> tuple[str, Path]:
    """`sarif=out.sarif` -> ("sarif", Path("out.sarif")), checked against the known formats."""
    fmt, sep, path = spec.partition("=")
    if not sep or not path or fmt.lower() not in FORMATS:
        raise click.BadParameter(f"{spec!r}: write FORMAT=FILE with FORMAT one of {', '.join(FORMATS)}",
                                 param_hint="--also")
    return fmt.lower(), Path(path)


def _refuse_overwriting_inputs(outputs: list[Any], inputs: list[Any]) -> None:
    """An output named like an input (`check plan.yaml -o plan.yaml`) would destroy the input: refuse it."""
    real = {os.path.realpath(p) for p in inputs if p and p != "bundled" and Path(p).is_file()}
    for output in outputs:
        if output is not None and str(output) != "-" and os.path.realpath(output) in real:
            raise InputError.at(str(output), 0, 0, "cannot write: this file is also an input of the run; "
                                                   "name another output")


def _report_broken_settings(error: InputError, outputs: list[tuple[OutputFormat, Path | None]],
                            named: list[Any]) -> None:
    """A run stopped by a broken config or pack still writes each output whose format reports input problems
    (github annotations, SARIF results...), so the broken file is shown like a broken plan; never over an input."""
    from compliance.config import find_config

    inputs = [*named, find_config(), *(p.location.file for p in error.problems)]
    _refuse_overwriting_inputs([path for _, path in outputs], inputs)
    for fmt, path in outputs:
        if fmt.reports_problems:
            _emit(fmt.render([], error.problems), path)


def _settings_files(config: Config, packs: list[str]) -> list[str | Path]:
    """The files a run reads besides its plans: the config and every pack file, including those found in folders."""
    from compliance import api

    return [*([config.file] if config.file else []), *api.pack_files(packs)]


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    from compliance.atomic import write_atomic

    write_atomic(output, text.encode("utf-8"))


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@_options_common
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True,
              help="Memo file for one plan (`-` for standard output); a folder, named as one (`memos/`), for "
                   "several. The format follows the file's extension (.pdf, .html) unless --format is given.")
@click.option("--format", "fmt", type=_LazyChoice(_memo_formats), default=None,
              help="PDF/A-3b with the plan and findings attached, or the HTML it is laid out from (default: the "
                   "output's extension, else pdf).")
@click.option("--since", default=None, metavar="MEMO.pdf|REF",
              help="Add what changed since the last review: from a previous memo (its attached plan and findings) "
                   "or from a git revision of the plan file.")
@click.option("--prepared-by", default="Plan consultant", show_default=True, help="Author shown in From and the signature block.")
@click.option("--for", "committee", default="Investment Committee", show_default=True, help="Addressee (To).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True, help="Plans rendered in parallel.")
@_scheduler_option
@click.option("--template-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Folder with a memo.html.j2 that overrides the bundled one (rendered in Jinja's sandbox).")
def memo(paths: tuple[str, ...], rules: tuple[str, ...], as_of: date | None, config_path: Path | None, output: Path,
         fmt: str | None, since: str | None, prepared_by: str, committee: str, jobs: int, scheduler: Scheduler | None,
         template_dir: Path | None) -> None:
    """Write a fiduciary review memo (PDF/A-3b, or HTML) for each plan."""
    from compliance import api
    from compliance.memo.output import memo_format, memo_options, memo_targets, names_folder
    from compliance.memo.writer import memo_for, write_memos
    from compliance.worktree import refuse_leaving_tree

    config, packs, as_of = _settings(config_path, rules, as_of)
    ruleset = api.load_rules(packs)  # a broken pack is reported once, before any work
    plans = api.expand_plan_paths(list(paths))
    as_folder = names_folder(output)
    fmt = memo_format(output, fmt, as_folder)
    if len(plans) > 1 and not as_folder:
        raise InputError.at(str(output), 0, 0, f"{len(plans)} plans need an output folder, named as one "
                                               f"(`-o {output.with_suffix('')}/`), not a file")
    if since and len(plans) > 1 and Path(since).is_file():
        raise InputError.at(since, 0, 0, "a previous memo belongs to one plan: name that plan alone")
    options = memo_options(plans, as_of, packs, since=since, settings_file=config.file, prepared_by=prepared_by,
                           committee=committee)
    if str(output) == "-":
        sys.stdout.buffer.write(memo_for(plans[0], ruleset, as_of, options, fmt, template_dir))
        sys.exit(EXIT_OK)
    targets = memo_targets(plans, output, fmt) if as_folder else [(plans[0], output)]
    _refuse_overwriting_inputs([t for _, t in targets], [*plans, *_settings_files(config, packs)])
    for _, target in targets:
        refuse_leaving_tree(target)  # before a folder is made through a committed symlink
        target.parent.mkdir(parents=True, exist_ok=True)
    _refuse_jobs_on_cluster(scheduler, jobs)
    if scheduler is None:
        written_memos = write_memos(targets, ruleset, as_of, options, fmt, template_dir, jobs)
    else:  # Dask is imported only then
        from compliance import distributed

        written_memos = distributed.write_memos(targets, ruleset, as_of, options, fmt, template_dir, scheduler)
    failed = 0
    for _plan, written, error in written_memos:
        if error:
            failed += 1
            for problem in error.problems:
                click.echo(str(problem), err=True)
        else:
            click.echo(lead(str(written)))  # a plan file name may hold a line break
        _stop_if_interrupted()  # after listing it: every memo written is named
    sys.exit(EXIT_INPUT if failed else EXIT_OK)


@cli.command(short_help="Compare two versions of a plan (or a plan and its git base).")
@click.argument("paths", nargs=-1, required=True)
@_options_common
@click.option("--base", "base_ref", default=None, metavar="REF",
              help="Take the base version of the (single) plan file from this git revision.")
@click.option("--format", "fmt", type=_LazyChoice(diff_formats), default="text", show_default=True,
              help="Text for people, or JSON (funds and findings added, removed, changed).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the comparison to FILE (atomically) instead of standard output.")
@click.option("--fail-on", type=click.Choice(FAIL_ON, case_sensitive=False), default=None,
              help="Lowest severity that makes the exit code 1 (default: config, else error).")
@click.option("--fail-on-new", is_flag=True, help="Only new findings (not already in the base) fail the run.")
@click.option("--fail-on-new-waivers", is_flag=True,
              help="A finding the base had that the new version waives also fails the run (waivers get reviewed).")
def diff(paths: tuple[str, ...], rules: tuple[str, ...], as_of: date | None, config_path: Path | None,
         base_ref: str | None, fmt: str, output: Path | None, fail_on: str | None, fail_on_new: bool,
         fail_on_new_waivers: bool) -> None:
    """Compare two versions of a plan: `diff BASE NEW`, or `diff --base REF PLAN` with git."""
    from compliance import api
    from compliance.report import get_format
    from compliance.run import fails_at

    config, packs, as_of = _settings(config_path, rules, as_of)
    ruleset = api.load_rules(packs)
    if base_ref:
        if len(paths) != 1:
            raise click.UsageError("with --base, name exactly one plan file")
        result = api.compare(Path(paths[0]), Path(paths[0]), ruleset, as_of, base_ref)
    else:
        if len(paths) != 2:
            raise click.UsageError("name two plan files, BASE and NEW (or use --base REF PLAN)")
        result = api.compare(paths[0], Path(paths[1]), ruleset, as_of)
    _emit(get_format(fmt).render_diff(result), output)
    judged = [replace(result.new, findings=result.new_findings)] if fail_on_new else [result.new]
    fails = fails_at(judged, fail_on or config.fail_on) or (fail_on_new_waivers and bool(result.newly_waived))
    sys.exit(EXIT_FINDINGS if fails else EXIT_OK)


@cli.command(short_help="What a change in the law does to a book of plans: a scenario, or a later date.")
@click.argument("paths", nargs=-1)
@_options_common
@click.option("--scenario", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A hypothetical change in the sources (rules/scenarios/*.yaml): judge every plan without and with it "
                   "(on --as-of, by default the day the scenario takes full effect).")
@click.option("--to", "to", type=DATE, default=None, help="Without a scenario: compare the law on --as-of with the law on this date.")
@click.option("--format", "fmt", type=_LazyChoice(_impact_formats), default="text",
              show_default=True, help="Output format (the HTML view: compliance report --scenario).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE (atomically) instead of standard output.")
@click.option("--fail-on", type=click.Choice(FAIL_ON, case_sensitive=False), default=None,
              help="Lowest severity of a finding that appears or changes that makes the exit code 1 (default: config, else error).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True, help="Compare plans in this many processes.")
@_scheduler_option
def impact(paths: tuple[str, ...], rules: tuple[str, ...], as_of: date | None, config_path: Path | None,
           scenario: Path | None, to: date | None, fmt: str, output: Path | None, fail_on: str | None, jobs: int,
           scheduler: Scheduler | None) -> None:
    """Judge every plan before and after a change in the law, and report what appears, changes and resolves."""
    from compliance import api
    from compliance.impact import Book, compare_many, sides
    from compliance.report.impact import render
    from compliance.scenario import load_scenario

    if (scenario is None) == (to is None):
        raise click.UsageError("give either --scenario FILE or --to DATE")
    config, packs, today = _settings(config_path, rules, as_of)
    loaded = load_scenario(scenario) if scenario else None
    judged = as_of or config.as_of or (loaded.effective if loaded else today)
    both = sides(api.load_rules(packs), judged, loaded, to)
    targets = list(paths) or list(config.plans)
    if not targets:
        raise click.UsageError("name at least one plan file or directory (or list plans in .compliance.yaml)")
    plans = api.expand_plan_paths(targets)
    _refuse_overwriting_inputs([output], [*plans, scenario, *_settings_files(config, packs)])
    _refuse_jobs_on_cluster(scheduler, jobs)
    if scheduler is None:
        results = compare_many(plans, both, jobs)
    else:  # Dask is imported only then
        from compliance import distributed

        results = distributed.compare_many(plans, both, scheduler)
    book = Book.collect(both, results)
    _emit(render(book, fmt.lower()), output)
    for problem in book.problems:
        click.echo(str(problem), err=True)
    sys.exit(EXIT_INPUT if book.problems else EXIT_FINDINGS if book.fails(fail_on or config.fail_on) else EXIT_OK)


@cli.command(short_help="Write a static site for a book of plans: overview, charts, a page per plan.")
@click.argument("paths", nargs=-1)
@_options_common
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the site (index.html, plans/); a folder an earlier run wrote is replaced whole.")
@click.option("--memos", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Folder of memos written by `compliance memo -o DIR`: each plan page links to its memo.")
@click.option("--scenario", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Add the impact view of this scenario (judged on the day it takes full effect).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Check plans in this many processes (pages are written in this one, in the plans' order).")
def report(paths: tuple[str, ...], rules: tuple[str, ...], as_of: date | None, config_path: Path | None,
           output: Path, memos: Path | None, scenario: Path | None, jobs: int) -> None:
    """Write a self-contained static site (no server, no external requests) for a book of plans."""
    from compliance import api
    from compliance.batch import check_many
    from compliance.impact import Book, compare_many, sides
    from compliance.memo.output import memo_targets
    from compliance.scenario import load_scenario
    from compliance.site import write_site
    from compliance.worktree import refuse_leaving_tree

    refuse_leaving_tree(output / "index.html")  # a committed symlink must not carry the site out of the checkout
    config, packs, as_of = _settings(config_path, rules, as_of)
    ruleset = api.load_rules(packs)
    targets = list(paths) or list(config.plans)
    if not targets:
        raise click.UsageError("name at least one plan file or directory (or list plans in .compliance.yaml)")
    plans = api.expand_plan_paths(targets)
    book = None
    if scenario is not None:
        loaded = load_scenario(scenario)
        both = sides(ruleset, loaded.effective, loaded)
        book = Book.collect(both, compare_many(plans, both, jobs))
    linked: dict[str, Path] = {}
    if memos is not None:
        for fmt in ("html", "pdf"):
            linked |= {plan: memo for plan, memo in memo_targets(plans, memos, fmt) if memo.is_file()}
    with _progress(plans) as one_done:
        results = check_many(plans, ruleset, as_of, jobs, "statuses")  # the site reads the checklist's statuses
        site = write_site(output, results, ruleset, as_of, linked, book, each=one_done)
    for problem in site.problems:
        click.echo(str(problem), err=True)
    click.echo(lead(f"{output / 'index.html'}: {len(site.rows)} plans"))
    sys.exit(EXIT_INPUT if site.problems else EXIT_OK)


@cli.command(name="import", short_help="Write a plan file from a recordkeeper line-up (CSV or Excel).")
@click.argument("lineup", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Plan file to write (atomically); `-` for standard output. An existing file is never replaced "
                   "unless --force is given.")
@click.option("--update", "update", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="PLAN",
              help="Merge the line-up into this plan file, in place (or into -o): every recorded fact is kept; "
                   "added, removed and changed funds are reported.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("--map", "map_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML mapping of line-up fields (name, ticker, category, expense_ratio, ...) to this sheet's "
                   "column headers, for layouts the default headers do not match.")
@click.option("--numbers", type=click.Choice(["fraction", "percent"], case_sensitive=False), default=None,
              help="How to read bare fee numbers such as 0.45 (a cell formatted as a percent, '0.45%' and "
                   "'45 bp' need no help).")
@click.option("--sheet", default=None, help="The worksheet of an .xlsx to read (default: the active visible one).")
@click.option("--plan-name", default=None, help="The plan's name as on Form 5500 (else left to record).")
def import_lineup(lineup: Path, output: Path | None, update: Path | None, force: bool, map_file: Path | None,
                  numbers: str | None, sheet: str | None, plan_name: str | None) -> None:
    """Write a plan file from a recordkeeper line-up (.csv or .xlsx); what it lacks is left as TODO comments."""
    from compliance.atomic import write_atomic
    from compliance.lineup import plan_yaml, read_lineup, read_map, todo_lines

    target = output or update
    if target is None:
        raise click.UsageError("name the plan file to write with -o, or the one to merge into with --update")
    in_place = update is not None and output is None
    if str(target) != "-" and target.exists() and not force and not in_place:
        how = f"--update {target} merges this line-up into it" if update is None else "name another file with -o"
        raise InputError.at(str(target), 0, 0, f"already exists and was left as it is: {how}, or --force "
                                               "replaces it")
    inputs = [str(lineup)] + ([str(map_file)] if map_file else []) + ([str(update)] if output else [])
    _refuse_overwriting_inputs([target], inputs)
    read = read_lineup(lineup, read_map(map_file) if map_file else None, numbers, sheet)
    if update is None:
        write_atomic(target, plan_yaml(read, plan_name).encode("utf-8"))
        todos = todo_lines(read)
        for problem in todos:
            click.echo(str(problem), err=True)
        with_todo = sum(1 for f in read.funds if f.todo)
        click.echo(f"compliance: wrote {lead_path(target)}: {len(read.funds)} funds"
                   + (f"; {with_todo} with facts to record (TODO comments)" if with_todo else ""), err=True)
        return
    from compliance.lineup_merge import update_plan
    from compliance.text import counted

    merge = update_plan(update, read)
    write_atomic(target, merge.text.encode("utf-8"))
    read.funds = merge.new_funds
    for problem in [*merge.added, *merge.changed, *merge.removed, *todo_lines(read)]:
        click.echo(str(problem), err=True)
    click.echo(f"compliance: updated {lead_path(target)} from {printable(lineup.name)}: {len(merge.added)} added, "
               f"{counted(len(merge.changed), 'change')}, {len(merge.removed)} not in the line-up (kept), "
               f"{merge.unchanged} unchanged", err=True)


@cli.command(short_help="Write a commented starter plan to edit.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("plan.yaml"),
              show_default=True, help="Where to write the starter plan; an existing file is never replaced.")
def init(output: Path) -> None:
    """Write a commented starter plan (plan, governance, a three-option menu, a default) to edit."""
    from compliance.atomic import write_atomic
    from compliance.starter import STARTER_PLAN

    if str(output) != "-" and output.exists():
        raise InputError.at(str(output), 0, 0, "already exists; name another file with -o")
    write_atomic(output, STARTER_PLAN.encode("utf-8"))
    if str(output) != "-":
        click.echo(f"compliance: wrote {printable(output)}; edit it, then run: compliance check {printable(output)}",
                   err=True)


@cli.command(short_help="Print each source document's status on the as-of date.")
@_options_common
@click.option("--format", "fmt", type=_LazyChoice(lambda: tuple(_posture_formats())), default="text",
              show_default=True, help="A timeline for people, or JSON.")
def posture(rules: tuple[str, ...], as_of: date | None, config_path: Path | None, fmt: str) -> None:
    """Print each source document with its status on the as-of date, as a timeline."""
    from compliance import api

    _, packs, as_of = _settings(config_path, rules, as_of)
    click.echo(_posture_formats()[fmt.lower()](api.load_rules(packs), as_of), nl=False)


@cli.group(cls=_Group)
def schema() -> None:
    """Print machine-readable schemas."""


@schema.command("plan")
@click.option("--format", "fmt", type=click.Choice(["json", "markdown"], case_sensitive=False), default="json",
              show_default=True, help="JSON Schema (for editors) or a Markdown field table.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE (atomically) instead of standard output.")
def schema_plan(fmt: str, output: Path | None) -> None:
    """The plan file format: JSON Schema for editors (YAML language server), or a Markdown field reference."""
    if fmt == "markdown":
        from compliance.reference import plan_fields_markdown

        _emit(plan_fields_markdown(), output)
        return
    from compliance.schemas.jsonschema import json_schema

    _emit(json.dumps(json_schema(), indent=2) + "\n", output)


@cli.group(cls=_Group)
def rules() -> None:
    """List, show, test and document the loaded rule packs."""


@rules.command("list")
@_options_common
def rules_list(rules: tuple[str, ...], as_of: date | None, config_path: Path | None) -> None:
    """One line per rule: id, severity, scope, and whether it applies on the as-of date."""
    from compliance import api
    from compliance.reference import rules_text

    _, packs, as_of = _settings(config_path, rules, as_of)
    click.echo(rules_text(api.load_rules(packs), as_of), nl=False)


@rules.command("show")
@click.argument("rule_id")
@_options_common
def rules_show(rule_id: str, rules: tuple[str, ...], as_of: date | None, config_path: Path | None) -> None:
    """A rule's text, citations with URLs, and its status on the as-of date."""
    from compliance import api
    from compliance.reference import rule_text

    _, packs, as_of = _settings(config_path, rules, as_of)
    click.echo(rule_text(api.find_rule(api.load_rules(packs), rule_id), as_of), nl=False)


@rules.command("test")
@_options_common
def rules_test(rules: tuple[str, ...], as_of: date | None, config_path: Path | None) -> None:
    """Run every rule's own test cases (a plan fragment that must fire it, one that must not)."""
    from compliance import api

    _, packs, _ = _settings(config_path, rules, as_of)
    ruleset = api.load_rules(packs)
    results = api.rule_tests(ruleset)
    failures = [r for r in results if not r.passed]
    for r in failures:
        click.echo(f"{r.location}: {printable(r.rule_id)}: {printable(r.name)}: expected {r.expected}, "
                   f"got {printable(r.actual)}", err=True)
    untested = [rule.id for rule in ruleset.rules if not rule.tests]
    for rule_id in untested:
        click.echo(f"{lead(rule_id)}: has no test cases", err=True)
    click.echo(f"{len(results) - len(failures)} passed, {len(failures)} failed "
               f"({len(ruleset.rules)} rules, {len(untested)} without tests)")
    sys.exit(EXIT_FINDINGS if failures or untested else EXIT_OK)


@rules.command("docs")
@_options_common
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the catalogue to FILE (atomically) instead of standard output.")
def rules_docs(rules: tuple[str, ...], as_of: date | None, config_path: Path | None, output: Path | None) -> None:
    """Write the rule catalogue as Markdown (docs/rules.md is generated by this)."""
    from compliance import api
    from compliance.reference import rules_markdown

    config, packs, _ = _settings(config_path, rules, as_of)
    _refuse_overwriting_inputs([output], _settings_files(config, packs))
    _emit(rules_markdown(api.load_rules(packs)), output)


EXIT_INTERRUPTED = 130


def main() -> None:
    """Entry point. Like click's standalone mode, but Ctrl-C exits 130 (not 1, which means findings), and a
    SIGTERM unwinds like Ctrl-C, so no temporary output file is left behind."""
    import signal

    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGINT, _interrupted)
    try:
        code = cli.main(prog_name="compliance", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


_ctrl_c: list[bool] = []  # set once Ctrl-C has been pressed in this process


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C as Python does it (KeyboardInterrupt), remembered: a library that swallows the exception (a bare
    `except:` deep in a font or PDF library) cannot make a batch carry on past the memo it was writing."""
    _ctrl_c.append(True)
    raise KeyboardInterrupt


def _stop_if_interrupted() -> None:
    if _ctrl_c:
        raise click.exceptions.Abort()
