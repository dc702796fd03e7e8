"""Ticket references: readable, unguessable, and found again however a person types them."""

from __future__ import annotations

import re

from bot.tickets.references import ALPHABET, new_reference, parse_reference

FORMAT = re.compile(r"^PRV-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}$")


def test_reference_format() -> None:
    """A reference is PRV- and two groups of four characters from the unambiguous alphabet."""
    for _ in range(200):
        assert FORMAT.match(new_reference())


def test_alphabet_has_no_look_alikes() -> None:
    """0/O, 1/I/L and U never appear, so a reference read out over the phone is not misheard."""
    assert not set("01OILU") & set(ALPHABET)
    assert len(ALPHABET) == 30


def test_references_are_unique_in_practice() -> None:
    """Twenty thousand draws give twenty thousand different references (30**8 possibilities)."""
    drawn = {new_reference() for _ in range(20_000)}
    assert len(drawn) == 20_000


def test_parse_accepts_how_people_type_it() -> None:
    """Lower case, spaces instead of dashes, or no separators at all give the canonical reference."""
    for typed in ("what about prv-7k3q-9m2d?", "PRV 7K3Q 9M2D", "PRV7K3Q9M2D", "status of PRV-7K3Q-9M2D"):
        assert parse_reference(typed) == "PRV-7K3Q-9M2D"


def test_parse_rejects_characters_outside_the_alphabet() -> None:
    """A reference with an O or a 1 cannot be one of ours."""
    assert parse_reference("PRV-7K3Q-9M2O") is None
    assert parse_reference("PRV-1111-2222") is None
    assert parse_reference("no reference here") is None
