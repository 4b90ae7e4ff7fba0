"""The production shape: deploy/serve runs gunicorn behind nginx (see README, "Deploying")."""
