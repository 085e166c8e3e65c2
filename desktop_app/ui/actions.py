"""The window's QActions (with shortcuts and tooltips) and its menus.

Kept apart from the window logic so the full list of commands and keys can
be read in one place (and documented in docs/app.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle


@dataclass
class Actions:
    open_image: QAction
    open_folder: QAction
    paste: QAction
    export: QAction
    sort_folders: QAction
    cancel: QAction
    quit: QAction
    compare: QAction
    model_info: QAction
    add_models: QAction
    show_image: QAction
    show_batch: QAction
    about: QAction
    sort_unsure: QAction
    shortcuts: QAction
    documentation: QAction
    teach: QAction
    rename_model: QAction
    reteach_model: QAction
    delete_model: QAction
    correct_image: QAction
    correct_row: QAction
    #: The menus by name ("file", "view", "models", "help"): later features add their actions here,
    #: e.g. ``actions.menus["models"].addAction(teach_action)``.
    menus: dict[str, QMenu] = field(default_factory=dict)

    def with_shortcuts(self) -> list[QAction]:
        """Every action that has a keyboard shortcut, in menu order (for Help > Keyboard shortcuts)."""
        seen: list[QAction] = []
        for menu in self.menus.values():
            for action in menu.actions():
                if not action.shortcut().isEmpty() and action not in seen:
                    seen.append(action)
        return seen


def _action(
    window: QMainWindow,
    text: str,
    shortcut: QKeySequence | str | None,
    tip: str,
    icon: QStyle.StandardPixmap | None = None,
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setToolTip(
        f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})" if shortcut else tip
    )
    action.setStatusTip(tip)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    return action


def create_actions(window: QMainWindow) -> Actions:
    """Create every action (not yet connected) and the menu bar."""
    sp = QStyle.StandardPixmap
    a = Actions(
        open_image=_action(
            window,
            "&Open image...",
            QKeySequence.StandardKey.Open,
            "Classify one or more image files",
            sp.SP_DialogOpenButton,
        ),
        open_folder=_action(
            window,
            "Open &folder...",
            "Ctrl+Shift+O",
            "Classify every image in a folder and its sub-folders",
            sp.SP_DirOpenIcon,
        ),
        paste=_action(
            window,
            "&Paste image",
            QKeySequence.StandardKey.Paste,
            "Classify an image (or image files) from the clipboard",
        ),
        export=_action(
            window,
            "&Export results...",
            "Ctrl+E",
            "Save the batch results shown in the table as CSV or JSON",
            sp.SP_DialogSaveButton,
        ),
        sort_folders=_action(
            window,
            "&Sort into folders...",
            "Ctrl+Shift+S",
            "Copy the images into one sub-folder per predicted class (originals stay where they are)",
        ),
        cancel=_action(
            window, "&Cancel batch", "Esc", "Stop the running batch; finished rows are kept", sp.SP_BrowserStop
        ),
        quit=_action(window, "&Quit", "Ctrl+Q", "Close the application"),
        compare=_action(
            window, "&Compare models", "Ctrl+Shift+C", "Classify the current image with every model, side by side"
        ),
        model_info=_action(
            window,
            "Model &details...",
            "Ctrl+I",
            "Architecture, test metrics, confusion matrix and training recipe of the current model",
            sp.SP_FileDialogInfoView,
        ),
        add_models=_action(
            window, "&Add models folder...", "Ctrl+Shift+M", "Use your own ONNX models that follow the model contract"
        ),
        show_image=_action(window, "&Image view", "Ctrl+1", "Show the single-image view"),
        show_batch=_action(window, "&Batch view", "Ctrl+2", "Show the batch results"),
        about=_action(window, "&About", None, "Versions and available execution providers"),
        sort_unsure=_action(
            window,
            "Put &unsure results in an _unsure folder",
            None,
            "When sorting into folders, copy unsure results into _unsure/ instead of their best-guess class",
        ),
        shortcuts=_action(
            window, "&Keyboard shortcuts", QKeySequence.StandardKey.HelpContents, "Every keyboard shortcut of the app"
        ),
        documentation=_action(window, "&Documentation", None, "Open the user guide (docs/app.md) or its web page"),
        teach=_action(
            window, "&Teach a new model...", None, "Teach a model your own classes from a folder of class subfolders"
        ),
        rename_model=_action(window, "&Rename taught model...", None, "Give the chosen taught model a new name"),
        reteach_model=_action(
            window, "Re-&teach with more photos...", None, "Teach the chosen taught model again from its (grown) folder"
        ),
        delete_model=_action(
            window, "De&lete taught model...", None, "Delete the chosen taught model (its photos stay)"
        ),
        correct_image=_action(
            window, "&Correct...", None, "Give this photo its right class; the taught model learns it in the background"
        ),
        correct_row=_action(
            window, "&Correct...", None, "Give this photo its right class; the taught model learns it in the background"
        ),
    )
    a.sort_unsure.setCheckable(True)
    a.sort_unsure.setChecked(False)
    a.export.setEnabled(False)
    a.sort_folders.setEnabled(False)
    a.cancel.setEnabled(False)
    a.compare.setEnabled(False)
    a.model_info.setEnabled(False)
    for action in (a.rename_model, a.reteach_model, a.delete_model, a.correct_image, a.correct_row):
        action.setEnabled(False)  # only for a taught model (TeachController)

    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for action in (a.open_image, a.open_folder, a.paste):
        file_menu.addAction(action)
    file_menu.addSeparator()
    for action in (a.export, a.sort_folders, a.sort_unsure, a.cancel):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    view_menu = bar.addMenu("&View")
    view_menu.addAction(a.show_image)
    view_menu.addAction(a.show_batch)
    models_menu = bar.addMenu("&Models")
    for action in (a.compare, a.model_info, a.add_models):
        models_menu.addAction(action)
    models_menu.addSeparator()  # teaching; the three after "Teach" act on the chosen taught model
    for action in (a.teach, a.rename_model, a.reteach_model, a.delete_model, a.correct_image):
        models_menu.addAction(action)
    help_menu = bar.addMenu("&Help")
    for action in (a.shortcuts, a.documentation, a.about):
        help_menu.addAction(action)
    a.menus.update(file=file_menu, view=view_menu, models=models_menu, help=help_menu)
    return a
