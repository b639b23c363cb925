"""PIC functions: one sub-package per capability, plus the shared kernel in ``functions.core``."""
