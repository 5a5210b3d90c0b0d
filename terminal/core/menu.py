"""Menu items as HQ defines them and terminals cache them: names in three languages, prices, stock, nutrition."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from terminal.core.errors import InvalidInput
from terminal.core.money import Tetri, check_amount

LANGUAGES = ("ka", "en", "ru")
CATEGORIES = ("broth", "meat", "seafood", "vegetables", "noodles", "sides", "drinks", "desserts")
DEFAULT_PRIORITY = 5
DEFAULT_COOKING_MINUTES = 15
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class Ingredient:
    name: str
    grams: int
    kcal: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "grams": self.grams, "kcal": self.kcal}


@dataclass(frozen=True)
class MenuItem:
    id: str
    name: Mapping[str, str]
    category: str
    price: Tetri
    available: int
    description: Mapping[str, str] = field(default_factory=dict)
    priority: int = DEFAULT_PRIORITY
    cooking_minutes: int = DEFAULT_COOKING_MINUTES
    ingredients: tuple[Ingredient, ...] = ()
    active: bool = True

    @property
    def total_kcal(self) -> int:
        return sum(i.kcal for i in self.ingredients)

    def display_name(self, language: str = "en") -> str:
        return self.name.get(language) or self.name.get("en") or self.id

    def is_sellable(self) -> bool:
        return self.active and self.available > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": dict(self.name),
            "description": dict(self.description),
            "category": self.category,
            "price": self.price,
            "available": self.available,
            "priority": self.priority,
            "cooking_minutes": self.cooking_minutes,
            "ingredients": [i.to_dict() for i in self.ingredients],
            "total_kcal": self.total_kcal,
            "active": self.active,
        }


def menu_item_from_dict(data: Mapping[str, Any]) -> MenuItem:
    """Build and validate a menu item from its dict form (the store's JSON or an HQ update)."""
    known = {"id", "name", "description", "category", "price", "available", "priority", "cooking_minutes",
             "ingredients", "total_kcal", "active"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(f"Unknown menu item field: {unknown[0]!r}.")
    try:
        item = MenuItem(
            id=data["id"],
            name=dict(data["name"]),
            description=dict(data.get("description") or {}),
            category=data["category"],
            price=data["price"],
            available=data["available"],
            priority=data.get("priority", DEFAULT_PRIORITY),
            cooking_minutes=data.get("cooking_minutes", DEFAULT_COOKING_MINUTES),
            ingredients=tuple(Ingredient(i["name"], i["grams"], i["kcal"]) for i in data.get("ingredients") or ()),
            active=data.get("active", True),
        )
    except KeyError as exc:
        raise InvalidInput(f"Menu item is missing the field {exc.args[0]!r}.") from None
    except (TypeError, AttributeError):
        raise InvalidInput("Menu item has a field of the wrong type.") from None
    validate_menu_item(item)
    return item


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_menu_item(item: MenuItem) -> None:
    if not isinstance(item.id, str) or not _ID_RE.fullmatch(item.id):
        raise InvalidInput(f"Menu item id {item.id!r} must be 1-40 lowercase letters, digits or dashes.")
    for lang in LANGUAGES:
        name = item.name.get(lang)
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"Menu item {item.id!r} needs a name in {lang!r}.")
    if item.category not in CATEGORIES:
        raise InvalidInput(f"Menu item {item.id!r} has unknown category {item.category!r}.")
    check_amount(item.price, f"price of {item.id}", allow_zero=False)
    if not _is_int(item.available) or item.available < 0:
        raise InvalidInput(f"Menu item {item.id!r} availability must be a whole number, zero or more.")
    if not _is_int(item.priority) or not 1 <= item.priority <= 10:
        raise InvalidInput(f"Menu item {item.id!r} priority must be between 1 and 10.")
    if not _is_int(item.cooking_minutes) or not 0 <= item.cooking_minutes <= 240:
        raise InvalidInput(f"Menu item {item.id!r} cooking time must be 0-240 minutes.")
    for ing in item.ingredients:
        if not ing.name or not _is_int(ing.grams) or not _is_int(ing.kcal) or ing.grams < 0 or ing.kcal < 0:
            raise InvalidInput(f"Menu item {item.id!r} has an invalid ingredient {ing.name!r}.")
    if not isinstance(item.active, bool):
        raise InvalidInput(f"Menu item {item.id!r} active flag must be true or false.")


def index_menu(items: Iterable[MenuItem]) -> dict[str, MenuItem]:
    result: dict[str, MenuItem] = {}
    for item in items:
        if item.id in result:
            raise InvalidInput(f"Menu item id {item.id!r} appears twice.")
        result[item.id] = item
    return result
