from __future__ import annotations

import pytest

from terminal.core.demo_menu import DEMO_MENU
from terminal.core.errors import InvalidInput
from terminal.core.menu import LANGUAGES, index_menu, menu_item_from_dict, validate_menu_item


def test_demo_menu_is_a_real_hot_pot_menu() -> None:
    assert len(DEMO_MENU) >= 15
    categories = {i.category for i in DEMO_MENU}
    assert {"broth", "meat", "vegetables", "noodles", "drinks"} <= categories
    index_menu(DEMO_MENU)  # ids unique
    for item in DEMO_MENU:
        validate_menu_item(item)
        assert all(item.name[lang].strip() for lang in LANGUAGES)
        assert len({item.name[lang] for lang in LANGUAGES}) == 3, f"{item.id} is not translated"
        assert item.ingredients and item.total_kcal == sum(i.kcal for i in item.ingredients)
        assert isinstance(item.price, int) and item.price > 0


def test_round_trip_through_dict() -> None:
    for item in DEMO_MENU:
        assert menu_item_from_dict(item.to_dict()) == item


@pytest.mark.parametrize(("change", "text"), [
    ({"id": "Bad Id"}, "lowercase"), ({"price": 0}, "more than zero"), ({"price": 12.5}, "whole number"),
    ({"priority": 11}, "between 1 and 10"), ({"category": "pizza"}, "unknown category"),
    ({"name": {"en": "x", "ka": "y"}}, "name in 'ru'"), ({"colour": "red"}, "Unknown menu item field"),
    ({"available": -1}, "availability"),
])
def test_bad_menu_items_refused(change: dict[str, object], text: str) -> None:
    data = {**DEMO_MENU[0].to_dict(), **change}
    with pytest.raises(InvalidInput, match=text):
        menu_item_from_dict(data)
