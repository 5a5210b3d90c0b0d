"""Setting up a terminal in a data folder: its wallet (new, or restored from the owner's words), its identity, the
first ledger records, its staff and, for a demo, the demo menu and demo staff."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from terminal.core.demo_menu import DEMO_MENU
from terminal.core.errors import InvalidInput, WrongState
from terminal.core.ids import new_terminal_id
from terminal.core.menu import validate_menu_item
from terminal.core.orders import clean_text
from terminal.core.tokens import DEFAULT_POLICY, NODE_TYPES
from terminal.core.users import Role, hash_pin, validate_pin
from terminal.ledger.journal import append_record
from terminal.services import DEMO_CLAIM_BASE_URL, Terminal, now_ms
from terminal.store import repos
from terminal.store.db import open_store
from terminal.wallet.hd import Wallet, new_mnemonic, recording_public_key
from terminal.wallet.keystore import check_passphrase_strength, restore_wallet, save_keystore

DEMO_PASSPHRASE = "hotpot-demo"  # the demo terminal's wallet passphrase (a real one is the owner's choice)
DEMO_STAFF = (("Owner", Role.OWNER, "1111"), ("Nino", Role.MANAGER, "2222"), ("Giorgi", Role.CASHIER, "3333"))


@dataclass(frozen=True)
class SetupResult:
    pins: dict[str, str]
    mnemonic: str

    def __repr__(self) -> str:
        return "SetupResult(***)"


def create_terminal(data_dir: Path, *, franchise: str, terminal_name: str, passphrase: str,
                    node_type: str = "franchise", demo: bool = False, owner_pin: str | None = None,
                    mnemonic: str | None = None, clock: Callable[[], int] = now_ms) -> tuple[Terminal, SetupResult]:
    """Set up a new terminal with a new wallet, or with the wallet of `mnemonic` (recovery words of an owner's
    existing wallet). Returns it and what must be shown to the owner exactly once: the users' PINs and the
    wallet's 24 recovery words (neither is stored in the clear)."""
    franchise = clean_text(franchise, "franchise name")
    terminal_name = clean_text(terminal_name, "terminal name")
    if node_type not in NODE_TYPES:
        raise InvalidInput(f"Node type must be own or franchise, not {node_type!r}.")
    if owner_pin is not None:
        validate_pin(owner_pin)
    check_passphrase_strength(passphrase)
    wallet = restore_wallet(mnemonic) if mnemonic is not None else Wallet(new_mnemonic())  # bad words: stop here
    store = open_store(data_dir, create=True)
    try:
        if store.meta("terminal_id"):
            raise WrongState(f"A terminal is already set up in {data_dir} "
                             f"(terminal {store.meta('terminal_id')}); nothing was changed.")
        staff = [(n, r, p) for n, r, p in DEMO_STAFF] if demo else []
        if owner_pin is not None or not staff:
            pin = owner_pin or f"{secrets.randbelow(10**6):06d}"
            staff = [("Owner", Role.OWNER, pin)] + [s for s in staff if s[1] != Role.OWNER]
        hashed = [(n, r, p, hash_pin(p)) for n, r, p in staff]  # slow: outside the transaction
        terminal_id = new_terminal_id()
        # The keystore first: a crash after it leaves a keystore of no terminal, which the next init replaces
        # (the database has no terminal id yet); the other order could leave a terminal without its keys.
        save_keystore(data_dir, wallet, terminal_id, passphrase, overwrite=True)
        signing_key = wallet.signer.public_key.hex()
        at = clock()
        with store.transaction() as conn:
            meta = {"terminal_id": terminal_id, "franchise": franchise, "terminal_name": terminal_name,
                    "node_type": node_type, "claim_base_url": DEMO_CLAIM_BASE_URL,
                    "account_xpub": wallet.account_xpub, "signing_public_key": signing_key,
                    # cameras seal footage to this, the wallet locked or not (terminal.cameras)
                    "recording_public_key": recording_public_key(wallet.recording_key()).hex()}
            for key, value in meta.items():
                repos.set_meta(conn, key, value)
            append_record(conn, terminal_id, "terminal_initialized",
                          {"franchise": franchise, "terminal_name": terminal_name, "node_type": node_type,
                           "account_xpub": wallet.account_xpub, "signing_public_key": signing_key}, at)
            repos.save_policy(conn, DEFAULT_POLICY, at)
            if demo:
                for item in DEMO_MENU:
                    validate_menu_item(item)
                repos.save_menu_items(conn, DEMO_MENU)
                loaded: dict[str, object] = {"source": "demo", "version": 0,
                                              "prices": {i.id: i.price for i in DEMO_MENU}}
                options = {i.id: [dict(g) for g in i.modifiers] for i in DEMO_MENU if i.modifiers}
                if options:  # HQ prices this till's sales before enrollment from this record: options too
                    loaded["modifiers"] = options
                append_record(conn, terminal_id, "menu_loaded", loaded, at)
            for name, role, _, pin_hash in hashed:
                repos.insert_user(conn, name, role, pin_hash, at)
                append_record(conn, terminal_id, "user_created", {"name": name, "role": role.value,
                                                                  "by": "init"}, at)
    except BaseException:
        store.close()
        raise
    return Terminal(store, clock), SetupResult({name: pin for name, _, pin, _ in hashed}, wallet.mnemonic)
