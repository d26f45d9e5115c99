"""The plan file format (version 1): its Cerberus schema, the checks a schema cannot state, and its field catalog.

The same schema drives three things, so they cannot drift apart: validation of plan files, the list of field
paths that rule conditions may name (checked when a pack loads), and the JSON Schema that editors use.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from compliance.errors import InputError, Problem, format_path
from compliance.kinds import is_number
from compliance.loader import Document
from compliance.schemas.messages import did_you_mean, problems
from compliance.schemas.validator import Validator
from compliance.text import percent, show

SUPPORTED_SCHEMA_VERSIONS = (1,)
EXTENSION_PREFIX = "x-"  # top-level keys like `x-core: &core` hold YAML anchors and are ignored

FREQUENCIES = ["daily", "weekly", "monthly", "quarterly", "semiannually", "annually"]
ASSET_CLASSES = [
    "us_large_cap_equity", "us_mid_cap_equity", "us_small_cap_equity", "international_equity",
    "emerging_markets_equity", "global_equity", "sector_equity", "intermediate_bond", "short_term_bond",
    "high_yield_bond", "inflation_protected_bond", "international_bond", "money_market", "stable_value",
    "target_date", "target_risk", "balanced", "managed_account", "real_estate", "commodities",
    "digital_assets", "private_equity", "private_credit", "infrastructure", "lifetime_income",
]
VEHICLES = [
    "mutual_fund", "cit", "etf", "etp", "separate_account", "stable_value_contract", "annuity",
    "digital_asset_account", "money_market_fund", "managed_account_service", "model_portfolio",
    "private_fund_interest",
]
DILIGENCE_FACTORS = [
    "performance", "fees", "liquidity", "valuation", "benchmark", "complexity",
    "volatility", "custody", "participant_education", "allocation_cap", "regulatory_status", "prudence",
    "suite_comparison",
]
DESIGNATIONS = ["none", "fund", "series", "managed_account"]
FUND_ID = r"[a-z0-9][a-z0-9._-]{0,63}"
DEFAULT_MANAGERS = ["registered_investment_company", "investment_manager", "trustee", "plan_sponsor"]
FEE_BASES = ["per_participant", "asset_based", "revenue_sharing", "mixed"]
REVENUE_SHARING_USES = ["credited_to_participants", "offsets_recordkeeping_fee", "retained_by_recordkeeper"]


def _s(kind: str, doc: str, form: str | None = None, label: str | None = None, **rules: Any) -> dict[Any, Any]:
    """One schema entry: Cerberus type, a one-line description (for docs and JSON Schema), extra rules.

    `form` says in words what a `regex` expects, for error messages; `label` names the fact in a sentence ("whether
    minutes are kept") where the description, a statement, would not read as one.
    """
    entry: dict[str, Any] = {"type": kind, "meta": {"doc": doc}}
    if form:
        entry["meta"]["form"] = form
    if label:
        entry["meta"]["label"] = label
    if kind == "number":
        entry["check_with"] = "finite"
    entry.update(rules)
    return entry


def _percent(doc: str, **rules: Any) -> dict[Any, Any]:
    """A percentage written as a number 0-100 (errors say so)."""
    entry = _s("number", doc, min=0, max=100, **rules)
    entry["meta"]["unit"] = "percent"
    return entry


def _fraction(doc: str, **rules: Any) -> dict[Any, Any]:
    """A ratio written as a fraction (0.0045 = 0.45%; errors point out a percentage written by mistake)."""
    entry = _s("number", doc, min=0, **rules)
    entry["meta"]["unit"] = "fraction"
    return entry


def _record(doc: str, fields: dict[Any, Any], **rules: Any) -> dict[Any, Any]:
    return _s("dict", doc, schema=fields, **rules)


def _evidence(entry: dict[Any, Any]) -> dict[Any, Any]:
    """Mark a field (and all it holds) as the record of a fiduciary process (a review date, a determination, the
    minutes), not a fact about an option: a rule that checks a documented process may treat its absence as the
    finding ("no documented determination is recorded"); the absence of any other fact is only a fact to record."""
    entry["meta"]["evidence"] = True
    return entry


_DETERMINATION = _evidence(_record(
    "A documented committee determination on one due-diligence factor.",
    {
        "date": _s("date", "When the committee made the determination.", required=True),
        "reference": _s("string", "Where it is recorded: minutes, consultant report, memo.", required=True, empty=False),
        "conclusion": _s("string", "What the committee concluded, in a sentence."),
    },
))

FUND_SCHEMA: dict[Any, Any] = {
    "id": _s("string", "Stable identifier used by waivers and in findings.", required=True,
             regex=FUND_ID, form="lower-case letters, digits, '.', '_' or '-'"),
    "name": _s("string", "Fund name as shown to participants.", required=True, empty=False),
    "ticker": _s("string", "Exchange ticker, if any.", form="upper-case letters and digits", regex=r"[A-Z0-9.]{1,10}"),
    "cusip": _s("string", "CUSIP, if any.", form="9 upper-case letters or digits", regex=r"[0-9A-Z]{9}"),
    "vehicle": _s("string", "Legal form of the option (a line-up often does not say).", allowed=VEHICLES),
    "asset_class": _s("string", "Primary asset class.", allowed=ASSET_CLASSES),
    "management": _s("string", "Active or passive (index) management.", allowed=["active", "passive"]),
    "share_class": _s("string", "Share class offered to the plan."),
    "expense_ratio": _fraction("Total annual operating expense as a fraction (0.0045 = 0.45%).", max=0.2),
    "lowest_cost_share_class": _record(
        "The cheapest share class of the same fund the plan could use.",
        {
            "share_class": _s("string", "Name of that share class.", required=True),
            "expense_ratio": _fraction("Its expense ratio as a fraction.", required=True, max=0.2,
                                       label="the cheapest class's expense ratio"),
            "available_to_plan": _s("boolean", "Whether the plan is eligible for it (minimums, platform)."),
            "reason_not_used": _evidence(_s("string", "The committee's documented reason for keeping the costlier class "
                                            "(e.g. revenue sharing credited back to participants), with its record.",
                                  empty=False)),
        },
    ),
    "revenue_sharing": _fraction("Revenue sharing paid to the recordkeeper, as a fraction.", max=0.05),
    "inception_date": _s("date", "Fund inception date."),
    "added_to_menu": _s("date", "Date the option was added to the plan menu."),
    "valuation_frequency": _s("string", "How often the option is valued.", allowed=FREQUENCIES),
    "liquidity": _s("string", "How often participants may redeem or exchange.", allowed=FREQUENCIES),
    "qdia": _s("boolean", "True for a fund designated as (part of) the plan's default; the same as listing it "
                          "in default_investment.funds.", label="whether the option is (part of) the plan's designated default"),
    "diversified": _s("boolean", "Whether the option is itself diversified across issuers and sectors."),
    "professionally_managed": _s("boolean", "Whether a manager sets and rebalances the asset allocation."),
    "digital_asset_pct": _percent("Exposure to digital assets, percent of the option (0-100)."),
    "private_market_pct": _percent("Exposure to private equity or credit, percent (0-100)."),
    "lifetime_income_pct": _percent("Lifetime-income component (an annuity sleeve), percent (0-100)."),
    "leverage": _s("string", "Leveraged or inverse design, if any.", allowed=["none", "leveraged", "inverse"]),
    "custodian": _evidence(_s("string", "Custodian of the option's assets.")),
    "benchmark": _s("string", "Broad-based benchmark used in participant disclosures."),
    "fixed_return": _s("boolean", "Whether the option's return is fixed or stated for the term of the investment "
                                  "(a guaranteed contract, a fixed annuity): 404a-5 then shows the rate, not an index."),
    "benchmark_rationale": _evidence(_s("string", "Why the benchmark fits, for multi-asset or alternative options.")),
    "esg_strategy": _s("boolean", "Whether the option's stated strategy weighs environmental, social or governance "
                                  "factors (by its prospectus or offering documents)."),
    "contribution_cap_pct": _percent("Sponsor cap on contributions directed to this option, percent."),
    "transfer_fee_first_90_days": _s("boolean", "Whether a fee or restriction applies to transfers out "
                                                "in the first 90 days."),
    "last_reviewed": _evidence(_s("date", "Date the committee last reviewed this option (monitoring).")),
    "redemption_fee": _fraction("Redemption or short-term trading fee, as a fraction of the amount redeemed.",
                                max=0.2),
    "redemption_fee_days": _s("integer", "Holding period, in days, within which the redemption fee applies.", min=0),
    "trading_restriction": _s("string", "Any round-trip or frequent-trading restriction, in words.", empty=False),
    "shareholder_fees_disclosed": _s("boolean", "Whether the 404a-5 comparative chart shows this option's "
                                                "shareholder-type fees and trading restrictions."),
    "performance_fee": _s("number", "Performance fee or carried interest, as a fraction of gains (0.20 = 20%).",
                          min=0, max=1),
    "redemption_gate_pct": _percent("Most of the option's assets that may be redeemed in one period before a "
                                    "gate applies, percent."),
    "lockup_days": _s("integer", "Restriction period, in days, before money may leave the option.", min=0),
    "liquidity_sleeve_pct": _percent("Share held in daily-liquid assets to meet exchanges, percent."),
    "private_valuation": _record("How the private-markets sleeve is valued.", {
        "frequency": _s("string", "How often the sleeve is valued.", allowed=FREQUENCIES),
        "independent": _s("boolean", "Whether an independent party values it."),
        "method": _s("string", "The valuation method, in words.", empty=False),
    }),
    "leverage_multiple": _s("number", "Daily leverage target (2 for 2x, -1 for inverse).", min=-5, max=5),
    "leverage_reset": _s("string", "How often the leverage target is reset.", allowed=FREQUENCIES),
    "hedge_fund_pct": _percent("Hedge-fund sleeve, percent of the option (0-100)."),
    "commodity_pct": _percent("Commodity sleeve, percent of the option (0-100)."),
    "style": _record("Investment style of an equity option.", {
        "size": _s("string", "Market capitalisation.", allowed=["large", "mid", "small", "multi"]),
        "value_growth": _s("string", "Value, blend or growth.", allowed=["value", "blend", "growth"],
                           label="value, blend or growth style"),
    }),
    "fund_of_funds": _s("boolean", "Whether the option invests through other funds."),
    "glide_path": _s("string", "A target-date option's glide path: reaching its most conservative mix at the "
                               "target date (to) or later (through).", allowed=["to", "through"]),
    "underlying_funds": _s("string", "Whose funds a fund of funds holds: the provider's own (proprietary), "
                                     "others', or both.", allowed=["proprietary", "non_proprietary", "mixed"]),
    "construction": _s("string", "Off-the-shelf product or custom-built for the plan.",
                       allowed=["off_the_shelf", "custom"]),
    "direct_employer_securities": _s("boolean", "Whether the option invests participant contributions directly "
                                                "in securities of the employer."),
    "transfer_cap_pct": _percent("Sponsor cap on the share of a balance that may be transferred into this "
                                 "option, percent."),
    "monitoring": _record("Screening data from the latest monitoring report, and the watch list.", {
        "excess_return_3y": _s("number", "Annualised 3-year return minus the benchmark's, as a fraction "
                                         "(-0.012 = 1.2 points a year behind).", min=-1, max=1),
        "excess_return_5y": _s("number", "Annualised 5-year return minus the benchmark's, as a fraction.",
                               min=-1, max=1),
        "peer_percentile_3y": _s("number", "3-year peer-group percentile rank (1 best, 100 worst).", min=1, max=100),
        "peer_percentile_5y": _s("number", "5-year peer-group percentile rank (1 best, 100 worst).", min=1, max=100),
        "manager_tenure_years": _s("number", "Years the current lead manager has run the option.", min=0),
        "style_consistent": _s("boolean", "Whether the option kept to its stated style in the period."),
        "fund_assets_usd": _s("number", "Assets of the fund or strategy, in US dollars.", min=0),
        "as_of": _s("date", "Date of the monitoring data."),
        "watch_list_since": _s("date", "Date the committee put the option on its watch list."),
        "watch_list_reason": _s("string", "Why it is on the watch list.", empty=False),
        "decision": _DETERMINATION,
    }),
    "due_diligence": _record(
        "Committee determinations, one per factor.",
        {factor: _DETERMINATION for factor in DILIGENCE_FACTORS},
    ),
}

PLAN_SCHEMA: dict[Any, Any] = {
    "schema_version": _s("integer", "Version of this plan format; only 1 exists.", required=True),
    "plan": _record("Plan facts.", {
        "name": _s("string", "Plan name as on Form 5500 (reports fall back to the file name).", empty=False),
        "sponsor": _s("string", "Plan sponsor (employer)."),
        "ein": _s("string", "Sponsor EIN, NN-NNNNNNN.", form="NN-NNNNNNN", regex=r"\d{2}-\d{7}"),
        "plan_number": _s("string", "Three-digit plan number, e.g. 001.", form="NNN, e.g. 001", regex=r"\d{3}"),
        "type": _s("string", "Plan type.", allowed=["401k", "403b", "457b", "401a"]),
        "participants": _s("integer", "Participants with account balances.", min=0),
        "assets_usd": _s("number", "Plan assets in US dollars.", min=0),
        "intends_404c": _s("boolean", "Whether the plan intends to comply with ERISA 404(c)."),
        "transfer_frequency": _s("string", "How often participants may move money between options.",
                                 allowed=FREQUENCIES),
        "recordkeeper": _record("The recordkeeper and how it is paid.", {
            "name": _s("string", "Recordkeeper firm.", empty=False),
            "fee_basis": _s("string", "How recordkeeping is paid: a per-participant fee, an asset-based fee, revenue "
                                      "sharing, or a mix.", allowed=FEE_BASES),
            "fee_per_participant_usd": _s("number", "Total recordkeeping and administrative cost per participant "
                                                    "per year, in US dollars (all sources).", min=0),
            "asset_based_fee": _fraction("Asset-based recordkeeping fee, as a fraction of plan assets.", max=0.05),
            "revenue_sharing_use": _s("string", "What happens to revenue sharing the options pay.",
                                      allowed=REVENUE_SHARING_USES),
            "fees_benchmarked": _evidence(_s("date", "When recordkeeping fees were last benchmarked or put out to bid.")),
            "last_rfp": _evidence(_s("date", "When the recordkeeping services were last put out to bid (request for "
                                             "proposals).")),
        }),
        "automatic_enrollment": _record("Automatic enrollment.", {
            "offered": _s("boolean", "Whether eligible employees are enrolled unless they opt out.", required=True),
            "default_contribution_pct": _percent("Default contribution rate, percent of pay."),
            "permissible_withdrawals": _s("boolean", "Whether automatically enrolled participants may withdraw their "
                                                     "default contributions within 90 days."),
        }),
    }, required=True),
    "governance": _evidence(_record("Evidence of the fiduciary process.", {
        "investment_policy": _record("Investment policy statement.", {
            "adopted": _s("date", "Date first adopted."),
            "last_reviewed": _s("date", "Date last reviewed by the committee."),
            "addresses_alternatives": _s("boolean", "Covers private-market and other alternative assets.",
                                         label="whether the policy statement covers private-market and other "
                                               "alternative assets"),
            "addresses_digital_assets": _s("boolean", "Covers digital assets.",
                                           label="whether the policy statement covers digital assets"),
        }),
        "committee": _record("Investment committee.", {
            "charter": _s("boolean", "A written charter exists.", label="whether the committee has a written charter"),
            "meeting_frequency": _s("string", "Scheduled meeting frequency.", allowed=FREQUENCIES),
            "last_meeting": _s("date", "Date of the last meeting."),
            "minutes_kept": _s("boolean", "Minutes are kept for every meeting.", label="whether minutes are kept for every meeting"),
        }),
        "adviser": _record("Investment adviser.", {
            "name": _s("string", "Adviser firm."),
            "role": _s("string", "ERISA role.", allowed=["3(21)", "3(38)", "none"]),
        }),
        "disclosures": _record("Fee disclosure evidence.", {
            "participant_fee_disclosure_sent": _s("date", "Last 404a-5 comparative chart sent."),
            "participant_fee_disclosure_reset": _s("boolean", "Whether the plan used FAB 2013-02's one-time reset "
                                                              "(the 2013 or 2014 chart up to 18 months after the "
                                                              "previous one)."),
            "service_provider_disclosure_received": _s("date", "Last 408(b)(2) disclosure received."),
            "service_provider_fees_reviewed": _s("date", "Last documented review of service-provider fees."),
            "qdia_notice_sent": _s("date", "Last annual QDIA notice sent."),
        }),
    })),
    "brokerage_window": _record("Self-directed brokerage window.", {
        "offered": _s("boolean", "Whether the plan offers a window.", required=True),
        "provider": _s("string", "Window provider."),
        "digital_assets_allowed": _s("boolean", "Whether digital assets can be bought through it.",
                                      label="whether digital assets can be bought through the window"),
        "digital_asset_cap_pct": _percent("Cap on digital assets, percent of a participant's balance."),
        "balance_cap_pct": _percent("Cap on the share of a balance that may enter the window."),
        "fees_disclosed": _s("boolean", "Window fees disclosed to participants under 404a-5.",
                              label="whether window fees are disclosed to participants under 404a-5"),
        "provider_last_reviewed": _evidence(_s("date", "Date the committee last reviewed the window provider.")),
    }),
    "default_investment": _record("The default for participants who give no investment instructions.", {
        "designation": _s("string", "What is designated: none, one fund, a series (each participant's vintage) or "
                                    "a managed account.", required=True, allowed=DESIGNATIONS),
        "funds": _s("list", "Menu ids of the designated default: the fund, every vintage of the series, or the "
                            "managed-account option.", schema={"type": "string"}),
        "series_basis": _s("string", "How a participant's vintage is chosen.", allowed=["age", "retirement_year"]),
        "qdia_relief": _s("boolean", "Whether the plan relies on QDIA relief (29 CFR 2550.404c-5); a fact to "
                                     "record, never assumed from the designation."),
        "manager": _s("string", "Who manages the default.", allowed=DEFAULT_MANAGERS),
        "initial_notice_days": _s("integer", "How many days ahead (of the first default investment, or of "
                                             "eligibility: see initial_notice_before) the plan's procedure gives the "
                                             "initial default notice.", min=0,
                                    label="how many days before the first default investment (or eligibility) the "
                                          "initial default notice goes out"),
        "initial_notice_before": _s("string", "What initial_notice_days counts back from: the participant's first "
                                              "default investment or the date of plan eligibility.",
                                    allowed=["first_investment", "eligibility"],
                                    label="what the initial notice's days count back from: the first default "
                                          "investment or plan eligibility"),
        "capital_preservation_days": _s("integer", "For a capital-preservation default: the longest a participant's "
                                                   "contributions stay in it before moving to a long-term default.",
                                        min=0),
        "stable_value_grandfathered": _s("boolean", "For a stable-value default: it holds only contributions made "
                                                    "before 2007-12-24.",
                                          label="whether a stable-value default holds only contributions made "
                                                "before 2007-12-24"),
    }),
    "menu": _s("list", "Designated investment alternatives.", required=True, minlength=1,
               schema={"type": "dict", "schema": FUND_SCHEMA}),
    "waivers": _s("list", "Committee determinations that a finding does not apply.", schema={
        "type": "dict",
        "schema": {
            "rule": _s("string", "Rule id the waiver answers.", required=True, empty=False),
            "fund": _s("string", "Fund id, if the waiver covers one fund only.", empty=False),
            "reason": _s("string", "The committee's reasons.", required=True, empty=False),
            "approved_by": _s("string", "Who decided.", required=True, empty=False),
            "approved_on": _s("date", "When.", required=True),
            "expires": _s("date", "When the determination lapses and must be revisited.", required=True),
            "reference": _s("string", "Minutes or memo recording the determination."),
        },
    }),
}


PLAN_VALIDATOR = Validator(PLAN_SCHEMA)
# The plan's sections: its top-level mappings of fields (the roots a rule's field path may start from, besides
# `fund.`), in the order the schema declares them.
SECTIONS: tuple[str, ...] = tuple(key for key, entry in PLAN_SCHEMA.items() if entry["type"] == "dict")


def validate_plan(doc: Document) -> dict[Any, Any]:
    """The plan's data, checked against format version 1 and normalised; one InputError lists every problem.

    The document is left as it was read: the returned data drops `x-` keys and states the default investment in
    one form (see `_designate_default`), sharing unchanged values with the document.
    """
    data = doc.data
    if not isinstance(data, dict):
        raise InputError.at(doc.file, 1, 1, "a plan file must be a YAML mapping with schema_version, plan and menu")
    version = data.get("schema_version")
    if "schema_version" in data and version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_SCHEMA_VERSIONS))
        raise InputError(Problem(doc.locate(("schema_version",)),
                                 f"schema_version: {version!r} is not supported (this version of the tool reads {supported})"))
    data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith(EXTENSION_PREFIX))}
    if doc.date_shaped_text:
        data = _dates_read(data, PLAN_SCHEMA)
    found = problems(doc, PLAN_VALIDATOR, data, lambda path: _fund_named(doc, path))
    found += _duplicate_fund_ids(doc, data)
    found += _waiver_dates(doc, data)
    if not found:
        data, found = _designate_default(doc, data)
    if found:
        found.sort(key=lambda p: (p.location.line, p.location.column))
        raise InputError(found)
    return _without_placeholders(data) if _may_hold_placeholder(doc.text) else data


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _dates_read(value: Any, schema: dict[Any, Any]) -> Any:
    """The data with every quoted ISO date ("2026-03-31") at a date field read as a date, as the plan's JSON
    Schema allows: a JSON plan has no other way to write one. A string that is no date stays, and is refused."""
    if not isinstance(value, dict):
        return value
    out = value
    for key, entry in schema.items():
        item = value.get(key)
        if item is None:
            continue
        new = item
        if entry["type"] == "date" and isinstance(item, str) and _ISO_DATE.fullmatch(item):
            try:
                new = date.fromisoformat(item)
            except ValueError:
                continue
        elif entry["type"] == "dict" and isinstance(item, dict):
            new = _dates_read(item, entry.get("schema", {}))
        elif entry["type"] == "list" and isinstance(item, list) and entry.get("schema", {}).get("type") == "dict":
            inner = entry["schema"].get("schema", {})
            new = [_dates_read(x, inner) for x in item]
            new = item if all(a is b for a, b in zip(new, item, strict=True)) else new
        if new is not item:
            out = dict(out) if out is value else out
            out[key] = new
    return out


PLACEHOLDERS = "_placeholders"  # where the cleaned data lists the placeholders it dropped (no rule can name it)
_PLACEHOLDER_VALUES = frozenset({"00-0000000"})  # the EIN a form leaves when nobody filled it in


def _may_hold_placeholder(text: bytes) -> bool:
    """A placeholder's letters are in the file's bytes, unless a double-quoted escape spells them: without either,
    the walk over every value (a tenth of a 10,000-option check) is skipped. Substring tests, not a regular
    expression: a case-blind pattern has no literal to search for and reads every byte several times."""
    return b"\\" in text or b"00-0000000" in text or b"todo" in text.lower()


def _is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and (value.strip()[:4].upper() == "TODO" or value.strip() in _PLACEHOLDER_VALUES)


def _without_placeholders(data: dict[Any, Any]) -> dict[Any, Any]:
    """The data with every placeholder ("TODO: ...", EIN 00-0000000) left out, so no rule reads one as a fact;
    their paths are kept under `PLACEHOLDERS`, to be reported as facts to record."""
    found: list[tuple[Any, ...]] = []

    def clean(value: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(value, dict):
            kept = {}
            for key, item in value.items():
                if _is_placeholder(item) and not (key == "id" and len(path) == 2 and path[0] == "menu"):  # an option's key
                    found.append(path + (key,))
                else:
                    kept[key] = clean(item, path + (key,))
            return kept if len(kept) != len(value) or any(kept[k] is not value[k] for k in kept) else value
        if isinstance(value, list) and path[:1] == ("menu",) and len(path) == 1:
            return [clean(item, path + (i,)) for i, item in enumerate(value)]
        return value

    cleaned = {key: clean(value, (key,)) if key in SECTIONS or key == "menu" else value for key, value in data.items()}
    if not found:
        return data
    cleaned[PLACEHOLDERS] = tuple(found)
    return cleaned


def _designate_default(doc: Document, data: dict[Any, Any]) -> tuple[dict[Any, Any], list[Problem]]:
    """One view of the default, whichever way the file states it (v1's `qdia: true` or `default_investment`).

    Every fund gets `qdia` (true for a designated fund, false for any other: the designation settles it) and
    `default_investment` is filled in, so rules read one set of fields. Reliance on QDIA relief is a fact of its
    own: it is false only when nothing is designated, and otherwise stays as the file records it (or absent: a
    fact to record). Returns new data (the input is not changed) and the problems found.
    """
    menu = data["menu"]
    ids = {fund["id"]: i for i, fund in enumerate(menu)}
    flagged = [fund["id"] for fund in menu if fund.get("qdia")]
    stated = data.get("default_investment")
    if stated is None:
        if not flagged:
            menu = [fund if fund.get("qdia") is False else {**fund, "qdia": False} for fund in menu]
            return {**data, "menu": menu,
                    "default_investment": {"designation": "none", "funds": [], "qdia_relief": False}}, []
        stated = {"designation": "fund" if len(flagged) == 1 else "series", "funds": flagged}
    default = {"funds": [], **stated}
    problems = []
    at = ("default_investment",)
    named = default["funds"]
    for k, fid in enumerate(named):
        if fid not in ids:
            problems.append(Problem(doc.locate(at + ("funds", k)), f"default_investment.funds[{k}]: {fid!r} is not a "
                                                                   f"fund id on the menu{did_you_mean(fid, ids)}"))
    designation = default["designation"]
    if designation == "none" and named:
        problems.append(Problem(doc.locate(at + ("funds",)), "default_investment.funds: the designation is none, "
                                                              "so no fund can be listed"))
    elif designation != "none" and not named:
        problems.append(Problem(doc.locate(at + ("designation",)), f"default_investment: a {designation} default "
                                                                   f"lists its menu ids under funds"))
    elif designation in ("fund", "managed_account") and len(named) != 1:
        problems.append(Problem(doc.locate(at + ("funds",)), f"default_investment.funds: a {designation} default is "
                                                              f"one option; use designation: series for a series"))
    for fid in flagged:
        if fid not in named:
            problems.append(Problem(doc.locate(("menu", ids[fid], "qdia")),
                                    f"menu[{ids[fid]}].qdia: {fid!r} is marked as the default, but "
                                    f"default_investment.funds does not list it"))
    if problems:
        return data, problems
    if designation == "none":
        default.setdefault("qdia_relief", False)
    chosen = set(named)
    menu = [fund if fund.get("qdia") is (fund["id"] in chosen) else {**fund, "qdia": fund["id"] in chosen}
            for fund in menu]
    return {**data, "menu": menu, "default_investment": default}, []


def _waiver_dates(doc: Document, data: dict[Any, Any]) -> list[Problem]:
    """A waiver must lapse after it was approved; one that expires first would never have been in effect."""
    problems = []
    waivers = data.get("waivers")
    for i, w in enumerate(waivers if isinstance(waivers, list) else ()):
        if not isinstance(w, dict):
            continue
        approved, expires = w.get("approved_on"), w.get("expires")
        if type(approved) is date and type(expires) is date and expires <= approved:
            problems.append(Problem(doc.locate(("waivers", i, "expires")),
                                    f"waivers[{i}].expires: {expires.isoformat()} is not after approved_on "
                                    f"({approved.isoformat()}); a waiver must lapse after it is approved"))
    return problems


def _duplicate_fund_ids(doc: Document, data: dict[Any, Any]) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    menu = data.get("menu")
    for i, fund in enumerate(menu if isinstance(menu, list) else ()):  # runs on invalid plans too
        fid = fund.get("id") if isinstance(fund, dict) else None
        if isinstance(fid, str):
            if fid in seen:
                problems.append(Problem(doc.locate(("menu", i, "id")),
                                        f"menu[{i}].id: {fid!r} is already used by menu[{seen[fid]}]; fund ids must be unique"))
            seen.setdefault(fid, i)
    return problems


def _fund_named(doc: Document, path: tuple[Any, ...]) -> str:
    """`menu[3].expense_ratio` -> `menu[fund lc-growth].expense_ratio`: errors name the fund, not its position."""
    where = format_path(path)
    if len(path) >= 2 and path[0] == "menu" and isinstance(path[1], int):
        menu = doc.data.get("menu") if isinstance(doc.data, dict) else None
        fund = menu[path[1]] if isinstance(menu, list) and path[1] < len(menu) else None
        fid = fund.get("id") if isinstance(fund, dict) else None
        if isinstance(fid, str) and re.fullmatch(FUND_ID, fid):
            return where.replace(f"menu[{path[1]}]", f"menu[fund {fid}]", 1)
    return where


@lru_cache(maxsize=1)
def _fields() -> tuple[tuple[str, str, dict[str, Any], bool], ...]:
    """(path, name, entry, evidence) of every field a rule may name, sections first, then the fund's: the one walk
    of the schema that the tables below read. `evidence`: the field, or a record it lies in, records a process."""
    found: list[tuple[str, str, dict[str, Any], bool]] = []

    def walk(prefix: str, fields: dict[str, Any], inherited: bool) -> None:
        for name, entry in fields.items():
            path = f"{prefix}.{name}"
            marked = inherited or entry["meta"].get("evidence", False)
            found.append((path, name, entry, marked))
            if entry["type"] == "dict":
                walk(path, entry.get("schema", {}), marked)

    for section in SECTIONS:
        walk(section, PLAN_SCHEMA[section]["schema"], PLAN_SCHEMA[section]["meta"].get("evidence", False))
    walk("fund", FUND_SCHEMA, False)
    return tuple(found)


def evidence_fields() -> frozenset[str]:
    """The catalog paths that record a process (see `_evidence`), in the catalog's spelling (`fund.x.y`)."""
    return frozenset([path for path, _, _, marked in _fields() if marked]
                     + [section for section in SECTIONS if PLAN_SCHEMA[section]["meta"].get("evidence")])


def determination_fields() -> frozenset[str]:
    """The catalog paths that hold one committee determination (date, reference, conclusion): one fact to record."""
    return frozenset(path for path, _, entry, _ in _fields() if entry is _DETERMINATION)


_DETERMINATION_LABELS = {"fund.monitoring.decision": "the committee's decision to keep or replace the option"}


@lru_cache(maxsize=1)
def _entries() -> dict[str, tuple[str, dict[str, Any]]]:
    return {path: (name, entry) for path, name, entry, _ in _fields()}


@lru_cache(maxsize=512)
def field_label(path: str) -> str | None:
    """A catalog path's label in plain words, for people: "whether the option is itself diversified across issuers
    and sectors" (None for a path the catalog lacks). It is the field's own description, so the docs, the findings
    and the memo say the same thing (a fee's label does not say "as a fraction": it is shown as a percent). Made
    when first asked for: a check names a few dozen fields, not all of them."""
    if path not in _entries():
        return None
    name, entry = _entries()[path]
    if entry is _DETERMINATION:
        text = _DETERMINATION_LABELS.get(path, f"the committee's determination on {name.replace('_', ' ')}")
    elif entry["meta"].get("label"):
        text = entry["meta"]["label"]
    else:  # the description's first clause, without its unit: a fee is shown as a percent
        text = entry["meta"]["doc"].replace(", as a fraction", "").replace(" as a fraction", "")
        text = text.split("; ")[0].split(" (")[0].rstrip(".,")
    return text[:1].lower() + text[1:] if not text[:2].isupper() else text


def field_labels() -> dict[str, str]:
    """Every catalog path's label (`field_label`), for the memo and the docs."""
    return {path: field_label(path) or path for path in _entries()}


@lru_cache(maxsize=1)
def _units() -> dict[str, str | None]:
    return {path: entry["meta"].get("unit") for path, _, entry, _ in _fields()}


def shown_value(field: str, value: Any) -> str:
    """A recorded value as people read it, the one way every output shows it: a fee (a fraction) as a percent
    (`compliance.text.percent`), a percentage with its sign, a coded word (`offsets_recordkeeping_fee`) in words."""
    unit = _units().get(field)
    if is_number(value) and unit:
        return percent(value) if unit == "fraction" else f"{value:g}%"
    coded = isinstance(value, str) and value in _allowed().get(field, ())
    if coded and value in _CODED_WORDS:
        return _CODED_WORDS[value]
    if isinstance(value, str) and (coded or re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)+", value)):
        return " ".join(_ACRONYMS.get(word, word) for word in value.split("_"))
    return show(value)


# Coded values people write otherwise: acronyms in capitals, plan types as the Code spells them.
_ACRONYMS = {"us": "US", "cit": "CIT", "etp": "ETP", "etf": "ETF", "reit": "REIT", "tips": "TIPS", "esg": "ESG"}
_CODED_WORDS = {"401k": "401(k)", "403b": "403(b)", "457b": "457(b)", "401a": "401(a)"}


@lru_cache(maxsize=1)
def _allowed() -> dict[str, frozenset[str]]:
    """Each field's fixed list of values (`fund.vehicle`: `cit`, ...): codes, shown in words."""
    return {path: frozenset(v for v in entry["allowed"] if isinstance(v, str)) for path, _, entry, _ in _fields()
            if isinstance(entry, dict) and entry.get("allowed")}


def field_catalog() -> dict[str, str]:
    """Every field path a rule condition may name, with its type: `plan.name`, `fund.expense_ratio`, ..."""
    return {**dict.fromkeys((*SECTIONS, "fund"), "dict"), **{path: entry["type"] for path, _, entry, _ in _fields()}}
