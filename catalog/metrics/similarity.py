"""How close two metric names or descriptions are. Django-free.

Names are compared as words ("weekly_active_users" is "weekly active users"):
difflib's ratio catches spelling variants (active_users / active_user), and word
containment catches a qualified form of the same name (active_users /
weekly_active_users). Descriptions are compared by character trigrams, which
survive reordering and small edits.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

NAME_RATIO = 0.84
DESCRIPTION_SIMILARITY = 0.55
MIN_DESCRIPTION_WORDS = 5


def words(text: str) -> list[str]:
    """'WeeklyActive-Users' -> ['weekly', 'active', 'users']."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text or "")
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def normal_name(text: str) -> str:
    return " ".join(words(text))


def slug(text: str) -> str:
    return "_".join(words(text))


def name_similarity(a: str, b: str) -> float:
    """0..1; 1.0 for the same words, 0.9 when one name's words (two or more) are all in the other."""
    left, right = normal_name(a), normal_name(b)
    if not left or not right:
        return 0.0
    if left == right:
        return 1.0
    ratio = SequenceMatcher(None, left, right).ratio()
    shorter, longer = sorted((set(left.split()), set(right.split())), key=len)
    if len(shorter) >= 2 and shorter <= longer:
        ratio = max(ratio, 0.9)
    return ratio


def trigrams(text: str) -> set[str]:
    padded = f"  {' '.join(words(text))} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def description_similarity(a: str, b: str) -> float:
    """Trigram Jaccard similarity of two descriptions; 0 when either is too short to say."""
    if len(words(a)) < MIN_DESCRIPTION_WORDS or len(words(b)) < MIN_DESCRIPTION_WORDS:
        return 0.0
    left, right = trigrams(a), trigrams(b)
    return len(left & right) / len(left | right) if left and right else 0.0
