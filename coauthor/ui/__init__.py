"""The PySide6 desktop application: main window, editor, highlighter, docks and dialogs."""
