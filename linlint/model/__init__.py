"""Model files: load them safely, walk their graphs, write them atomically."""
