"""Benchmarks for plan-compliance: every figure is a ratio against a baseline measured in the same run.

    python benchmarks/run.py                      # the full run documented in docs/performance.md
    python benchmarks/run.py --sizes 1000 --memo-plans 20 --repeat 3    # a quicker look
    python benchmarks/run.py --rows funds,large-memo --memo-funds 1000,5000   # some rows only
    python benchmarks/run.py --rows impact,site    # impact against check; the static site of 10,000 plans
    python benchmarks/run.py --rows dask          # check and memo on a 1- and a 2-worker Dask LocalCluster
    python benchmarks/run.py --rows startup,throughput --rules old/rules   # the check rows on other packs

It generates realistic synthetic plans (seeded; 20-60 funds each, some with digital-asset and private-market
options and waivers) in a temporary folder, runs the real `compliance` command in subprocesses, and prints a
Markdown table. Nothing here is a test: machines are noisy, so the suite asserts no timings.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

AS_OF = "2026-11-22"
CLASSES = ["us_large_cap_equity", "us_mid_cap_equity", "us_small_cap_equity", "international_equity",
           "emerging_markets_equity", "intermediate_bond", "short_term_bond", "high_yield_bond",
           "inflation_protected_bond", "money_market", "stable_value", "real_estate", "sector_equity", "global_equity"]
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
FACTORS = ["performance", "fees", "liquidity", "valuation", "benchmark", "complexity"]


def synthetic_plan(rng: random.Random, n: int, funds: int | None = None) -> dict:
    """One plan in the documented format, with the variety a recordkeeper's book has."""
    day = date(2026, 11, 22)
    ago = lambda lo, hi: day - timedelta(days=rng.randint(lo, hi))  # noqa: E731
    count = funds or rng.randint(20, 60)
    menu = []
    for i in range(count):
        kind = "target_date" if i < 4 else rng.choice(CLASSES)
        fund = {"id": f"f{i:02d}", "name": f"Fund {i:02d} of plan {n}", "vehicle": rng.choice(["cit", "mutual_fund"]),
                "asset_class": kind, "management": rng.choice(["active", "passive"]), "diversified": True,
                "share_class": "Inst", "expense_ratio": round(rng.uniform(0.0002, 0.0110), 4),
                "liquidity": "daily", "valuation_frequency": "daily", "benchmark": "Broad index",
                "last_reviewed": ago(10, 500), "qdia": i == 2}
        if rng.random() < 0.15:
            fund["lowest_cost_share_class"] = {"share_class": "R6", "expense_ratio": round(fund["expense_ratio"] * 0.6, 4)}
        if kind == "target_date" and rng.random() < 0.2:
            fund["private_market_pct"] = rng.choice([5, 8, 10])
            fund["professionally_managed"] = True
        fund["due_diligence"] = {f: {"date": ago(30, 400), "reference": f"Minutes {n}-{i}"}
                                 for f in FACTORS if rng.random() < 0.85}
        menu.append(fund)
    if rng.random() < 0.25:
        menu.append({"id": "crypto", "name": "Spot Bitcoin ETP", "vehicle": "etp", "asset_class": "digital_assets",
                     "expense_ratio": 0.0025, "digital_asset_pct": 100, "liquidity": "daily",
                     "valuation_frequency": "daily", "custodian": "Custodian", "benchmark": "Bitcoin reference rate",
                     "last_reviewed": ago(10, 200),
                     "due_diligence": {f: {"date": ago(30, 300), "reference": "Minutes"}
                                       for f in ["volatility", "valuation", "custody", "fees", "liquidity"]}})
    plan = {
        "schema_version": 1,
        "plan": {"name": f"Synthetic Plan {n}", "ein": f"{n % 90 + 10:02d}-{n:07d}", "plan_number": "001",
                 "type": rng.choice(["401k", "403b"]), "participants": rng.randint(50, 50000),
                 "assets_usd": rng.randint(1, 5000) * 1_000_000, "intends_404c": rng.random() < 0.8,
                 "transfer_frequency": "daily"},
        "governance": {
            "investment_policy": {"adopted": date(2015, 1, 1), "last_reviewed": ago(20, 500),
                                  "addresses_digital_assets": rng.random() < 0.5},
            "committee": {"charter": True, "meeting_frequency": "quarterly", "last_meeting": ago(5, 200),
                          "minutes_kept": rng.random() < 0.95},
            "disclosures": {"participant_fee_disclosure_sent": ago(10, 400),
                            "service_provider_disclosure_received": ago(10, 400),
                            "service_provider_fees_reviewed": ago(10, 420)}},
        "brokerage_window": {"offered": rng.random() < 0.3, "digital_assets_allowed": rng.random() < 0.1},
        "menu": menu,
    }
    if rng.random() < 0.3:
        plan["waivers"] = [{"rule": "erisa.fees.expense-ratio-screen", "fund": "f05", "reason": "Peer review",
                            "approved_by": "Committee", "approved_on": ago(30, 200), "expires": day + timedelta(days=200)}]
    return plan


def write_plans(folder: Path, count: int, seed: int = 2026) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for n in range(count):
        (folder / f"plan-{n:05d}.yaml").write_text(yaml.dump(synthetic_plan(rng, n), Dumper=_DUMPER, sort_keys=False))
    return folder


def timed(cmd: list[str], repeat: int) -> tuple[float, int]:
    """Median wall time over `repeat` runs, and the peak RSS (KiB) of the last run, via /usr/bin/time."""
    times, peak = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
        peak = int(proc.stderr.strip().splitlines()[-1])
    return statistics.median(times), peak


Row = tuple[str, str, str, str, str]


class Bench:
    """What the rows share in one run: the interpreter, the scratch folder, the options, and plan folders."""

    def __init__(self, args: argparse.Namespace, work: Path):
        self.args, self.work, self.py = args, work, sys.executable
        self.compliance = [self.py, "-m", "compliance"]
        self.rules = ["--rules", args.rules] if args.rules else []  # the packs every check row loads
        self._batches: dict[int, Path] = {}
        self._one: Path | None = None
        self._checked: dict[int, tuple[float, int]] = {}  # plans -> `check --jobs 1` (time, peak), once per size

    def batch(self, count: int) -> Path:
        """`count` synthetic plans (seeded), written once per run."""
        if count not in self._batches:
            self._batches[count] = write_plans(self.work / f"batch-{count}", count)
        return self._batches[count]

    def one_plan(self) -> Path:
        """One 30-fund plan: the start-up and memo rows' subject."""
        if self._one is None:
            (self.work / "one").mkdir()
            self._one = self.work / "one" / "plan.yaml"
            self._one.write_text(yaml.safe_dump(synthetic_plan(random.Random(1), 1, funds=30), sort_keys=False))
        return self._one

    def check_batch(self, folder: Path, *extra: str) -> tuple[float, int]:
        return timed([*self.compliance, "check", str(folder), "--as-of", AS_OF, "--format", "summary",
                      "--fail-on", "never", "-o", str(self.work / "out.txt"), *self.rules, *extra], 1)

    def check1(self, size: int | None = None) -> tuple[float, int]:
        """`check --jobs 1` on a batch (the throughput batch by default): measured once per size, shared by the
        rows that compare against it."""
        size = size or self.args.throughput_plans
        if size not in self._checked:
            self._checked[size] = self.check_batch(self.batch(size))
        return self._checked[size]

    def paired(self, size: int, pairs: int) -> tuple[float, float, float]:
        """`check --jobs 1` and the CSafeLoader parse of the same batch in turn, `pairs` times: (median check,
        median parse, median of the pairs' ratios). Each pair shares the machine's moment, so a busy spell weighs
        on both of its runs; the check's median is kept for the rows that compare against it."""
        folder = self.batch(size)
        checks, parses, peak = [], [], 0
        for _ in range(pairs):
            parses.append(timed(self.parse_command(folder), 1)[0])
            elapsed, peak = self.check_batch(folder)
            checks.append(elapsed)
        self._checked[size] = (statistics.median(checks), peak)
        ratio = statistics.median(c / p for c, p in zip(checks, parses, strict=True))
        return statistics.median(checks), statistics.median(parses), ratio

    def done_with(self, size: int) -> None:
        """Remove a batch nothing else will read (50,000 plans take 1.4 GB)."""
        if size != self.args.throughput_plans and size in self._batches:
            shutil.rmtree(self._batches.pop(size))

    def parse_command(self, folder: Path) -> list[str]:
        """The floor: parsing the same files with PyYAML's C loader, nothing else."""
        return [self.py, "-c", "import sys, yaml, pathlib\n"
                "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.yaml')): yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)",
                str(folder)]


def startup_rows(b: Bench) -> list[Row]:
    """One 30-fund plan, whole process; warm pack cache (every run after the first) and none."""
    check_one = [*b.compliance, "check", str(b.one_plan()), "--as-of", AS_OF, "--fail-on", "never", *b.rules]
    timed(check_one, 1)  # fills the pack cache
    base, _ = timed([b.py, "-c", "import click, yaml, cerberus"], b.args.repeat)
    warm, _ = timed(check_one, b.args.repeat)
    cache = os.environ["PLAN_COMPLIANCE_CACHE"]
    os.environ["PLAN_COMPLIANCE_CACHE"] = "off"
    try:
        cold, _ = timed(check_one, b.args.repeat)
    finally:
        os.environ["PLAN_COMPLIANCE_CACHE"] = cache
    return [("start-up: check one 30-fund plan (packs cached)", f"{warm:.3f} s", "import click, yaml, cerberus",
             f"{base:.3f} s", f"{warm / base:.2f}x (target <= 1.5x)"),
            ("start-up: the same, pack cache off", f"{cold:.3f} s", "import click, yaml, cerberus",
             f"{base:.3f} s", f"{cold / base:.2f}x (target <= 1.5x)")]


def throughput_rows(b: Bench) -> list[Row]:
    """N plans in one call against parsing the same files with CSafeLoader, for the throughput batch (`--pairs`
    pairs of runs) and every scaling size (one pair: the largest take many minutes)."""
    sizes = dict.fromkeys([b.args.throughput_plans, *(int(s) for s in b.args.sizes.split(",") if s)])
    rows: list[Row] = []
    for n in sizes:
        pairs = b.args.pairs if n == b.args.throughput_plans else 1
        check1, parse, ratio = b.paired(n, pairs)
        rows.append((f"throughput: check {n:,} plans (--jobs 1)" + (f", median of {pairs}" if pairs > 1 else ""),
                     f"{check1:.1f} s",
                     "parse the same files with yaml.CSafeLoader, in turn", f"{parse:.1f} s",
                     f"{ratio:.2f}x (target <= 1.3x)"))
    return rows


def scaling_rows(b: Bench) -> list[Row]:
    """--jobs 2 against --jobs 1, and growth with the number of plans."""
    n = b.args.throughput_plans
    check1, _ = b.check1()
    check2, _ = b.check_batch(b.batch(n), "--jobs", "2")
    rows: list[Row] = [(f"scaling: check {n:,} plans --jobs 2", f"{check2:.1f} s", "the same with --jobs 1",
                        f"{check1:.1f} s", f"{check1 / check2:.2f}x faster (target >= 1.7x)")]
    first = None
    for size in [int(s) for s in b.args.sizes.split(",") if s]:
        elapsed, peak = b.check1(size)
        per = elapsed / size * 1000
        first = first or (size, per, peak)
        rows.append((f"scaling: {size:,} plans (--jobs 1)", f"{elapsed:.1f} s, {per:.2f} ms/plan, peak {peak / 1024:.0f} MiB",
                     f"{first[0]:,} plans", f"{first[1]:.2f} ms/plan, peak {first[2] / 1024:.0f} MiB",
                     f"{per / first[1]:.2f}x per plan, {peak / first[2]:.2f}x memory (target: flat)"))
        b.done_with(size)
    return rows


PEERS = {  # peer tool -> (what it does to the same files, its command line before the files)
    "check-jsonschema": ("validate against our exported plan schema (docs/plan-schema.json)",
                         ["--schemafile", str(Path(__file__).resolve().parents[1] / "docs" / "plan-schema.json")]),
    "yamllint": ("lint with its default rules", ["-f", "parsable"]),
}


def peer_rows(b: Bench) -> list[Row]:
    """Other tools on the same plans, each against our `check --jobs 1` in the same run. The peers are not our
    dependencies: one that is not installed beside this interpreter is skipped, with a note."""
    n = b.args.peer_plans
    folder = b.batch(n)
    files = sorted(str(p) for p in folder.glob("*.yaml"))
    ours, _ = b.check1(n)
    rows: list[Row] = []
    for tool, (what, options) in PEERS.items():
        exe = Path(b.py).parent / tool
        if not exe.exists():
            print(f"note: {tool} is not installed beside {b.py}; its row is skipped "
                  f"(pip install {tool} to measure it)", file=sys.stderr)
            continue
        theirs, _ = timed([str(exe), *options, *files], 1)
        rows.append((f"peers: {tool}, {what}, {n:,} plans", f"{theirs:.1f} s", "our check --jobs 1, same plans",
                     f"{ours:.1f} s", f"ours is {theirs / ours:.1f}x faster"))
    return rows


def funds_rows(b: Bench) -> list[Row]:
    """One plan with 1,000 to 10,000 funds: check time against its C-loader parse, and growth with the funds.
    CPU time (user + system), the best of three: a busy shared machine stretches wall time at random."""
    rows: list[Row] = []
    first = None
    for funds in [int(s) for s in b.args.funds.split(",") if s]:
        folder = b.work / f"funds-{funds}"
        folder.mkdir()
        (folder / "plan.yaml").write_text(yaml.dump(synthetic_plan(random.Random(funds), 1, funds=funds),
                                                    Dumper=_DUMPER, sort_keys=False))
        parse = min(cpu_time(b.parse_command(folder)) for _ in range(3))
        check = min(cpu_time([*b.compliance, "check", str(folder / "plan.yaml"), "--as-of", AS_OF, "--format", "summary",
                              "--fail-on", "never", "-o", str(b.work / "out.txt"), *b.rules]) for _ in range(3))
        first = first or (funds, check)
        rows.append((f"funds per plan: check one {funds:,}-fund plan", f"{check:.2f} s CPU",
                     "parse it with yaml.CSafeLoader", f"{parse:.2f} s CPU",
                     f"{check / parse:.2f}x (target <= 3x); {funds / first[0]:g}x the funds of {first[0]:,}: "
                     f"{check / first[1]:.2f}x the time (target <= {1.125 * funds / first[0]:.2f}x)"))
        shutil.rmtree(folder)
    return rows


MEMO_CODE = (
    "import sys, time, weasyprint\n"
    "from datetime import date\n"
    "from compliance import api\n"
    "from compliance.memo.context import MemoOptions, build_context\n"
    "from compliance.memo.html import render_html\n"
    "from compliance.memo.writer import memo_bytes\n"
    "rs = api.load_rules(['bundled']); plan = sys.argv[1]; d = date.fromisoformat(sys.argv[2])\n"
    "r = api.check(plan, rs, d); html = render_html(build_context(r, MemoOptions()))\n"
    "weasyprint.HTML(string=html).write_pdf(); memo_bytes(r, MemoOptions())  # warm fonts and caches\n"
    "best_w = best_p = 1e9\n"
    "for _ in range(3):\n"
    "    t = time.perf_counter(); weasyprint.HTML(string=html).write_pdf(); best_w = min(best_w, time.perf_counter() - t)\n"
    "    t = time.perf_counter(); r = api.check(plan, rs, d); memo_bytes(r, MemoOptions()); best_p = min(best_p, time.perf_counter() - t)\n"
    "print(best_p, best_w)\n")


def memo_rows(b: Bench) -> list[Row]:
    """The memo pipeline against WeasyPrint alone on the same HTML; --jobs 2 against --jobs 1."""
    proc = subprocess.run([b.py, "-c", MEMO_CODE, str(b.one_plan()), AS_OF], capture_output=True, text=True, check=True)
    pipeline, weasy = map(float, proc.stdout.split())
    rows: list[Row] = [("memo: check + HTML + PDF/A-3b with attachments, one 30-fund plan", f"{pipeline:.2f} s",
                        "WeasyPrint alone, same HTML, plain PDF", f"{weasy:.2f} s",
                        f"{pipeline / weasy:.2f}x (target <= 1.2x)")]
    n = b.args.memo_plans
    memos = write_plans(b.work / "memo-plans", n, seed=7)
    m1, _ = timed([*b.compliance, "memo", str(memos), "-o", str(b.work / "memos1"), "--as-of", AS_OF, "--jobs", "1"], 1)
    m2, _ = timed([*b.compliance, "memo", str(memos), "-o", str(b.work / "memos2"), "--as-of", AS_OF, "--jobs", "2"], 1)
    rows.append((f"memo: {n} plans --jobs 2", f"{m2:.1f} s", "the same with --jobs 1", f"{m1:.1f} s",
                 f"{m1 / m2:.2f}x faster (target >= 1.7x)"))
    return rows


def large_memo_rows(b: Bench) -> list[Row]:
    """Memos of large plans (the large-plan form past LARGE_MENU options): time and peak memory, against the
    smallest size measured, and the user CPU time, which a busy shared machine inflates less than wall time."""
    rows: list[Row] = []
    first = None
    for funds in [int(s) for s in b.args.memo_funds.split(",") if s]:
        folder = b.work / f"memo-funds-{funds}"
        folder.mkdir()
        plan = folder / "plan.yaml"
        plan.write_text(yaml.dump(synthetic_plan(random.Random(funds), 1, funds=funds), Dumper=_DUMPER, sort_keys=False))
        start = os.times()
        elapsed, peak = timed([*b.compliance, "memo", str(plan), "-o", str(folder / "memo.pdf"), "--as-of", AS_OF], 1)
        end = os.times()
        cpu = end.children_user - start.children_user + end.children_system - start.children_system
        first = first or (funds, elapsed)
        rows.append((f"large memo: one {funds:,}-fund plan", f"{elapsed:.1f} s ({cpu:.1f} s CPU), peak {peak / 1024:.0f} MiB",
                     f"{first[0]:,}-fund memo", f"{first[1]:.1f} s",
                     f"{funds / first[0]:.0f}x the funds: {elapsed / first[1]:.2f}x the time "
                     f"(target: linear; 5,000 funds under 60 s and 1 GB)"))
        shutil.rmtree(folder)
    return rows


def dask_rows(b: Bench) -> list[Row]:
    """`--scheduler` on LocalClusters of 1 and 2 worker processes (one thread each, loopback, no dashboard)
    against --jobs 1 and --jobs 2 on this machine. The CLI is the client, in its own process. The four ways take
    turns, `repeat` rounds, and each figure is a median, so a busy moment weighs on all of them alike."""
    from contextlib import ExitStack

    from distributed import Client, LocalCluster

    work, compliance = b.work, b.compliance
    plans, memos, repeat = b.args.dask_plans, b.args.dask_memos, b.args.dask_repeat

    book = write_plans(work / f"dask-{plans}", plans)
    memo_book = write_plans(work / f"dask-memo-{memos}", memos, seed=7)
    environment = dict(os.environ)  # Dask sets OMP_NUM_THREADS=1 and the like here for its workers; nproc reads it
    with ExitStack() as stack:
        ways = {"--jobs 1": ["--jobs", "1"], "--jobs 2": ["--jobs", "2"]}
        for workers in (1, 2):
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       host="127.0.0.1", scheduler_port=0, dashboard_address=None))
            ways[f"{workers} Dask worker{'s' if workers > 1 else ''}"] = ["--scheduler", cluster.scheduler_address]
            with Client(cluster) as client:  # as on a cluster that has run before: WeasyPrint loaded everywhere
                client.run(importlib.import_module, "compliance.memo.pdf")
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(repeat):
            for way, flags in ways.items():
                out = work / f"dask-out-{way.split()[0]}{way.split()[1]}"
                times.setdefault(("check", way), []).append(timed(
                    [*compliance, "check", str(book), "--as-of", AS_OF, "--format", "summary", "--fail-on", "never",
                     "-o", f"{out}.txt", *flags], 1)[0])
                times.setdefault(("memo", way), []).append(timed(
                    [*compliance, "memo", str(memo_book), "--as-of", AS_OF, "-o", str(out), *flags], 1)[0])
    os.environ.clear()
    os.environ.update(environment)
    rows = []
    for what, n in (("check", plans), ("memo", memos)):
        med = {way: statistics.median(times[(what, way)]) for way in ways}
        def rate(t: float, n: int = n, what: str = what) -> str:
            return f"{n / t:.1f} plans/s" if what == "check" else f"{t / n:.2f} s/memo"

        for way, base, target in (("1 Dask worker", "--jobs 1", ""), ("2 Dask workers", "--jobs 2", ""),
                                  ("2 Dask workers", "1 Dask worker", " (target >= 1.7x)")):
            rows.append((f"dask: {what} {n:,} plans on {way}", f"{med[way]:.1f} s, {rate(med[way])}",
                         f"the same with {base}", f"{med[base]:.1f} s, {rate(med[base])}",
                         f"{med[base] / med[way]:.2f}x faster{target}"))
    return rows


def impact_rows(b: Bench) -> list[Row]:
    """`impact` with the DIA-final scenario (each plan read once, judged twice) against one `check` of the same
    book on the same date, alternating, the median of `repeat` rounds (at most 3)."""
    n = b.args.impact_plans
    folder, day = b.batch(n), "2027-07-01"
    scenario = str(Path(__file__).resolve().parents[1] / "rules" / "scenarios" / "dia-final-2027.yaml")
    checks, impacts = [], []
    for _ in range(min(b.args.repeat, 3)):
        checks.append(timed([*b.compliance, "check", str(folder), "--as-of", day, "--format", "summary",
                             "--fail-on", "never", "-o", str(b.work / "out.txt")], 1)[0])
        impacts.append(timed([*b.compliance, "impact", str(folder), "--scenario", scenario, "--as-of", day,
                              "--format", "json", "--fail-on", "never", "-o", str(b.work / "impact.json")], 1)[0])
    check, impact = statistics.median(checks), statistics.median(impacts)
    return [(f"impact: {n:,} plans, DIA-final scenario (--jobs 1)", f"{impact:.1f} s", "check the same plans once",
             f"{check:.1f} s", f"{impact / check:.2f}x (target <= 2.2x)")]


def site_rows(b: Bench) -> list[Row]:
    """`report` writing the static site of a book against `check` of the same book: time and peak memory."""
    n = b.args.site_plans
    check, check_peak = b.check1(n)
    site, peak = timed([*b.compliance, "report", str(b.batch(n)), "--as-of", AS_OF, "-o", str(b.work / "site")], 1)
    return [(f"site: report {n:,} plans (one page each)", f"{site:.1f} s, peak {peak / 1024:.0f} MiB",
             "check the same plans (--jobs 1)", f"{check:.1f} s, peak {check_peak / 1024:.0f} MiB",
             f"{site / check:.2f}x the time, {peak / check_peak:.2f}x the memory (target: bounded, flat with plans)")]


ROWS = {"startup": startup_rows, "throughput": throughput_rows, "scaling": scaling_rows, "peers": peer_rows,
        "funds": funds_rows, "memo": memo_rows, "large-memo": large_memo_rows, "dask": dask_rows,
        "impact": impact_rows, "site": site_rows}
DEFAULT_ROWS = [name for name in ROWS if name != "dask"]  # the Dask rows need the plan-compliance[dask] extra


def cpu_time(cmd: list[str]) -> float:
    """User plus system CPU seconds of one run: on a shared machine, steadier than wall time."""
    before = os.times()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    after = os.times()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return after.children_user - before.children_user + after.children_system - before.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(DEFAULT_ROWS),
                        help=f"which rows to run, of: {', '.join(ROWS)} (dask needs plan-compliance[dask])")
    parser.add_argument("--sizes", default="1000,10000,50000", help="batch sizes (plans) for the scaling rows")
    parser.add_argument("--throughput-plans", type=int, default=10000)
    parser.add_argument("--rules", help="packs the start-up, throughput, scaling, peers and funds rows check "
                        "against instead of the bundled ones (as check --rules takes them): two versions of the "
                        "code compared on the same rules")
    parser.add_argument("--pairs", type=int, default=3, help="check and parse runs in turn for the throughput rows")
    parser.add_argument("--peer-plans", type=int, default=1000, help="plans the peer tools and our check run on")
    parser.add_argument("--funds", default="1000,2000,5000,8000,10000", help="funds per plan for the funds rows")
    parser.add_argument("--memo-plans", type=int, default=200)
    parser.add_argument("--impact-plans", type=int, default=1000, help="plans the impact row compares")
    parser.add_argument("--site-plans", type=int, default=10000, help="plans the site row writes pages for")
    parser.add_argument("--memo-funds", default="500,1000,5000", help="funds per plan for the large-memo rows")
    parser.add_argument("--repeat", type=int, default=11, help="runs per start-up figure (median)")
    parser.add_argument("--dask-plans", type=int, default=2000, help="plans checked on the Dask clusters")
    parser.add_argument("--dask-memos", type=int, default=20, help="memos written on the Dask clusters")
    parser.add_argument("--dask-repeat", type=int, default=3, help="rounds of the Dask rows (median)")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    chosen = [r for r in args.rows.split(",") if r]
    unknown = [r for r in chosen if r not in ROWS]
    if unknown:
        parser.error(f"unknown rows {', '.join(unknown)}; the rows are {', '.join(ROWS)}")
    work = Path(tempfile.mkdtemp(prefix="pc-bench-"))
    # pip compiles a wheel's modules to bytecode when it installs them, as it did for click, PyYAML and Cerberus;
    # an editable install under PYTHONDONTWRITEBYTECODE would recompile ours on every run, which no user sees.
    package = Path(importlib.util.find_spec("compliance").origin).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    os.environ["PLAN_COMPLIANCE_CACHE"] = str(work / "pack-cache")  # never the user's own cache
    rows: list[Row] = []
    try:
        bench = Bench(args, work)
        for name in chosen:
            rows += ROWS[name](bench)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"plan-compliance benchmarks, {time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}, "
          f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores\n")
    print("| figure | measured | baseline (same run) | baseline value | ratio |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
