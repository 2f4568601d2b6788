"""The SMS gateway simulator: speaks SSL Wireless' API v3 and BulkSMSBD's, records every message, posts delivery
reports to sonod, and has fault switches (`python -m infra.smsgw`, `sonod smsgw`)."""
