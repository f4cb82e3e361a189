#!/usr/bin/env python3
"""Generates the reference fixtures of the tasks tests (tests/data/tasks/) with Python and numpy
themselves, so the C++ code is checked against the real thing (spec algorithms.md §5, Appendix A):

- numpy_permutation.json: numpy.random.RandomState(42).permutation(n)[:k] for a few n, and
  np.random.choice after np.random.seed(42) to confirm both agree.
- python_float.jsonl: strings and what Python's float() makes of them (GSM8K parser), {"text",
  "value"} with value the repr text or null where float() raises.
- countdown_eval.jsonl: strings within the reward's alphabet ^[\\d+\\-*/().\\s]+$ and what Python's
  eval makes of them: {"expr", "kind": "int" | "float" | "error", "value"} (floats as repr text).

Usage: python tools/gen_tasks_fixtures.py [out_dir]   (default tests/data/tasks)
"""
import ast
import json
import operator
import os
import random
import re
import sys

import numpy as np

ALLOWED = re.compile(r"^[\d+\-*/().\s]+$")

HAND = [
    "1+2", "2*4-3", "(30+100)-93", "100-(93-30)", "-2**2", "2**-1", "2**3**2", "(-2)**2", "(-8)**0.5",
    "7/2", "7//2", "-7//2", "7.5//2", "-7.5//2", "7//-2.0", "1/0", "1//0", "0**-1", "0.0**-1", "1/3*3",
    "01+2", "00+2", "0+2", "01.5+1", "1.+2", ".5+1", "1..2", "1.2.3", "...", "()", "(1+2", "1+2)",
    "1 2", "1+\n2", "(1+\n2)", "(1+\r\n2)", "1+\t2", "1 +  2", "--3", "+-+3", "3--3", "3*-+-2",
    "2**0.5", "4**0.5", "10**-2", "((((3))))", "3*(4+5)/9", "100/(20-20)", "6/4*2", "2 ** 10",
    "99*98*97", "1e5", "5/2.5", "2.5*4", "0/5", "-0.0", "8/3", "(1)(2)", "1*", "*1", "/1",
    "1//3*3", "50-48/2", "12*12-44", "(95-89)*(72/9)", "1. 5", "1 .5", "7-.5", "3**2**-1",
]


OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
       ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow}


def exceeds_int_range(node):
    """True when an intermediate integer of the expression is beyond the evaluator's exact range."""
    def walk(n):
        if isinstance(n, ast.Expression):
            return walk(n.body)
        if isinstance(n, ast.Constant):
            v = n.value
        elif isinstance(n, ast.UnaryOp):
            v = walk(n.operand)
            v = -v if isinstance(n.op, ast.USub) else +v
        elif isinstance(n, ast.BinOp):
            a, b = walk(n.left), walk(n.right)
            if isinstance(n.op, ast.Pow) and isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 and b > 400:
                raise OverflowError
            v = OPS[type(n.op)](a, b)
        else:
            raise TypeError
        if isinstance(v, int) and abs(v) >= 2**120:
            raise OverflowError
        return v
    try:
        walk(node)
    except OverflowError:
        return True
    except Exception:
        return False
    return False


def py_eval(s):
    try:
        if exceeds_int_range(ast.parse(s, mode="eval")):
            return None
    except SyntaxError:
        pass
    try:
        v = eval(s, {"__builtins__": None}, {})  # noqa: S307 - fixture generation only
    except Exception:
        return {"kind": "error"}
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return {"kind": "error"}  # tuples, complex numbers: arithmetic on them fails in the reward
    if isinstance(v, int):
        if abs(v) >= 2**120:
            return None  # beyond the evaluator's exact range (documented); not a fixture
        return {"kind": "int", "value": str(v)}
    return {"kind": "float", "value": repr(v)}


def random_expr(rng):
    alphabet = "0123456789+-*/(). "
    weights = [4] * 10 + [3, 3, 3, 3, 2, 2, 1, 2]
    n = rng.randint(1, 12)
    return "".join(rng.choices(alphabet, weights=weights, k=n))


def structured_expr(rng, depth=0):
    if depth > 2 or rng.random() < 0.3:
        r = rng.random()
        if r < 0.7:
            return str(rng.randint(0, 100))
        if r < 0.85:
            return f"{rng.randint(0, 99)}.{rng.randint(0, 99)}"
        return "." + str(rng.randint(0, 9))
    op = rng.choice(["+", "-", "*", "/", "//", "**", "+", "-", "*", "/"])
    a = structured_expr(rng, depth + 1)
    b = structured_expr(rng, depth + 1)
    if op == "**":
        b = str(rng.randint(-3, 4))
    s = f"{a}{op}{b}"
    if rng.random() < 0.4:
        s = "(" + s + ")"
    if rng.random() < 0.15:
        s = "-" + s
    return s


FLOAT_TEXTS = [
    "1", "-1", "+1", " 2.5 ", "1,000", "1_000", "1__000", "_1", "1_", "1e5", "1E-3", "1e", "e5", ".5", "5.", ".",
    "-.5e+2", "inf", "-Infinity", "nan", "NaN", "infinity1", "0x10", "1.2.3", "--1", "", "  ", "\t3\n", "1 2",
    "18.00", "$18", "007", "1e400", "-1e400", "4.9e-324", "1e-400", "0.1", "123456789012345678901234567890",
    "3.14159265358979323846", "1_0.0_1", "1._5", "1.e5", "\u00a012\u2003",
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/tasks"
    os.makedirs(out, exist_ok=True)
    perms = {str(n): np.random.RandomState(42).permutation(n)[: min(n, 300)].tolist() for n in (1, 2, 7, 256, 500, 1319)}
    np.random.seed(42)
    choice = np.random.choice(500, 256, replace=False).tolist()
    assert choice == perms["500"][:256]
    with open(os.path.join(out, "numpy_permutation.json"), "w") as f:
        json.dump({"seed": 42, "permutation_prefix": perms}, f)
    with open(os.path.join(out, "python_float.jsonl"), "w") as f:
        for t in FLOAT_TEXTS:
            try:
                v = repr(float(t))
            except ValueError:
                v = None
            f.write(json.dumps({"text": t, "value": v}) + "\n")
    rng = random.Random(1234)
    exprs = [s for s in HAND if ALLOWED.match(s)]  # the reward only evaluates gated strings
    while len(exprs) < 1200:
        s = random_expr(rng) if rng.random() < 0.5 else structured_expr(rng)
        if not ALLOWED.match(s) or s.count("**") > 1:
            continue
        m = re.search(r"\*\*\s*[-+]?\s*(\d+)", s)
        if m and len(m.group(1)) > 3:
            continue
        exprs.append(s)
    seen = set()
    with open(os.path.join(out, "countdown_eval.jsonl"), "w") as f:
        for s in exprs:
            if s in seen:
                continue
            seen.add(s)
            r = py_eval(s)
            if r is None:
                continue
            f.write(json.dumps({"expr": s, **r}) + "\n")


if __name__ == "__main__":
    main()
