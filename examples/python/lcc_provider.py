"""Write LCC constraint providers in Python (constraint ABI version 1, docs/constraint-abi.md).

A provider is a program that lcc starts and talks to over stdin/stdout, one JSON object per
line. This module does the talking; you write the constraints:

    from lcc_provider import Atom, constraint, run

    PRICES = {"apple": 3, "bread": 5}

    @constraint("in_stock", 2)
    def in_stock(peer, item, price):
        # `item` is bound (an Atom), `price` is an output (None): fill it in.
        if item in PRICES:
            return [[item, PRICES[item]]]
        return False

    if __name__ == "__main__":
        run()

A constraint function receives the calling peer's id and the call's arguments, decoded:

    LCC               Python
    _ (unbound)       None
    atom  apple       Atom("apple")      (a str subclass: compares equal to "apple")
    "a string"        str
    42, 2.5           int, float
    [a, 1]            list
    f(a, 1)           Compound("f", [Atom("a"), 1])

and returns
    True              one solution: the arguments as given,
    False             no solution: the constraint fails,
    a list/tuple      of solutions, each a list/tuple with one value per argument (None leaves
                      an argument unbound), tried by lcc in order,
    an iterator       of solutions (a generator function works).

lcc unifies each solution with the call's arguments. When returning values, note that a plain
`str` is an LCC *string*; use `Atom("x")` for an atom (arguments you pass back keep their kind).
An exception becomes an error answer: that call fails and lcc logs the message. Anything the
constraints print goes to stderr (stdout belongs to the protocol); lcc quotes the last stderr
lines when a provider dies.
"""

import json
import math
import sys
import traceback

__all__ = ["ABI_VERSION", "Atom", "Compound", "constraint", "run", "decode", "encode"]

ABI_VERSION = 1

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


class Atom(str):
    """An LCC atom (`apple`, `'Hello world'`). Compares equal to the plain string of its name."""

    __slots__ = ()

    def __repr__(self):
        return "Atom(%s)" % str.__repr__(self)


class Compound(tuple):
    """An LCC compound term `functor(arg, ...)`: a named pair (functor, args)."""

    __slots__ = ()

    def __new__(cls, functor, args=()):
        return tuple.__new__(cls, (Atom(functor), list(args)))

    @property
    def functor(self):
        return self[0]

    @property
    def args(self):
        return self[1]

    def __repr__(self):
        return "Compound(%r, %r)" % (str(self.functor), self.args)


def decode(value):
    """The Python value of a JSON-decoded LCC value."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("booleans are not LCC values: %r" % (value,))
    if isinstance(value, str):
        return Atom(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        keys = set(value)
        if keys == {"string"} and isinstance(value["string"], str):
            return value["string"]
        if keys == {"float"}:
            f = value["float"]
            if isinstance(f, (int, float)) and not isinstance(f, bool):
                return float(f)
            if f in ("nan", "inf", "-inf"):
                return float(f)
        if keys == {"functor", "args"} and isinstance(value["functor"], str) and isinstance(value["args"], list):
            return Compound(value["functor"], [decode(a) for a in value["args"]])
    raise ValueError("not an LCC value: %r" % (value,))


def encode(value):
    """The JSON form (before json.dumps) of a Python value as an LCC value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Atom):
        return str(value)
    if isinstance(value, str):
        return {"string": value}
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise ValueError("integer %d does not fit in 64 signed bits" % value)
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return {"float": "nan"}
        if math.isinf(value):
            return {"float": "inf" if value > 0 else "-inf"}
        return value
    if isinstance(value, Compound):
        return {"functor": str(value.functor), "args": [encode(a) for a in value.args]}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    raise TypeError("cannot send %r (%s) as an LCC value" % (value, type(value).__name__))


_CONSTRAINTS = {}


def constraint(name, arity):
    """Registers the decorated function as the provider of constraint `name/arity`."""

    def register(function):
        _CONSTRAINTS[(name, arity)] = function
        return function

    return register


def _solutions(result, args, name):
    """The JSON solutions of what a constraint function returned."""
    if result is True:
        return [[encode(a) for a in args]]
    if result is False:
        return []
    if result is None:
        raise TypeError("%s returned None; return True, False or a list of solutions" % name)
    if isinstance(result, (str, bytes, dict)) or not hasattr(result, "__iter__"):
        raise TypeError("%s returned %r; return True, False or a list of solutions" % (name, result))
    solutions = []
    for solution in result:
        if not isinstance(solution, (list, tuple)) or isinstance(solution, Compound) or len(solution) != len(args):
            raise TypeError(
                "%s returned the solution %r; each solution is a list of %d values, one per argument"
                % (name, solution, len(args))
            )
        solutions.append([encode(v) for v in solution])
    return solutions


def _answer(request, constraints):
    call_id = request.get("id")
    try:
        name = request["constraint"]
        args = [decode(a) for a in request["args"]]
        peer = decode(request.get("peer"))
        function = constraints.get((name, len(args)))
        if function is None:
            raise LookupError("no constraint %s/%d here" % (name, len(args)))
        label = "%s/%d" % (name, len(args))
        return {"id": call_id, "solutions": _solutions(function(peer, *args), args, label)}
    except Exception as e:  # noqa: BLE001 -- every failure becomes an error answer
        traceback.print_exc(file=sys.stderr)
        return {"id": call_id, "error": "%s: %s" % (type(e).__name__, e)}


def run(constraints=None):
    """Serves lcc on stdin/stdout until stdin closes: the handshake, then one answer per call.

    `constraints` maps (name, arity) to functions; by default, those registered with
    @constraint.
    """
    constraints = _CONSTRAINTS if constraints is None else constraints
    out = sys.stdout
    # Whatever the constraints print must not end up in the protocol.
    sys.stdout = sys.stderr
    stdin = sys.stdin.buffer

    def send(message):
        out.write(json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n")
        out.flush()

    hello = stdin.readline()
    if not hello:
        return
    try:
        version = json.loads(hello).get("version")
    except (ValueError, AttributeError):
        version = None
    if version != ABI_VERSION:
        print("lcc_provider: lcc greeted with %r, expected version %d" % (hello, ABI_VERSION), file=sys.stderr)
    send(
        {
            "version": ABI_VERSION,
            "constraints": [{"name": name, "arity": arity} for (name, arity) in constraints],
        }
    )
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not a JSON object")
        except ValueError as e:
            print("lcc_provider: ignoring a line that is not a call (%s): %r" % (e, line), file=sys.stderr)
            continue
        send(_answer(request, constraints))
