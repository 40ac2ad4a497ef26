"""Prime factorization of a composite number."""

import random
import re

NAME = "prime_factorization"
CATEGORY = "math"
DESCRIPTION = (
    "Factor a composite integer into primes. The number is a product of random primes with "
    "repetition, so its factorization is known; by unique factorization any correct product "
    "of primes (with or without exponents, in any order) equals it, which is what the verifier "
    "checks. Difficulty raises the number of prime factors from 2 to 7 and the largest prime "
    "from 40 to about 1000, so the number grows from three digits to around twelve."
)
VERSION = 1

# (number of prime factors with multiplicity, largest prime)
_LEVELS = [
    (2, 40),
    (3, 20),
    (3, 40),
    (4, 60),
    (4, 100),
    (5, 150),
    (5, 300),
    (6, 400),
    (6, 700),
    (7, 1000),
]
_MAX_ANSWER_CHARS = 300
_TERM = re.compile(r"(\d{1,7})(?:\s*\^\s*(\d{1,2}))?")


def _level(difficulty):
    return max(1, min(10, int(difficulty))) - 1


def _primes_up_to(n):
    sieve = [True] * (n + 1)
    sieve[0:2] = [False, False]
    for i in range(2, int(n**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = [False] * len(sieve[i * i :: i])
    return [i for i, is_prime in enumerate(sieve) if is_prime]


def _is_prime(n):
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


def _canonical(factors):
    out = []
    for p in sorted(set(factors)):
        k = factors.count(p)
        out.append(f"{p}^{k}" if k > 1 else str(p))
    return " * ".join(out)


def generate(rng: random.Random, difficulty: int) -> dict:
    count, largest = _LEVELS[_level(difficulty)]
    primes = _primes_up_to(largest)
    small = [p for p in primes if p < 20]
    factors = [rng.choice(primes)] + [
        rng.choice(primes if rng.random() < 0.5 else small) for _ in range(count - 1)
    ]
    n = 1
    for p in factors:
        n *= p
    prompt = (
        f"Write {n} as a product of prime numbers.\n\n"
        f"Answer format: the prime factors joined by ' * ', with a repeated prime either "
        f"repeated or written with an exponent as p^k (for example 12 = 2^2 * 3 would be "
        f"answered as 2^2 * 3). Write only the product, without '{n} ='. Write nothing else."
    )
    data = {"n": n}
    return {"prompt": prompt, "data": data, "reference": _canonical(factors)}


def verify(instance: dict, answer: str) -> float:
    try:
        if not isinstance(answer, str) or len(answer) > _MAX_ANSWER_CHARS:
            return 0.0
        n = instance["data"]["n"]
        terms = re.split(r"\s*[*×x·]\s*", answer.strip())
        product = 1
        for term in terms:
            m = _TERM.fullmatch(term)
            if not m:
                return 0.0
            p = int(m.group(1))
            k = int(m.group(2)) if m.group(2) else 1
            if k < 1 or n % p or not _is_prime(p):
                return 0.0
            product *= p**k
            if product > n:
                return 0.0
        return 1.0 if product == n else 0.0
    except Exception:
        return 0.0


def solve(instance: dict) -> str:
    """Trial division."""
    n = instance["data"]["n"]
    factors, d = [], 2
    while d * d <= n:
        while n % d == 0:
            factors.append(d)
            n //= d
        d += 1
    if n > 1:
        factors.append(n)
    return _canonical(factors)
