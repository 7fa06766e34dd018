"""The understanding layer: a chat message, in its context, read as an intent with slots.

Pure and channel-agnostic: no database, no I/O. The flows build a Context from their step,
call understand() and act on the Reading, asking «Menade du …?» when it is unsure.
"""

from bot.understanding.model import (
    ACTIONS,
    AMBIGUITY_MARGIN,
    CONFIDENCE_THRESHOLD,
    Context,
    Guess,
    Intent,
    Reading,
    Slots,
    Speaker,
    Step,
    is_action,
    step_of,
)
from bot.understanding.reading import understand

__all__ = [
    "ACTIONS",
    "AMBIGUITY_MARGIN",
    "CONFIDENCE_THRESHOLD",
    "Context",
    "Guess",
    "Intent",
    "Reading",
    "Slots",
    "Speaker",
    "Step",
    "is_action",
    "step_of",
    "understand",
]
