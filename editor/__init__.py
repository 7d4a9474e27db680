"""The editing domain: document, selection, current time, commands with undo/redo. No Qt in here."""
