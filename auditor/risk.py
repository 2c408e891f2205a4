"""Migration risk per scenario: legal hard gates, vendor posture weighted by the data, and context-window fit.

Vendor facts come from the endpoint profiles (`pricing/endpoints.py`); each finding lists the inputs it used, the
rule's source and each vendor fact with its source and as-of date. Gates come first and make a candidate Blocked:

- PHI without a BAA covering the service (HIPAA 45 CFR 164.502(e), 164.504(e));
- card data without a PCI DSS attestation of the service (PCI DSS v4.0 12.8.x);
- EU/UK personal data processed in a non-adequate country (the PRC) without SCCs/IDTA (GDPR Ch. V, UK GDPR);
- US government or DoD traffic to a model developed in the PRC, wherever it is hosted (FY2026 NDAA 1532, 6604,
  agency bans; for civilian agencies the tool applies the ban as policy, the enacted rules cover DoD and the IC);
- personal data to inference run in the PRC (PRC state-access laws; a proposed default policy);
- a vendor jurisdiction outside `--allow-jurisdiction`, or a provider named by `--ban-provider`.

The compliance score (0..100) is the mean of vendor-posture gaps (training on API data, retention/ZDR, DPA,
certifications, PRC jurisdiction, processing in the PRC, government restrictions; an unknown fact counts as a gap)
times the data's sensitivity. The operational score is context-window fit, measured from the request-size buckets
of the usage. Both scales and the level thresholds (red from 67, amber from 34) are a proposal to calibrate, not
sourced facts. Without a data profile no compliance gate runs and the level rests on operational factors only.

Context-window fit. The shape table keeps, per row, the floor of its request-size bucket: the largest catalog
long-context threshold below the row's input side (input + cache reads + cache writes), per request for request
logs and for the row's average request for bucketed exports. Every request of a bucket with floor F has more than
F input tokens, and no more than the next floor. So for a window W: requests in buckets with F >= W certainly do
not fit (a lower bound of the share); those in the one bucket with F < W < next floor may or may not (the upper
bound adds them); the rest fit on input. Output tokens also need room, so true overflow can be higher; bucketed
exports hide single large requests behind their average.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

import pandas as pd

from auditor import operational
from auditor.errors import OptionError
from auditor.hybrid import segment_names, segmentation
from auditor.result import AuditResult, DataProfile, DataSegment, Risk, RiskFinding, Scenario
from auditor.workload import MODEL_REF
from pricing.catalog import CatalogModel
from pricing.endpoints import JURISDICTIONS, UNKNOWN, Endpoint, EndpointBook, Fact, endpoint_book
from pricing.rates import size_bucket_floors

DATA_CLASSES = (
    "personal",
    "special-category",
    "phi",
    "card",
    "eu-personal",
    "uk-personal",
    "california-personal",
    "prc-personal",
    "us-government",
    "dod",
    "source-code",
    "none",
)
PERSONAL = frozenset(DATA_CLASSES[:8])
# Sensitivity of each class for the compliance score (proposal).
_SENSITIVITY = {c: 0.8 for c in PERSONAL} | {
    "special-category": 1.0,
    "phi": 1.0,
    "card": 1.0,
    "us-government": 1.0,
    "dod": 1.0,
    "source-code": 0.6,
    "none": 0.25,
}
_JURISDICTION_ALIASES = {"CN": "PRC", "CHINA": "PRC", "GB": "UK", "EEA": "EU"}
_INPUT_SIDE = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens"]
_ORDER = {"blocking": 0, "red": 1, "amber": 2, "info": 3}
Severity = Literal["blocking", "red", "amber", "info"]
Level = Literal["green", "amber", "red", "blocked"]
Inputs = dict[str, str | int | float | None]

# Rule sources: the statute, regulation or official document, with its public address where it has one.
HIPAA = (
    "HIPAA 45 CFR 164.502(e), 164.504(e): a BAA is required before PHI is disclosed (HHS OCR Guidance on HIPAA & "
    "Cloud Computing, Oct 2016)"
)
PCI = "PCI DSS v4.0 Req. 12.8.1-12.8.5, 12.9.1: TPSP agreement and AOC"
GDPR_TRANSFER = (
    "GDPR Ch. V Arts 44-49 (eur-lex.europa.eu/eli/reg/2016/679/oj): adequacy (Art. 45) or SCCs (EU) 2021/914 plus "
    "a transfer impact assessment (EDPB Rec. 01/2020)"
)
UK_TRANSFER = (
    "UK GDPR / DPA 2018 as amended by DUAA 2025 (legislation.gov.uk/ukpga/2025/18/schedule/7): UK-US data bridge "
    "(SI 2023/1028) for DPF UK Extension recipients, otherwise IDTA or UK Addendum plus a transfer risk assessment"
)
PRECEDENTS = (
    "Enforcement precedents: Garante urgent limitation on DeepSeek, 30 Jan 2025; Berlin DPA found DeepSeek "
    "transfers breach GDPR Art. 46(1) and filed a DSA Art. 16 notice, 27 Jun 2025; Garante fined OpenAI EUR 15M, "
    "20 Dec 2024"
)
PRC_ACCESS = (
    "PRC National Intelligence Law Arts 7, 14 (chinalawtranslate.com/en/national-intelligence-law-of-the-p-r-c-2017/) "
    "and Data Security Law Art. 36 (chinadataregulation.com/translations/dsl/article-36); DOJ Data Security Program "
    "28 CFR Part 202; processing geography gate"
)
GOV = (
    "FY2026 NDAA (P.L. 119-60) 1532: DoD and its contractors may not use covered AI from covered nations, incl. "
    "DeepSeek; 6604: DeepSeek barred on IC national-security systems; agency bans: Navy email (24 Jan 2025), DISA "
    "block (about 28 Jan 2025), NASA memo (31 Jan 2025), Commerce GFE ban (reported by Reuters, 17 Mar 2025)"
)
ENTITY_LIST = (
    "BIS Entity List: licence required for EAR items when a listed entity is a party (BIS final rule 90 FR 4617, "
    "16 Jan 2025, frtracker.app/fr/2025-00704; BIS Entity List additions of 7 Oct 2019, FR 9 Oct 2019)"
)


SECTORS = ("eu-financial", "us-bank", "education", "tax")
SEGMENT_KINDS = ("project", "api_key", "model")
CAPABILITIES = ("tools", "vision", "structured-output", "audio")
# DOJ Data Security Program bulk thresholds, 28 CFR 202.205 (12-month look-back): a count ABOVE the number is bulk.
# Geolocation counts devices.
DSP_THRESHOLDS = {
    "genomic": 100,
    "omic": 1_000,
    "biometric": 1_000,
    "geolocation": 1_000,
    "health": 10_000,
    "financial": 10_000,
    "identifiers": 100_000,
}
DSP_LABELS = {
    "genomic": "human genomic data (US persons)",
    "omic": "other 'omic data (US persons)",
    "biometric": "biometric identifiers (US persons)",
    "geolocation": "precise geolocation (devices)",
    "health": "personal health data (US persons)",
    "financial": "personal financial data (US persons)",
    "identifiers": "covered personal identifiers (US persons)",
}
# Which DOJ categories each data class may hold (a mapping of the tool, not of the rule: a proposal).
DSP_NEEDS = {
    "personal": ("identifiers",),
    "california-personal": ("identifiers",),
    "phi": ("health", "identifiers"),
    "card": ("financial", "identifiers"),
    "special-category": ("health", "biometric", "genomic"),
}
Counts = tuple[tuple[str, int], ...]


def dsp_needed(classes: Iterable[str]) -> tuple[str, ...]:
    """The DOJ categories whose US-person counts decide the bulk gate for these data classes, in threshold order."""
    wanted = {c for cls in classes for c in DSP_NEEDS.get(cls, ())}
    return tuple(c for c in DSP_THRESHOLDS if c in wanted)


@dataclass(frozen=True)
class SegmentProfile:
    """A project, API key or model whose traffic holds other data classes than the default (policy file)."""

    kind: str
    name: str
    classes: tuple[str, ...]
    us_persons: Counts = ()

    def mask(self, rows: pd.DataFrame) -> pd.Series:
        """The rows of the priced workload that belong to the segment (a model by catalog ref or as written)."""
        if self.kind == "model":
            return (rows[MODEL_REF].astype(str) == self.name) | (rows["model_raw"].astype(str) == self.name)
        return rows[self.kind].astype(str) == self.name


@dataclass(frozen=True)
class Profile:
    """The parsed data profile and policy; `for_rows` gives the profile of one part of the traffic."""

    classes: tuple[str, ...]
    allowed: tuple[str, ...]
    banned: tuple[str, ...]
    sectors: tuple[str, ...] = ()
    banned_jurisdictions: tuple[str, ...] = ()
    allowed_providers: tuple[str, ...] = ()
    us_persons: Counts = ()
    capabilities: tuple[str, ...] = ()
    segments: tuple[SegmentProfile, ...] = ()
    policy_file: str | None = None
    # Set by `for_rows`: the DOJ categories some part of the traffic needs a count for and does not state, and
    # which parts of the traffic the data classes come from.
    missing_counts: tuple[str, ...] | None = None
    scope: str = ""

    @property
    def given(self) -> bool:
        return bool(
            self.classes
            or self.allowed
            or self.banned
            or self.sectors
            or self.banned_jurisdictions
            or self.allowed_providers
            or self.segments
            or self.us_persons
            or self.capabilities
        )

    def counts_missing(self) -> tuple[str, ...]:
        if self.missing_counts is not None:
            return self.missing_counts
        stated = dict(self.us_persons)
        return tuple(c for c in dsp_needed(self.classes) if c not in stated)

    def for_rows(self, rows: pd.DataFrame) -> Profile:
        """The profile of these rows of the priced workload: the data classes of every segment they touch (the
        default ones for rows no segment names), and US-person counts added up (an upper bound: one person may
        be in several segments)."""
        if not self.segments:
            return self
        parts: list[tuple[tuple[str, ...], Counts, str]] = []
        rest = pd.Series(True, index=rows.index)
        for segment in self.segments:
            mask = segment.mask(rows)
            if bool(mask.any()):
                parts.append((segment.classes, segment.us_persons, f"{segment.kind} {segment.name!r}"))
                rest &= ~mask
        if bool(rest.any()) or not parts:
            parts.append((self.classes, self.us_persons, "other traffic" if parts else "all traffic"))
        found = {c for part in parts for c in part[0]}
        if len(found) > 1:
            found.discard("none")
        counts: dict[str, int] = {}
        missing: set[str] = set()
        for classes, stated, _ in parts:
            given = dict(stated)
            for category, n in given.items():
                counts[category] = counts.get(category, 0) + n
            missing.update(c for c in dsp_needed(classes) if c not in given)
        scope = "; ".join(f"{label}: {','.join(classes) or 'not given'}" for classes, _, label in parts)
        return replace(
            self,
            classes=tuple(c for c in DATA_CLASSES if c in found),
            us_persons=tuple((c, counts[c]) for c in DSP_THRESHOLDS if c in counts),
            segments=(),
            missing_counts=tuple(c for c in DSP_THRESHOLDS if c in missing),
            scope=scope,
        )

    def out(self, priced: pd.DataFrame | None = None) -> DataProfile | None:
        if not self.given:
            return None
        return DataProfile(
            data_classes=list(self.classes),
            allowed_jurisdictions=list(self.allowed),
            banned_providers=list(self.banned),
            sectors=list(self.sectors),
            banned_jurisdictions=list(self.banned_jurisdictions),
            allowed_providers=list(self.allowed_providers),
            us_persons=dict(self.us_persons),
            capabilities=list(self.capabilities),
            segments=[
                DataSegment(
                    kind=s.kind,  # type: ignore[arg-type]
                    name=s.name,
                    data_classes=list(s.classes),
                    us_persons=dict(s.us_persons),
                    matched=True if priced is None else bool(s.mask(priced).any()),
                )
                for s in self.segments
            ],
            policy_file=self.policy_file,
        )


def _split(values: Iterable[str]) -> list[str]:
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def _checked(
    names: Iterable[str], allowed: Sequence[str], kind: tuple[str, str], where: str, key: Callable[[str], str]
) -> list[str]:
    """`names` as their `key`, each once in first-given order; an unknown one is an OptionError naming `where`, with
    close names or the allowed ones."""
    out: list[str] = []
    for name in names:
        value = key(name)
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=2)
            hint = f"did you mean {', '.join(close)}?" if close else f"{kind[1]}: " + ", ".join(allowed)
            raise OptionError(f"{where}: unknown {kind[0]} '{name}'", hint)
        if value not in out:
            out.append(value)
    return out


def data_classes_of(names: Iterable[str], where: str) -> tuple[str, ...]:
    """Checked data class names (an unknown one, or 'none' with others, is an OptionError naming `where`)."""
    classes = _checked(names, DATA_CLASSES, ("data class", "data classes"), where, str.lower)
    if "none" in classes and len(classes) > 1:
        raise OptionError(f"{where}: 'none' cannot be combined with other data classes", "give 'none' alone")
    return tuple(classes)


def jurisdictions_of(names: Iterable[str], where: str) -> tuple[str, ...]:
    """Checked jurisdiction codes (CN/China, GB and EEA accepted as aliases)."""
    return tuple(
        _checked(
            names,
            JURISDICTIONS,
            ("jurisdiction", "jurisdictions"),
            where,
            lambda n: _JURISDICTION_ALIASES.get(n.upper(), n.upper()),
        )
    )


def sectors_of(names: Iterable[str], where: str) -> tuple[str, ...]:
    return tuple(_checked(names, SECTORS, ("sector", "sectors"), where, str.lower))


def parse_profile(
    data: Iterable[str], allow: Iterable[str], ban: Iterable[str], sectors: Iterable[str] = ()
) -> Profile:
    """`--data`, `--allow-jurisdiction`, `--ban-provider` and `--sector` values; an unknown name is an OptionError."""
    classes = data_classes_of(_split(data), "--data")
    allowed = jurisdictions_of(_split(allow), "--allow-jurisdiction")
    banned = tuple(sorted({b.lower() for b in _split(ban)}))
    return Profile(classes, allowed, banned, sectors=sectors_of(_split(sectors), "--sector"))


@dataclass(frozen=True)
class ContextFit:
    """Requests and input-side tokens of the workload against one context window."""

    window: int | None
    requests: int
    tokens: int
    over_requests: int
    over_tokens: int
    maybe_requests: int
    maybe_tokens: int
    largest_floor: int
    straddle: tuple[int, int | None] | None


def context_fit(measured: operational.Measures, window: int | None) -> ContextFit:
    """How much of the priced workload is in request-size buckets above (or straddling) the window."""
    floors = sorted(size_bucket_floors())
    by_floor: dict[int, tuple[int, int]] = {}
    for floor, requests, tokens in measured.by_floor:
        f = max(floor, 0)
        r, t = by_floor.get(f, (0, 0))
        by_floor[f] = (r + requests, t + tokens)
    over_r = over_t = maybe_r = maybe_t = 0
    straddle: tuple[int, int | None] | None = None
    if window is not None:
        for f, (requests, tokens) in sorted(by_floor.items()):
            nxt = next((x for x in floors if x > f), None)
            if f >= window:
                over_r, over_t = over_r + requests, over_t + tokens
            elif nxt is None or window < nxt:
                maybe_r, maybe_t = maybe_r + requests, maybe_t + tokens
                straddle = (f, nxt)
    return ContextFit(
        window=window,
        requests=measured.sums["requests"],
        tokens=measured.side,
        over_requests=over_r,
        over_tokens=over_t,
        maybe_requests=maybe_r,
        maybe_tokens=maybe_t,
        largest_floor=max(by_floor, default=0),
        straddle=straddle,
    )


def _pct(part: int, whole: int) -> float | None:
    return round(part / whole * 100, 4) if whole else None


def _share(pct: float) -> str:
    """A percentage as the messages print it; a share too small for two decimals is not printed as 0.00%."""
    return "less than 0.01%" if 0 < pct < 0.005 else f"{pct:.2f}%"


def _fit_finding(fit: ContextFit) -> tuple[RiskFinding, float]:
    inputs: Inputs = {
        "context_window": fit.window,
        "requests": fit.requests,
        "input_side_tokens": fit.tokens,
        "largest_request_size_bucket_floor": fit.largest_floor,
    }
    source = [
        "context-window fit (context windows: support.claude.com article 8606395; MicrosoftDocs azure-ai-docs, "
        "20 Mar 2026); window from the genai-prices catalog"
    ]
    if fit.window is None:
        msg = "The catalog does not state the candidate's context window: fit is unknown (scored as adverse)."
        return RiskFinding(code="context-fit", severity="amber", message=msg, inputs=inputs, sources=source), 50.0
    over_share = _pct(fit.over_requests, fit.requests)
    maybe_share = _pct(fit.maybe_requests, fit.requests)
    inputs |= {
        "requests_over_window": fit.over_requests,
        "requests_over_window_pct": over_share,
        "input_tokens_over_window_pct": _pct(fit.over_tokens, fit.tokens),
        "requests_maybe_over_window": fit.maybe_requests,
        "requests_maybe_over_window_pct": maybe_share,
    }
    # Shares by requests; rows without request counts (context-window labels) are measured by tokens.
    share = over_share if fit.requests else _pct(fit.over_tokens, fit.tokens)
    maybe = maybe_share if fit.requests else _pct(fit.maybe_tokens, fit.tokens)
    unit = "requests" if fit.requests else "input tokens"
    text = f"Context window {fit.window:,} tokens: "
    if share:
        text += f"{_share(share)} of {unit} are in request-size buckets above it and would not fit"
    else:
        text += f"no {unit} are in a request-size bucket above it"
    if maybe and fit.straddle is not None:
        low, high = fit.straddle
        span = f"{low:,}-{high:,}" if high is not None else f"over {low:,}"
        text += f"; up to {_share(maybe)} more are in the {span} bucket that straddles it"
    text += " (input side only; output needs room too)."
    severity: Severity
    if share and share >= 1:
        severity, score = "red", 100.0
    elif share or maybe:
        # An amber finding scores inside the amber band (34-66): a finding alone never rates a candidate red.
        severity, score = "amber", 50.0
    elif fit.largest_floor >= fit.window / 2:
        severity, score = "info", 33.0
    else:
        severity, score = "info", 0.0
    return RiskFinding(code="context-fit", severity=severity, message=text, inputs=inputs, sources=source), score


def _fact_inputs(endpoint: Endpoint, *names: str) -> Inputs:
    return {f"{endpoint.id}.{n}": getattr(endpoint, n).cite() for n in names}


def _fact_sources(*facts: Fact) -> list[str]:
    return [f"{f.source} (as of {f.checked})" if f.known else "unknown: request from vendor" for f in facts]


def _finding(
    code: str, severity: Severity, message: str, profile: Profile, endpoint: Endpoint, facts: Sequence[str], rule: str
) -> RiskFinding:
    inputs: Inputs = {"data_classes": ",".join(profile.classes), **_fact_inputs(endpoint, *facts)}
    if profile.scope:
        inputs["data_from"] = profile.scope
    sources = [rule, *_fact_sources(*(getattr(endpoint, n) for n in facts))]
    return RiskFinding(code=code, severity=severity, message=message, inputs=inputs, sources=sources)


def _gates(profile: Profile, endpoint: Endpoint, candidate: CatalogModel, book: EndpointBook) -> list[RiskFinding]:
    found: list[RiskFinding] = []
    classes = set(profile.classes)
    name = f"{candidate.ref} ({endpoint.name})"
    if "phi" in classes:
        baa = endpoint.baa.value
        if baa in ("no", "unknown"):
            found.append(
                _finding(
                    "phi-no-baa",
                    "blocking",
                    f"PHI in the traffic, and {name} has no documented BAA "
                    "covering the service: disclosing PHI without one breaches HIPAA.",
                    profile,
                    endpoint,
                    ["baa"],
                    HIPAA,
                )
            )
        elif baa == "partial":
            found.append(
                _finding(
                    "phi-baa-scope",
                    "amber",
                    f"{name}'s BAA covers only some services or features: verify the features in use are covered.",
                    profile,
                    endpoint,
                    ["baa"],
                    HIPAA,
                )
            )
    if "card" in classes and endpoint.pci.value != "yes":
        found.append(
            _finding(
                "card-no-pci",
                "blocking",
                f"Card data in the traffic, and no PCI DSS attestation "
                f"covering {name} is documented: redact or tokenise card numbers first.",
                profile,
                endpoint,
                ["pci"],
                PCI,
            )
        )
    for region, rule, adequate in (("eu-personal", GDPR_TRANSFER, "EU"), ("uk-personal", UK_TRANSFER, "UK")):
        if region in classes:
            found += _transfer(region, rule, adequate, profile, endpoint, name)
    if classes & {"us-government", "dod"}:
        found += _government(profile, endpoint, candidate, book, name)
    found += _doj_bulk(profile, endpoint, name)
    personal = classes & PERSONAL - {"prc-personal"}
    if personal:
        where = endpoint.inference_in_prc()
        facts = ["processing", "jurisdiction"]
        if where == "yes":
            found.append(
                _finding(
                    "personal-data-prc-inference",
                    "blocking",
                    f"Personal data ({', '.join(sorted(personal))}) would be processed in the PRC by {name}.",
                    profile,
                    endpoint,
                    facts,
                    PRC_ACCESS,
                )
            )
        elif where == "possible":
            found.append(
                _finding(
                    "personal-data-prc-inference",
                    "red",
                    f"{name} may run inference on Chinese-mainland nodes: pin a scope that excludes them.",
                    profile,
                    endpoint,
                    facts,
                    PRC_ACCESS,
                )
            )
        elif where == "unknown":
            found.append(
                _finding(
                    "processing-location-unknown",
                    "red",
                    f"Where {name} processes requests is not documented: unknown, request from vendor.",
                    profile,
                    endpoint,
                    facts,
                    PRC_ACCESS,
                )
            )
    return found


def _transfer(
    region: str, rule: str, adequate: str, profile: Profile, endpoint: Endpoint, name: str
) -> list[RiskFinding]:
    codes = set(endpoint.processing_codes())
    facts = ["processing", "sccs", "dpa", "eu_residency" if adequate == "EU" else "jurisdiction"]
    label = "EU" if adequate == "EU" else "UK"
    if not codes:
        return [
            _finding(
                f"{label.lower()}-transfer-unknown",
                "red",
                f"{label} personal data: where {name} processes "
                "it is not documented, so the transfer cannot be assessed.",
                profile,
                endpoint,
                facts,
                rule,
            )
        ]
    outside = codes - {adequate}
    if not outside:
        return []
    sccs = endpoint.sccs.value
    prc = bool(outside & {"PRC", "global-incl-PRC"})
    if prc:
        if sccs == "yes":
            return [
                _finding(
                    f"{label.lower()}-transfer-prc",
                    "red",
                    f"{label} personal data would reach the PRC via "
                    f"{name}: SCCs exist, but the transfer assessment must weigh PRC state-access laws. "
                    + PRECEDENTS
                    + ".",
                    profile,
                    endpoint,
                    facts,
                    rule,
                )
            ]
        return [
            _finding(
                f"{label.lower()}-transfer-no-sccs",
                "blocking",
                f"{label} personal data would be transferred "
                f"to the PRC (no adequacy decision) by {name}, with no SCCs/IDTA documented. " + PRECEDENTS + ".",
                profile,
                endpoint,
                facts,
                rule + "; " + PRECEDENTS,
            )
        ]
    where = ", ".join(sorted(outside))
    if sccs == "yes":
        return [
            _finding(
                f"{label.lower()}-transfer-tia",
                "amber",
                f"{label} personal data processed outside the "
                f"{label} ({where}) by {name}: SCCs are in the DPA; document the transfer assessment.",
                profile,
                endpoint,
                facts,
                rule,
            )
        ]
    us_only = outside <= {"US"}
    severity: Severity = "amber" if us_only else "red"
    why = (
        "the US is adequate only for DPF-certified recipients, and DPF status is not in the profile"
        if us_only
        else "no adequacy decision covers it"
    )
    return [
        _finding(
            f"{label.lower()}-transfer-unverified",
            severity,
            f"{label} personal data processed outside the "
            f"{label} ({where}) by {name}: {why}; SCCs/IDTA are {sccs}: request from vendor.",
            profile,
            endpoint,
            facts,
            rule,
        )
    ]


def _government(
    profile: Profile, endpoint: Endpoint, candidate: CatalogModel, book: EndpointBook, name: str
) -> list[RiskFinding]:
    dev = book.developer_of(candidate.model.id)
    nationality = dev.nationality if dev else Fact(value="unknown")
    inputs: Inputs = {
        "data_classes": ",".join(profile.classes),
        "model": candidate.model.id,
        "developer": dev.developer if dev else "unknown",
        "developer_nationality": nationality.cite(),
        "hosted_by": endpoint.name,
    }
    found = []
    if nationality.value == "PRC":
        found.append(
            RiskFinding(
                code="gov-prc-model",
                severity="blocking",
                message=f"US government or DoD work, and "
                f"{candidate.model.id} was developed in the PRC ({dev.developer if dev else ''}): "
                f"blocked wherever it is hosted, here {endpoint.name}.",
                inputs=inputs,
                sources=[GOV, *_fact_sources(nationality)],
            )
        )
    elif not nationality.known:
        found.append(
            RiskFinding(
                code="gov-model-origin-unknown",
                severity="red",
                message=f"US government or DoD "
                f"work, and who developed {candidate.model.id} is not in the profiles: unknown, "
                "request from vendor.",
                inputs=inputs,
                sources=[GOV],
            )
        )
    if "us-federal-designation-enjoined" in endpoint.restrictions.flags:
        found.append(
            _finding(
                "gov-vendor-status",
                "amber",
                f"US government work and {name}: {endpoint.restrictions.value}; check the vendor's live status.",
                profile,
                endpoint,
                ["restrictions"],
                "US government vs Anthropic, 27 Feb-27 Mar 2026 (Taft via mondaq, 10 Mar 2026; Semafor)",
            )
        )
    return found


def _policy(profile: Profile, endpoint: Endpoint, candidate: CatalogModel) -> list[RiskFinding]:
    found = []
    name = f"{candidate.ref} ({endpoint.name})"
    where = f"--allow-jurisdiction or {profile.policy_file} (user policy)" if profile.policy_file else None
    juris = endpoint.jurisdiction.value
    if profile.allowed:
        if juris not in profile.allowed:
            found.append(
                _finding(
                    "jurisdiction-not-allowed",
                    "blocking",
                    f"{name} is in jurisdiction {juris}, not among the allowed {', '.join(profile.allowed)}.",
                    profile,
                    endpoint,
                    ["jurisdiction", "contracting_entity"],
                    where or "--allow-jurisdiction (user policy)",
                )
            )
        else:
            outside = [c for c in endpoint.processing_codes() if c not in profile.allowed] or (
                ["unknown"] if not endpoint.processing.known else []
            )
            if outside:
                found.append(
                    _finding(
                        "processing-outside-allowed",
                        "amber",
                        f"{name} may process requests outside "
                        f"the allowed jurisdictions ({', '.join(outside)}): pin a residency option.",
                        profile,
                        endpoint,
                        ["processing", "eu_residency", "us_residency"],
                        where or "--allow-jurisdiction (user policy)",
                    )
                )
    if profile.banned_jurisdictions:
        rule = f"ban_jurisdictions in {profile.policy_file} (user policy)"
        if juris in profile.banned_jurisdictions or juris == UNKNOWN:
            found.append(
                _finding(
                    "jurisdiction-banned",
                    "blocking" if juris != UNKNOWN else "red",
                    f"{name} is in jurisdiction {juris}; the policy bans {', '.join(profile.banned_jurisdictions)}.",
                    profile,
                    endpoint,
                    ["jurisdiction", "contracting_entity"],
                    rule,
                )
            )
        else:
            codes = set(endpoint.processing_codes())
            hit = sorted(codes & set(profile.banned_jurisdictions))
            if "PRC" in profile.banned_jurisdictions and "global-incl-PRC" in codes:
                hit.append("global-incl-PRC")
            if hit or not endpoint.processing.known:
                found.append(
                    _finding(
                        "processing-in-banned-jurisdiction",
                        "blocking" if "PRC" in hit or (hit and "global-incl-PRC" not in hit) else "red",
                        f"{name} may process requests in a banned jurisdiction "
                        f"({', '.join(hit) or 'processing location unknown: request from vendor'}).",
                        profile,
                        endpoint,
                        ["processing"],
                        rule,
                    )
                )
    provider = candidate.provider.id.lower()
    if provider in profile.banned or endpoint.id in profile.banned:
        found.append(
            _finding(
                "provider-banned",
                "blocking",
                f"{name}: the provider is banned by policy.",
                profile,
                endpoint,
                ["jurisdiction"],
                "--ban-provider" + (f" or {profile.policy_file}" if profile.policy_file else "") + " (user policy)",
            )
        )
    if profile.allowed_providers and not {provider, endpoint.id} & set(profile.allowed_providers):
        found.append(
            _finding(
                "provider-not-allowed",
                "blocking",
                f"{name}: the policy allows only {', '.join(profile.allowed_providers)}.",
                profile,
                endpoint,
                ["jurisdiction"],
                f"allow_providers in {profile.policy_file} (user policy)",
            )
        )
    return found


DSP = (
    "DOJ Data Security Program, 28 CFR Part 202 (EO 14117; final rule 90 FR 1706): a vendor agreement giving a "
    "covered person (typically a PRC-organised or PRC-headquartered vendor) access to bulk US sensitive personal "
    "data is a restricted transaction (CISA security requirements 202.248, Subpart J programme 202.1001); bulk "
    "thresholds 202.205 over a 12-month look-back, anonymised, pseudonymised or encrypted data included (202.206); "
    "no consent exemption"
)


def thresholds_text(categories: Iterable[str]) -> str:
    return "; ".join(f"{DSP_LABELS[c]}: more than {DSP_THRESHOLDS[c]:,}" for c in categories)


def dsp_assessment(profile: Profile, jurisdiction: Fact) -> tuple[Literal["bulk", "count-needed", "below"], str] | None:
    """The bulk gate of the DOJ Data Security Program for traffic to a vendor of this jurisdiction, or None when it
    does not apply (vendor not PRC-domiciled, or no US persons' data class and no stated count)."""
    counts = dict(profile.us_persons)
    if jurisdiction.value != "PRC" or not (dsp_needed(profile.classes) or counts):
        return None
    over = [c for c in DSP_THRESHOLDS if counts.get(c, 0) > DSP_THRESHOLDS[c]]
    if over:
        stated = ", ".join(f"{DSP_LABELS[c]} {counts[c]:,} (threshold more than {DSP_THRESHOLDS[c]:,})" for c in over)
        return "bulk", f"stated 12-month counts above the bulk thresholds: {stated}"
    missing = profile.counts_missing()
    if missing:
        keys = ", ".join(f"{c} = N" for c in missing)
        return "count-needed", (
            f"the ledger has no count of US persons; state the 12-month count for {', '.join(missing)} in the "
            f"policy file ([us_persons] {keys}); bulk thresholds (28 CFR 202.205): {thresholds_text(missing)}"
        )
    stated = ", ".join(f"{c} {n:,}" for c, n in counts.items())
    return "below", f"stated 12-month counts at or below the bulk thresholds ({stated or 'none stated'})"


def _doj_bulk(profile: Profile, endpoint: Endpoint, name: str) -> list[RiskFinding]:
    found = dsp_assessment(profile, endpoint.jurisdiction)
    if found is None:
        return []
    kind, text = found
    code, severity, message = {
        "bulk": (
            "doj-dsp-bulk",
            "blocking",
            f"US bulk sensitive personal data to a PRC-domiciled vendor ({name}): {text}. Prohibit the move, or "
            "implement the CISA security requirements and a Subpart J compliance programme with counsel.",
        ),
        "count-needed": (
            "doj-dsp-count-needed",
            "red",
            f"{name} is PRC-domiciled and the traffic may hold US persons' data: {text}.",
        ),
        "below": ("doj-dsp-below-threshold", "info", f"{name} is PRC-domiciled: {text}; keep the counts current."),
    }[kind]
    finding = _finding(code, severity, message, profile, endpoint, ["jurisdiction", "contracting_entity"], DSP)  # type: ignore[arg-type]
    inputs = dict(finding.inputs) | {f"us_persons.{c}": n for c, n in profile.us_persons}
    if kind == "count-needed":
        inputs["us_persons_needed"] = ", ".join(profile.counts_missing())
    return [finding.model_copy(update={"inputs": inputs})]


def _restrictions(profile: Profile, endpoint: Endpoint, name: str) -> list[RiskFinding]:
    flags = set(endpoint.restrictions.flags)
    if "entity-list" in flags:
        return [
            _finding(
                "entity-list",
                "red",
                f"{name}: {endpoint.restrictions.value}.",
                profile,
                endpoint,
                ["restrictions", "contracting_entity"],
                ENTITY_LIST,
            )
        ]
    return []


_LEVELS = {"yes": 0.0, "partial": 0.5, "no": 1.0, "unknown": 1.0}


def posture_gaps(endpoint: Endpoint) -> dict[str, float]:
    """Each posture factor from 0 (documented and good) to 1 (adverse or unknown)."""
    flags = set(endpoint.restrictions.flags)
    hard = flags & {"entity-list", "ndaa-1532-covered", "government-bans"}
    soft = flags & {"entity-list-pending", "conduct-signal"}
    return {
        "training": {"no": 0.0, "opt-in": 0.0, "conflicting": 0.5}.get(endpoint.training.value, 1.0),
        "zdr": _LEVELS[endpoint.zdr.value],
        "dpa": _LEVELS[endpoint.dpa.value],
        "certifications": _LEVELS[endpoint.certifications.value],
        "jurisdiction": 1.0 if endpoint.jurisdiction.value in ("PRC", "unknown") else 0.0,
        "processing": {"yes": 1.0, "possible": 0.5, "unknown": 1.0}.get(endpoint.inference_in_prc(), 0.0),
        "restrictions": 1.0 if hard else 0.5 if soft else 0.0,
    }


@dataclass(frozen=True)
class Compliance:
    """The compliance side of one candidate for one data profile: gates and posture, without the usage."""

    findings: tuple[RiskFinding, ...]
    score: float | None

    @property
    def blocked(self) -> bool:
        return any(f.severity == "blocking" for f in self.findings)


_COMPLIANCE: dict[tuple[str, Profile], Compliance] = {}


def compliance_of(candidate: CatalogModel, profile: Profile, book: EndpointBook | None = None) -> Compliance:
    """Policy, hard gates, restrictions and the vendor-posture score of moving traffic with this profile."""
    key = (candidate.ref, profile)
    if book is None and key in _COMPLIANCE:
        return _COMPLIANCE[key]
    out = _compliance(candidate, profile, book or endpoint_book())
    if book is None:
        _COMPLIANCE[key] = out
    return out


def _compliance(candidate: CatalogModel, profile: Profile, book: EndpointBook) -> Compliance:
    if not profile.given:
        return Compliance((), None)
    endpoint = book.for_model(candidate.provider.id, candidate.model.id)
    if endpoint is None:
        finding = RiskFinding(
            code="no-endpoint-profile",
            severity="red",
            message=f"No endpoint profile for {candidate.ref}: every vendor fact is unknown, request from vendor.",
            inputs={"candidate": candidate.ref},
            sources=[],
        )
        return Compliance((finding,), 100.0 * max((_SENSITIVITY[c] for c in profile.classes), default=0.25))
    name = f"{candidate.ref} ({endpoint.name})"
    findings = _policy(profile, endpoint, candidate)
    findings += _gates(profile, endpoint, candidate, book)
    findings += _restrictions(profile, endpoint, name)
    gaps = posture_gaps(endpoint)
    sensitivity = max((_SENSITIVITY[c] for c in profile.classes), default=0.25)
    findings.append(
        RiskFinding(
            code="vendor-posture",
            severity="info",
            message=f"{name}: posture gaps "
            + ", ".join(f"{k} {v:g}" for k, v in gaps.items())
            + f"; data sensitivity {sensitivity:g}.",
            inputs=_fact_inputs(
                endpoint, "training", "zdr", "dpa", "certifications", "jurisdiction", "processing", "restrictions"
            ),
            sources=["the vendor facts in the inputs, each with its source and as-of date"],
        )
    )
    return Compliance(tuple(findings), round(100 * sensitivity * sum(gaps.values()) / len(gaps), 1))


def _operational(
    candidate: CatalogModel, profile: Profile, measured: operational.Measures, as_of: date | None
) -> list[operational.Factor]:
    factors = [operational.lock_in(measured)]
    if as_of is not None:
        factors += [
            operational.cache_dependence(candidate, measured, as_of),
            operational.batch_dependence(candidate, measured, as_of),
            operational.long_context_share(candidate, measured, as_of),
            operational.price_stability(candidate, measured, as_of),
            operational.version_stability(candidate, as_of),
        ]
    gap = operational.capability_gap(candidate, profile.capabilities)
    return factors + ([gap] if gap else [])


def assess(
    candidate: CatalogModel,
    profile: Profile,
    priced: pd.DataFrame,
    book: EndpointBook | None = None,
    as_of: date | None = None,
    measured: operational.Measures | None = None,
) -> Risk:
    """The risk of moving the priced workload to one candidate; the profile is that of the rows' segments.

    Without `as_of` the factors read from catalog prices (cache, batch, long-context, price and version stability)
    are left out. `measured`, when given, is `operational.measure(priced)` (assessing several candidates on the same
    rows measures them once)."""
    measured = measured if measured is not None else operational.measure(priced)
    return assess_measured(candidate, profile.for_rows(priced), measured, book, as_of)


def assess_measured(
    candidate: CatalogModel,
    profile: Profile,
    measured: operational.Measures,
    book: EndpointBook | None = None,
    as_of: date | None = None,
) -> Risk:
    """`assess` of rows already measured (`operational.measure`), the profile already that of the rows
    (`Profile.for_rows`)."""
    fit_finding, fit_score = _fit_finding(context_fit(measured, candidate.model.context_window))
    factors = _operational(candidate, profile, measured, as_of)
    if as_of is not None and measured.providers is not None:
        after = operational.routed_providers(measured, [(measured, candidate.provider.id)])
        factors.append(operational.provider_concentration(measured, after))
    operational_score = max([fit_score, *(f.score for f in factors)])
    compliance = compliance_of(candidate, profile, book)
    findings = [fit_finding, *(f.finding for f in factors), *compliance.findings]
    return Risk(
        level=_level(findings, compliance.score, operational_score),
        compliance_score=compliance.score,
        operational_score=operational_score,
        findings=sorted(findings, key=lambda f: _ORDER[f.severity]),
    )


def _level(findings: Sequence[RiskFinding], compliance: float | None, operational: float) -> Level:
    worst = min((_ORDER[f.severity] for f in findings), default=3)
    score = max(compliance or 0.0, operational)
    if worst == 0:
        return "blocked"
    if worst == 1 or score >= 67:
        return "red"
    if worst == 2 or score >= 34:
        return "amber"
    return "green"


def route_filter(profile: Profile, priced: pd.DataFrame) -> Callable[[str, CatalogModel], bool] | None:
    """For the hybrid: whether a segment may be routed to a candidate, i.e. the segment's own data profile does not
    block it (a PHI project blocks a candidate for that project only). None without a data profile."""
    if not profile.given:
        return None
    keys = segment_names(priced, segmentation(priced))
    whole = dict(profile.for_rows(priced).us_persons)
    profiles: dict[str, Profile] = {}

    def allowed(segment: str, candidate: CatalogModel) -> bool:
        if segment not in profiles:
            own = profile.for_rows(priced[keys == segment])
            # The DOJ bulk thresholds count a 12-month total per vendor: a segment holding a category is judged on
            # the whole traffic's count of it, so segments routed one by one cannot add up past a threshold.
            wanted = {c for c, _ in own.us_persons} | set(dsp_needed(own.classes))
            counts = tuple((c, whole[c]) for c in DSP_THRESHOLDS if c in wanted and c in whole)
            profiles[segment] = replace(own, us_persons=counts)
        return not compliance_of(candidate, profiles[segment]).blocked

    return allowed


def assess_scenarios(
    scenarios: Sequence[Scenario],
    candidates: Sequence[CatalogModel],
    priced: pd.DataFrame,
    profile: Profile,
    as_of: date | None = None,
) -> list[Scenario]:
    """Each scenario with its `risk`; a hybrid takes the worst of the candidates it routes to, each assessed on the
    segments routed to it."""
    by_ref = {c.ref: c for c in candidates}
    measured = operational.measure(priced)
    whole = profile.for_rows(priced)
    out = []
    for scenario in scenarios:
        if scenario.kind == "hybrid":
            risk = _hybrid_risk(scenario, by_ref, priced, profile, as_of, measured)
        elif scenario.candidate in by_ref:
            risk = assess(by_ref[scenario.candidate], whole, priced, as_of=as_of, measured=measured)
        else:
            risk = None
        out.append(scenario.model_copy(update={"risk": risk}))
    return out


def routed_rows(scenario: Scenario, priced: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The priced rows a hybrid scenario routes to each candidate."""
    column = MODEL_REF if scenario.segmented_by == "model" else scenario.segmented_by
    if not scenario.segmented_by or priced.empty or column not in priced:
        return {}
    keys = segment_names(priced, scenario.segmented_by)
    out: dict[str, pd.DataFrame] = {}
    for ref in sorted({s.candidate for s in scenario.segments if s.candidate is not None}):
        names = {s.segment for s in scenario.segments if s.candidate == ref}
        out[ref] = priced[keys.isin(names)]
    return out


def _hybrid_risk(
    scenario: Scenario,
    by_ref: dict[str, CatalogModel],
    priced: pd.DataFrame,
    profile: Profile,
    as_of: date | None,
    measured: operational.Measures,
) -> Risk | None:
    rows = routed_rows(scenario, priced)
    chosen = sorted(ref for ref in {s.candidate for s in scenario.segments} if ref in by_ref)
    if not chosen:
        return None
    findings: list[RiskFinding] = []
    scores: list[float] = []
    operational_score = 0.0
    parts: dict[str, operational.Measures] = {}
    for ref in chosen:
        mine = rows.get(ref, priced.iloc[0:0])
        own = profile.for_rows(mine) if len(mine) else profile
        compliance = compliance_of(by_ref[ref], own)
        if compliance.score is not None:
            scores.append(compliance.score)
        parts[ref] = operational.measure(mine)
        factors = _operational(by_ref[ref], own, parts[ref], as_of) if len(mine) else []
        operational_score = max([operational_score, *(f.score for f in factors)])
        # The hybrid routes a segment only to candidates whose window is above its largest request-size bucket
        # floor, so the whole workload's context fit does not apply; each candidate's own findings do.
        findings += [
            f.model_copy(update={"message": f"[{ref}] {f.message}"})
            for f in [*(x.finding for x in factors), *compliance.findings]
        ]
    if as_of is not None and measured.providers is not None and len(priced):
        routed = [(parts[ref], by_ref[ref].provider.id) for ref in rows if ref in by_ref and ref in parts]
        concentration = operational.provider_concentration(measured, operational.routed_providers(measured, routed))
        operational_score = max(operational_score, concentration.score)
        findings.append(concentration.finding)
    compliance_score = max(scores) if scores else None
    return Risk(
        level=_level(findings, compliance_score, operational_score),
        compliance_score=compliance_score,
        operational_score=operational_score,
        findings=sorted(findings, key=lambda f: _ORDER[f.severity]),
    )


def risk_notes(profile: Profile) -> list[str]:
    """What the risk ratings rest on."""
    notes = [
        "Risk: context-window fit is measured from request-size buckets (a lower bound from buckets above the window, "
        "an upper bound adding the bucket that straddles it; input side only); vendor facts come from the endpoint "
        "profiles with their sources and as-of dates; unknown facts score as adverse.",
        "Operational factors are measured from the usage against the candidate's catalog prices at the as-of date: "
        "cache and batch dependence, long-context share, lock-in (fine-tuned model ids; stateful APIs are not in "
        "the ledger), price and version stability, provider concentration, stated capabilities. Their score bands "
        "and weights are this tool's proposal, to be calibrated, not sourced facts.",
    ]
    if not profile.classes and not any(s.classes for s in profile.segments):
        notes.append(
            "No data profile was given (--data): risk is rated on operational factors"
            + (" and the jurisdiction policy" if profile.given else "")
            + " only; no candidate is blocked on data-protection rules."
        )
    if profile.segments:
        notes.append(
            f"Data classes per segment ({profile.policy_file}): each scenario is assessed on the data classes of the "
            "traffic it moves (the segments it touches; the top-level classes for traffic no segment names); the "
            "hybrid routes a segment only to candidates its own profile does not block. US-person counts of "
            "several segments are added up (an upper bound: one person may be in several)."
        )
    if profile.given and (dsp_needed(profile.classes) or any(dsp_needed(s.classes) for s in profile.segments)):
        stated = dict(profile.us_persons) or {}
        notes.append(
            "DOJ Data Security Program (28 CFR Part 202): a PRC-domiciled candidate is Blocked when a stated 12-month "
            "count of US persons is above its bulk threshold, and Red when a count the data classes need is not "
            "stated (the ledger has no such counts; give them as [us_persons] in the policy file)"
            + (f"; stated: {', '.join(f'{c} {n:,}' for c, n in stated.items())}." if stated else ".")
        )
    return notes


def risk_line(result: AuditResult) -> str:
    """One terminal line: how many candidates each risk level holds, and on what profile."""
    levels = [s.risk.level for s in result.scenarios if s.risk is not None]
    if not levels:
        return ""
    counts = ", ".join(f"{levels.count(level)} {level}" for level in ("blocked", "red", "amber", "green"))
    profile = result.data_profile
    basis = f"data: {','.join(profile.data_classes) or 'not given'}" if profile else "no data profile (--data)"
    if profile and profile.segments:
        basis += f"; {len(profile.segments)} segment(s) with their own data"
    if profile and profile.sectors:
        basis += f"; sectors: {','.join(profile.sectors)}"
    return f"migration risk of the scenarios: {counts} ({basis})"
