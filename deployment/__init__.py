"""What runs against a real account: preflight checks, smoke tests, deploy-time rules."""
