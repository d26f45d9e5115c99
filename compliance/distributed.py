"""`check`, `memo` and `impact` on a Dask cluster (`--scheduler tls://HOST:8786`); `--jobs` stays the one-machine
path.

Workers get bytes and give back bytes: the run's rulesets as their recipes (`compliance.rulesets`), which each
worker compiles once, and the plans as the client read them. The client reads every plan and pack file and writes every output itself,
atomically, in the order a local run does; a worker needs no shared filesystem and writes nothing. Dask re-runs a
task whose worker died on another worker; the client takes each task's result once, so a re-run can neither
corrupt nor duplicate an output (docs/scale.md). Dask is imported only here, and only when --scheduler is given.

Whoever runs a scheduler or a worker can run code in the client (results arrive as pickles) and forge its
reports, so the client talks only to a cluster that proves itself: `tls://` with certificates both ways, or
`tcp://` on this machine, or elsewhere with `--insecure-scheduler` named on the command line. The address comes
from the command line or the environment, never from a repository's files (docs/security.md).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import ipaddress
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from compliance import __version__, api, rulesets
from compliance.batch import trimmed
from compliance.errors import InputError, Location, Problem, RunError
from compliance.impact import PlanImpact, Sides, compare_plan
from compliance.loader import read_file
from compliance.model import Report, RuleSet
from compliance.report.base import Checklist
from compliance.rulesets import Recipe
from compliance.text import printable

if TYPE_CHECKING:
    from distributed import Client, Future

    from compliance.memo.context import MemoOptions
    from compliance.scenario import Scenario

EXIT_ARGUMENTS, EXIT_CLUSTER = 2, 3
TOPIC = "plan-compliance"  # the event topic on which tasks say where they started, so re-runs can be reported
_NEEDED = f"the scheduler and every worker need plan-compliance {__version__} installed"
_CHECK_CHUNK = 64  # plans per check task at most: about a second of work, so the per-task overhead stays small


class ClusterError(RunError):
    """The cluster could not do the run: no Dask installed, no scheduler, workers unlike the client, a plan that
    kept killing workers. Exit code 3, one line, no traceback."""

    exit_code = EXIT_CLUSTER


class SchedulerRefused(RunError):
    """A --scheduler this client will not use as given: unauthenticated on another machine, TLS files missing or
    unreadable. A bad argument: exit code 2, one line."""

    exit_code = EXIT_ARGUMENTS


@dataclass(frozen=True)
class Scheduler:
    """A scheduler address the client may use, and the TLS files that prove both ends (None for tcp://)."""

    address: str
    tls: tuple[Path, Path, Path | None] | None  # CA, certificate, key (None: the key is in the certificate file)
    exposed: bool = False  # tcp:// on another machine, accepted with --insecure-scheduler


_TLS_FLAGS = "--tls-ca-file and --tls-cert (and --tls-key unless the certificate file holds the key)"


def scheduler(address: str, insecure: bool, ca: Path | None, cert: Path | None, key: Path | None) -> Scheduler:
    """Checks --scheduler and its TLS files before any work: a `tcp://` scheduler on another machine is refused
    unless `insecure` (--insecure-scheduler), and a `tls://` one needs a CA and a certificate."""
    scheme, _, rest = address.rpartition("://")
    try:
        host = urlsplit(f"//{rest}").hostname if scheme in ("", "tcp", "tls") else None
    except ValueError:  # an unclosed [ around an IPv6 address, say
        host = None
    shown = printable(address)
    if not host:
        raise SchedulerRefused(f"--scheduler takes tls://HOST:PORT (or tcp://HOST:PORT), not {shown}")
    if scheme == "tls":
        if ca is None or cert is None:
            raise SchedulerRefused(f"--scheduler {shown} needs {_TLS_FLAGS}")
        return Scheduler(address, (ca, cert, key))
    if ca or cert or key:
        raise SchedulerRefused(f"--tls-ca-file, --tls-cert and --tls-key are for a tls:// scheduler, not {shown}")
    exposed = not _loopback(host)
    if exposed and not insecure:
        raise SchedulerRefused(f"--scheduler {shown} is neither encrypted nor authenticated: whoever reaches it can "
                               f"run code in this process and forge its results; use tls:// with {_TLS_FLAGS} "
                               f"(docs/scale.md), or accept that with --insecure-scheduler")
    return Scheduler(address, None, exposed)


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it could resolve anywhere
        return False


@dataclass(frozen=True)
class _Setup:
    """What every task needs besides its plans: the client's ruleset (its recipe: the packs as bytes, under the
    client's names) and memo template folder, as bytes."""

    recipes: tuple[Recipe, ...]  # the first is the run's ruleset; impact adds the one under its scenario
    template: tuple[tuple[str, bytes], ...]  # (path inside the folder, bytes); empty for the bundled template
    template_dir: str  # the client's name for that folder, which template errors show
    version: str
    digest: str


def check_many(plans: list[str], ruleset: RuleSet, as_of: date,
               scheduler: Scheduler, checklist: Checklist = "rows") -> Iterator[Report | InputError]:
    """Like batch.check_many: reports (without plan data) or errors, in the plans' order."""
    with _client(scheduler) as client:
        setup = client.submit(_identity, _setup(ruleset), pure=True)
        size = max(1, min(_CHECK_CHUNK, len(plans) // (4 * _threads(client))))
        chunks = [plans[i:i + size] for i in range(0, len(plans), size)]

        def submit(index: int, tag: str) -> Future[Any]:
            return client.submit(_check_chunk, setup, tag, [(p, _read(p)) for p in chunks[index]], as_of, checklist,
                                 pure=False)

        for result in _in_order(client, len(chunks), submit, lambda i: _label(chunks[i])):
            yield from result


def compare_many(plans: list[str], both: Sides, scheduler: Scheduler) -> Iterator[PlanImpact | InputError]:
    """Like impact.compare_many: each plan read once by this client, judged on both sides by a worker."""
    with _client(scheduler) as client:
        setup = client.submit(_identity, _setup(both.before, extra=(both.after,)), pure=True)
        size = max(1, min(_CHECK_CHUNK // 2, len(plans) // (4 * _threads(client))))  # two judgements a plan
        chunks = [plans[i:i + size] for i in range(0, len(plans), size)]

        def submit(index: int, tag: str) -> Future[Any]:
            return client.submit(_compare_chunk, setup, tag, [(p, _read(p)) for p in chunks[index]],
                                 both.before_as_of, both.after_as_of, both.scenario, pure=False)

        for result in _in_order(client, len(chunks), submit, lambda i: _label(chunks[i])):
            yield from result


def write_memos(jobs: Sequence[tuple[str | Path, Path]], ruleset: RuleSet, as_of: date, options: MemoOptions,
                fmt: str, template_dir: Path | None, scheduler: Scheduler
                ) -> Iterator[tuple[str | Path, Path, InputError | None]]:
    """Like memo.writer.write_memos: (plan, output, error) in order; each memo is written by this process,
    atomically, as soon as its bytes arrive."""
    from compliance.atomic import write_atomic

    with _client(scheduler) as client:
        setup = client.submit(_identity, _setup(ruleset, template_dir), pure=True)

        def submit(index: int, tag: str) -> Future[Any]:
            plan = str(jobs[index][0])
            return client.submit(_memo, setup, tag, plan, _read(plan), as_of, options, fmt, pure=False)

        def receive(index: int, result: bytes | InputError) -> tuple[str | Path, Path, InputError | None]:
            plan, output = jobs[index]
            try:
                if isinstance(result, InputError):
                    raise result
                write_atomic(output, result)
            except InputError as exc:  # the plan, or the output (a folder where the memo goes): as a local run
                return plan, output, exc
            return plan, output, None

        yield from _in_order(client, len(jobs), submit, lambda i: str(jobs[i][0]), receive)


@contextmanager
def _client(where: Scheduler) -> Iterator[Client]:
    try:
        import dask
        from dask.utils import parse_timedelta
        from distributed import Client, Security
    except ImportError:
        raise ClusterError("--scheduler needs Dask: pip install 'plan-compliance[dask]'") from None
    address, shown = where.address, printable(where.address)
    if where.exposed:
        print(f"compliance: warning: the Dask scheduler at {shown} is neither encrypted nor authenticated "
              f"(--insecure-scheduler)", file=sys.stderr)
    timeout = dask.config.get("distributed.comm.timeouts.connect")
    seconds = parse_timedelta(timeout, "s")
    security = Security()
    if where.tls:
        ca, cert, key = where.tls
        security = Security(tls_ca_file=str(ca), tls_client_cert=str(cert), tls_client_key=key and str(key),
                            require_encryption=True)
    try:
        connection = security.get_connection_args("client")
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError: a file that is no certificate or key
        raise SchedulerRefused(f"cannot use the TLS files for {shown}: {_reason(exc)}") from None
    _probe(address, connection, seconds, f"{timeout}")
    try:
        client = Client(address, security=security, set_as_default=False, timeout=seconds)
    except Exception as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {shown} (connect timeout {timeout}): "
                           f"{_reason(exc)}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise ClusterError(f"the Dask scheduler at {shown} has no workers (waited {timeout})") from None
        try:  # a worker that cannot import plan-compliance could not even report a task's failure: Dask would stall
            versions = client.run(_version)
        except Exception as exc:
            raise ClusterError(f"a Dask worker cannot run plan-compliance ({_reason(exc)}); {_NEEDED}") from None
        for worker, version in sorted(versions.items()):
            if version != __version__:
                raise ClusterError(f"the Dask worker {printable(worker)} runs plan-compliance {printable(version)}, "
                                   f"this client {__version__}; {_NEEDED}")
        yield client


def _probe(address: str, connection: dict[str, Any], seconds: float, timeout: str) -> None:
    """Asks the address who it is before Dask's client connects: Dask waits without limit for the first answer
    (a server that accepts and stays silent hung the run), and a server that answers garbage or announces a
    frame of exabytes made it raise MemoryError, OverflowError or struct.error, then hang in Client.__del__."""
    from distributed.comm.core import connect

    async def identity() -> Any:
        comm = await connect(address, timeout=seconds, **connection)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    unreachable = f"cannot reach the Dask scheduler at {printable(address)} (connect timeout {timeout})"
    try:
        answer = asyncio.run(asyncio.wait_for(identity(), seconds))
    except TimeoutError:  # before OSError, which it is a kind of
        raise ClusterError(f"{unreachable}: no answer") from None
    except (OSError, ValueError, TypeError) as exc:  # refused, TLS refused, or not an address at all
        raise ClusterError(f"{unreachable}: {_reason(exc)}") from None
    except Exception as exc:  # garbage, or a frame too large to hold: whatever Dask's reader raised
        raise ClusterError(f"{printable(address)} does not answer as a Dask scheduler ({_reason(exc)})") from None
    kind = answer.get("type") if isinstance(answer, dict) else None
    if kind != "Scheduler":
        raise ClusterError(f"{printable(address)} is not a Dask scheduler (it says it is {_short(kind)})")


def _reason(exc: BaseException) -> str:
    """An exception as one short line of visible text: its message may come from a stranger's server."""
    return _short(f"{type(exc).__name__}: {' '.join(str(exc).split())}".rstrip(": "))


def _short(value: Any, limit: int = 200) -> str:
    text = printable(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _version() -> str:
    return __version__


def _threads(client: Client) -> int:
    nthreads: dict[str, int] = client.nthreads()  # threads by worker address
    return max(1, sum(nthreads.values()))


def _in_order(client: Client, count: int, submit: Callable[[int, str], Future[Any]], label: Callable[[int], str],
              receive: Callable[[int, Any], Any] = lambda index, result: result) -> Iterator[Any]:
    """Runs tasks 0..count-1 and yields receive(i, result) in index order.

    At most a few tasks per worker thread are submitted and not yet yielded, so the client never holds the whole
    book in memory, and the window follows workers that join or leave. Tasks whose worker died are re-run by
    Dask; each says where it started (TOPIC), and those that started more than once are reported on stderr.
    """
    from distributed import CancelledError, KilledWorker, as_completed

    run = uuid.uuid4().hex
    starts: dict[int, list[str]] = {}

    def name(index: int) -> str:  # a plan's file name may hold a line break: never let it start a line
        return printable(label(index))

    def started(event: tuple[float, dict[Any, Any]]) -> None:
        message = event[1]
        if isinstance(message, dict) and message.get("run") == run:
            starts.setdefault(message["index"], []).append(message["worker"])

    client.subscribe_topic(TOPIC, started)
    pending = as_completed(loop=client.loop)
    live: dict[Any, tuple[int, Future[Any]]] = {}  # by task key
    done: dict[int, Any] = {}
    submitted = yielded = 0
    try:
        while yielded < count:
            window = 4 * _threads(client) + 4
            while submitted < count and submitted - yielded < window:
                future = submit(submitted, f"{run}:{submitted}")
                live[future.key] = (submitted, future)
                pending.add(future)
                submitted += 1
            while yielded not in done:
                future = next(pending)
                index = live.pop(future.key)[0]
                try:
                    result = future.result()
                except KilledWorker:
                    raise ClusterError(f"{name(index)}: the workers running it died repeatedly (out of memory?); "
                                       f"stopped") from None
                except CancelledError:
                    raise ClusterError(f"lost the Dask scheduler during the run, at {name(index)}") from None
                except ClusterError:
                    raise
                except Exception as exc:  # the task never ran as it should: most often a scheduler or worker
                    # without plan-compliance, whose pickled task it cannot read; the traceback is in its log
                    raise ClusterError(f"{name(index)}: failed on the cluster ({_reason(exc)}); {_NEEDED}") from None
                done[index] = receive(index, result)
                future.release()
            yield done.pop(yielded)
            yielded += 1
    finally:
        client.unsubscribe_topic(TOPIC)
        client.cancel([future for _, future in live.values()])  # nothing is left running for a run that stopped early
    for index in sorted(i for i, where in starts.items() if len(where) > 1):
        print(f"compliance: retried after a worker was lost: {name(index)} "
              f"(started on {printable(', '.join(starts[index]))})", file=sys.stderr)


def _label(plans: list[str]) -> str:
    return plans[0] if len(plans) == 1 else f"{plans[0]} and {len(plans) - 1} more plans"


def _read(plan: str) -> bytes | InputError:
    """The plan's bytes, read here as a local run reads them, or the same located error."""
    try:
        return read_file(plan, plan)
    except InputError as exc:
        return exc


def _setup(ruleset: RuleSet, template_dir: Path | None = None, extra: tuple[RuleSet, ...] = ()) -> _Setup:
    template: tuple[tuple[str, bytes], ...] = ()
    if template_dir is not None:
        template = tuple((str(p.relative_to(template_dir)), p.read_bytes())
                         for p in sorted(template_dir.rglob("*")) if p.is_file())
    recipes = tuple(r.recipe for r in (ruleset, *extra))
    if None in recipes:
        raise TypeError("a ruleset made or changed in this process cannot be sent to Dask workers")
    digest = hashlib.sha256(repr(([r.digest for r in recipes], template, __version__)).encode()).hexdigest()
    return _Setup(recipes, template, str(template_dir or ""), __version__, digest)


def _identity(value: Any) -> Any:
    """The setup as a task of its own: sent to the scheduler once, and recomputed there if its worker dies."""
    return value


# --- on the workers ---------------------------------------------------------------------------------------------

_prepared: dict[str, tuple[RuleSet, Path | None]] = {}
_folders: list[tempfile.TemporaryDirectory[str]] = []  # template folders, removed when the worker process exits


def _prepare(setup: _Setup) -> tuple[RuleSet, Path | None]:
    """The client's ruleset, built once per worker process from its recipe, and the template folder, written once."""
    if setup.version != __version__:  # a worker that joined after the client checked them all
        raise ClusterError(f"a Dask worker runs plan-compliance {__version__}, this client {setup.version}; "
                           f"{_NEEDED}")
    if setup.digest not in _prepared:
        ruleset = [rulesets.build(made_from) for made_from in setup.recipes][0]
        template = None
        if setup.template:
            _folders.append(tempfile.TemporaryDirectory(prefix="pc-template-"))
            template = Path(_folders[-1].name)
            for name, data in setup.template:
                (template / name).parent.mkdir(parents=True, exist_ok=True)
                (template / name).write_bytes(data)
        _prepared[setup.digest] = (ruleset, template)
        gc.freeze()  # as batch.py's workers do: the compiled packs live on, so the collector need not rescan them
    return _prepared[setup.digest]


def _started(tag: str) -> None:
    from distributed import get_worker

    worker = get_worker()
    run, index = tag.split(":")
    worker.log_event(TOPIC, {"run": run, "index": int(index), "worker": worker.address})


def _check_chunk(setup: _Setup, tag: str, plans: list[tuple[str, bytes | InputError]],
                 as_of: date, checklist: Checklist) -> list[Report | InputError]:
    ruleset, _ = _prepare(setup)
    _started(tag)
    # a report's ruleset travels back as its digest
    return _each(plans, lambda name, raw: trimmed(api.check(name, ruleset, as_of, text=raw).results(), checklist))


def _compare_chunk(setup: _Setup, tag: str, plans: list[tuple[str, bytes | InputError]], before: date,
                   after: date, scenario: Scenario | None) -> list[PlanImpact | InputError]:
    ruleset, _ = _prepare(setup)
    _started(tag)
    both = Sides(ruleset, rulesets.build(setup.recipes[-1]), before, after, scenario)
    return _each(plans, lambda name, raw: compare_plan(name, both, raw))


T = TypeVar("T")


def _each(plans: list[tuple[str, bytes | InputError]], judge: Callable[[str, bytes], T]) -> list[T | InputError]:
    """`judge` on each plan's bytes, in order; a plan the client could not read, or `judge` refuses, is its error."""
    out: list[T | InputError] = []
    for name, raw in plans:
        if isinstance(raw, InputError):
            out.append(raw)
            continue
        try:
            out.append(judge(name, raw))
        except InputError as exc:
            out.append(exc)
    return out


def _memo(setup: _Setup, tag: str, plan: str, raw: bytes | InputError, as_of: date, options: MemoOptions,
          fmt: str) -> bytes | InputError:
    from compliance.memo.writer import memo_bytes

    ruleset, template = _prepare(setup)
    _started(tag)
    if isinstance(raw, InputError):
        return raw
    try:
        return memo_bytes(api.check(plan, ruleset, as_of, text=raw), options, fmt, template)
    except InputError as exc:
        if template is None:
            return exc
        return InputError([_renamed(p, str(template), setup.template_dir) for p in exc.problems])


def _renamed(problem: Problem, here: str, there: str) -> Problem:
    """A template error located in this worker's copy of the folder, named as the client names the folder."""
    where = problem.location
    if where.file == here or where.file.startswith(here + os.sep):
        where = Location(there + where.file[len(here):], where.line, where.column, where.origin)
    return Problem(where, problem.message)
