"""The container web app's sample: see app.py."""
