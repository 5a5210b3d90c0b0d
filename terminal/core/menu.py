"""Menu items as HQ defines them and terminals cache them: names in three languages, prices, stock, nutrition."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.protocol.vocabulary import CATEGORIES, LANGUAGES, menu_item_problem
from terminal.core.errors import InvalidInput
from terminal.core.money import Tetri

DEFAULT_PRIORITY = 5
DEFAULT_COOKING_MINUTES = 15


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
    codes: tuple[str, ...] = ()  # barcodes or short codes a scanner types (vocabulary.ITEM_CODE)
    modifiers: tuple[Mapping[str, Any], ...] = ()  # modifier groups as HQ defines them (vocabulary)

    @property
    def total_kcal(self) -> int:
        return sum(i.kcal for i in self.ingredients)

    def display_name(self, language: str = "en") -> str:
        return self.name.get(language) or self.name.get("en") or self.id

    def is_sellable(self) -> bool:
        return self.active and self.available > 0

    def group(self, group_id: str) -> Mapping[str, Any] | None:
        return next((g for g in self.modifiers if g["id"] == group_id), None)

    def option(self, group_id: str, option_id: str) -> Mapping[str, Any] | None:
        group = self.group(group_id)
        return None if group is None else next((o for o in group["options"] if o["id"] == option_id), None)

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.codes:
            extra["codes"] = list(self.codes)
        if self.modifiers:
            extra["modifiers"] = copy.deepcopy([dict(g) for g in self.modifiers])  # the menu cache stays as it is
        return {
            **extra,
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
    """Build a menu item from its dict form (the store's JSON or an HQ update), checked by the shared rules."""
    if not isinstance(data, Mapping):
        raise InvalidInput("A menu item must be an object.")
    problem = menu_item_problem(data)
    if problem:
        raise InvalidInput(problem)
    return MenuItem(
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
        codes=tuple(data.get("codes") or ()),
        modifiers=tuple(data.get("modifiers") or ()),
    )


def validate_menu_item(item: MenuItem) -> None:
    problem = menu_item_problem(item.to_dict())
    if problem:
        raise InvalidInput(problem)


def index_menu(items: Iterable[MenuItem]) -> dict[str, MenuItem]:
    result: dict[str, MenuItem] = {}
    for item in items:
        if item.id in result:
            raise InvalidInput("Menu item id {id!r} appears twice.", id=item.id)
        result[item.id] = item
    return result


__all__ = ["CATEGORIES", "LANGUAGES", "Ingredient", "MenuItem", "index_menu", "menu_item_from_dict",
           "validate_menu_item"]
