# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""fusion.could_reach's closed form in compiled code (fusion.py says what it computes and why it holds).

Why compiled: it runs for every TLS flow that ends, over each kind of evidence about it; in Python each
kind cost about 14,000 instructions (cachegrind), more than the flow's statistics. The operations are the
Python definition's, in the same order, so the doubles are the same: per kind, the masses added into the
subsets of each focal set in ascending mask order, the rest clamped at 0, the commonalities multiplied in
ascending mask order; the normalisation and the class's own mass summed in ascending mask order.
"""

cdef enum:
    SETS = 8   # the subsets of three classes as bit masks, 0 the empty set


def reaches(supports, dict masks, int bit, double level, double conflicted):
    """Whether Dempster's rule over `supports` (focal set -> mass dicts; `masks` gives each focal set's bit
    mask) gives the class of bit mask `bit` a belief of at least `level`, or leaves a normalisation below
    `conflicted`."""
    cdef double common[SETS]
    cdef double inside[SETS]
    cdef double rest, mass, norm = 0.0, own = 0.0, term
    cdef int s, m
    cdef dict support
    for s in range(SETS):
        common[s] = 1.0
    for support in supports:
        for s in range(SETS):
            inside[s] = 0.0
        rest = 1.0
        for focal, value in support.items():
            mass = value
            if mass > 0:
                rest -= mass
                m = masks[focal]
                for s in range(1, SETS):
                    if s & m == s:
                        inside[s] += mass
        if rest < 0.0:
            rest = 0.0
        for s in range(1, SETS):
            common[s] *= inside[s] + rest
    for s in range(1, SETS):   # (-1)^(|B| + 1) q(B)
        term = common[s] if _odd(s) else -common[s]
        norm += term
        if s & bit:
            own += term
    if norm < conflicted:
        return True
    return own / norm >= level


cdef inline bint _odd(int s) noexcept:
    return (s & 1) ^ (s >> 1 & 1) ^ (s >> 2 & 1)
