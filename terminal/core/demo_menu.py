"""The demo menu a new demo terminal starts with (the items themselves are shared with HQ: sync.protocol.demo_menu)."""

from __future__ import annotations

from sync.protocol.demo_menu import DEMO_MENU_ITEMS
from terminal.core.menu import MenuItem, menu_item_from_dict

DEMO_MENU: tuple[MenuItem, ...] = tuple(menu_item_from_dict(item) for item in DEMO_MENU_ITEMS)
