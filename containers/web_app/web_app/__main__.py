"""`python -m web_app`: serve the API on $PORT."""

from web_app import app

if __name__ == "__main__":
    app.serve()
