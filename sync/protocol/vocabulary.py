"""The words both ends share, defined once: token parties, node types, languages, menu categories, id patterns, and
the checks of a menu item and of a token policy. A check returns a problem text (None when all is well): the
terminal wraps it in its user error, HQ answers 422 with it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The canonical party order: it is also the tie-break order of the largest-remainder split (docs/protocol.md).
PARTIES = ("owner", "franchisee", "charity", "customer")
NODE_TYPES = ("own", "franchise")
LANGUAGES = ("ka", "en", "ru")
CATEGORIES = ("broth", "meat", "seafood", "vegetables", "noodles", "sides", "drinks", "desserts")
BASIS_POINTS = 10_000  # shares are basis points: 1 % = 100
# An order's way through the kitchen; it may be cancelled (with a reason) until it is completed.
ORDER_STATUSES = ("pending", "confirmed", "in_progress", "ready", "completed", "cancelled")
NEXT_ORDER_STATUS = {"pending": "confirmed", "confirmed": "in_progress", "in_progress": "ready", "ready": "completed"}
# A discount above this share of the subtotal needs a manager (basis points: 1000 = 10 %).
DISCOUNT_LIMIT_BP = 1000

ITEM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
TERMINAL_ID = re.compile(r"^[0-9A-Z]{4,32}$")

# Bounds of a menu item (a price above 1,000,000 GEL is a typo, not a hot-pot bill).
MAX_PRICE = 100_000_000
MAX_AVAILABLE = 10_000_000
PRIORITY_RANGE = (1, 10)
MAX_COOKING_MINUTES = 240
MAX_INGREDIENTS = 50
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2_000
MENU_ITEM_FIELDS = frozenset({"id", "name", "description", "category", "price", "available", "priority",
                              "cooking_minutes", "ingredients", "total_kcal", "active", "codes", "modifiers"})
# Codes a scanner or a keyboard types for an item (EAN/UPC barcodes or the restaurant's own short codes).
ITEM_CODE = re.compile(r"^[0-9A-Za-z-]{3,32}$")
MAX_CODES = 10
# Modifier groups of an item ("Spice level": mild, medium, hot; "Extras": egg +2.00 GEL): the cashier picks from
# min to max options of each group; an option's price (tetri, may be negative) is added to the item's.
MAX_MODIFIER_GROUPS = 8
MAX_MODIFIER_OPTIONS = 20
MODIFIER_GROUP_FIELDS = frozenset({"id", "name", "min", "max", "options"})
MODIFIER_OPTION_FIELDS = frozenset({"id", "name", "price"})
MAX_NOTE_LENGTH = 200
MENU_ITEM_REQUIRED = ("id", "name", "category", "price", "available")
MAX_RATE = 1_000_000
POLICY_FIELDS = frozenset({"version", "rate_num", "rate_den", "shares"})


def is_whole(value: object) -> bool:
    """An int that is not a bool (JSON true is not a number here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _description_problem(texts: object, item_id: str) -> str | None:
    if not isinstance(texts, Mapping):
        return f"Menu item {item_id!r} description must be an object of texts by language."
    unknown = sorted(str(k) for k in set(texts) - set(LANGUAGES))
    if unknown:
        return f"Menu item {item_id!r} description has an unknown language {unknown[0]!r}."
    if any(not isinstance(t, str) or len(t) > MAX_DESCRIPTION_LENGTH for t in texts.values()):
        return f"Menu item {item_id!r} description must be texts of at most {MAX_DESCRIPTION_LENGTH} characters."
    return None


def _names_problem(name: object, what: str) -> str | None:
    if not isinstance(name, Mapping):
        return f"{what} name must be an object of names by language."
    for lang in LANGUAGES:
        text = name.get(lang)
        if not isinstance(text, str) or not text.strip():
            return f"{what} needs a name in {lang!r}."
        if len(text) > MAX_NAME_LENGTH:
            return f"{what} name in {lang!r} is longer than {MAX_NAME_LENGTH} characters."
    if set(name) - set(LANGUAGES):
        return f"{what} name has an unknown language {sorted(set(name) - set(LANGUAGES))[0]!r}."
    return None


def modifiers_problem(groups: object, item_id: str, price: int) -> str | None:
    """What is wrong with an item's modifier groups, or None."""
    if not isinstance(groups, list | tuple) or len(groups) > MAX_MODIFIER_GROUPS:
        return f"Menu item {item_id!r} modifiers must be a list of at most {MAX_MODIFIER_GROUPS} groups."
    seen: set[str] = set()
    for group in groups:
        if not isinstance(group, Mapping) or set(group) != MODIFIER_GROUP_FIELDS:
            return (f"Menu item {item_id!r}: each modifier group is {{id, name, min, max, options}}.")
        gid = group["id"]
        if not isinstance(gid, str) or not ITEM_ID.fullmatch(gid) or gid in seen:
            return f"Menu item {item_id!r}: modifier group ids must be unique lowercase ids, not {gid!r}."
        seen.add(gid)
        what = f"Menu item {item_id!r} modifier group {gid!r}"
        problem = _names_problem(group["name"], what)
        if problem:
            return problem
        options = group["options"]
        if not isinstance(options, list | tuple) or not 1 <= len(options) <= MAX_MODIFIER_OPTIONS:
            return f"{what} needs 1 to {MAX_MODIFIER_OPTIONS} options."
        low, high = group["min"], group["max"]
        if not (is_whole(low) and is_whole(high) and 0 <= low <= high and 1 <= high <= len(options)):
            return f"{what}: min and max must be whole numbers with 0 <= min <= max <= the number of options."
        option_ids: set[str] = set()
        for option in options:
            if not isinstance(option, Mapping) or set(option) != MODIFIER_OPTION_FIELDS:
                return f"{what}: each option is {{id, name, price}}."
            oid = option["id"]
            if not isinstance(oid, str) or not ITEM_ID.fullmatch(oid) or oid in option_ids:
                return f"{what}: option ids must be unique lowercase ids, not {oid!r}."
            option_ids.add(oid)
            problem = _names_problem(option["name"], f"{what} option {oid!r}")
            if problem:
                return problem
            delta = option["price"]
            if not is_whole(delta) or not -price < delta <= MAX_PRICE:
                return (f"{what} option {oid!r}: its price is a whole number of tetri added to the item's "
                        f"(above -{price}, at most {MAX_PRICE}).")
    return None


def modified_price(price: int, groups: Any, chosen: Any) -> int:
    """The unit price of an item with the options chosen ([{group, option, price}]), checked against its groups:
    every option exists at the price named, none twice, each group within its min and max. Both ends use this: the
    terminal to price a line, HQ to re-derive it. Raises ValueError with the problem."""
    by_group = {g["id"]: g for g in groups or ()}
    counts = dict.fromkeys(by_group, 0)
    seen: set[tuple[str, str]] = set()
    total = price
    for pick in chosen or ():
        group = by_group.get(pick.get("group"))
        option = None if group is None else next((o for o in group["options"] if o["id"] == pick.get("option")), None)
        if group is None or option is None:
            raise ValueError(f"option {pick.get('group')}/{pick.get('option')} is not on the menu")
        if option["price"] != pick.get("price"):
            raise ValueError(f"option {group['id']}/{option['id']} costs {option['price']}, not {pick.get('price')}")
        if (group["id"], option["id"]) in seen:
            raise ValueError(f"option {group['id']}/{option['id']} is chosen twice")
        seen.add((group["id"], option["id"]))
        counts[group["id"]] += 1
        total += option["price"]
    for gid, group in by_group.items():
        if not group["min"] <= counts[gid] <= group["max"]:
            raise ValueError(f"choose {group['min']} to {group['max']} of {gid}, not {counts[gid]}")
    if total < 1:
        raise ValueError("the options bring the price below 0.01")
    return total


def menu_item_problem(item: Mapping[str, Any]) -> str | None:
    """What is wrong with a menu item in its dict form (HQ's input, an HQ update, the terminal's store), or None."""
    unknown = sorted(set(item) - MENU_ITEM_FIELDS)
    if unknown:
        return f"Unknown menu item field: {unknown[0]!r}."
    missing = [f for f in MENU_ITEM_REQUIRED if f not in item]
    if missing:
        return f"Menu item is missing the field {missing[0]!r}."
    item_id = item["id"]
    if not isinstance(item_id, str) or not ITEM_ID.fullmatch(item_id):
        return f"Menu item id {item_id!r} must be 1-40 lowercase letters, digits or dashes."
    name = item["name"]
    if not isinstance(name, Mapping):
        return f"Menu item {item_id!r} name must be an object of names by language."
    for lang in LANGUAGES:
        text = name.get(lang)
        if not isinstance(text, str) or not text.strip():
            return f"Menu item {item_id!r} needs a name in {lang!r}."
        if len(text) > MAX_NAME_LENGTH:
            return f"Menu item {item_id!r} name in {lang!r} is longer than {MAX_NAME_LENGTH} characters."
    problem = _description_problem(item.get("description") or {}, item_id)
    if problem:
        return problem
    if item["category"] not in CATEGORIES:
        return (f"Menu item {item_id!r} has unknown category {item['category']!r}; "
                f"use one of {', '.join(CATEGORIES)}.")
    price = item["price"]
    if not is_whole(price):
        return f"The price of {item_id} must be a whole number of tetri."
    if price <= 0:
        return f"The price of {item_id} must be more than zero."
    if price > MAX_PRICE:
        return f"The price of {item_id} is too large (at most {MAX_PRICE} tetri)."
    if not is_whole(item["available"]) or not 0 <= item["available"] <= MAX_AVAILABLE:
        return f"Menu item {item_id!r} availability must be a whole number from 0 to {MAX_AVAILABLE}."
    low, high = PRIORITY_RANGE
    priority = item.get("priority", 5)
    if not is_whole(priority) or not low <= priority <= high:
        return f"Menu item {item_id!r} priority must be between {low} and {high}."
    cooking = item.get("cooking_minutes", 15)
    if not is_whole(cooking) or not 0 <= cooking <= MAX_COOKING_MINUTES:
        return f"Menu item {item_id!r} cooking time must be 0-{MAX_COOKING_MINUTES} minutes."
    ingredients = item.get("ingredients") or []
    if not isinstance(ingredients, list | tuple) or len(ingredients) > MAX_INGREDIENTS:
        return f"Menu item {item_id!r} ingredients must be a list of at most {MAX_INGREDIENTS}."
    for ing in ingredients:
        if (not isinstance(ing, Mapping) or set(ing) != {"name", "grams", "kcal"} or not isinstance(ing["name"], str)
                or not ing["name"].strip() or not is_whole(ing["grams"]) or not is_whole(ing["kcal"])
                or ing["grams"] < 0 or ing["kcal"] < 0):
            return (f"Menu item {item_id!r} has an invalid ingredient: each is {{name, grams, kcal}} with a name and "
                    "whole, non-negative numbers.")
    if "total_kcal" in item and item["total_kcal"] != sum(i["kcal"] for i in ingredients):
        return f"Menu item {item_id!r} total_kcal must be the sum of its ingredients' kcal."
    if not isinstance(item.get("active", True), bool):
        return f"Menu item {item_id!r} active flag must be true or false."
    codes = item.get("codes") or []
    if not isinstance(codes, list | tuple) or len(codes) > MAX_CODES or \
            any(not isinstance(c, str) or not ITEM_CODE.fullmatch(c) for c in codes) or len(set(codes)) != len(codes):
        return (f"Menu item {item_id!r} codes must be a list of at most {MAX_CODES} different codes of 3-32 letters, "
                "digits or dashes.")
    return modifiers_problem(item.get("modifiers") or [], item_id, price)


def shares_problem(shares: object, what: str = "policy") -> str | None:
    """A split of one node type: known parties, whole non-negative basis points adding up to 100 %."""
    if not isinstance(shares, Mapping):
        return f"Token split for {what} must be an object of basis points by party."
    unknown = sorted(str(p) for p in set(shares) - set(PARTIES))
    if unknown:
        return f"Token split for {what} names an unknown party {unknown[0]!r}."
    if any(not is_whole(v) or v < 0 for v in shares.values()):
        return f"Token split for {what} must use whole, non-negative basis points."
    if sum(shares.values()) != BASIS_POINTS:
        return f"Token split for {what} must add up to 100 %, not {sum(shares.values()) / 100:g} %."
    return None


def policy_problem(policy: Mapping[str, Any], *, versioned: bool = True) -> str | None:
    """What is wrong with a token policy in its dict form, or None. `versioned=False` checks a policy before HQ
    has given it its version (the staff API's input)."""
    fields = POLICY_FIELDS if versioned else POLICY_FIELDS - {"version"}
    unknown = sorted(set(policy) - fields)
    if unknown:
        return f"Unknown token policy field: {unknown[0]!r}."
    missing = sorted(fields - set(policy))
    if missing:
        return f"The token policy is missing the field {missing[0]!r}."
    if versioned and (not is_whole(policy["version"]) or policy["version"] < 1):
        return "The token policy version must be a whole number, 1 or more."
    rate_num, rate_den = policy["rate_num"], policy["rate_den"]
    if not is_whole(rate_num) or not is_whole(rate_den) or not 0 <= rate_num <= MAX_RATE \
            or not 1 <= rate_den <= MAX_RATE:
        return f"The mint rate is rate_num / rate_den with whole numbers: 0-{MAX_RATE} over 1-{MAX_RATE}."
    shares = policy["shares"]
    if not isinstance(shares, Mapping) or set(shares) != set(NODE_TYPES):
        return f"A policy gives shares for exactly the node types {' and '.join(NODE_TYPES)}."
    for node_type in NODE_TYPES:
        problem = shares_problem(shares[node_type], f"node type {node_type!r}")
        if problem:
            return problem
    return None
