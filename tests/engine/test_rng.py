"""Keyed draws (engine.rng): Philox4x32-10 gives Random123's known answers; the gamma sampler
with its squeeze and precomputed constants draws exactly what Marsaglia & Tsang's test alone
draws, and its moments are the gamma law's."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ketenplan.engine import rng as G

KEY = G.replicate_key(np.random.SeedSequence(20250101))
SHAPES = (0.6, 1.0, 1.5625, 2.7777777777777777, 4.0, 11.11111111111111)


# Random123 1.09, kat_vectors: philox4x32 10 rounds (counter c0..c3, key k0 k1 -> four words)
KAT = [((0, 0, 0, 0, 0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
       ((0xFFFFFFFF,) * 6, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
       ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344, 0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]


@pytest.mark.parametrize("args, expected", KAT)
def test_philox_known_answers(args, expected):
    assert tuple(int(w) for w in G.philox4x32(*args)) == expected


def plain_gamma(key, purpose: int, case: int, shape: float, libc_cos: bool = False) -> float:
    """Marsaglia & Tsang (2000), the logarithmic test only, on the same keyed uniforms (Python);
    ``libc_cos``: the normal with the C library's cosine instead of ``rng.cos_2pi``."""
    boost = 1.0
    a = shape
    if shape < 1.0:
        boost = G.uniforms4(key, purpose, case, 0)[0] ** (1.0 / shape)
        a = shape + 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    sub = 1
    while True:
        u1, u2, u3, _ = G.uniforms4(key, purpose, case, sub)
        sub += 1
        x = math.sqrt(-2.0 * math.log(u1)) * (math.cos(2.0 * math.pi * u2) if libc_cos else G.cos_2pi(u2))
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        if math.log(u3) < 0.5 * x * x + d - d * v + d * math.log(v):
            return boost * d * v


@pytest.mark.parametrize("shape", SHAPES)
def test_gamma_equals_the_plain_acceptance_test(shape):
    cases = np.arange(3000, dtype=np.uint64) * np.uint64(7919) + (np.uint64(5) << np.uint64(56))
    for ck in cases:
        assert G.gamma(KEY, 3, ck, shape) == plain_gamma(KEY, 3, int(ck), shape)


def test_the_table_cosine_is_as_exact_as_the_c_library_s():
    """``cos_2pi(u)`` against the exact cos(2 pi u) (80-bit long double) and against the C library's
    ``cos(2 * pi * u)``: as close to the exact value (a rounded 2 pi costs the C library's version up
    to 6.4e-16 near u = 1) and within 9e-16 of it, on 32- and 53-bit uniforms and the table's own angles."""
    from numba import njit

    @njit
    def both(us):
        out = np.empty((2, us.shape[0]))
        for i in range(us.shape[0]):
            out[0, i] = G.cos_2pi(us[i])
            out[1, i] = math.cos(2.0 * math.pi * us[i])
        return out

    rng = np.random.default_rng(5)
    u = np.r_[(rng.integers(0, 2**32, 400_000) + 0.5) / 2**32, rng.random(200_000), np.arange(1024) / 1024.0,
              (np.arange(1024) + 0.5) / 1024.0, 2.0**-33, 1.0 - 2.0**-33]
    table, libc = both(u)
    assert np.abs(table - libc).max() < 9e-16
    if np.finfo(np.longdouble).eps < 1e-18:  # an extended long double (x86): the exact value to compare with
        exact = np.cos(2 * np.longdouble("3.14159265358979323846264338327950288") * u.astype(np.longdouble))
        err_table = float(np.abs(table.astype(np.longdouble) - exact).max())
        err_libc = float(np.abs(libc.astype(np.longdouble) - exact).max())
        assert err_table < 6.5e-16 and err_table <= err_libc * 1.01


@pytest.mark.parametrize("cv, mean", [(0.5, 180.0), (0.3, 60.0), (0.6, 30.0), (0.8, 400.0)])
def test_a_stay_s_days_are_the_same_with_the_c_library_s_cosine(cv, mean):
    """The table cosine changes a gamma value in its last bits at most: the day counts of stays
    (rounded up as the kernel does) are those of the C library's cosine."""
    shape = 1.0 / cv**2
    for ck in range(4000):
        a = plain_gamma(KEY, 6, ck, shape)
        b = plain_gamma(KEY, 6, ck, shape, libc_cos=True)
        assert math.ceil(a * mean / shape - 1e-9) == math.ceil(b * mean / shape - 1e-9)


def test_spec_days_equals_duration_days_for_every_family():
    # family, mean, cv, low, high (engine.rng.FAMILIES)
    dspec = np.array([[G.GAMMA, 150.0, 0.5, 0, 0], [G.GAMMA, 120.0, 0.8, 0, 0], [G.GAMMA, 98.0, 0.3, 0, 0],
                      [G.GAMMA, 40.0, 1.5, 0, 0], [G.GAMMA, 30.0, 0.0, 0, 0], [G.EXPONENTIAL, 531.4, 0, 0, 0],
                      [G.LOGNORMAL, 60.0, 0.7, 0, 0], [G.UNIFORM, 0, 0, 3.0, 10.0], [G.FIXED, 6.0, 0, 0, 0]])
    dconst = G.duration_constants(dspec)
    assert dconst[4, 0] == 0.0  # cv 0: no constants, the general path
    for row in range(dspec.shape[0]):
        if row == 4:
            continue  # a gamma of cv 0 divides by zero on either path
        f, mean, cv, lo, hi = dspec[row]
        for ck in range(1, 2000, 7):
            assert G.spec_days(KEY, 12, np.uint64(ck), dspec, dconst, row) == G.duration_days(
                KEY, 12, np.uint64(ck), int(f), mean, cv, lo, hi)


@pytest.mark.parametrize("shape", (0.6, 1.5625, 4.0))
def test_gamma_moments(shape):
    n = 20000
    x = np.array([G.gamma(KEY, 8, np.uint64(i), shape) for i in range(n)])
    # Gamma(shape, 1): mean = var = shape; 5 standard errors of each
    assert abs(x.mean() - shape) < 5 * math.sqrt(shape / n)
    se_var = math.sqrt((2 * shape**2 + 6 * shape) / n)  # var of the sample variance: (mu4 - sigma^4) / n
    assert abs(x.var() - shape) < 5 * se_var


@pytest.mark.parametrize("args, expected", KAT)
def test_the_scheduled_key_gives_random123_s_known_answers(args, expected):
    """Every keyed draw runs Philox on a scheduled key (the round keys computed once per key):
    the same four words as the ten rounds that add them up."""
    key = G.key_schedule(np.array(args[4:], np.uint64))
    assert tuple(int(w) for w in G._philox_scheduled(*(np.uint64(c) for c in args[:4]), key)) == expected


def test_scheduled_and_plain_philox_agree_on_random_counters_and_keys():
    rng = np.random.default_rng(5)
    for _ in range(2000):
        c = rng.integers(0, 2**32, 4, dtype=np.uint64)
        k = rng.integers(0, 2**32, 2, dtype=np.uint64)
        assert G._philox_scheduled(*c, G.key_schedule(k)) == G.philox4x32(*c, *k)
    u = G.uniforms4(KEY, 7, np.uint64(123456789), 3)
    a, b, c, d = G.philox4x32(123456789, 0, 7, 3, KEY[0], KEY[1])
    assert u == tuple((int(w) + 0.5) / 2**32 for w in (a, b, c, d))


def test_a_key_is_scheduled_once_and_checked():
    k = G.replicate_key(np.random.SeedSequence(1))
    assert k.shape == (G.KEY_WORDS,) and np.array_equal(G.key_schedule(k), k)
    assert np.array_equal(G.key_schedule(k[:2]), k)
    bad = k.copy()
    bad[5] ^= np.uint64(1)
    with pytest.raises(ValueError, match="round keys do not follow"):
        G.key_schedule(bad)
    with pytest.raises(ValueError, match="has 2 words"):
        G.key_schedule(k[:3])


def test_lane_wise_philox_gives_the_known_answers_and_the_draws_one_at_a_time():
    """``philox_lanes`` (many counters at once, on the vector units) gives Random123's known answers
    and, lane by lane, the words and uniforms of ``uniforms4``; lanes past ``m`` are left alone."""
    from numba import njit

    @njit
    def lanes(key, c0, c1, c2, c3, m):
        G.philox_lanes(key, c0, c1, c2, c3, m)

    @njit
    def uniform_of(w):
        return G.lane_uniform(w)

    kat = [np.array([a[j] for a, _ in KAT], np.uint32) for j in range(4)]
    for i, (args, expected) in enumerate(KAT):  # a key per counter: one lane each
        one = [np.array([a[i]], np.uint32) for a in kat]
        lanes(G.key_schedule(np.array(args[4:], np.uint64)), *one, 1)
        assert tuple(int(w[0]) for w in one) == expected
    rng = np.random.default_rng(11)
    n = 1003  # not a multiple of a vector's width: the loop's remainder too
    case = rng.integers(0, 2**63, n, dtype=np.uint64)
    purpose = rng.integers(0, 40, n).astype(np.uint32)
    sub = rng.integers(0, 5, n).astype(np.uint32)
    w = [(case & np.uint64(0xFFFFFFFF)).astype(np.uint32), (case >> np.uint64(32)).astype(np.uint32),
         purpose.copy(), sub.copy()]
    w[0][-1] = 12345  # the last lane is not run (m = n - 1): it keeps its counter
    lanes(KEY, *w, n - 1)
    assert (w[0][-1], w[2][-1], w[3][-1]) == (12345, purpose[-1], sub[-1])
    for i in range(n - 1):
        u = G.uniforms4(KEY, int(purpose[i]), case[i], int(sub[i]))
        assert tuple(uniform_of(w[j][i]) for j in range(4)) == u
