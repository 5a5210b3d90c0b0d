"""Request bodies of HQ's API as pydantic models: their shape and bounds. Business rules that both ends share (what a
menu item or a token policy may hold) live in sync.protocol.vocabulary and are applied by the writes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from sync.protocol.vocabulary import MAX_AVAILABLE, MAX_COOKING_MINUTES, MAX_PRICE, MAX_RATE, TERMINAL_ID


class EnrollRequest(BaseModel):
    code: str = Field(min_length=4, max_length=64)
    terminal_id: str = Field(pattern=TERMINAL_ID.pattern)
    account_xpub: str = Field(min_length=100, max_length=120)
    signing_public_key: str = Field(pattern=r"^0[23][0-9a-f]{64}$")
    signature: str = Field(pattern=r"^[0-9a-f]{16,200}$")


class LoginRequest(BaseModel):
    username: str = Field(pattern=r"^[a-z0-9._-]{3,40}$")
    password: str = Field(min_length=1, max_length=200)


class FranchiseIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class NodeIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    node_type: str = Field(pattern=r"^(own|franchise)$")


class MenuItemIn(BaseModel):
    name: dict[str, str]
    category: str = Field(min_length=1, max_length=40)
    price: int = Field(gt=0, le=MAX_PRICE)
    available: int = Field(ge=0, le=MAX_AVAILABLE)
    description: dict[str, str] = Field(default_factory=dict)
    priority: int = Field(default=5, ge=1, le=10)
    cooking_minutes: int = Field(default=15, ge=0, le=MAX_COOKING_MINUTES)
    ingredients: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    active: bool = True
    codes: list[str] = Field(default_factory=list, max_length=10)  # barcodes / short codes a scanner types
    modifiers: list[dict[str, Any]] = Field(default_factory=list, max_length=8)  # groups (vocabulary.py)


class PolicyIn(BaseModel):
    rate_num: int = Field(ge=0, le=MAX_RATE)
    rate_den: int = Field(ge=1, le=MAX_RATE)
    shares: dict[str, dict[str, int]]

