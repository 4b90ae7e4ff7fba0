"""Entry point for gunicorn: `gunicorn wsgi:app` (gunicorn.conf.py is read from this folder)."""

from dotenv import load_dotenv

from api import create_app

load_dotenv()  # only `flask run` loads .env by itself
app = create_app()
