"""The command line's command groups; ``recsys/__main__.py`` is the entry and builds the parser."""
