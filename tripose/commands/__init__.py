"""One module per ``tripose`` subcommand; each registers itself on ``tripose.cli.app``."""
