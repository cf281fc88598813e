"""The sections of stack config, one module each; ``infra/config.py`` reads and validates them."""
