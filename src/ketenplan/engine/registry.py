"""The chain declared as data: the one place where stages, locations, streams, desks and the
transitions between stages are named.

Everything else derives from these declarations: the kernel's constants and lookup tables
(:func:`tables`), the conservation and reception checks, the derived stocks of the results, the
KPI groups and the report's views, and the SimPy reference. Nothing here imports the engine.

A *case* (a household that applies and moves together) is in exactly one **stage** at a time.
A stage is one of

* ``source``: not arrived yet;
* ``queue``: waiting at a **desk** (a capacity in persons per day; several queues may share one
  desk and are then served in the declared order);
* ``timed``: a stay of a pre-drawn number of days (the case's ``duration`` slot), after which the
  case moves to one of the stage's ``successors``, chosen by the case's pre-drawn ``branch`` slot
  (a stage with one successor needs no branch);
* ``settled``: left the asylum chain but still followed (e.g. housed in a municipality); it may be
  timed like any stage, so later stages (civic integration, ...) can follow it;
* ``gone``: left the country or the system (a sink whose stock counts everyone who went there).

Every move from one stage to another is an **edge**, declared with what it does: the flows it
counts, the outcome it sets, whether it is a decision (and checks the statutory period), whether
it is a permit that feeds the housing prognosis and activates the family's nareis, what happens
to the case's reception place, and whether it ends the chain (with an exit reason).

Adding a stage is an entry in :data:`STAGES`, its edges in :data:`EDGES` and, for a new random
quantity, a duration or branch slot that ``engine.compile`` fills (docs/architecture.md has a
worked example).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


# ----------------------------------------------------------------------------------------------
# declarations
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    name: str
    kind: str  # source | queue | timed | settled | gone
    label: str
    groups: tuple[str, ...] = ()  # what the stage counts toward (see GROUPS)
    successors: tuple[str, ...] = ()
    duration: str | None = None  # per-case duration slot [days]; None: no timer (queue, gone, or stays)
    branch: str | None = None  # per-case branch slot: index into successors


#: What a stage can count toward. The results' derived stocks, the conservation and reception
#: checks and the KPIs read these groups; never a list of stage names.
GROUPS = {
    "chain": "in the asylum chain (arrived, not yet housed, transferred or departed)",
    "reception": "in a reception place of COA (a location of the 'coa' kind)",
    "ind_pending": "an asylum application at first instance without a decision (IND stock)",
    "appeal": "an appeal against a first-instance decision",
    "permit_waiting": "a permit holder waiting in reception for a home",
    "without_residence": "rejected and outside reception, departure not yet recorded",
    "settled": "left the chain into a municipality, still followed",
    "gone": "left the country or the system",
}

STAGES: tuple[Stage, ...] = (
    Stage("not_arrived", "source", "not arrived yet"),
    Stage("waiting_registration", "queue", "waiting for identification and registration (AVIM)", ("chain",),
          ("central_reception",)),
    Stage("central_reception", "timed", "central reception (COL) after registration", ("chain", "reception"),
          ("permit_lead_time", "dublin_waiting", "waiting_decision_general", "waiting_decision_safe"),
          duration="col", branch="after_central"),
    Stage("dublin_waiting", "queue", "Dublin claim: waiting for an IND slot", ("chain", "reception", "ind_pending"),
          ("dublin_claim",)),
    Stage("dublin_claim", "timed", "Dublin claim on another member state", ("chain", "reception", "ind_pending"),
          ("dublin_transferred", "departed_unsupervised", "waiting_decision_general"),
          duration="dublin", branch="dublin_outcome"),
    Stage("waiting_decision_general", "queue", "general track: waiting for an IND slot",
          ("chain", "reception", "ind_pending"), ("in_procedure",)),
    Stage("waiting_decision_safe", "queue", "safe-country track: waiting for an IND slot",
          ("chain", "reception", "ind_pending"), ("in_procedure",)),
    Stage("in_procedure", "timed", "rest and preparation, general procedure (or accelerated safe-country procedure)",
          ("chain", "reception", "ind_pending"),
          ("extended_procedure", "permit_lead_time", "appeal", "departure_term"),
          duration="procedure", branch="after_procedure"),
    Stage("extended_procedure", "timed", "extended procedure (VA)", ("chain", "reception", "ind_pending"),
          ("permit_lead_time", "appeal", "departure_term"), duration="extended", branch="after_extended"),
    Stage("permit_lead_time", "timed", "permit holder: linking to a municipality and searching a home",
          ("chain", "reception", "permit_waiting"), ("housing_queue",), duration="lead"),
    Stage("housing_queue", "queue", "permit holder: waiting for the housing task", ("chain", "reception", "permit_waiting"),
          ("housed",)),
    Stage("appeal", "timed", "appeal in court", ("chain", "reception", "appeal"), ("permit_lead_time", "departure_term"),
          duration="appeal", branch="appeal_outcome"),
    Stage("departure_term", "timed", "departure term with reception", ("chain", "reception"),
          ("return_restricted", "detention", "return_outside_reception"), duration="term", branch="after_term"),
    Stage("return_restricted", "timed", "freedom-restricting location (VBL, family location)", ("chain", "reception"),
          ("detention", "return_outside_reception"), duration="restricted", branch="after_restricted"),
    Stage("return_outside_reception", "timed", "rejected, outside reception until a recorded departure",
          ("chain", "without_residence"),
          ("departed_independent", "departed_forced", "departed_unsupervised"), duration="departure",
          branch="departure_type"),
    Stage("detention", "timed", "immigration detention before a forced departure", ("chain", "without_residence"),
          ("departed_independent", "departed_forced", "departed_unsupervised"), duration="detention",
          branch="departure_type"),
    Stage("housed", "settled", "permit holder housed in a municipality", ("settled",)),
    Stage("dublin_transferred", "gone", "transferred to the responsible member state", ("gone",)),
    Stage("departed_independent", "gone", "departed independently (recorded)", ("gone",)),
    Stage("departed_forced", "gone", "departed forced", ("gone",)),
    Stage("departed_unsupervised", "gone", "departed without supervision", ("gone",)),
)


@dataclass(frozen=True)
class Location:
    name: str
    kind: str  # coa | waiting
    label: str
    capacity: str | None = None  # per-day capacity input; None: not limited by the kernel


LOCATIONS: tuple[Location, ...] = (
    Location("central", "coa", "central reception (Ter Apel, Budel)"),
    Location("regular", "coa", "regular places (AZC, POL)", capacity="cap_regular"),
    Location("small_scale", "coa", "small-scale places near municipalities", capacity="cap_small"),
    Location("freedom_restricting", "coa", "freedom-restricting and family locations"),
    Location("emergency", "coa", "emergency places (overflow of regular places)"),
    Location("waiting_registration", "waiting", "waiting for registration"),
)

#: Location actions of an edge: what happens to the case's reception place.
LOCATION_ACTIONS = ("keep", "waiting", "central", "place", "restricted", "leave")


@dataclass(frozen=True)
class Stream:
    name: str
    label: str
    arrival_flow: str | None = None  # a flow counted on arrival besides 'arrivals'
    arrival_stage: str = "waiting_registration"  # where the case goes on arrival
    asylum: bool = True  # an asylum application (decision times, statutory periods)


STREAMS: tuple[Stream, ...] = (
    Stream("first", "first asylum applications"),
    Stream("subsequent", "subsequent (repeat) asylum applications"),
    Stream("nareis", "family reunification of permit holders (nareis)", arrival_flow="nareis_arrivals", asylum=False),
    Stream("resettlement", "resettled refugees (straight to a municipality)", arrival_flow="resettled",
           arrival_stage="housed", asylum=False),
)

TRACKS = ("general", "safe_country", "dublin", "none")

OUTCOMES = ("pending", "granted", "rejected", "dublin_transfer", "dublin_absconded", "granted_on_appeal",
            "permit_on_arrival")

#: Why a case left the asylum chain ('in_system': it has not).
EXITS = ("in_system", "housed", "dublin_transfer", "departed_independent", "departed_forced",
         "departed_unsupervised")

FLOWS = ("arrivals", "registrations", "decisions", "grants", "rejections", "housed", "dublin_transfers",
         "departures_independent", "departures_forced", "departures_unsupervised", "moves",
         "statutory_breaches", "nareis_arrivals", "resettled")


@dataclass(frozen=True)
class Desk:
    """A capacity in persons per day that serves queue stages in the declared order.

    ``carry``: ``queued`` keeps unused capacity only while a queue waits (an idle desk forfeits it);
    ``period``: unused capacity accumulates until a hook resets it (the half-yearly housing task).
    A case larger than the budget waits until enough accumulates; the capacity is never exceeded.
    """

    name: str
    label: str
    queues: tuple[str, ...]
    carry: str = "queued"


DESKS: tuple[Desk, ...] = (
    Desk("registration", "identification and registration (AVIM) [persons/day]", ("waiting_registration",)),
    Desk("ind_general", "IND decisions, general track [persons/day]", ("waiting_decision_general",)),
    Desk("ind_safe", "IND decisions, safe-country track [persons/day]", ("waiting_decision_safe",)),
    Desk("ind_dublin", "IND Dublin claims [persons/day]", ("dublin_waiting",)),
    Desk("housing", "housing of permit holders by municipalities [persons/day]", ("housing_queue",), carry="period"),
)


@dataclass(frozen=True)
class Edge:
    """A move from one stage to another and what it does."""

    src: str
    dst: str
    flows: tuple[str, ...] = ()
    outcome: str | None = None  # sets the case's outcome
    decision: bool = False  # sets the decision day
    statutory: bool = False  # a first-instance decision: checks the statutory period
    permit: bool = False  # an asylum permit: counts toward the housing prognosis
    sponsor: bool = False  # activates the family's nareis
    registers: bool = False  # sets the registration day
    desk: str | None = None  # takes its persons from this desk's budget (e.g. resettled refugees: housing)
    location: str = "keep"  # one of LOCATION_ACTIONS
    move: str = "none"  # none | always | pol (general track, regular place, not routed: POL -> AZC)
    exit: str | None = None  # leaves the chain with this exit reason


_DECIDE = dict(decision=True, statutory=True)
EDGES: tuple[Edge, ...] = (
    # arrivals
    Edge("not_arrived", "waiting_registration", flows=("arrivals",), location="waiting"),
    Edge("not_arrived", "housed", flows=("arrivals", "housed"), outcome="permit_on_arrival", decision=True,
         registers=True, permit=True, sponsor=True, desk="housing", exit="housed"),
    # registration desk
    Edge("waiting_registration", "central_reception", flows=("registrations",), registers=True, location="central"),
    # out of central reception: to a regular, small-scale or emergency place
    Edge("central_reception", "permit_lead_time", outcome="permit_on_arrival", decision=True, permit=True,
         location="place", move="always"),
    Edge("central_reception", "dublin_waiting", location="place", move="always"),
    Edge("central_reception", "waiting_decision_general", location="place", move="always"),
    Edge("central_reception", "waiting_decision_safe", location="place", move="always"),
    # Dublin
    Edge("dublin_waiting", "dublin_claim"),
    Edge("dublin_claim", "dublin_transferred", flows=("dublin_transfers", "decisions"), outcome="dublin_transfer",
         decision=True, location="leave", exit="dublin_transfer"),
    Edge("dublin_claim", "departed_unsupervised", flows=("departures_unsupervised", "decisions"),
         outcome="dublin_absconded", decision=True, location="leave", exit="departed_unsupervised"),
    Edge("dublin_claim", "waiting_decision_general"),  # responsibility lapses to the Netherlands
    # the national procedure
    Edge("waiting_decision_general", "in_procedure"),
    Edge("waiting_decision_safe", "in_procedure"),
    Edge("in_procedure", "extended_procedure", move="pol"),
    Edge("in_procedure", "permit_lead_time", flows=("decisions", "grants"), outcome="granted", permit=True,
         sponsor=True, move="pol", **_DECIDE),
    Edge("in_procedure", "appeal", flows=("decisions", "rejections"), outcome="rejected", move="pol", **_DECIDE),
    Edge("in_procedure", "departure_term", flows=("decisions", "rejections"), outcome="rejected", move="pol",
         **_DECIDE),
    Edge("extended_procedure", "permit_lead_time", flows=("decisions", "grants"), outcome="granted", permit=True,
         sponsor=True, **_DECIDE),
    Edge("extended_procedure", "appeal", flows=("decisions", "rejections"), outcome="rejected", **_DECIDE),
    Edge("extended_procedure", "departure_term", flows=("decisions", "rejections"), outcome="rejected", **_DECIDE),
    Edge("appeal", "permit_lead_time", flows=("grants",), outcome="granted_on_appeal", permit=True, sponsor=True),
    Edge("appeal", "departure_term"),
    # permit holders
    Edge("permit_lead_time", "housing_queue"),
    Edge("housing_queue", "housed", flows=("housed",), location="leave", exit="housed"),
    # return
    Edge("departure_term", "return_restricted", location="restricted", move="always"),
    Edge("departure_term", "detention", location="leave"),
    Edge("departure_term", "return_outside_reception", location="leave"),
    Edge("return_restricted", "detention", location="leave"),
    Edge("return_restricted", "return_outside_reception", location="leave"),
    *(Edge(src, f"departed_{k}", flows=(f"departures_{k}",), exit=f"departed_{k}")
      for src in ("return_outside_reception", "detention") for k in ("independent", "forced", "unsupervised")),
)


# ----------------------------------------------------------------------------------------------
# derived names and tables
# ----------------------------------------------------------------------------------------------
def _index(names) -> dict[str, int]:
    return {n: i for i, n in enumerate(names)}


STAGE_NAMES = tuple(s.name for s in STAGES)
LOC_NAMES = tuple(lc.name for lc in LOCATIONS)
STREAM_NAMES = tuple(s.name for s in STREAMS)
DESK_NAMES = tuple(d.name for d in DESKS)
STAGE = _index(STAGE_NAMES)
LOC = _index(LOC_NAMES)
STREAM = _index(STREAM_NAMES)
TRACK = _index(TRACKS)
OUTCOME = _index(OUTCOMES)
EXIT = _index(EXITS)
FLOW = _index(FLOWS)
DESK = _index(DESK_NAMES)
#: the per-case duration and branch slots the compile step fills, in kernel order
DURATION_SLOTS = tuple(dict.fromkeys(s.duration for s in STAGES if s.duration))
BRANCH_SLOTS = tuple(dict.fromkeys(s.branch for s in STAGES if s.branch))
DURATION = _index(DURATION_SLOTS)
BRANCH = _index(BRANCH_SLOTS)
QUEUE_STAGES = tuple(s.name for s in STAGES if s.kind == "queue")


def stages_in(group: str) -> list[int]:
    """Indices of the stages that count toward ``group`` (one of :data:`GROUPS`)."""
    if group not in GROUPS:
        raise KeyError(f"unknown stage group {group!r}; groups: {', '.join(GROUPS)}")
    return [i for i, s in enumerate(STAGES) if group in s.groups]


def locations_of(kind: str) -> list[int]:
    return [i for i, lc in enumerate(LOCATIONS) if lc.kind == kind]


@dataclass(frozen=True)
class Tables:
    """The registry as integer arrays for the kernel (``-1``: none)."""

    succ: np.ndarray  # [stage, k] successor stage
    n_succ: np.ndarray  # [stage]
    branch_slot: np.ndarray  # [stage]
    duration_slot: np.ndarray  # [stage]
    queue_of: np.ndarray  # [stage] queue index of a queue stage
    queue_stage: np.ndarray  # [queue] its stage
    queue_desk: np.ndarray  # [queue] the desk serving it
    desk_queues: np.ndarray  # [desk, k] queues in service order
    desk_carry_period: np.ndarray  # [desk] 1: budget kept until a hook resets it
    edge_of: np.ndarray  # [src, dst] edge index
    edge_flows: np.ndarray  # [edge, k] flows counted (-1 pad)
    edge_outcome: np.ndarray
    edge_flags: np.ndarray  # [edge] bits: EDGE_FLAGS
    edge_desk: np.ndarray
    edge_location: np.ndarray
    edge_move: np.ndarray  # 0 none, 1 always, 2 pol
    edge_exit: np.ndarray
    stage_kind_gone: np.ndarray  # [stage] 1 for sinks
    stream_arrival_flow: np.ndarray  # [stream]
    stream_arrival_stage: np.ndarray  # [stream]
    loc_coa: np.ndarray  # [loc] 1 for COA places
    stage_reception: np.ndarray  # [stage] 1 if its persons hold a reception place


#: the yes/no effects of an edge, as bits of ``Tables.edge_flags`` (in this order)
EDGE_FLAGS = ("decision", "statutory", "permit", "sponsor", "registers")


def _check() -> None:
    """The registry is consistent: names unique, successors exist, every successor has an edge."""
    for names, what in ((STAGE_NAMES, "stage"), (LOC_NAMES, "location"), (DESK_NAMES, "desk"),
                        (FLOWS, "flow"), (STREAM_NAMES, "stream")):
        if len(set(names)) != len(names):
            raise ValueError(f"registry: duplicate {what} names in {names}")
    pairs = {(e.src, e.dst) for e in EDGES}
    if len(pairs) != len(EDGES):
        raise ValueError("registry: an edge is declared twice")
    for s in STAGES:
        if s.kind not in ("source", "queue", "timed", "settled", "gone"):
            raise ValueError(f"registry: stage {s.name} has unknown kind {s.kind!r}")
        for g in s.groups:
            if g not in GROUPS:
                raise ValueError(f"registry: stage {s.name} counts toward unknown group {g!r}")
        for t in s.successors:
            if t not in STAGE:
                raise ValueError(f"registry: stage {s.name} has unknown successor {t!r}")
            if (s.name, t) not in pairs:
                raise ValueError(f"registry: no edge declared for {s.name} -> {t}")
        if s.kind == "queue" and (s.duration or len(s.successors) != 1):
            raise ValueError(f"registry: queue stage {s.name} needs exactly one successor and no duration")
        if len(s.successors) > 1 and not s.branch:
            raise ValueError(f"registry: stage {s.name} has several successors but no branch slot")
        if s.kind == "gone" and s.successors:
            raise ValueError(f"registry: sink {s.name} cannot have successors")
    for e in EDGES:
        for nm in (e.src, e.dst):
            if nm not in STAGE:
                raise ValueError(f"registry: edge {e.src} -> {e.dst} names unknown stage {nm!r}")
        for f in e.flows:
            if f not in FLOW:
                raise ValueError(f"registry: edge {e.src} -> {e.dst} counts unknown flow {f!r}")
        if e.location not in LOCATION_ACTIONS:
            raise ValueError(f"registry: edge {e.src} -> {e.dst} has unknown location action {e.location!r}")
        if e.desk is not None and e.desk not in DESK:
            raise ValueError(f"registry: edge {e.src} -> {e.dst} uses unknown desk {e.desk!r}")
        if e.exit is not None and e.exit not in EXIT:
            raise ValueError(f"registry: edge {e.src} -> {e.dst} has unknown exit {e.exit!r}")
    queued = [q for d in DESKS for q in d.queues]
    if sorted(queued) != sorted(QUEUE_STAGES):
        raise ValueError(f"registry: every queue stage needs exactly one desk; desks serve {queued}, "
                         f"queue stages are {list(QUEUE_STAGES)}")


@lru_cache(maxsize=1)
def tables() -> Tables:
    """The registry compiled to arrays (cached; the registry is immutable)."""
    _check()
    ns, ne = len(STAGES), len(EDGES)
    max_succ = max(1, max(len(s.successors) for s in STAGES))
    succ = np.full((ns, max_succ), -1, np.int64)
    n_succ = np.zeros(ns, np.int64)
    branch_slot = np.full(ns, -1, np.int64)
    duration_slot = np.full(ns, -1, np.int64)
    queue_of = np.full(ns, -1, np.int64)
    for i, s in enumerate(STAGES):
        for k, t in enumerate(s.successors):
            succ[i, k] = STAGE[t]
        n_succ[i] = len(s.successors)
        if s.branch:
            branch_slot[i] = BRANCH[s.branch]
        if s.duration:
            duration_slot[i] = DURATION[s.duration]
        if s.kind == "queue":
            queue_of[i] = QUEUE_STAGES.index(s.name)
    queue_stage = np.array([STAGE[q] for q in QUEUE_STAGES], np.int64)
    max_q = max(len(d.queues) for d in DESKS)
    desk_queues = np.full((len(DESKS), max_q), -1, np.int64)
    queue_desk = np.full(len(QUEUE_STAGES), -1, np.int64)
    for k, d in enumerate(DESKS):
        for j, q in enumerate(d.queues):
            desk_queues[k, j] = QUEUE_STAGES.index(q)
            queue_desk[QUEUE_STAGES.index(q)] = k
    edge_of = np.full((ns, ns), -1, np.int64)
    edge_flows = np.full((ne, max(len(e.flows) for e in EDGES)), -1, np.int64)
    cols = {n: np.full(ne, -1, np.int64) for n in ("outcome", "exit")}
    edge_flags = np.zeros(ne, np.int64)
    edge_desk = np.full(ne, -1, np.int64)
    location = np.zeros(ne, np.int64)
    move = np.zeros(ne, np.int64)
    for k, e in enumerate(EDGES):
        edge_of[STAGE[e.src], STAGE[e.dst]] = k
        for j, f in enumerate(e.flows):
            edge_flows[k, j] = FLOW[f]
        if e.outcome:
            cols["outcome"][k] = OUTCOME[e.outcome]
        if e.exit:
            cols["exit"][k] = EXIT[e.exit]
        for bit, n in enumerate(EDGE_FLAGS):
            if getattr(e, n):
                edge_flags[k] |= 1 << bit
        if e.desk:
            edge_desk[k] = DESK[e.desk]
        location[k] = LOCATION_ACTIONS.index(e.location)
        move[k] = ("none", "always", "pol").index(e.move)
    return Tables(
        succ=succ, n_succ=n_succ, branch_slot=branch_slot, duration_slot=duration_slot, queue_of=queue_of,
        queue_stage=queue_stage, queue_desk=queue_desk, desk_queues=desk_queues,
        desk_carry_period=np.array([d.carry == "period" for d in DESKS], np.int64),
        edge_of=edge_of, edge_flows=edge_flows, edge_outcome=cols["outcome"], edge_flags=edge_flags,
        edge_desk=edge_desk, edge_location=location,
        edge_move=move, edge_exit=cols["exit"],
        stage_kind_gone=np.array([s.kind == "gone" for s in STAGES], np.int64),
        stream_arrival_flow=np.array([FLOW[s.arrival_flow] if s.arrival_flow else -1 for s in STREAMS], np.int64),
        stream_arrival_stage=np.array([STAGE[s.arrival_stage] for s in STREAMS], np.int64),
        loc_coa=np.array([lc.kind == "coa" for lc in LOCATIONS], np.int64),
        stage_reception=np.array(["reception" in s.groups for s in STAGES], np.int64),
    )


def describe() -> list[dict]:
    """The declared stages as records (for docs and the report)."""
    return [dict(stage=s.name, kind=s.kind, label=s.label, groups=", ".join(s.groups),
                 successors=", ".join(s.successors), duration=s.duration or "", branch=s.branch or "")
            for s in STAGES]



#: Stocks derived from the stages and locations, used across the product (results, KPIs, the
#: report, backtests): name -> (label, stage groups summed, location kinds summed).
DERIVED_STOCKS = {
    "coa_occupancy": ("persons in COA reception (emergency included)", (), ("coa",)),
    "ind_pending": ("first-instance applications without a decision", ("ind_pending",), ()),
    "asylum_pending_all_levels": ("asylum applications pending at first instance or in appeal",
                                  ("ind_pending", "appeal"), ()),
    "permit_holders_in_reception": ("permit holders waiting in reception", ("permit_waiting",), ()),
    "without_residence": ("rejected, outside reception or in detention, departure not yet recorded",
                          ("without_residence",), ()),
    "in_chain": ("persons in the asylum chain", ("chain",), ()),
}


def derived_stock(name: str, stage_stock: np.ndarray, loc_stock: np.ndarray) -> np.ndarray:
    """A derived stock per day from the stage and location stocks ([T, stage], [T, location])."""
    _, groups, kinds = DERIVED_STOCKS[name]
    total = np.zeros(stage_stock.shape[0], np.int64)
    stages = sorted({i for g in groups for i in stages_in(g)})
    if stages:
        total += stage_stock[:, stages].sum(axis=1)
    locs = sorted({i for k in kinds for i in locations_of(k)})
    if locs:
        total += loc_stock[:, locs].sum(axis=1)
    return total
