"""Sans-IO protocol parsers (h11 style): feed bytes, get typed messages; no sockets, no detection logic."""
