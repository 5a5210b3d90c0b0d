-- depends: 0015_terminal_contact
-- An item's modifier groups at every menu version (vocabulary.py): a sale's options are re-priced against the
-- groups of the version it was sold under, as its base price is. Items without groups have none ([]).
ALTER TABLE menu_item_history ADD COLUMN modifiers jsonb NOT NULL DEFAULT '[]';
UPDATE menu_item_history h SET modifiers = m.data -> 'modifiers'
  FROM menu_items m WHERE m.id = h.item_id AND m.update_seq = h.update_seq AND m.data ? 'modifiers';
