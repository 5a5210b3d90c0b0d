from __future__ import annotations

import uuid

from terminal.core.ids import CROCKFORD, new_terminal_id, uuid7


def test_uuid7_layout_and_time_order() -> None:
    ids = [uuid7(1795651200000 + i) for i in range(50)]
    for text in ids:
        u = uuid.UUID(text)
        assert u.version == 7 and u.variant == uuid.RFC_4122
    assert [uuid.UUID(t).int >> 80 for t in ids] == [1795651200000 + i for i in range(50)]
    assert ids == sorted(ids) and len(set(uuid7(1) for _ in range(1000))) == 1000


def test_terminal_ids_are_typable() -> None:
    ids = {new_terminal_id() for _ in range(200)}
    assert len(ids) == 200 and all(len(i) == 8 and set(i) <= set(CROCKFORD) for i in ids)
