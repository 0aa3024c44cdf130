"""Sub-command groups of the ``identity`` command line, one module per area."""
