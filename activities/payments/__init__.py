"""Payment gateway adapters (activities/payments/gateway.py is the interface)."""
