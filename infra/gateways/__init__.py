"""Simulators of the payment gateways sonod speaks to (ekPay, bKash, SSLCommerz, Nagad), in one process."""
