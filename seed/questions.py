"""Practice content for the demo exercises: a question per exercise, generated from its skill.

Each skill's warm-up, practice and challenge exercise (``level`` 0, 1, 2) gets a question whose
answer the generator computes (``7 + 5``, ``3/4 + 1/8``, the mean of a list, ``2x + 3 = 11``),
three distractors made from the usual mistakes (off by one, the wrong operation, a digit
swapped), two hints (the skill's idea, then the first step) and a worked explanation. Numbers
come from a generator seeded by the item id, so the demo is the same on every run.

Skills without a generator of their own get one of their topic's; :func:`question` falls back to
a question about the skill's own description only for a topic it does not know.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from graph.models import Skill


@dataclass(frozen=True, slots=True)
class Question:
    """One exercise's practice content; ``distractors`` are wrong choices (none: free answer)."""

    prompt: str
    answer: str
    distractors: tuple[str, ...]
    hints: tuple[str, str]
    explanation: str


Gen = Callable[[random.Random, int, Skill], Question]


def _frac(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _num(x: float | Fraction | int) -> str:
    if isinstance(x, Fraction):
        x = float(x)
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.3f}".rstrip("0").rstrip(".")


def _wrong(rng: random.Random, answer: int | float, spread: int = 3) -> tuple[str, ...]:
    """Three distinct numeric near misses of ``answer``."""
    out: list[str] = []
    step = 1 if isinstance(answer, int) or float(answer).is_integer() else 0.1
    candidates = [answer + k * step for k in range(-spread, spread + 1) if k]
    candidates += [answer * 10, answer + 10 * step, answer - 10 * step]
    rng.shuffle(candidates)
    for c in candidates:
        text = _num(round(c, 3))
        if c >= 0 and text != _num(answer) and text not in out:
            out.append(text)
        if len(out) == 3:
            break
    return tuple(out)


def _arith(rng: random.Random, op: str, a: int, b: int, skill: Skill) -> Question:
    value = {"+": a + b, "-": a - b, "×": a * b, "÷": a // b}[op]
    name = {"+": "add", "-": "subtract", "×": "multiply", "÷": "divide"}[op]
    wrong = set(_wrong(rng, value))
    swapped = {"+": a - b, "-": a + b, "×": a + b, "÷": a - b}[op]
    if swapped != value and swapped >= 0:
        wrong = {_num(swapped), *sorted(wrong)[:2]}
    first = {
        "+": f"Start at {a} and count on {b}.",
        "-": f"Start at {a} and count back {b}, or ask what to add to {b} to make {a}.",
        "×": f"{a} × {b} is {b} groups of {a}.",
        "÷": f"How many groups of {b} make {a}? Think of {b} × ? = {a}.",
    }[op]
    return Question(
        prompt=f"What is {a} {op} {b}?",
        answer=_num(value),
        distractors=tuple(sorted(wrong))[:3],
        hints=(skill.description or f"You need to {name}.", first),
        explanation=f"{a} {op} {b} = {_num(value)}.",
    )


# -- counting ---------------------------------------------------------------------------------


def _after(lo: int, hi: int, before: bool = False) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        n = rng.randint(lo + 1, hi - 1)
        value = n - 1 if before else n + 1
        word = "before" if before else "after"
        return Question(
            f"Which number comes just {word} {n}?",
            str(value),
            _wrong(rng, value, 2),
            (skill.description, f"Count {'back' if before else 'on'} one from {n}."),
            f"The number just {word} {n} is {value}.",
        )

    return gen


def _count_things(hi: int, mark: str) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        n = rng.randint(2 + level, hi)
        return Question(
            f"How many are there? {' '.join(mark * n)}",
            str(n),
            _wrong(rng, n, 2),
            (skill.description, "Touch each one as you say the next number word."),
            f"Counting one by one gives {n}.",
        )

    return gen


def _skip(steps: tuple[int, ...]) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        step = rng.choice(steps)
        start = step * rng.randint(1, 6)
        seq = [start + step * k for k in range(4)]
        value = seq[-1] + step
        return Question(
            f"What comes next: {', '.join(map(str, seq))}, ...?",
            str(value),
            _wrong(rng, value, 2),
            (skill.description, f"Each number is {step} more than the one before."),
            f"The numbers go up in {step}s, so after {seq[-1]} comes {value}.",
        )

    return gen


def _compare(hi: int) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        a, b = rng.sample(range(1, hi), 2)
        big = max(a, b)
        return Question(
            f"Which number is greater: {a} or {b}?",
            str(big),
            (str(min(a, b)), "they are equal"),
            (skill.description, "Compare the tens first, then the ones."),
            f"{big} is greater than {min(a, b)}.",
        )

    return gen


def _odd_even(rng: random.Random, level: int, skill: Skill) -> Question:
    n = rng.randint(3, 20 * (level + 1) + 9)
    answer = "even" if n % 2 == 0 else "odd"
    return Question(
        f"Is {n} odd or even?",
        answer,
        ("odd" if answer == "even" else "even",),
        (skill.description, f"Look at the last digit of {n}."),
        f"{n} ends in {n % 10}, so it is {answer}.",
    )


def _halfway(rng: random.Random, level: int, skill: Skill) -> Question:
    a = rng.randint(0, 8) * 10
    b = a + 20
    value = (a + b) // 2
    return Question(
        f"Which number is halfway between {a} and {b} on the number line?",
        str(value),
        _wrong(rng, value, 3),
        (skill.description, "Find the number the same distance from both ends."),
        f"{a} + 10 = {value} = {b} - 10.",
    )


def _zero(rng: random.Random, level: int, skill: Skill) -> Question:
    n = rng.randint(2, 9)
    return Question(
        f"You have {n} apples and eat all {n}. How many apples are left?",
        "0",
        ("1", str(n), str(n - 1)),
        (skill.description, "Taking all away leaves an empty set."),
        f"{n} - {n} = 0: nothing is left.",
    )


def _numeral(rng: random.Random, level: int, skill: Skill) -> Question:
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    n = rng.randint(1, 10)
    return Question(
        f"Which numeral is '{words[n]}'?",
        str(n),
        _wrong(rng, n, 2),
        (skill.description, f"Count up from one until you say '{words[n]}'."),
        f"'{words[n]}' is written {n}.",
    )


# -- addition and subtraction -----------------------------------------------------------------


def _add_sub(hi: int, op: str) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        top = max(4, hi * (level + 2) // 4)
        a = rng.randint(top // 3 + 1, top)
        b = rng.randint(1, a if op == "-" else max(1, top - a))
        return _arith(rng, op, a, b, skill)

    return gen


def _missing(total: int | None) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        whole = total or rng.randint(8, 12 + 6 * level)
        a = rng.randint(1, whole - 1)
        value = whole - a
        return Question(
            f"{a} + ? = {whole}. What is the missing number?",
            str(value),
            _wrong(rng, value, 2),
            (skill.description, f"Count on from {a} to {whole}."),
            f"{whole} - {a} = {value}, so {a} + {value} = {whole}.",
        )

    return gen


def _word_add_sub(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b = rng.randint(5, 20 + 10 * level), rng.randint(2, 9)
    if rng.random() < 0.5:
        prompt = f"Mia has {a} stickers and gets {b} more. How many stickers does she have now?"
        value, how = a + b, f"{a} + {b} = {a + b}"
    else:
        prompt = f"Mia has {a} stickers and gives away {b}. How many stickers are left?"
        value, how = a - b, f"{a} - {b} = {a - b}"
    return Question(
        prompt,
        str(value),
        _wrong(rng, value, 2),
        (skill.description, "Decide first: do you put together or take away?"),
        f"{how} stickers.",
    )


def _estimate(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b = rng.randint(11, 89), rng.randint(11, 89)
    ra, rb = round(a, -1), round(b, -1)
    value = ra + rb
    return Question(
        f"Round each number to the nearest ten, then add: {a} + {b}",
        str(value),
        (str(a + b), str(value + 10), str(value - 10)),
        (skill.description, f"{a} rounds to {ra}."),
        f"{ra} + {rb} = {value}.",
    )


def _multi_step(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b, c = rng.randint(20, 60), rng.randint(5, 30), rng.randint(3, 15)
    value = a + b - c
    return Question(
        f"What is {a} + {b} - {c}?",
        str(value),
        _wrong(rng, value, 3),
        (skill.description, f"Work left to right: first {a} + {b}."),
        f"{a} + {b} = {a + b}, then {a + b} - {c} = {value}.",
    )


def _fact_family(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return Question(
        f"{a} + {b} = {a + b}. So what is {a + b} - {a}?",
        str(b),
        _wrong(rng, b, 2),
        (skill.description, "Addition and subtraction undo each other."),
        f"{a + b} - {a} = {b}, because {a} + {b} = {a + b}.",
    )


# -- place value and powers -------------------------------------------------------------------


def _digit_place(places: tuple[str, ...]) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        n = rng.randint(10 ** (len(places) - 1), 10 ** len(places) - 1)
        k = rng.randrange(len(places))
        digits = str(n)
        value = digits[len(digits) - 1 - k]
        others = [d for d in digits if d != value] + [str((int(value) + j) % 10) for j in (1, 2, 3)]
        return Question(
            f"In {n}, which digit is in the {places[k]} place?",
            value,
            tuple(dict.fromkeys(others))[:3],
            (skill.description, f"Read the places from the right: {', '.join(places)}."),
            f"{n}: the {places[k]} digit is {value}.",
        )

    return gen


def _expanded(rng: random.Random, level: int, skill: Skill) -> Question:
    h, t, o = rng.randint(1, 9), rng.randint(0, 9), rng.randint(1, 9)
    value = 100 * h + 10 * t + o
    return Question(
        f"What number is {100 * h} + {10 * t} + {o}?",
        str(value),
        (f"{h}{o}{t}", str(h + t + o), str(value + 10)),
        (skill.description, "Write hundreds, tens and ones in their places."),
        f"{h} hundreds, {t} tens and {o} ones make {value}.",
    )


def _round_to(unit: int, hi: int) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        n = rng.randint(unit + 1, hi)
        if n % unit == unit // 2:
            n += 1
        value = int(round(n / unit)) * unit
        other = value - unit if value > n else value + unit
        return Question(
            f"Round {n} to the nearest {unit}.",
            str(value),
            (str(other), str(n), str(value + 2 * unit)),
            (skill.description, f"Is {n} nearer {n // unit * unit} or {n // unit * unit + unit}?"),
            f"{n} is nearer {value} than {other}.",
        )

    return gen


def _power(rng: random.Random, level: int, skill: Skill) -> Question:
    base = 10 if skill.id == "powers-of-ten" else rng.randint(2, 5)
    exp = rng.randint(2, 3 + level)
    value = base**exp
    return Question(
        f"What is {base}^{exp}?",
        str(value),
        (str(base * exp), str(base ** (exp - 1)), str(base ** (exp + 1))),
        (skill.description, f"Multiply {exp} copies of {base}."),
        f"{' × '.join([str(base)] * exp)} = {value}.",
    )


def _scientific(rng: random.Random, level: int, skill: Skill) -> Question:
    a, k = rng.randint(2, 9), rng.randint(3, 6)
    value = a * 10**k
    return Question(
        f"Write {a} × 10^{k} as an ordinary number.",
        str(value),
        (str(a * 10 ** (k - 1)), str(a * 10 ** (k + 1)), f"{a}{k}"),
        (skill.description, f"Multiplying by 10^{k} moves the digits {k} places left."),
        f"{a} followed by {k} zeros: {value}.",
    )


# -- multiplication and division --------------------------------------------------------------


def _times(tables: tuple[int, ...], hi: int = 10) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        return _arith(rng, "×", rng.randint(2, hi), rng.choice(tables), skill)

    return gen


def _divide(rng: random.Random, level: int, skill: Skill) -> Question:
    b, q = rng.randint(2, 9), rng.randint(2, 9 + 3 * level)
    return _arith(rng, "÷", b * q, b, skill)


def _remainder(rng: random.Random, level: int, skill: Skill) -> Question:
    b, q = rng.randint(3, 9), rng.randint(3, 12)
    r = rng.randint(1, b - 1)
    n = b * q + r
    return Question(
        f"What is the remainder when {n} is divided by {b}?",
        str(r),
        tuple(str(x) for x in sorted({(r + 1) % b, q, max(0, r - 1)} - {r}))[:3],
        (skill.description, f"Find the largest multiple of {b} that is not more than {n}."),
        f"{b} × {q} = {b * q} and {n} - {b * q} = {r}.",
    )


def _multi_digit(rng: random.Random, level: int, skill: Skill) -> Question:
    return _arith(
        rng,
        "×",
        rng.randint(12, 99),
        rng.randint(3 if level < 2 else 11, 9 + 20 * (level // 2)),
        skill,
    )


def _long_division(rng: random.Random, level: int, skill: Skill) -> Question:
    b, q = rng.randint(3, 9 + 3 * level), rng.randint(12, 99)
    return _arith(rng, "÷", b * q, b, skill)


def _factor(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b = rng.randint(2, 9), rng.randint(3, 9)
    n = a * b
    wrong = tuple(str(x) for x in range(2, n) if n % x and x != a)[:3]
    return Question(
        f"Which of these is a factor of {n}?",
        str(a),
        wrong,
        (skill.description, "A factor divides the number with no remainder."),
        f"{n} = {a} × {b}, so {a} is a factor of {n}.",
    )


def _prime(rng: random.Random, level: int, skill: Skill) -> Question:
    primes = [p for p in range(11, 60) if all(p % d for d in range(2, p))]
    p = rng.choice(primes)
    composites = rng.sample([n for n in range(10, 60) if n not in primes and n % 5], 3)
    return Question(
        "Which of these numbers is prime?",
        str(p),
        tuple(map(str, composites)),
        (skill.description, "A prime has exactly two factors: 1 and itself."),
        f"{p} has no factor but 1 and {p}; each of the others has more.",
    )


def _gcf(rng: random.Random, level: int, skill: Skill) -> Question:
    g = rng.randint(2, 9)
    a, b = g * rng.choice((2, 3, 5)), g * rng.choice((7, 4, 9))
    value = math.gcd(a, b)
    return Question(
        f"What is the greatest common factor of {a} and {b}?",
        str(value),
        tuple(
            str(x) for x in dict.fromkeys((1, a * b // value, value * 2, value + 1)) if x != value
        )[:3],
        (skill.description, f"List the factors of {a}, then find the largest that divides {b}."),
        f"The largest number dividing both {a} and {b} is {value}.",
    )


def _order_ops(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b, c = rng.randint(2, 20), rng.randint(2, 9), rng.randint(2, 9)
    value = a + b * c
    return Question(
        f"What is {a} + {b} × {c}?",
        str(value),
        (str((a + b) * c), str(value + 1), str(a * b + c)),
        (skill.description, "Multiply before you add."),
        f"{b} × {c} = {b * c} first, then {a} + {b * c} = {value}.",
    )


# -- fractions --------------------------------------------------------------------------------


def _fraction_op(op: str, like: bool = False, whole: bool = False) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        d1 = rng.randint(2, 6 + 2 * level)
        d2 = d1 if like else rng.choice([d for d in range(2, 10) if d != d1])
        x = Fraction(rng.randint(1, d1 - 1), d1)
        y = Fraction(rng.randint(2, 9)) if whole else Fraction(rng.randint(1, d2 - 1), d2)
        value = {"+": x + y, "-": x - y, "×": x * y, "÷": x / y}[op]
        naive = Fraction(x.numerator + y.numerator, x.denominator + y.denominator)
        wrong = [naive, value + Fraction(1, value.denominator), x * y if op != "×" else x + y]
        texts = tuple(dict.fromkeys(_frac(w) for w in wrong if w != value and w > 0))[:3]
        steps = {
            "+": "Write both with a common denominator, then add the numerators.",
            "-": "Write both with a common denominator, then subtract the numerators.",
            "×": "Multiply the numerators and multiply the denominators.",
            "÷": "Multiply by the reciprocal of the second fraction.",
        }[op]
        return Question(
            f"What is {_frac(x)} {op} {_frac(y)}? Give the answer in lowest terms.",
            _frac(value),
            texts,
            (skill.description, steps),
            f"{_frac(x)} {op} {_frac(y)} = {_frac(value)}.",
        )

    return gen


def _equivalent(rng: random.Random, level: int, skill: Skill) -> Question:
    d = rng.randint(2, 9)
    n, k = rng.randint(1, d - 1), rng.randint(2, 5)
    return Question(
        f"{n}/{d} = ?/{d * k}. What is the missing numerator?",
        str(n * k),
        (str(n + k), str(n * k + 1), str(d * k - n)),
        (skill.description, f"The denominator was multiplied by {k}."),
        f"Multiply top and bottom by {k}: {n}/{d} = {n * k}/{d * k}.",
    )


def _simplify(rng: random.Random, level: int, skill: Skill) -> Question:
    f = Fraction(rng.randint(1, 6), rng.randint(7, 11))
    k = rng.randint(2, 6)
    shown = f"{f.numerator * k}/{f.denominator * k}"
    return Question(
        f"Simplify {shown} to lowest terms.",
        _frac(f),
        (
            f"{f.numerator * k // 1}/{f.denominator}",
            f"{f.numerator + 1}/{f.denominator}",
            f"{f.numerator}/{f.denominator + 1}",
        ),
        (skill.description, f"Divide the numerator and denominator by {k}."),
        f"{shown} = {_frac(f)} after dividing both by {k}.",
    )


def _compare_fractions(rng: random.Random, level: int, skill: Skill) -> Question:
    while True:
        a = Fraction(rng.randint(1, 8), rng.randint(2, 9))
        b = Fraction(rng.randint(1, 8), rng.randint(2, 9))
        if a != b and a < 1 and b < 1:
            break
    big = max(a, b)
    return Question(
        f"Which is greater: {_frac(a)} or {_frac(b)}?",
        _frac(big),
        (_frac(min(a, b)),),
        (skill.description, "Write both with the same denominator and compare numerators."),
        f"{_frac(a)} = {float(a):.3f}... and {_frac(b)} = {float(b):.3f}..., so {_frac(big)} "
        "is greater.",
    )


def _mixed(rng: random.Random, level: int, skill: Skill) -> Question:
    d = rng.randint(2, 8)
    w, n = rng.randint(1, 5), rng.randint(1, d - 1)
    improper = w * d + n
    return Question(
        f"Write {w} {n}/{d} as an improper fraction.",
        f"{improper}/{d}",
        (f"{w * n + d}/{d}", f"{w + n}/{d}", f"{improper}/{d * w}"),
        (skill.description, f"{w} wholes are {w * d}/{d}."),
        f"{w} × {d} + {n} = {improper}, so {w} {n}/{d} = {improper}/{d}.",
    )


def _fraction_of(rng: random.Random, level: int, skill: Skill) -> Question:
    d = rng.choice((2, 3, 4, 5, 10))
    n = rng.randint(1, d - 1) if level else 1
    amount = d * rng.randint(2, 12)
    value = amount * n // d
    return Question(
        f"What is {n}/{d} of {amount}?",
        str(value),
        _wrong(rng, value, 3),
        (skill.description, f"Divide {amount} into {d} equal parts, then take {n}."),
        f"{amount} ÷ {d} = {amount // d}, and {n} × {amount // d} = {value}.",
    )


def _unit_fraction(rng: random.Random, level: int, skill: Skill) -> Question:
    d = rng.randint(2, 10)
    return Question(
        f"A cake is cut into {d} equal pieces. What fraction of the cake is one piece?",
        f"1/{d}",
        (f"{d}/1", f"1/{d + 1}", f"{d - 1}/{d}"),
        (skill.description, "One piece out of how many equal pieces?"),
        f"One of {d} equal parts is 1/{d}.",
    )


# -- decimals and percentages -----------------------------------------------------------------


def _decimal_op(op: str) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        a = Fraction(rng.randint(11, 99), 10)
        b = (
            Fraction(rng.randint(2, 9), 10 if op in "+-" else 1)
            if op != "÷"
            else Fraction(rng.choice((2, 4, 5)))
        )
        if op == "÷":
            a = b * Fraction(rng.randint(11, 99), 10)
        value = {"+": a + b, "-": a - b, "×": a * b, "÷": a / b}[op]
        return Question(
            f"What is {_num(a)} {op} {_num(b)}?",
            _num(value),
            tuple(
                dict.fromkeys(
                    _num(value + d)
                    for d in (Fraction(1, 10), Fraction(-1, 10), Fraction(1))
                    if value + d > 0
                )
            )[:3],
            (skill.description, "Line up the decimal points (or work in tenths)."),
            f"{_num(a)} {op} {_num(b)} = {_num(value)}.",
        )

    return gen


def _percent_of(rng: random.Random, level: int, skill: Skill) -> Question:
    p = rng.choice((10, 20, 25, 50, 75, 5, 15))
    amount = rng.choice((20, 40, 60, 80, 120, 200, 300))
    value = Fraction(p * amount, 100)
    return Question(
        f"What is {p}% of {amount}?",
        _num(value),
        tuple(
            dict.fromkeys(
                _num(x) for x in (value * 2, value + 10, Fraction(amount, p)) if x != value
            )
        )[:3],
        (skill.description, f"{p}% means {p} out of every 100."),
        f"{p}/100 × {amount} = {_num(value)}.",
    )


def _to_decimal(rng: random.Random, level: int, skill: Skill) -> Question:
    f = rng.choice(
        (
            Fraction(1, 2),
            Fraction(1, 4),
            Fraction(3, 4),
            Fraction(1, 5),
            Fraction(2, 5),
            Fraction(3, 10),
            Fraction(7, 10),
            Fraction(1, 8),
        )
    )
    return Question(
        f"Write {_frac(f)} as a decimal.",
        _num(f),
        tuple(
            dict.fromkeys(
                x
                for x in (
                    f"0.{f.numerator}{f.denominator}",
                    f"{f.numerator}.{f.denominator}",
                    _num(f + Fraction(1, 10)),
                )
                if x != _num(f)
            )
        )[:3],
        (skill.description, f"Divide {f.numerator} by {f.denominator}."),
        f"{f.numerator} ÷ {f.denominator} = {_num(f)}.",
    )


def _compare_decimals(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b = rng.sample([0.3, 0.25, 0.7, 0.65, 0.09, 0.1, 0.45, 0.5, 0.8, 0.75], 2)
    big = max(a, b)
    return Question(
        f"Which is greater: {a} or {b}?",
        str(big),
        (str(min(a, b)),),
        (skill.description, "Compare tenths first, then hundredths."),
        f"{big} > {min(a, b)}.",
    )


def _percent_change(rng: random.Random, level: int, skill: Skill) -> Question:
    old = rng.choice((20, 40, 50, 80, 200))
    p = rng.choice((10, 25, 50))
    new = old + old * p // 100
    return Question(
        f"A price rises from {old} to {new}. What is the percentage increase?",
        f"{p}%",
        tuple(f"{x}%" for x in (new - old, p + 10, 100 - p) if x != p)[:3],
        (skill.description, "Divide the change by the original amount."),
        f"({new} - {old}) / {old} = {p}/100 = {p}%.",
    )


# -- measurement and geometry -----------------------------------------------------------------


def _rect(kind: str) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        w, h = rng.randint(2, 6 + 3 * level), rng.randint(2, 9)
        area, perim = w * h, 2 * (w + h)
        value = {
            "perimeter": perim,
            "area": area,
            "triangle": area // 2 if area % 2 == 0 else area,
        }[kind]
        if kind == "triangle" and area % 2:
            w += 1
            area = w * h
            value = area // 2
        shape = "right triangle with legs" if kind == "triangle" else "rectangle"
        what = "area" if kind != "perimeter" else "perimeter"
        unit = "cm²" if what == "area" else "cm"
        rule = {
            "perimeter": "Add all four sides: 2 × (length + width).",
            "area": "Multiply the length by the width.",
            "triangle": "Half of base × height.",
        }[kind]
        return Question(
            f"What is the {what} of a {shape} {w} cm by {h} cm, in {unit}?",
            str(value),
            tuple(
                str(x) for x in dict.fromkeys((perim, area, w + h, area // 2 or 1)) if x != value
            )[:3],
            (skill.description, rule),
            f"{rule.split(':')[0]}: {value} {unit}.",
        )

    return gen


def _volume(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b, c = rng.randint(2, 6), rng.randint(2, 6), rng.randint(2, 5 + level)
    value = a * b * c
    return Question(
        f"What is the volume of a cuboid {a} cm × {b} cm × {c} cm, in cm³?",
        str(value),
        (str(a * b + c), str(2 * (a * b + b * c + a * c)), str(value + a)),
        (skill.description, "Multiply length × width × height."),
        f"{a} × {b} × {c} = {value} cm³.",
    )


def _convert(rng: random.Random, level: int, skill: Skill) -> Question:
    big, small, factor = rng.choice(
        (("m", "cm", 100), ("km", "m", 1000), ("kg", "g", 1000), ("L", "mL", 1000))
    )
    n = rng.randint(2, 9)
    value = n * factor
    return Question(
        f"How many {small} are in {n} {big}?",
        str(value),
        (str(n * factor // 10), str(n * factor * 10), str(n + factor)),
        (skill.description, f"1 {big} = {factor} {small}."),
        f"{n} × {factor} = {value} {small}.",
    )


def _clock(rng: random.Random, level: int, skill: Skill) -> Question:
    h = rng.randint(1, 12)
    m = 0 if skill.id == "tell-time-hour" else rng.choice((15, 30, 45, 5, 20, 40))
    answer = f"{h}:{m:02d}"
    pos = 12 if m == 0 else m // 5
    return Question(
        f"The short hand points at {h} and the long hand points at {pos}. What time is it?",
        answer,
        tuple(
            dict.fromkeys(
                x
                for x in (
                    f"{pos}:{h * 5 % 60:02d}",
                    f"{h % 12 + 1}:{m:02d}",
                    f"{h}:{(m + 30) % 60:02d}",
                )
                if x != answer
            )
        )[:3],
        (
            skill.description,
            "The short hand tells the hour, the long hand the minutes (each number is 5 minutes).",
        ),
        f"Hour {h}, minutes {m}: {answer}.",
    )


def _elapsed(rng: random.Random, level: int, skill: Skill) -> Question:
    start = rng.randint(7, 15)
    mins = rng.choice((30, 45, 90, 75, 120, 150))
    end_m = start * 60 + mins
    answer = f"{end_m // 60}:{end_m % 60:02d}"
    return Question(
        f"A film starts at {start}:00 and lasts {mins} minutes. When does it end?",
        answer,
        tuple(
            dict.fromkeys(
                x
                for x in (
                    f"{start + 1}:{mins % 60:02d}",
                    f"{start}:{mins % 60:02d}",
                    f"{end_m // 60 + 1}:{end_m % 60:02d}",
                )
                if x != answer
            )
        )[:3],
        (skill.description, f"{mins} minutes is {mins // 60} h {mins % 60} min."),
        f"{start}:00 + {mins} min = {answer}.",
    )


def _coins(rng: random.Random, level: int, skill: Skill) -> Question:
    coins = sorted(rng.choices((1, 2, 5, 10, 20, 50), k=3 + level), reverse=True)
    value = sum(coins)
    return Question(
        f"How many cents are {' + '.join(f'{c}c' for c in coins)}?",
        str(value),
        _wrong(rng, value, 5),
        (skill.description, "Add the largest coins first."),
        f"{' + '.join(map(str, coins))} = {value} cents.",
    )


def _polygon(rng: random.Random, level: int, skill: Skill) -> Question:
    shapes = {"triangle": 3, "quadrilateral": 4, "pentagon": 5, "hexagon": 6, "octagon": 8}
    name = rng.choice(sorted(shapes))
    n = shapes[name]
    return Question(
        f"How many sides does a {name} have?",
        str(n),
        tuple(str(x) for x in {3, 4, 5, 6, 8} - {n})[:3],
        (skill.description, "Count the straight sides around the shape."),
        f"A {name} has {n} sides.",
    )


def _angle_sum(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b = rng.randint(30, 80), rng.randint(30, 70)
    value = 180 - a - b
    return Question(
        f"A triangle has angles of {a}° and {b}°. What is the third angle, in degrees?",
        str(value),
        (str(360 - a - b), str(value + 10), str(a + b)),
        (skill.description, "The angles of a triangle add up to 180°."),
        f"180 - {a} - {b} = {value}°.",
    )


def _pythagoras(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b, c = rng.choice(((3, 4, 5), (5, 12, 13), (8, 15, 17), (7, 24, 25)))
    k = rng.randint(1, 2 + level)
    return Question(
        f"A right triangle has legs {a * k} and {b * k}. How long is the hypotenuse?",
        str(c * k),
        (str((a + b) * k), str(c * k + 1), str(b * k + 1)),
        (skill.description, "c² = a² + b²."),
        f"{a * k}² + {b * k}² = {(c * k) ** 2} = {c * k}².",
    )


def _right_angle_kind(rng: random.Random, level: int, skill: Skill) -> Question:
    angle = rng.choice((30, 45, 60, 90, 120, 150, 170))
    kind = "acute" if angle < 90 else "right" if angle == 90 else "obtuse"
    return Question(
        f"Is an angle of {angle}° acute, right or obtuse?",
        kind,
        tuple(k for k in ("acute", "right", "obtuse") if k != kind),
        (skill.description, "Compare it with a right angle, 90°."),
        f"{angle}° is {'less than' if angle < 90 else 'equal to' if angle == 90 else 'more than'} "
        f"90°, so it is {kind}.",
    )


def _coordinates(rng: random.Random, level: int, skill: Skill) -> Question:
    x, y = rng.randint(1, 9), rng.randint(1, 9)
    if skill.id == "coordinates-four-quadrants":
        x, y = x * rng.choice((1, -1)), y * rng.choice((1, -1))
    dx, dy = rng.randint(1, 4), rng.randint(1, 4)
    answer = f"({x + dx}, {y + dy})"
    return Question(
        f"Start at ({x}, {y}). Move {dx} right and {dy} up. Where are you?",
        answer,
        (f"({x + dy}, {y + dx})", f"({x - dx}, {y + dy})", f"({x + dx}, {y - dy})"),
        (skill.description, "Right adds to x, up adds to y."),
        f"x: {x} + {dx} = {x + dx}; y: {y} + {dy} = {y + dy}.",
    )


def _solid(rng: random.Random, level: int, skill: Skill) -> Question:
    solids = {
        "cube": 6,
        "cuboid": 6,
        "square-based pyramid": 5,
        "triangular prism": 5,
        "tetrahedron": 4,
    }
    name = rng.choice(sorted(solids))
    n = solids[name]
    return Question(
        f"How many faces does a {name} have?",
        str(n),
        tuple(str(x) for x in sorted({4, 5, 6, 8} - {n}))[:3],
        (skill.description, "Count the flat surfaces, including the one it stands on."),
        f"A {name} has {n} faces.",
    )


def _position(rng: random.Random, level: int, skill: Skill) -> Question:
    things = ["cat", "ball", "book", "cup", "hat"]
    a, b = rng.sample(things, 2)
    word, opposite = rng.choice(
        (("above", "below"), ("in front of", "behind"), ("left of", "right of"))
    )
    return Question(
        f"The {a} is {word} the {b}. So the {b} is ... the {a}?",
        opposite,
        tuple(
            w
            for w in ("above", "below", "in front of", "behind", "left of", "right of")
            if w not in (word, opposite)
        )[:3],
        (skill.description, "Swap the two things: the position word flips too."),
        f"If the {a} is {word} the {b}, the {b} is {opposite} the {a}.",
    )


def _symmetry(rng: random.Random, level: int, skill: Skill) -> Question:
    shapes = {
        "square": 4,
        "rectangle": 2,
        "equilateral triangle": 3,
        "regular hexagon": 6,
        "circle segment (semicircle)": 1,
        "regular pentagon": 5,
    }
    name = rng.choice(sorted(shapes))
    n = shapes[name]
    return Question(
        f"How many lines of symmetry does {'an' if name[0] in 'aeiou' else 'a'} {name} have?",
        str(n),
        tuple(str(x) for x in sorted({1, 2, 3, 4, 5, 6} - {n}))[:3],
        (skill.description, "Imagine folding it so the two halves match exactly."),
        f"A {name} folds onto itself along {n} line(s).",
    )


def _parallel(rng: random.Random, level: int, skill: Skill) -> Question:
    a = rng.choice((15, 30, 40, 55, 70))
    return Question(
        f"Two lines meet at a right angle. One makes {a}° with a third line through the same "
        "point inside the right angle. What angle does the third line make with the other?",
        str(90 - a),
        (str(180 - a), str(a), str(90 + a)),
        (skill.description, "Perpendicular lines meet at 90°."),
        f"The two parts of the right angle add to 90°: 90 - {a} = {90 - a}°.",
    )


def _translate(rng: random.Random, level: int, skill: Skill) -> Question:
    x, y = rng.randint(-6, 6), rng.randint(-6, 6)
    if rng.random() < 0.5:
        answer = f"({-x}, {y})"
        how, wrong = "Reflect in the y-axis", (f"({x}, {-y})", f"({-x}, {-y})", f"({y}, {x})")
        step = "a reflection in the y-axis changes the sign of x"
    else:
        answer = f"({x}, {-y})"
        how, wrong = "Reflect in the x-axis", (f"({-x}, {y})", f"({-x}, {-y})", f"({y}, {x})")
        step = "a reflection in the x-axis changes the sign of y"
    wrong = tuple(dict.fromkeys(w for w in wrong if w != answer))
    return Question(
        f"{how} the point ({x}, {y}). Where does it land?",
        answer,
        wrong,
        (skill.description, step.capitalize() + "."),
        f"{step}: {answer}.",
    )


def _surface(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b, c = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 4 + level)
    value = 2 * (a * b + b * c + a * c)
    return Question(
        f"What is the surface area of a cuboid {a} cm × {b} cm × {c} cm, in cm²?",
        str(value),
        (str(a * b * c), str(a * b + b * c + a * c), str(value + 2)),
        (skill.description, "Add the areas of all six faces: they come in three equal pairs."),
        f"2 × ({a}×{b} + {b}×{c} + {a}×{c}) = {value} cm².",
    )


def _circle(rng: random.Random, level: int, skill: Skill) -> Question:
    r = rng.randint(1, 10)
    if level == 0:
        return Question(
            f"A circle has radius {r} cm. What is its diameter, in cm?",
            str(2 * r),
            (str(r), str(r * r), str(4 * r)),
            (skill.description, "The diameter is twice the radius."),
            f"2 × {r} = {2 * r} cm.",
        )
    value = round(3.14 * r * r, 2)
    return Question(
        f"Using π ≈ 3.14, what is the area of a circle of radius {r} cm, in cm²?",
        _num(value),
        (_num(round(3.14 * 2 * r, 2)), _num(round(3.14 * r, 2)), _num(round(3.14 * r * r * 2, 2))),
        (skill.description, "Area = π × r²."),
        f"3.14 × {r}² = {_num(value)} cm².",
    )


# -- data -------------------------------------------------------------------------------------


def _stat(which: str) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        while True:
            data = [rng.randint(1, 12) for _ in range(5 if which != "mode" else 6)]
            counts = {x: data.count(x) for x in data}
            top = max(counts.values())
            modes = [x for x, c in counts.items() if c == top]
            if which == "mean" and sum(data) % len(data):
                continue
            if which == "mode" and (top < 2 or len(modes) > 1):
                continue
            break
        ordered = sorted(data)
        value = {
            "mean": sum(data) // len(data),
            "median": ordered[len(data) // 2],
            "mode": modes[0],
            "range": ordered[-1] - ordered[0],
        }[which]
        how = {
            "mean": f"the total {sum(data)} divided by {len(data)}",
            "median": f"the middle of {', '.join(map(str, ordered))}",
            "mode": "the value that appears most often",
            "range": f"{ordered[-1]} - {ordered[0]}",
        }[which]
        others = {
            sum(data) // len(data),
            ordered[len(data) // 2],
            ordered[-1] - ordered[0],
            value + 1,
            value + 2,
        } - {value}
        return Question(
            f"What is the {which} of {', '.join(map(str, data))}?",
            str(value),
            tuple(str(x) for x in sorted(others))[:3],
            (
                skill.description,
                f"The {which} is {how.split(' of ')[0] if which == 'median' else how}.",
            ),
            f"The {which} is {how} = {value}.",
        )

    return gen


def _tally(rng: random.Random, level: int, skill: Skill) -> Question:
    n = rng.randint(3, 14)
    marks = " ".join(["||||/"] * (n // 5) + (["|" * (n % 5)] if n % 5 else []))
    return Question(
        f"What number does this tally show? {marks}",
        str(n),
        _wrong(rng, n, 2),
        (skill.description, "Each ||||/ bundle is 5."),
        f"{n // 5} fives and {n % 5} ones make {n}.",
    )


def _probability(rng: random.Random, level: int, skill: Skill) -> Question:
    red, blue = rng.randint(1, 6), rng.randint(1, 6)
    value = Fraction(red, red + blue)
    return Question(
        f"A bag holds {red} red and {blue} blue marbles. What is the probability of picking a "
        "red one? Give a fraction in lowest terms.",
        _frac(value),
        tuple(
            dict.fromkeys(
                x
                for x in (f"{red}/{blue}", _frac(Fraction(blue, red + blue)), f"1/{red + blue}")
                if x != _frac(value)
            )
        )[:3],
        (skill.description, "Favourable outcomes over all outcomes."),
        f"{red} red out of {red + blue} marbles: {_frac(value)}.",
    )


def _bar_total(rng: random.Random, level: int, skill: Skill) -> Question:
    fruit = ["apples", "pears", "plums"]
    counts = [rng.randint(2, 9) for _ in fruit]
    listed = ", ".join(f"{f} {c}" for f, c in zip(fruit, counts, strict=True))
    value = max(counts) - min(counts)
    return Question(
        f"A chart shows {listed}. How many more are there of the most common fruit than of the "
        "least common?",
        str(value),
        _wrong(rng, value, 2),
        (skill.description, "Find the largest and smallest counts."),
        f"{max(counts)} - {min(counts)} = {value}.",
    )


# -- integers, ratio, algebra -----------------------------------------------------------------


def _int_op(op: str) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        a, b = rng.randint(-12, 12), rng.randint(-9, 9)
        if b == 0:
            b = -3
        value = {"+": a + b, "-": a - b, "×": a * b}[op]
        shown_b = f"({b})" if b < 0 else str(b)
        return Question(
            f"What is {a} {op} {shown_b}?",
            str(value),
            tuple(str(x) for x in dict.fromkeys((-value, value + 1, value - 1)) if x != value)[:3],
            (skill.description, "Use a number line: adding a negative moves left."),
            f"{a} {op} {shown_b} = {value}.",
        )

    return gen


def _absolute(rng: random.Random, level: int, skill: Skill) -> Question:
    n = -rng.randint(2, 40)
    return Question(
        f"What is |{n}|?",
        str(-n),
        (str(n), "0", str(-n + 1)),
        (skill.description, "Absolute value is the distance from zero."),
        f"{n} is {-n} away from zero.",
    )


def _sqrt(rng: random.Random, level: int, skill: Skill) -> Question:
    n = rng.randint(3, 15)
    return Question(
        f"What is the square root of {n * n}?",
        str(n),
        (str(n * n // 2), str(n + 1), str(n - 1)),
        (skill.description, "Which number times itself gives it?"),
        f"{n} × {n} = {n * n}.",
    )


def _exponent_law(rng: random.Random, level: int, skill: Skill) -> Question:
    a, m, n = rng.randint(2, 9), rng.randint(2, 6), rng.randint(2, 6)
    return Question(
        f"{a}^{m} × {a}^{n} = {a}^?. What is the missing exponent?",
        str(m + n),
        (str(m * n), str(abs(m - n)), str(m + n + 1)),
        (skill.description, "Same base: add the exponents when multiplying."),
        f"{a}^{m} × {a}^{n} = {a}^({m} + {n}) = {a}^{m + n}.",
    )


def _ratio_simplify(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b = rng.choice(((1, 2), (2, 3), (3, 4), (2, 5), (3, 5), (1, 3)))
    k = rng.randint(2, 6)
    answer = f"{a}:{b}"
    return Question(
        f"Simplify the ratio {a * k}:{b * k}.",
        answer,
        (f"{b}:{a}", f"{a * k}:{b}", f"{a + 1}:{b + 1}"),
        (skill.description, f"Divide both parts by {k}."),
        f"{a * k}:{b * k} = {a}:{b} after dividing by {k}.",
    )


def _unit_rate(rng: random.Random, level: int, skill: Skill) -> Question:
    each, n = rng.randint(2, 9), rng.randint(3, 8)
    return Question(
        f"{n} pens cost {each * n} dollars. How much does one pen cost, in dollars?",
        str(each),
        _wrong(rng, each, 2),
        (skill.description, f"Divide the cost by {n}."),
        f"{each * n} ÷ {n} = {each}.",
    )


def _share(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b = rng.choice(((1, 2), (2, 3), (3, 1), (1, 4), (3, 5)))
    k = rng.randint(2, 9)
    total = (a + b) * k
    return Question(
        f"Share {total} sweets in the ratio {a}:{b}. How many does the first person get?",
        str(a * k),
        (str(b * k), str(total // 2), str(a * k + 1)),
        (skill.description, f"There are {a + b} parts in all."),
        f"{total} ÷ {a + b} = {k} per part; {a} parts = {a * k}.",
    )


def _speed(rng: random.Random, level: int, skill: Skill) -> Question:
    speed, hours = rng.choice((30, 40, 50, 60, 80)), rng.randint(2, 5)
    return Question(
        f"A car travels at {speed} km/h for {hours} hours. How many km does it go?",
        str(speed * hours),
        (str(speed + hours), str(speed * hours + speed), str(speed * (hours - 1))),
        (skill.description, "distance = speed × time."),
        f"{speed} × {hours} = {speed * hours} km.",
    )


def _evaluate(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b, x = rng.randint(2, 9), rng.randint(1, 12), rng.randint(2, 9)
    value = a * x + b
    return Question(
        f"What is {a}x + {b} when x = {x}?",
        str(value),
        (str(a + x + b), str(a * (x + b)), str(value + a)),
        (skill.description, f"Replace x with {x}; multiply before adding."),
        f"{a} × {x} + {b} = {a * x} + {b} = {value}.",
    )


def _equation(steps: int) -> Gen:
    def gen(rng: random.Random, level: int, skill: Skill) -> Question:
        x = rng.randint(2, 12)
        if steps == 1:
            b = rng.randint(2, 20)
            prompt, how = f"Solve x + {b} = {x + b}.", f"x = {x + b} - {b} = {x}"
            wrong = (str(x + 2 * b), str(b), str(x + 1))
        elif steps == 2:
            a, b = rng.randint(2, 9), rng.randint(1, 15)
            prompt = f"Solve {a}x + {b} = {a * x + b}."
            how = f"{a}x = {a * x}, so x = {x}"
            wrong = (str(a * x), str(x + b), str(x + 1))
        else:
            a, b = rng.randint(2, 6), rng.randint(1, 9)
            prompt = f"Solve {a}(x + {b}) = {a * (x + b)}."
            how = f"x + {b} = {x + b}, so x = {x}"
            wrong = (str(x + b), str(a * x), str(x - 1))
        return Question(
            prompt,
            str(x),
            tuple(dict.fromkeys(w for w in wrong if w != str(x))),
            (skill.description, "Do the same to both sides to get x alone."),
            how + ".",
        )

    return gen


def _like_terms(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    answer = f"{a + b}x"
    return Question(
        f"Simplify {a}x + {b}x.",
        answer,
        (f"{a * b}x", f"{a + b}x²", f"{a}{b}x"),
        (skill.description, "Add the numbers in front of x."),
        f"{a}x + {b}x = {answer}.",
    )


def _nth_term(rng: random.Random, level: int, skill: Skill) -> Question:
    d, c = rng.randint(2, 7), rng.randint(-3, 5)
    seq = [d * n + c for n in range(1, 5)]
    n = rng.randint(8, 20)
    value = d * n + c
    return Question(
        f"The sequence {', '.join(map(str, seq))}, ... goes up by {d}. What is term number {n}?",
        str(value),
        (str(seq[0] + d * n), str(d * n), str(value + d)),
        (skill.description, f"Term n is {d}n {'+' if c >= 0 else '-'} {abs(c)}."),
        f"{d} × {n} {'+' if c >= 0 else '-'} {abs(c)} = {value}.",
    )


def _machine(rng: random.Random, level: int, skill: Skill) -> Question:
    a, b, x = rng.randint(2, 6), rng.randint(1, 10), rng.randint(2, 9)
    value = a * x + b
    return Question(
        f"A function machine multiplies by {a} and then adds {b}. What comes out when {x} goes in?",
        str(value),
        (str((x + b) * a), str(x * a), str(value + 1)),
        (skill.description, "Apply the steps in order."),
        f"{x} × {a} = {a * x}; {a * x} + {b} = {value}.",
    )


def _slope(rng: random.Random, level: int, skill: Skill) -> Question:
    m, c = rng.randint(-5, 6), rng.randint(-9, 9)
    if m == 0:
        m = 2
    return Question(
        f"What is the gradient (slope) of the line y = {m}x {'+' if c >= 0 else '-'} {abs(c)}?",
        str(m),
        tuple(dict.fromkeys(str(x) for x in (c, -m, m + 1) if x != m))[:3],
        (skill.description, "In y = mx + c the gradient is m."),
        f"The number multiplying x is {m}.",
    )


def _describe(rng: random.Random, level: int, skill: Skill) -> Question:
    """A question about the skill itself, for a topic without a generator."""
    return Question(
        f"Which skill does this describe? {skill.description}",
        skill.name,
        (),
        (skill.description, f"It is called '{skill.name}'."),
        f"{skill.description} That is '{skill.name}'.",
    )


SKILL_GENERATORS: dict[str, Gen] = {
    "count-to-10": _after(0, 10),
    "count-objects-10": _count_things(10, "*"),
    "read-numerals-10": _numeral,
    "zero": _zero,
    "compare-groups": _compare(10),
    "count-to-20": _after(10, 20),
    "subitize": _count_things(5, "o"),
    "number-before-after": _after(2, 20, before=True),
    "count-to-100": _after(20, 100),
    "skip-count-10": _skip((10,)),
    "skip-count-2-5": _skip((2, 5)),
    "compare-numbers-100": _compare(100),
    "odd-even": _odd_even,
    "number-line-100": _halfway,
    "add-within-5": _add_sub(5, "+"),
    "subtract-within-5": _add_sub(5, "-"),
    "add-within-10": _add_sub(10, "+"),
    "subtract-within-10": _add_sub(10, "-"),
    "number-bonds-10": _missing(10),
    "add-within-20": _add_sub(20, "+"),
    "subtract-within-20": _add_sub(20, "-"),
    "fact-families": _fact_family,
    "missing-addend": _missing(None),
    "word-problems-add-sub": _word_add_sub,
    "add-2digit": _add_sub(99, "+"),
    "subtract-2digit": _add_sub(99, "-"),
    "add-3digit": _add_sub(999, "+"),
    "subtract-3digit": _add_sub(999, "-"),
    "estimate-sums": _estimate,
    "multi-step-add-sub": _multi_step,
    "tens-and-ones": _digit_place(("ones", "tens")),
    "hundreds": _digit_place(("ones", "tens", "hundreds")),
    "expanded-form": _expanded,
    "compare-3digit": _compare(1000),
    "rounding": _round_to(10, 999),
    "thousands": _digit_place(("ones", "tens", "hundreds", "thousands")),
    "large-numbers": _digit_place(
        ("ones", "tens", "hundreds", "thousands", "ten-thousands", "hundred-thousands")
    ),
    "round-large": _round_to(1000, 99_999),
    "powers-of-ten": _power,
    "exponents-intro": _power,
    "scientific-notation": _scientific,
    "times-tables-2-5-10": _times((2, 5, 10)),
    "times-tables-10": _times((10,)),
    "times-tables-3-4": _times((3, 4)),
    "times-tables-6-9": _times((6, 7, 8, 9)),
    "equal-groups": _times((2, 3, 4, 5), 6),
    "arrays": _times((2, 3, 4, 5), 6),
    "multiply-meaning": _times((2, 3, 5), 5),
    "division-meaning": _divide,
    "division-facts": _divide,
    "commutative-distributive": _times((11, 12), 9),
    "multiply-by-1digit": _multi_digit,
    "multiply-multi-digit": _multi_digit,
    "remainders": _remainder,
    "long-division": _long_division,
    "factors-multiples": _factor,
    "primes": _prime,
    "gcf-lcm": _gcf,
    "order-of-operations": _order_ops,
    "halves-quarters": _fraction_of,
    "unit-fractions": _unit_fraction,
    "fractions-of-shape": _unit_fraction,
    "fractions-number-line": _compare_fractions,
    "equivalent-fractions": _equivalent,
    "simplify-fractions": _simplify,
    "compare-fractions": _compare_fractions,
    "mixed-numbers": _mixed,
    "add-like-fractions": _fraction_op("+", like=True),
    "add-unlike-fractions": _fraction_op("+"),
    "add-mixed-numbers": _fraction_op("+"),
    "fraction-of-amount": _fraction_of,
    "multiply-fraction-whole": _fraction_op("×", whole=True),
    "multiply-fractions": _fraction_op("×"),
    "divide-fractions": _fraction_op("÷"),
    "fraction-word-problems": _fraction_of,
    "tenths": _to_decimal,
    "hundredths": _to_decimal,
    "decimal-place-value": _to_decimal,
    "compare-decimals": _compare_decimals,
    "round-decimals": _decimal_op("+"),
    "add-decimals": _decimal_op("+"),
    "multiply-decimals": _decimal_op("×"),
    "divide-decimals": _decimal_op("÷"),
    "fraction-decimal-conversion": _to_decimal,
    "percent-meaning": _percent_of,
    "fraction-decimal-percent": _to_decimal,
    "percent-of-amount": _percent_of,
    "percent-change": _percent_change,
    "money-decimals": _decimal_op("+"),
    "compare-lengths": _compare(50),
    "measure-units": _convert,
    "measure-ruler": _convert,
    "tell-time-hour": _clock,
    "tell-time-minutes": _clock,
    "elapsed-time": _elapsed,
    "money-coins": _coins,
    "mass-capacity": _convert,
    "perimeter": _rect("perimeter"),
    "area-counting": _rect("area"),
    "area-rectangle": _rect("area"),
    "convert-units": _convert,
    "area-triangle": _rect("triangle"),
    "volume-cuboid": _volume,
    "shapes-2d": _polygon,
    "sides-vertices": _polygon,
    "angles-intro": _right_angle_kind,
    "measure-angles": _right_angle_kind,
    "classify-triangles": _angle_sum,
    "quadrilaterals": _polygon,
    "angle-sums": _angle_sum,
    "coordinates-first-quadrant": _coordinates,
    "coordinates-four-quadrants": _coordinates,
    "pythagoras": _pythagoras,
    "shapes-3d": _solid,
    "positions": _position,
    "symmetry": _symmetry,
    "parallel-perpendicular": _parallel,
    "transformations": _translate,
    "nets-surface-area": _surface,
    "circle-measures": _circle,
    "sort-objects": _count_things(9, "#"),
    "tally-charts": _tally,
    "pictograms": _bar_total,
    "bar-charts": _bar_total,
    "line-plots": _stat("mode"),
    "line-graphs": _bar_total,
    "tables-two-way": _bar_total,
    "mean": _stat("mean"),
    "median-mode-range": _stat("median"),
    "pie-charts": _percent_of,
    "probability-language": _probability,
    "probability-simple": _probability,
    "scatter-plots": _slope,
    "negative-numbers-context": _int_op("+"),
    "integers-number-line": _int_op("+"),
    "absolute-value": _absolute,
    "add-integers": _int_op("+"),
    "subtract-integers": _int_op("-"),
    "multiply-integers": _int_op("×"),
    "rational-numbers": _fraction_op("+"),
    "square-roots": _sqrt,
    "exponent-laws": _exponent_law,
    "ratio-language": _ratio_simplify,
    "equivalent-ratios": _ratio_simplify,
    "simplify-ratios": _ratio_simplify,
    "unit-rate": _unit_rate,
    "share-in-ratio": _share,
    "proportional-relationships": _unit_rate,
    "scale-drawings": _share,
    "speed-distance-time": _speed,
    "percent-problems": _percent_of,
    "similar-shapes": _share,
    "patterns": _skip((3, 4, 6)),
    "function-machines": _machine,
    "unknowns-symbols": _equation(1),
    "write-expressions": _evaluate,
    "evaluate-expressions": _evaluate,
    "like-terms": _like_terms,
    "expand-brackets": _equation(3),
    "factorise-simple": _gcf,
    "one-step-equations": _equation(1),
    "two-step-equations": _equation(2),
    "equations-brackets": _equation(3),
    "inequalities": _equation(2),
    "sequences-nth-term": _nth_term,
    "formulae": _evaluate,
    "linear-graphs": _slope,
    "slope-intercept": _slope,
    "simultaneous-equations": _equation(2),
}

#: a generator per topic (the skill's second tag) for skills added without one of their own
TOPIC_GENERATORS: dict[str, Gen] = {
    "counting": _after(0, 100),
    "addition": _add_sub(20, "+"),
    "place-value": _round_to(10, 999),
    "multiplication": _times((2, 3, 4, 5, 6, 7, 8, 9)),
    "fractions": _fraction_op("+"),
    "decimals": _decimal_op("+"),
    "measurement": _convert,
    "geometry": _angle_sum,
    "data": _stat("mean"),
    "integers": _int_op("+"),
    "ratio": _ratio_simplify,
    "algebra": _equation(2),
}


def question(skill: Skill, item_id: str, level: int) -> Question:
    """The practice content of exercise ``item_id`` of ``skill`` at ``level`` (0: warm-up,
    1: practice, 2: challenge), the same on every run."""
    gen = SKILL_GENERATORS.get(skill.id)
    if gen is None:
        topic = skill.tags[1] if len(skill.tags) > 1 else ""
        gen = TOPIC_GENERATORS.get(topic, _describe)
    return gen(random.Random(f"learngraph-demo:{item_id}"), level, skill)
