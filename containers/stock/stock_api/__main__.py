"""`python -m stock_api`: serve the stock API on $PORT until ECS stops the task."""

from __future__ import annotations

from stock_api.api import serve

if __name__ == "__main__":
    serve()
