"""Small wording helpers shared by every view, so numbers read the same everywhere."""

from __future__ import annotations

from collections.abc import Sequence

from desktop_app.engine.scope import CIFAR10_LABELS  # noqa: F401 - the ten classes the empty state names


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    """ "1 image", "2 images", "1,204 errors"."""
    return f"{n:,} {word if n == 1 else (plural_word or word + 's')}"


def accuracy_text(accuracy: float | None) -> str:
    """Test accuracy with two decimals ("85.25%"), the one rounding the app uses; "-" when unknown."""
    return f"{accuracy * 100:.2f}%" if accuracy is not None else "-"


def model_title(info: object) -> str:
    """ "Deep CNN (85.25% test accuracy)" or just the name when not recorded."""
    acc = getattr(info, "test_accuracy", None)
    name = getattr(info, "display_name", "")
    return f"{name} ({accuracy_text(acc)} test accuracy)" if acc is not None else name


def model_choice_text(info: object) -> str:
    """The dropdown's shorter form, "Deep CNN (85.25%)" (the tool tip says it is test accuracy)."""
    acc = getattr(info, "test_accuracy", None)
    name = getattr(info, "display_name", "")
    return f"{name} ({accuracy_text(acc)})" if acc is not None else name


def classes_text(labels: Sequence[str], limit: int = 12) -> str:
    """ "airplane, automobile, ... truck" (the first ``limit`` and how many more)."""
    shown = ", ".join(labels[:limit])
    more = len(labels) - limit
    return f"{shown} and {more:,} more" if more > 0 else shown
