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
    """A stage of the chain.

    ``duration``: the per-case duration slot of a timed stage [days] (``until=True``: the slot holds
    an absolute day, e.g. an 18th birthday, and the stay lasts until then). ``branch``: the per-case
    slot that picks the successor; with ``late=True`` the successor is picked when the case leaves,
    from the case's own uniform and a table of probabilities by month and nationality group (grant
    rates by year, return by group and cooperation), and ``records`` keeps the pick in a branch slot
    for later stages. A ``queue`` stage with ``patience`` (a duration slot) sends a case that has
    waited that long to ``renege``.
    """

    name: str
    kind: str  # source | queue | timed | instant | settled | gone
    label: str
    groups: tuple[str, ...] = ()  # what the stage counts toward (see GROUPS)
    successors: tuple[str, ...] = ()
    duration: str | None = None
    branch: str | None = None
    late: bool = False
    records: str | None = None
    until: bool = False
    patience: str | None = None
    renege: str | None = None


#: What a stage can count toward. The results' derived stocks, the conservation and reception
#: checks and the KPIs read these groups; never a list of stage names.
GROUPS = {
    "chain": "in the asylum chain (arrived, not yet housed, transferred or departed)",
    "reception": "in a reception place of COA (a location of the 'coa' kind)",
    "ind_pending": "an asylum application at first instance without a decision (IND stock)",
    "appeal": "an appeal against a first-instance decision",
    "permit_waiting": "a permit holder waiting in reception for a home",
    "without_residence": "rejected and outside reception or in detention, departure not yet recorded",
    "detention": "in immigration detention",
    "lvv": "in a national aliens facility (LVV)",
    "minors_waiting": "rejected unaccompanied minors waiting in reception until they turn 18",
    "regular_pending": "a regular residence application (work, knowledge, study, family) without a decision",
    "circular": "a circular labour migrant at work in the Netherlands",
    "settled": "left the chain into a municipality or with a residence permit, still followed",
    "gone": "left the country or the system",
}

_IND = ("chain", "reception", "ind_pending")
STAGES: tuple[Stage, ...] = (
    Stage("not_arrived", "source", "not arrived yet",
          successors=("waiting_registration", "housed", "regular_waiting", "joined_sponsor"), branch="arrival"),
    Stage("waiting_registration", "queue", "waiting for identification and registration (AVIM), in reception",
          ("chain", "reception"), ("central_reception",)),
    Stage("central_reception", "timed", "central reception (COL) after registration", ("chain", "reception"),
          ("permit_lead_time", "dublin_waiting", "waiting_decision_general", "waiting_decision_safe",
           "safe_third_waiting"), duration="col", branch="after_central"),
    Stage("dublin_waiting", "queue", "Dublin claim: waiting for an IND slot", _IND, ("dublin_claim",)),
    Stage("dublin_claim", "timed", "Dublin claim on another member state", _IND,
          ("dublin_transferred", "departed_unsupervised", "waiting_decision_general"),
          duration="dublin", branch="dublin_outcome"),
    Stage("safe_third_waiting", "queue", "safe third country (inadmissibility): waiting for an IND slot", _IND,
          ("safe_third_procedure",)),
    Stage("safe_third_procedure", "timed", "safe-third-country procedure (P2.2)", _IND,
          ("transferred_third_country", "rejected", "waiting_decision_general"), duration="safe_third",
          branch="safe_third_outcome"),
    Stage("waiting_decision_general", "queue", "general track: waiting for an IND slot", _IND, ("in_procedure",)),
    Stage("waiting_decision_safe", "queue", "safe-country track: waiting for an IND slot", _IND, ("in_procedure",)),
    Stage("in_procedure", "timed", "rest and preparation, general procedure (or accelerated safe-country procedure)",
          _IND, ("extended_procedure", "decision"), duration="procedure", branch="after_procedure"),
    Stage("extended_procedure", "timed", "extended procedure (VA)", _IND, ("decision",), duration="extended"),
    Stage("decision", "instant", "first-instance decision (the grant rate of the month and group applies)",
          ("chain", "reception"), ("permit_lead_time", "rejected"), branch="decision", late=True),
    Stage("rejected", "instant", "rejected at first instance: appeal or not", ("chain", "reception"),
          ("appeal", "departure_term"), branch="appeals"),
    Stage("appeal", "timed", "appeal in court", ("chain", "reception", "appeal"), ("permit_lead_time", "departure_term"),
          duration="appeal", branch="appeal_outcome"),
    Stage("permit_lead_time", "timed", "permit holder: linking to a municipality and searching a home",
          ("chain", "reception", "permit_waiting"), ("housing_queue",), duration="lead"),
    Stage("housing_queue", "queue", "permit holder: waiting for the housing task", ("chain", "reception", "permit_waiting"),
          ("housed",)),
    Stage("departure_term", "timed", "departure term with reception", ("chain", "reception"),
          ("return_restricted", "departure_route", "minor_until_18"), duration="term", branch="after_term"),
    Stage("return_restricted", "timed", "freedom-restricting location (VBL, family location)", ("chain", "reception"),
          ("departure_route",), duration="restricted"),
    Stage("minor_until_18", "timed", "rejected unaccompanied minor without adequate reception in the country of "
          "origin: stays in reception until 18 (P4.3)", ("chain", "reception", "minors_waiting"),
          ("departure_route",), duration="birthday_18", until=True),
    Stage("departure_route", "instant", "the route of departure (return by nationality group and cooperation)",
          ("chain",), ("return_outside_reception", "detention_waiting", "lvv_request"), branch="departure",
          late=True, records="departure_type"),
    Stage("lvv_request", "instant", "would leave without supervision: asks for an LVV place or not", ("chain",),
          ("lvv_waiting", "return_outside_reception"), branch="lvv_choice"),
    Stage("lvv_waiting", "queue", "waiting for an LVV place", ("chain", "without_residence"), ("lvv",),
          patience="lvv_patience", renege="departed_unsupervised"),
    Stage("lvv", "timed", "national aliens facility (LVV): rest period and guidance (P4.4)", ("chain", "lvv"),
          ("departed_independent", "departed_unsupervised", "permit_lead_time", "waiting_decision_general"),
          duration="lvv_stay", branch="lvv_outcome"),
    Stage("detention_waiting", "queue", "forced return: waiting for a detention place",
          ("chain", "without_residence"), ("detention",), patience="detention_patience",
          renege="departed_unsupervised"),
    Stage("detention", "timed", "immigration detention before a forced departure",
          ("chain", "without_residence", "detention"), ("departed_forced", "departed_unsupervised"),
          duration="detention", branch="detention_outcome"),
    Stage("return_outside_reception", "timed", "rejected, outside reception until a recorded departure",
          ("chain", "without_residence"),
          ("departed_independent", "departed_forced", "departed_unsupervised"), duration="departure",
          branch="departure_type"),
    Stage("regular_waiting", "queue", "regular application (work, knowledge, study, family): waiting for the IND",
          ("regular_pending",), ("regular_procedure",)),
    Stage("regular_procedure", "timed", "regular application in procedure", ("regular_pending",),
          ("regular_resident", "regular_refused", "circular_work"), duration="regular", branch="regular_outcome"),
    Stage("circular_work", "timed", "circular labour migrant at work (P5.2)", ("circular",), ("circular_returned",),
          duration="circular_stay"),
    Stage("housed", "settled", "permit holder housed in a municipality", ("settled",)),
    Stage("regular_resident", "settled", "regular migrant with a residence permit", ("settled",)),
    Stage("joined_sponsor", "settled", "family member who joined a sponsor already housed (no reception)",
          ("settled",)),
    Stage("dublin_transferred", "gone", "transferred to the responsible member state", ("gone",)),
    Stage("transferred_third_country", "gone", "transferred to a safe third country", ("gone",)),
    Stage("departed_independent", "gone", "departed independently (recorded)", ("gone",)),
    Stage("departed_forced", "gone", "departed forced", ("gone",)),
    Stage("departed_unsupervised", "gone", "departed without supervision", ("gone",)),
    Stage("regular_refused", "gone", "regular application refused", ("gone",)),
    Stage("circular_returned", "gone", "circular labour migrant returned after the work stay", ("gone",)),
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
    Location("waiting_registration", "coa", "waiting for registration at or near the application centre (COA "
             "overflow and waiting locations)"),
)

#: Location actions of an edge: what happens to the case's reception place.
LOCATION_ACTIONS = ("keep", "waiting", "central", "place", "restricted", "leave")


@dataclass(frozen=True)
class Stream:
    name: str
    label: str
    arrival_flow: str | None = None  # a flow counted on arrival besides 'arrivals'
    asylum: bool = True  # an asylum application (decision times, statutory periods)
    regular: bool = False  # a regular-migration application (IND regular desk)
    follows_sponsor: bool = False  # joins the sponsor's home on arrival if the sponsor is housed


STREAMS: tuple[Stream, ...] = (
    Stream("first", "first asylum applications"),
    Stream("subsequent", "subsequent (repeat) asylum applications"),
    Stream("nareis", "family reunification of permit holders (nareis)", arrival_flow="nareis_arrivals", asylum=False,
           follows_sponsor=True),
    Stream("resettlement", "resettled refugees (straight to a municipality)", arrival_flow="resettled", asylum=False),
    Stream("labour", "labour migrants (regular)", arrival_flow="regular_applications", asylum=False, regular=True),
    Stream("knowledge", "knowledge migrants (regular)", arrival_flow="regular_applications", asylum=False,
           regular=True),
    Stream("study", "students (regular)", arrival_flow="regular_applications", asylum=False, regular=True),
    Stream("family", "family migrants of Dutch residents and regular migrants (regular)",
           arrival_flow="regular_applications", asylum=False, regular=True),
)

TRACKS = ("general", "safe_country", "dublin", "none", "safe_third_country", "regular")

OUTCOMES = ("pending", "granted", "rejected", "dublin_transfer", "dublin_absconded", "granted_on_appeal",
            "permit_on_arrival", "transferred_third_country", "inadmissible", "regular_granted", "regular_refused",
            "granted_after_lvv")

#: Why a case left the asylum chain ('in_system': it has not).
EXITS = ("in_system", "housed", "dublin_transfer", "departed_independent", "departed_forced",
         "departed_unsupervised", "transferred_third_country", "regular_resident", "regular_refused", "joined_sponsor",
         "circular_returned")

FLOWS = ("arrivals", "registrations", "decisions", "grants", "rejections", "housed", "dublin_transfers",
         "departures_independent", "departures_forced", "departures_unsupervised", "moves",
         "statutory_breaches", "nareis_arrivals", "resettled", "third_country_transfers", "detention_entries",
         "lvv_entries", "regular_applications", "regular_decisions", "regular_grants", "minors_aged_out",
         "renege_detention", "renege_lvv", "joined_sponsor", "circular_returns")


@dataclass(frozen=True)
class Desk:
    """A capacity that serves queue stages in the declared order.

    ``mode = "flow"``: persons per day; ``carry = "queued"`` keeps unused capacity only while a queue
    waits (an idle desk forfeits it), ``carry = "period"`` until a hook resets it (the half-yearly
    housing task). ``mode = "places"``: a number of places; each day the desk admits as many as the
    places not taken by the persons in its ``holds`` stages. A case larger than the budget waits
    (no overtaking); the capacity is never exceeded.
    """

    name: str
    label: str
    queues: tuple[str, ...]
    carry: str = "queued"
    mode: str = "flow"
    holds: tuple[str, ...] = ()


DESKS: tuple[Desk, ...] = (
    Desk("registration", "identification and registration (AVIM) [persons/day]", ("waiting_registration",)),
    Desk("ind_general", "IND decisions, general track [persons/day]", ("waiting_decision_general",)),
    Desk("ind_safe", "IND decisions, safe-country track [persons/day]", ("waiting_decision_safe",)),
    Desk("ind_dublin", "IND Dublin claims and safe-third-country decisions [persons/day]",
         ("dublin_waiting", "safe_third_waiting")),
    Desk("ind_regular", "IND regular applications [persons/day]", ("regular_waiting",)),
    Desk("housing", "housing of permit holders by municipalities [persons/day]", ("housing_queue",), carry="period"),
    Desk("detention", "immigration detention places [places]", ("detention_waiting",), mode="places",
         holds=("detention",)),
    Desk("lvv", "national aliens facility places (LVV) [places]", ("lvv_waiting",), mode="places", holds=("lvv",)),
)

#: Queues a pooled IND desk serves, in priority order, when ``decision_capacity.pooling = "shared"``
#: (one pool for every asylum track; with ``regular_shares_ind`` the regular queue last).
POOLED_IND = ("dublin_waiting", "safe_third_waiting", "waiting_decision_safe", "waiting_decision_general")


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


_DEC = dict(decision=True, statutory=True)
EDGES: tuple[Edge, ...] = (
    # arrivals
    Edge("not_arrived", "waiting_registration", flows=("arrivals",), location="waiting"),
    Edge("not_arrived", "housed", flows=("arrivals", "housed"), outcome="permit_on_arrival", decision=True,
         registers=True, permit=True, sponsor=True, desk="housing", exit="housed"),
    Edge("not_arrived", "regular_waiting", registers=True),  # counted as regular_applications, not asylum arrivals
    Edge("not_arrived", "joined_sponsor", flows=("arrivals", "joined_sponsor"), outcome="permit_on_arrival",
         decision=True, registers=True, exit="joined_sponsor"),
    # registration desk
    Edge("waiting_registration", "central_reception", flows=("registrations",), registers=True, location="central"),
    # out of central reception: to a regular, small-scale or emergency place
    Edge("central_reception", "permit_lead_time", outcome="permit_on_arrival", decision=True, permit=True,
         location="place", move="always"),
    Edge("central_reception", "dublin_waiting", location="place", move="always"),
    Edge("central_reception", "waiting_decision_general", location="place", move="always"),
    Edge("central_reception", "waiting_decision_safe", location="place", move="always"),
    Edge("central_reception", "safe_third_waiting", location="place", move="always"),
    # Dublin
    Edge("dublin_waiting", "dublin_claim"),
    Edge("dublin_claim", "dublin_transferred", flows=("dublin_transfers", "decisions"), outcome="dublin_transfer",
         decision=True, location="leave", exit="dublin_transfer"),
    Edge("dublin_claim", "departed_unsupervised", flows=("departures_unsupervised", "decisions"),
         outcome="dublin_absconded", decision=True, location="leave", exit="departed_unsupervised"),
    Edge("dublin_claim", "waiting_decision_general"),  # responsibility lapses to the Netherlands
    # safe third country (P2.2)
    Edge("safe_third_waiting", "safe_third_procedure"),
    Edge("safe_third_procedure", "transferred_third_country", flows=("third_country_transfers", "decisions"),
         outcome="transferred_third_country", decision=True, location="leave", exit="transferred_third_country"),
    Edge("safe_third_procedure", "rejected", flows=("decisions", "rejections"), outcome="inadmissible", **_DEC),
    Edge("safe_third_procedure", "waiting_decision_general"),  # the concept does not apply after all
    # the national procedure
    Edge("waiting_decision_general", "in_procedure"),
    Edge("waiting_decision_safe", "in_procedure"),
    Edge("in_procedure", "extended_procedure", move="pol"),
    Edge("in_procedure", "decision", move="pol"),
    Edge("extended_procedure", "decision"),
    Edge("decision", "permit_lead_time", flows=("decisions", "grants"), outcome="granted", permit=True,
         sponsor=True, **_DEC),
    Edge("decision", "rejected", flows=("decisions", "rejections"), outcome="rejected", **_DEC),
    Edge("rejected", "appeal"),
    Edge("rejected", "departure_term"),
    Edge("appeal", "permit_lead_time", flows=("grants",), outcome="granted_on_appeal", permit=True, sponsor=True),
    Edge("appeal", "departure_term"),
    # permit holders
    Edge("permit_lead_time", "housing_queue"),
    Edge("housing_queue", "housed", flows=("housed",), location="leave", exit="housed"),
    # return
    Edge("departure_term", "return_restricted", location="restricted", move="always"),
    Edge("departure_term", "departure_route", location="leave"),
    Edge("departure_term", "minor_until_18"),
    Edge("return_restricted", "departure_route", location="leave"),
    Edge("minor_until_18", "departure_route", flows=("minors_aged_out",), location="leave"),
    Edge("departure_route", "return_outside_reception"),
    Edge("departure_route", "detention_waiting"),
    Edge("departure_route", "lvv_request"),
    Edge("lvv_request", "lvv_waiting"),
    Edge("lvv_request", "return_outside_reception"),
    Edge("lvv_waiting", "lvv", flows=("lvv_entries",)),
    Edge("lvv_waiting", "departed_unsupervised", flows=("departures_unsupervised", "renege_lvv"),
         exit="departed_unsupervised"),
    Edge("lvv", "departed_independent", flows=("departures_independent",), exit="departed_independent"),
    Edge("lvv", "departed_unsupervised", flows=("departures_unsupervised",), exit="departed_unsupervised"),
    Edge("lvv", "permit_lead_time", flows=("grants",), outcome="granted_after_lvv", permit=True, sponsor=True,
         location="place", move="always"),
    Edge("lvv", "waiting_decision_general", location="place", move="always"),  # a new asylum application
    Edge("detention_waiting", "detention", flows=("detention_entries",)),
    Edge("detention_waiting", "departed_unsupervised", flows=("departures_unsupervised", "renege_detention"),
         exit="departed_unsupervised"),
    Edge("detention", "departed_forced", flows=("departures_forced",), exit="departed_forced"),
    Edge("detention", "departed_unsupervised", flows=("departures_unsupervised",), exit="departed_unsupervised"),
    *(Edge("return_outside_reception", f"departed_{k}", flows=(f"departures_{k}",), exit=f"departed_{k}")
      for k in ("independent", "forced", "unsupervised")),
    # regular migration (P5.1)
    Edge("regular_waiting", "regular_procedure"),
    Edge("regular_procedure", "regular_resident", flows=("regular_decisions", "regular_grants"),
         outcome="regular_granted", decision=True, exit="regular_resident"),
    Edge("regular_procedure", "regular_refused", flows=("regular_decisions",), outcome="regular_refused",
         decision=True, exit="regular_refused"),
    Edge("regular_procedure", "circular_work", flows=("regular_decisions", "regular_grants"), outcome="regular_granted",
         decision=True),
    Edge("circular_work", "circular_returned", flows=("circular_returns",), exit="circular_returned"),
)


# ----------------------------------------------------------------------------------------------
# derived names and tables
# ----------------------------------------------------------------------------------------------
def _index(names) -> dict[str, int]:
    return {n: i for i, n in enumerate(names)}


STAGE_NAMES = tuple(s.name for s in STAGES)
LOC_NAMES = tuple(lc.name for lc in LOCATIONS)
STREAM_NAMES = tuple(s.name for s in STREAMS)
#: the regular-migration streams (P5.1: the IND's regular desk), in declared order
REGULAR_STREAMS = tuple(s.name for s in STREAMS if s.regular)
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
DURATION_SLOTS = tuple(dict.fromkeys([s.duration for s in STAGES if s.duration]
                                     + [s.patience for s in STAGES if s.patience]))
BRANCH_SLOTS = tuple(dict.fromkeys([s.branch for s in STAGES if s.branch and not s.late]
                                   + [s.records for s in STAGES if s.records]))
LATE_SLOTS = tuple(s.branch for s in STAGES if s.late)  # one late table (and case uniform) each
DURATION = _index(DURATION_SLOTS)
BRANCH = _index(BRANCH_SLOTS)
LATE = _index(LATE_SLOTS)
QUEUE_STAGES = tuple(s.name for s in STAGES if s.kind == "queue")
KINDS = ("source", "queue", "timed", "instant", "settled", "gone")


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
    branch_slot: np.ndarray  # [stage] static branch slot
    late_slot: np.ndarray  # [stage] late table
    record_slot: np.ndarray  # [stage] branch slot where a late pick is kept
    duration_slot: np.ndarray  # [stage] duration slot; -2: instant (leaves the same day)
    until_flag: np.ndarray  # [stage] 1: the duration slot holds an absolute day
    patience_slot: np.ndarray  # [stage] duration slot of a queue's patience
    renege_stage: np.ndarray  # [stage] where a case whose patience ran out goes
    queue_of: np.ndarray  # [stage] queue index of a queue stage
    queue_stage: np.ndarray  # [queue] its stage
    queue_desk: np.ndarray  # [queue] the desk serving it (default layout)
    desk_queues: np.ndarray  # [desk, k] queues in service order (default layout)
    desk_carry_period: np.ndarray  # [desk] 1: budget kept until a hook resets it
    desk_places: np.ndarray  # [desk] 1: capacity in places
    desk_holds: np.ndarray  # [desk, k] stages whose persons take a place
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
    stream_follows: np.ndarray  # [stream] 1: joins a housed sponsor on arrival
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
        if s.kind not in KINDS:
            raise ValueError(f"registry: stage {s.name} has unknown kind {s.kind!r}")
        for g in s.groups:
            if g not in GROUPS:
                raise ValueError(f"registry: stage {s.name} counts toward unknown group {g!r}")
        for t in s.successors + ((s.renege,) if s.renege else ()):
            if t not in STAGE:
                raise ValueError(f"registry: stage {s.name} has unknown successor {t!r}")
            if (s.name, t) not in pairs:
                raise ValueError(f"registry: no edge declared for {s.name} -> {t}")
        if s.kind == "queue" and (s.duration or len(s.successors) != 1):
            raise ValueError(f"registry: queue stage {s.name} needs exactly one successor and no duration")
        if bool(s.patience) != bool(s.renege) or (s.patience and s.kind != "queue"):
            raise ValueError(f"registry: stage {s.name}: patience and renege go together, on a queue stage")
        if len(s.successors) > 1 and not s.branch:
            raise ValueError(f"registry: stage {s.name} has several successors but no branch slot")
        if s.kind == "instant" and s.duration:
            raise ValueError(f"registry: instant stage {s.name} cannot have a duration")
        if s.kind == "timed" and not s.duration:
            raise ValueError(f"registry: timed stage {s.name} needs a duration slot")
        if s.records and not s.late:
            raise ValueError(f"registry: stage {s.name} records a pick but is not late")
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
        if e.outcome is not None and e.outcome not in OUTCOME:
            raise ValueError(f"registry: edge {e.src} -> {e.dst} has unknown outcome {e.outcome!r}")
    queued = [q for d in DESKS for q in d.queues]
    if sorted(queued) != sorted(QUEUE_STAGES):
        raise ValueError(f"registry: every queue stage needs exactly one desk; desks serve {queued}, "
                         f"queue stages are {list(QUEUE_STAGES)}")
    for d in DESKS:
        if d.mode not in ("flow", "places") or (d.mode == "places") != bool(d.holds):
            raise ValueError(f"registry: desk {d.name}: mode 'places' needs the stages it holds, 'flow' none")


def desk_layout(pooled_ind: bool = False, regular_shares_ind: bool = False) -> np.ndarray:
    """The queues each desk serves, in order ([desk, k], -1 pad): the declared layout, or one pooled
    IND desk (the general desk) serving every asylum queue in priority order (:data:`POOLED_IND`),
    and, when the regular applications share the IND's capacity, their queue last."""
    plan = {d.name: list(d.queues) for d in DESKS}
    if pooled_ind:
        for name in ("ind_safe", "ind_dublin"):
            plan[name] = []
        plan["ind_general"] = list(POOLED_IND)
    if regular_shares_ind:
        plan["ind_regular"] = []
        plan["ind_general"] = plan["ind_general"] + ["regular_waiting"]
    width = max(len(q) for q in plan.values())
    out = np.full((len(DESKS), width), -1, np.int64)
    for k, d in enumerate(DESKS):
        for j, q in enumerate(plan[d.name]):
            out[k, j] = QUEUE_STAGES.index(q)
    return out


@lru_cache(maxsize=1)
def tables() -> Tables:
    """The registry compiled to arrays (cached; the registry is immutable)."""
    _check()
    ns, ne = len(STAGES), len(EDGES)
    max_succ = max(1, max(len(s.successors) for s in STAGES))
    succ = np.full((ns, max_succ), -1, np.int64)
    n_succ = np.zeros(ns, np.int64)
    col = {n: np.full(ns, -1, np.int64) for n in ("branch", "late", "record", "duration", "patience", "renege",
                                                 "queue")}
    until = np.zeros(ns, np.int64)
    for i, s in enumerate(STAGES):
        for k, t in enumerate(s.successors):
            succ[i, k] = STAGE[t]
        n_succ[i] = len(s.successors)
        if s.branch and not s.late:
            col["branch"][i] = BRANCH[s.branch]
        if s.late:
            col["late"][i] = LATE[s.branch]
        if s.records:
            col["record"][i] = BRANCH[s.records]
        if s.duration:
            col["duration"][i] = DURATION[s.duration]
        if s.kind == "instant":
            col["duration"][i] = -2
        if s.patience:
            col["patience"][i] = DURATION[s.patience]
            col["renege"][i] = STAGE[s.renege]
        until[i] = int(s.until)
        if s.kind == "queue":
            col["queue"][i] = QUEUE_STAGES.index(s.name)
    queue_stage = np.array([STAGE[q] for q in QUEUE_STAGES], np.int64)
    desk_queues = desk_layout()
    queue_desk = np.full(len(QUEUE_STAGES), -1, np.int64)
    for k in range(desk_queues.shape[0]):
        for q in desk_queues[k]:
            if q >= 0:
                queue_desk[q] = k
    max_h = max(1, max(len(d.holds) for d in DESKS))
    desk_holds = np.full((len(DESKS), max_h), -1, np.int64)
    for k, d in enumerate(DESKS):
        for j, h in enumerate(d.holds):
            desk_holds[k, j] = STAGE[h]
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
        succ=succ, n_succ=n_succ, branch_slot=col["branch"], late_slot=col["late"], record_slot=col["record"],
        duration_slot=col["duration"], until_flag=until, patience_slot=col["patience"], renege_stage=col["renege"],
        queue_of=col["queue"], queue_stage=queue_stage, queue_desk=queue_desk, desk_queues=desk_queues,
        desk_carry_period=np.array([d.carry == "period" for d in DESKS], np.int64),
        desk_places=np.array([d.mode == "places" for d in DESKS], np.int64), desk_holds=desk_holds,
        edge_of=edge_of, edge_flows=edge_flows, edge_outcome=cols["outcome"], edge_flags=edge_flags,
        edge_desk=edge_desk, edge_location=location, edge_move=move, edge_exit=cols["exit"],
        stage_kind_gone=np.array([s.kind == "gone" for s in STAGES], np.int64),
        stream_arrival_flow=np.array([FLOW[s.arrival_flow] if s.arrival_flow else -1 for s in STREAMS], np.int64),
        stream_follows=np.array([s.follows_sponsor for s in STREAMS], np.int64),
        loc_coa=np.array([lc.kind == "coa" for lc in LOCATIONS], np.int64),
        stage_reception=np.array(["reception" in s.groups for s in STAGES], np.int64),
    )


def describe() -> list[dict]:
    """The declared stages as records (for docs and the report)."""
    return [dict(stage=s.name, kind=s.kind, label=s.label, groups=", ".join(s.groups),
                 successors=", ".join(s.successors), duration=s.duration or "", branch=s.branch or "",
                 late=s.late) for s in STAGES]


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
    "detention_occupancy": ("persons in immigration detention", ("detention",), ()),
    "lvv_occupancy": ("persons in a national aliens facility (LVV)", ("lvv",), ()),
    "minors_waiting_until_18": ("rejected unaccompanied minors waiting in reception until 18", ("minors_waiting",), ()),
    "regular_pending": ("regular applications without a decision", ("regular_pending",), ()),
    "circular_workers": ("circular labour migrants at work in the Netherlands", ("circular",), ()),
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
