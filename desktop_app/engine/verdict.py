"""The second opinion beside a prediction: is the photo of something the model knows at all?

Two checks fill it in the same way: the ImageNet scope check of the CIFAR-10
models (:mod:`desktop_app.engine.scope`) and the novelty check of taught models
(:mod:`desktop_app.engine.novelty`). The window, the batch table, the command
line and the result writers read only this.
"""

from __future__ import annotations

from dataclasses import dataclass


def article(noun: str) -> str:
    """ "a" or "an" for an English noun (good enough for ImageNet's labels)."""
    return "an" if noun[:1].lower() in "aeiou" else "a"


@dataclass(frozen=True)
class ScopeVerdict:
    """What the scope or novelty check says of one image (``in_scope`` None: not checked, ``note`` says why).

    ``note`` on an out-of-scope verdict replaces the ImageNet wording (a taught
    model's "Unlike anything this model was taught").
    """

    in_scope: bool | None
    looks_like: str = ""
    looks_like_probability: float | None = None
    mapped_mass: float | None = None  # probability the general model gives the ten classes together
    note: str = ""

    @property
    def reason(self) -> str:
        """One line for people: why it is out of scope or was not checked; empty when in scope."""
        if self.in_scope is None:
            return self.note
        if self.in_scope:
            return ""
        if self.note:
            return self.note
        return f"None of the ten classes: this looks like {article(self.looks_like)} {self.looks_like}" + (
            f" ({self.looks_like_probability:.0%})" if self.looks_like_probability is not None else ""
        )
