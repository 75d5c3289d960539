"""The worker entry point: ``celery -A tasks.worker worker -Q extraction``.

It exists so that a worker builds the Flask app exactly once, from the same factory and
environment as the API, and shares its celeryconfig.py.
"""
from api import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
