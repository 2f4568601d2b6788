"""sonod's time-stamping authority over HTTP (`python -m infra.tsa`, `sonod tsa`); the protocol is sonod/tsa.py."""
