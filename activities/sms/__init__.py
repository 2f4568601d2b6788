"""SMS: segments, the providers' adapters, and the dispatcher that charges, sends, falls back and retries."""
