"""Keyed random draws: common random numbers that survive a change of inflow.

Every random quantity of a case is a function of (the replicate's key, the purpose of the draw,
the case's identity, a sub-counter), computed with the counter-based generator Philox4x32-10
(Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as 1, 2, 3"; the Random123
library's known-answer vectors are checked in the tests). Nothing is consumed in sequence, so a
case draws the same grant decision, durations and household whatever other cases exist: raising
one stream's volume adds cases but leaves every other case's draws as they were.

A case's identity (:func:`case_key`) is the part of the inflow it belongs to (a stream, or the
extra arrivals of a shock), its arrival month and its index among that part's arrivals of the
month. A family member who follows a permit holder (nareis) takes the sponsor's identity with
the top bit set.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

M0 = np.uint64(0xD2511F53)
M1 = np.uint64(0xCD9E8D57)
W0 = np.uint64(0x9E3779B9)
W1 = np.uint64(0xBB67AE85)
MASK32 = np.uint64(0xFFFFFFFF)

#: purposes of keyed draws: one counter space each (values are part of the stream definition:
#: never renumber, only add)
PURPOSES = ("month_count", "household", "decision", "return", "dublin_outcome", "col", "dublin", "rvt", "aa",
            "safe_track", "va", "appeal", "restricted_stay", "departure", "detention", "lead", "nareis_count",
            "nareis_lag", "parameters", "more", "safe_third", "lvv", "regular", "minor", "patience", "lvv_patience",
            "safe_third_stay", "clone")
P = {name: k for k, name in enumerate(PURPOSES)}

NAREIS_BIT = np.uint64(1) << np.uint64(63)
MONTH_INDEX = np.uint64(0xFFFFFFFF)  # the index reserved for a part's monthly count


def replicate_seed(seed: int, i: int) -> np.random.SeedSequence:
    """Child ``i`` of ``SeedSequence(seed)`` (the same as ``SeedSequence(seed).spawn(n)[i]`` for any n > i):
    replicate ``i``'s seed, from which :func:`replicate_key` makes its key."""
    return np.random.SeedSequence(int(seed), spawn_key=(int(i),))


def replicate_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    return [replicate_seed(seed, i) for i in range(n)]


@njit(cache=True, nogil=True, inline="always")
def _mulhilo(m, x):
    p = m * x  # both < 2^32: the product fits in 64 bits
    return p >> np.uint64(32), p & MASK32


@njit(cache=True, nogil=True)
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of the counter (c0..c3) under the key (k0, k1); four 32-bit words (as uint64)."""
    c0 = np.uint64(c0) & MASK32
    c1 = np.uint64(c1) & MASK32
    c2 = np.uint64(c2) & MASK32
    c3 = np.uint64(c3) & MASK32
    k0 = np.uint64(k0) & MASK32
    k1 = np.uint64(k1) & MASK32
    for r in range(10):
        if r > 0:
            k0 = (k0 + W0) & MASK32
            k1 = (k1 + W1) & MASK32
        hi0, lo0 = _mulhilo(M0, c0)
        hi1, lo1 = _mulhilo(M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


#: words of a key as the draws take it (:func:`key_schedule`): the two key words, then the ten
#: rounds' key words (k0, k1 of round r at 2 + 2r and 3 + 2r)
KEY_WORDS = 22


def key_schedule(key) -> np.ndarray:
    """A Philox key (2 words, or a key already scheduled) with its round keys appended: what every
    keyed draw takes as ``key`` (:data:`KEY_WORDS` words). The round keys are the ones
    :func:`philox4x32` adds up in every call (k + r W mod 2^32); computed once per key, they save
    a quarter of a draw's Philox work. Raises ValueError for anything else."""
    k = np.asarray(key)
    if k.ndim != 1 or k.shape[0] not in (2, KEY_WORDS):
        raise ValueError(f"a Philox key has 2 words (or {KEY_WORDS} scheduled), found shape {k.shape}")
    k0, k1 = int(k[0]) & 0xFFFFFFFF, int(k[1]) & 0xFFFFFFFF
    out = np.empty(KEY_WORDS, np.uint64)
    out[0], out[1] = k0, k1
    for r in range(10):
        out[2 + 2 * r] = (k0 + r * int(W0)) & 0xFFFFFFFF
        out[3 + 2 * r] = (k1 + r * int(W1)) & 0xFFFFFFFF
    if k.shape[0] == KEY_WORDS and not np.array_equal(k.astype(np.uint64), out):
        raise ValueError("a scheduled Philox key whose round keys do not follow from its first two words")
    return out


@njit(cache=True, nogil=True, inline="always")
def _philox_scheduled(c0, c1, c2, c3, key):
    """:func:`philox4x32` under a scheduled key (:func:`key_schedule`): the same four words."""
    for r in range(10):
        hi0, lo0 = _mulhilo(M0, c0)
        hi1, lo1 = _mulhilo(M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ key[2 + 2 * r], lo1, hi0 ^ c3 ^ key[3 + 2 * r], lo0
    return c0, c1, c2, c3


@njit(cache=True, nogil=True, inline="always")
def philox_lanes(key, c0, c1, c2, c3, m):
    """:func:`philox4x32` of ``m`` counters at once, in place: lane ``l`` holds the counter
    (c0[l], c1[l], c2[l], c3[l]) as 32-bit words (uint32 arrays, four separate ones) and gets its
    four output words under a scheduled ``key`` (:func:`key_schedule`); the same words as
    :func:`philox4x32`. Each round is one straight loop over the lanes, which the compiler runs on
    the processor's vector units (four to eight lanes per instruction): about 5 against 15 ns a call
    for one counter at a time, measured on nl_baseline's cases."""
    for r in range(10):
        k0 = np.uint32(key[2 + 2 * r])
        k1 = np.uint32(key[3 + 2 * r])
        for i in range(m):
            p0 = np.uint64(c0[i]) * M0
            p1 = np.uint64(c2[i]) * M1
            n0 = np.uint32(p1 >> np.uint64(32)) ^ c1[i] ^ k0
            n2 = np.uint32(p0 >> np.uint64(32)) ^ c3[i] ^ k1
            c1[i] = np.uint32(p1)
            c3[i] = np.uint32(p0)
            c0[i] = n0
            c2[i] = n2


@njit(cache=True, nogil=True, inline="always")
def lane_uniform(w):
    """A 32-bit Philox output word as :func:`uniforms4` makes it a uniform in (0, 1)."""
    return (np.float64(w) + 0.5) * (1.0 / 4294967296.0)


@njit(cache=True, nogil=True, inline="always")
def uniforms(key, purpose, case, sub):
    """Two independent uniforms in (0, 1) for (purpose, case, sub) under ``key`` (scheduled:
    :func:`key_schedule`). 53-bit resolution; never exactly 0 or 1."""
    case = np.uint64(case)
    a, b, c, d = _philox_scheduled(case & MASK32, case >> np.uint64(32), np.uint64(purpose) & MASK32,
                                   np.uint64(sub) & MASK32, key)
    u = ((a >> np.uint64(5)) * np.uint64(67108864) + (b >> np.uint64(6)) + np.uint64(1)) * (1.0 / 9007199254740994.0)
    v = ((c >> np.uint64(5)) * np.uint64(67108864) + (d >> np.uint64(6)) + np.uint64(1)) * (1.0 / 9007199254740994.0)
    return u, v


@njit(cache=True, nogil=True, inline="always")
def uniforms4(key, purpose, case, sub):
    """Four independent uniforms in (0, 1) at 32-bit resolution for (purpose, case, sub) under a
    scheduled ``key`` (:func:`key_schedule`): one Philox call, for draws where 2^-32 is fine
    (choices, flags, durations)."""
    case = np.uint64(case)
    a, b, c, d = _philox_scheduled(case & MASK32, case >> np.uint64(32), np.uint64(purpose) & MASK32,
                                   np.uint64(sub) & MASK32, key)
    f = 1.0 / 4294967296.0
    return (a + 0.5) * f, (b + 0.5) * f, (c + 0.5) * f, (d + 0.5) * f


@njit(cache=True, nogil=True, inline="always")
def uniform(key, purpose, case):
    return uniforms(key, purpose, case, 0)[0]


#: ``cos(2 pi k / 1024)`` and ``sin(2 pi k / 1024)`` for k = 0 .. 1023: the table of :func:`cos_2pi`
COS_TABLE = np.cos(2.0 * np.pi * np.arange(1024) / 1024.0)
SIN_TABLE = np.sin(2.0 * np.pi * np.arange(1024) / 1024.0)


@njit(cache=True, nogil=True, inline="always")
def cos_2pi(u):
    """``cos(2 pi u)`` for u in [0, 1): the angle-sum formula on the table's angle just below
    (2 pi k / 1024) and the rest t (less than 2 pi / 1024, where Taylor polynomials to t^6 and t^5 are
    exact in double precision); u * 1024 splits exactly into k and the rest.

    Why not ``math.cos(2 * pi * u)``: the C library's cosine took a fifth of a gamma stay's draw time
    (19 against 4 ns here), and every gamma attempt needs one (Box-Muller). Both are within 6.4e-16 of
    the exact cosine, and within 9e-16 of each other (tests/engine/test_rng.py): a gamma value may
    differ in its last bits (10-26% of 40 million draws), a stay's day count did in none of them, nor
    did any compiled input or output of the checked replicates of nl_baseline and nl_history."""
    x = u * 1024.0
    k = int(x)
    t = (x - k) * (2.0 * math.pi / 1024.0)
    t2 = t * t
    cm1 = -t2 * (0.5 - t2 * (1.0 / 24.0 - t2 * (1.0 / 720.0)))  # cos(t) - 1
    s = t * (1.0 - t2 * (1.0 / 6.0 - t2 * (1.0 / 120.0)))  # sin(t)
    return COS_TABLE[k] + (COS_TABLE[k] * cm1 - SIN_TABLE[k] * s)


@njit(cache=True, nogil=True)
def normal(key, purpose, case, sub):
    """A standard normal (Box-Muller on one counter)."""
    u, v = uniforms(key, purpose, case, sub)
    return math.sqrt(-2.0 * math.log(u)) * cos_2pi(v)


@njit(cache=True, nogil=True)
def gamma(key, purpose, case, shape):
    """A Gamma(shape, 1) draw (Marsaglia & Tsang 2000; boosted for shape < 1), using sub-counters
    1, 2, ... for its attempts."""
    a = shape + 1.0 if shape < 1.0 else shape
    d = a - 1.0 / 3.0
    return _gamma_dc(key, purpose, case, shape, d, 1.0 / math.sqrt(9.0 * d))


@njit(cache=True, nogil=True, inline="always")
def _gamma_dc(key, purpose, case, shape, d, c):
    """:func:`gamma` with its constants given: ``d = a - 1/3`` and ``c = 1 / sqrt(9 d)`` for
    ``a = shape`` (``shape + 1`` when shape < 1, then boosted by ``u ** (1 / shape)``, sub-counter 0).

    Marsaglia & Tsang's squeeze ``u3 < 1 - 0.0331 x^4`` accepts first where it can, and the
    logarithmic test decides the rest. The squeeze lies inside the acceptance region, at least
    2.4e-10 below its boundary wherever a 32-bit uniform can fall between the two (|x| > 0.0106;
    checked for shapes 1 to 1e5), far more than the rounding of the test (about 1e-16 x d, its
    terms cancel) for any stay with cv above 0.01: the same attempts are accepted as by the test
    alone, so the draws do not change; two logarithms are saved on most attempts."""
    boost = 1.0
    if shape < 1.0:
        boost = uniforms4(key, purpose, case, 0)[0] ** (1.0 / shape)
    sub = 1
    while True:
        u1, u2, u3, _ = uniforms4(key, purpose, case, sub)
        sub += 1
        x = math.sqrt(-2.0 * math.log(u1)) * cos_2pi(u2)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        x2 = x * x
        if u3 < 1.0 - 0.0331 * (x2 * x2):
            return boost * d * v
        if math.log(u3) < 0.5 * x * x + d - d * v + d * math.log(v):
            return boost * d * v


@njit(cache=True, nogil=True)
def poisson_ppf(u, lam):
    """The Poisson(lam) quantile of u (inverse CDF: monotone in u and in lam)."""
    if lam <= 0.0:
        return 0
    if lam > 600.0:
        # normal approximation with continuity correction (relative error far below the noise)
        z = _ndtri(u)
        k = math.floor(lam + z * math.sqrt(lam) + 0.5)
        return max(int(k), 0)
    p = math.exp(-lam)
    cdf = p
    k = 0
    while cdf < u and k < 100000:
        k += 1
        p *= lam / k
        cdf += p
    return k


@njit(cache=True, nogil=True)
def _ndtri(p):
    """Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9)."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
         -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
         -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
         4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)
    plow = 0.02425
    if p < plow:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - plow:
        q = math.sqrt(-2 * math.log(1 - p))
        return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


# duration families (scenario.schema.Duration.name)
FIXED, EXPONENTIAL, GAMMA, LOGNORMAL, UNIFORM = range(5)
FAMILIES = ("fixed", "exponential", "gamma", "lognormal", "uniform")


@njit(cache=True, nogil=True)
def duration_days(key, purpose, case, family, mean, cv, low, high):
    """A duration [days] of the declared family, rounded up to whole days (>= 0)."""
    if family == FIXED:
        x = mean
    elif family == EXPONENTIAL:
        x = -mean * math.log(uniforms4(key, purpose, case, 0)[0]) if mean > 0 else 0.0
    elif family == GAMMA:
        shape = 1.0 / (cv * cv)
        x = gamma(key, purpose, case, shape) * mean / shape
    elif family == LOGNORMAL:
        s2 = math.log1p(cv * cv)
        x = math.exp(math.log(max(mean, 1e-12)) - s2 / 2 + math.sqrt(s2) * normal(key, purpose, case, 0))
    else:
        x = low + uniforms4(key, purpose, case, 0)[0] * (high - low)
    return max(int(math.ceil(x - 1e-9)), 0)


@njit(cache=True, nogil=True)
def duration_constants(dspec):
    """Per row of a duration table (``family, mean, cv, low, high``): the gamma family's shape and
    Marsaglia-Tsang constants ``d`` and ``c`` (zeros for other families and for cv <= 0), so that
    :func:`spec_days` need not recompute them for every draw."""
    out = np.zeros((dspec.shape[0], 3), np.float64)
    for r in range(dspec.shape[0]):
        cv = dspec[r, 2]
        if int(dspec[r, 0]) == GAMMA and cv > 0.0:
            shape = 1.0 / (cv * cv)
            a = shape + 1.0 if shape < 1.0 else shape
            d = a - 1.0 / 3.0
            out[r, 0] = shape
            out[r, 1] = d
            out[r, 2] = 1.0 / math.sqrt(9.0 * d)
    return out


@njit(cache=True, nogil=True, inline="always")
def spec_days(key, purpose, case, dspec, dconst, row):
    """``duration_days`` for row ``row`` of a duration table, with the constants of
    :func:`duration_constants`: the same number of days. Inlined: a call that passes arrays
    costs their reference counts, more than a draw."""
    shape = dconst[row, 0]
    if shape > 0.0:
        x = _gamma_dc(key, purpose, case, shape, dconst[row, 1], dconst[row, 2]) * dspec[row, 1] / shape
        return max(int(math.ceil(x - 1e-9)), 0)
    return duration_days(key, purpose, case, int(dspec[row, 0]), dspec[row, 1], dspec[row, 2], dspec[row, 3],
                         dspec[row, 4])


def replicate_key(seed_seq: np.random.SeedSequence) -> np.ndarray:
    """The replicate's Philox key from its SeedSequence (2 words), scheduled (:func:`key_schedule`)."""
    return key_schedule(seed_seq.generate_state(2, np.uint32).astype(np.uint64))


def case_key(part: int, month: int, index: int) -> int:
    """A case's identity: inflow part (< 128), absolute month (months since year 0, < 65536) and
    index among the part's arrivals of that month (< 2^32 - 1)."""
    return (part << 56) | (month << 32) | index
