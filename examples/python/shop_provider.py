#!/usr/bin/env python3
"""External constraints of stdlib/market/buyer_shopkeeper.lcc.

    a(buyer, B)      :: ask(X) => ... <- want(X)            want/1:     what B wants to buy
                        buy(X, P) => ... <- afford(X, P)    afford/2:   is P within B's budget?
    a(shopkeeper, S) :: price(X, P) => ... <- in_stock(X, P) in_stock/2: X's price, if stocked

Peers are told apart by their id (the `peer` of each call), so one provider serves any number
of buyers and shopkeepers. Run it on its own to see the protocol:

    $ printf '%s\\n' '{"lcc":"constraint-abi","version":1}' \\
        '{"id":1,"peer":"s","constraint":"in_stock","args":["bread",null]}' | python3 shop_provider.py
    {"version":1,"constraints":[{"name":"want","arity":1},...]}
    {"id":1,"solutions":[["bread",5]]}
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lcc_provider import Atom, constraint, run  # noqa: E402

# What each shop sells, at what price; shops not listed sell the default stock.
STOCK = {
    "default": {"bread": 5, "milk": 2, "apple": 3, "wine": 12},
    "corner_shop": {"bread": 6, "milk": 2},
}

# What each buyer wants, most wanted first, and how much it can spend on one item.
WANTS = {"default": ["bread", "wine"], "b2": ["caviar", "milk"]}
BUDGET = {"default": 10, "b2": 4}


def _lookup(table, peer):
    return table.get(str(peer), table["default"]) if peer is not None else table["default"]


@constraint("want", 1)
def want(peer, item):
    """The items the buyer wants, in order: each one is a solution (lcc takes the first that
    lets the guard succeed). A bound `item` is checked instead."""
    wanted = _lookup(WANTS, peer)
    if item is not None:
        return item in wanted
    return [[Atom(x)] for x in wanted]


@constraint("in_stock", 2)
def in_stock(peer, item, price):
    """`item` is sold here at `price` (filled in when unbound). With `item` unbound, every
    stocked item is a solution."""
    stock = _lookup(STOCK, peer)
    if item is None:
        return [[Atom(x), p] for x, p in stock.items() if price is None or p == price]
    if item not in stock:
        return False
    return [[item, stock[item]]]


@constraint("afford", 2)
def afford(peer, item, price):
    """The buyer can spend `price` on `item`."""
    if not isinstance(price, (int, float)):
        raise ValueError("afford/2 needs a numeric price, got %r" % (price,))
    return price <= _lookup(BUDGET, peer)


if __name__ == "__main__":
    run()
