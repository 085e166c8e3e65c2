"""The window's side of the scope check: its on/off setting, the sort option, and the engine call.

``second_opinion`` asks the engine for the check that goes beside a model (the
ImageNet scope check of a CIFAR-10 model, the novelty check of a taught model,
or None); it runs on a worker thread because building it opens a session. The
setting lives in ``AppState.scope_check`` and is remembered in QSettings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from desktop_app.ui.actions import Actions
from desktop_app.ui.settings import Settings
from desktop_app.ui.state import AppState

#: Folder for out-of-scope results when "Sort into folders" keeps them apart (off by default).
OUT_OF_SCOPE_FOLDER = "_out_of_scope"


def second_opinion(info: Any, models: Sequence[Any], device: Any, *, enabled: bool = True) -> Any:
    """The engine's scope / novelty check for ``info`` (None: no check, or turned off)."""
    if not enabled:
        return None
    from desktop_app.engine.scope import second_opinion_for

    return second_opinion_for(info, list(models), device=device, enabled=enabled)


@dataclass
class ScopeActions:
    check: QAction  # the setting: check whether photos show the model's classes
    sort_out_of_scope: QAction  # Sort into folders: out-of-scope rows into _out_of_scope/


def create_scope_actions(actions: Actions, state: AppState, settings: Settings, parent: QWidget) -> ScopeActions:
    """Make the two checkable actions, put them in the File and Models menus, bind them to the
    state and the remembered setting."""
    check = QAction("Check whether photos show the model's &classes", parent)
    check.setCheckable(True)
    tip = (
        "Beside a CIFAR-10 model the general ImageNet model looks at each photo too and flags photos of "
        "other things as out of scope (taught models: photos unlike anything taught)"
    )
    check.setToolTip(tip)
    check.setStatusTip(tip)
    state.set_scope_check(settings.scope_check)
    check.setChecked(state.scope_check)
    check.toggled.connect(state.set_scope_check)
    state.scope_check_changed.connect(check.setChecked)
    state.scope_check_changed.connect(lambda on: setattr(settings, "scope_check", on))

    sort = QAction(f"Put &out-of-scope results in an {OUT_OF_SCOPE_FOLDER} folder", parent)
    sort.setCheckable(True)
    sort.setChecked(False)
    sort_tip = f"When sorting into folders, copy out-of-scope results into {OUT_OF_SCOPE_FOLDER}/"
    sort.setToolTip(sort_tip)
    sort.setStatusTip(sort_tip)
    _insert_after(actions.menus.get("file"), actions.sort_unsure, sort)
    _insert_after(actions.menus.get("models"), actions.model_info, check)
    return ScopeActions(check=check, sort_out_of_scope=sort)


def _insert_after(menu: QMenu | None, anchor: QAction, action: QAction) -> None:
    if menu is None:
        return
    items = menu.actions()
    after = items.index(anchor) + 1 if anchor in items else len(items)
    if after < len(items):
        menu.insertAction(items[after], action)
    else:
        menu.addAction(action)
