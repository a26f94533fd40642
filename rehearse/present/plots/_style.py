"""Colours, font size and the words the figures share; what a lock mode blocks, as a colour."""

from __future__ import annotations

from rehearse.sql import locks as lockmodes

FONT = 10
BLOCKS_BOTH, BLOCKS_WRITES, BLOCKS_NEITHER = "#d62728", "#ff7f0e", "#8c9a8c"
LOCK_CLASSES = {  # colour: what a reviewer needs to know about a lock, in words
    BLOCKS_BOTH: "blocks reads and writes",
    BLOCKS_WRITES: "blocks writes (reads go on)",
    BLOCKS_NEITHER: "blocks neither reads nor writes",
}
WAITING = "migration waiting for the lock"
TIME_LABEL = "seconds since traffic start"
_VARIANT_COLOURS = ("tab:blue", "tab:purple", "tab:brown", "tab:olive", "tab:cyan", "tab:pink")


def lock_colour(mode: str) -> str:
    """Red when the mode blocks reads (and so writes), orange when only writes, grey when neither."""
    if mode in lockmodes.MODES and lockmodes.blocks_reads(mode):
        return BLOCKS_BOTH
    if mode in lockmodes.MODES and lockmodes.blocks_writes(mode):
        return BLOCKS_WRITES
    return BLOCKS_NEITHER
